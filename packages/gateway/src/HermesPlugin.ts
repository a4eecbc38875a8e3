/**
 * The Hermes Agent plugin `tollgate hermes install` writes to
 * `$HERMES_HOME/plugins/tollgate/`: its manifest, its code, and its config
 * (the command that runs this tollgate).
 *
 * Why a plugin: even with the gateway as its endpoint and Claude Code's login
 * suppressed, Hermes's 401 recovery (`_refresh_oauth_token`, reached from
 * the auxiliary client on any 401) and its credential pool still refresh
 * `~/.claude/.credentials.json` themselves: no lock, and a write-back that
 * drops `subscriptionType` and `rateLimitTier`. The plugin routes each of
 * them through `tollgate token` (Claude Code's locks, one refresh for any
 * number of callers, every field kept) and makes the write-back a no-op.
 * When Hermes lacks a function it wraps, it wraps none, logs one warning and
 * records why in `state.json`, which `tollgate doctor` reports.
 *
 * @since 0.2.0
 */

/** Files in the plugin's directory. @since 0.2.0 */
export const FILES = {
  manifest: "plugin.yaml",
  code: "__init__.py",
  /** `{command, timeoutSeconds}`: how the plugin runs tollgate. */
  config: "config.json",
  /** Written by the plugin when Hermes loads it: active, or inactive and why. */
  state: "state.json",
  /** Written by install: what each edited file held before, for uninstall. */
  install: "install.json"
} as const

/** How long the plugin waits for `tollgate token` (a refresh waits for Claude Code's lock). @since 0.2.0 */
export const TOKEN_TIMEOUT_SECONDS = 60

/** The plugin's config.json. @since 0.2.0 */
export const config = (command: ReadonlyArray<string>): string =>
  `${JSON.stringify({ command, timeoutSeconds: TOKEN_TIMEOUT_SECONDS }, null, 2)}\n`

/** plugin.yaml: a standalone plugin (the kind Hermes loads from `plugins.enabled`). @since 0.2.0 */
export const MANIFEST = `name: tollgate
version: "1"
kind: standalone
description: Routes Hermes's Claude Code refreshes through 'tollgate token' (Claude Code's locks, every field kept); written by 'tollgate hermes install'.
author: tollgate
`

/** __init__.py. Plain Python 3.8+, standard library only. @since 0.2.0 */
export const CODE = String.raw`"""tollgate for Hermes Agent (written by 'tollgate hermes install'; 'tollgate hermes uninstall' removes it).

Hermes refreshes Claude Code's login itself -- without Claude Code's locks, keeping only four fields -- when
its auxiliary client gets a 401 and when a credential-pool entry taken from Claude Code expires. This plugin
routes each such refresh through 'tollgate token', which refreshes under Claude Code's own locks (or adopts a
token another process already rotated) and stores the whole login, and turns Hermes's write-back to
~/.claude/.credentials.json into a no-op. It never writes that file itself.

When Hermes lacks a function this plugin wraps (a newer Hermes renamed it), it wraps none, logs one warning
and records why in state.json beside this file ('tollgate doctor' reports it).
"""
import importlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
_CONFIG = _HERE / "config.json"
_STATE = _HERE / "state.json"
_MARK = "__tollgate__"
_WARNED = "_tollgate_hermes_plugin_warned"

# Everything the wrappers below replace or call, as module:attribute.
EXPECTED = (
    "agent.anthropic_adapter:_refresh_oauth_token",
    "agent.anthropic_adapter:_write_claude_code_credentials",
    "agent.anthropic_adapter:refresh_anthropic_oauth_pure",
    "agent.anthropic_adapter:read_claude_code_credentials",
    "agent.credential_pool:CredentialPool._refresh_entry_impl",
    "agent.credential_pool:CredentialPool._replace_entry",
    "agent.credential_pool:CredentialPool._persist",
    "agent.credential_pool:CredentialPool._mark_exhausted",
    "agent.credential_pool:STATUS_OK",
)


def fingerprint(token):
    """tollgate's name for a token (core's Credential.fingerprint): 'fp_' and FNV-1a 64 over UTF-16 code units."""
    h = 0xCBF29CE484222325
    data = token.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "fp_%016x" % h


def _lookup(name):
    module, _, path = name.partition(":")
    value = importlib.import_module(module)
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _record(state):
    state = dict(state, version=1, at=int(time.time() * 1000), pid=os.getpid())
    tmp = _STATE.with_name(".state.json.%d.tmp" % os.getpid())
    try:
        tmp.write_text(json.dumps(state) + "\n", encoding="utf-8")
        os.replace(str(tmp), str(_STATE))
    except OSError as exc:
        logger.debug("tollgate: cannot record the plugin state in %s: %s", _STATE, exc)


def _command():
    try:
        config = json.loads(_CONFIG.read_text(encoding="utf-8"))
        command = [str(part) for part in config["command"]]
        timeout = float(config.get("timeoutSeconds", 60))
        return (command, timeout) if command else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _token(rejected=None):
    """{accessToken, expiresAt, fingerprint, outcome} from 'tollgate token --json', else None (logged, never the token)."""
    found = _command()
    if found is None:
        logger.warning("tollgate: cannot read %s; run 'tollgate hermes install' again", _CONFIG)
        return None
    command, timeout = found
    argv = command + ["token", "--json"] + (["--if-token", rejected] if rejected else [])
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("tollgate: 'tollgate token' did not run: %s", type(exc).__name__)
        return None
    if done.returncode != 0:
        # tollgate token's stderr is one line without the token.
        lines = done.stderr.strip().splitlines()
        logger.warning("tollgate: %s", lines[-1] if lines else "'tollgate token' exited %d" % done.returncode)
        return None
    try:
        data = json.loads(done.stdout)
        if not isinstance(data, dict) or not data.get("accessToken"):
            raise ValueError
        return data
    except ValueError:
        logger.warning("tollgate: 'tollgate token --json' did not print its JSON")
        return None


def _wrap(owner, name, replacement):
    setattr(replacement, _MARK, getattr(owner, name))
    replacement.__name__ = name
    setattr(owner, name, replacement)


def _activate():
    from dataclasses import replace

    adapter = importlib.import_module("agent.anthropic_adapter")
    pool_module = importlib.import_module("agent.credential_pool")
    pool = pool_module.CredentialPool
    status_ok = pool_module.STATUS_OK
    read_stored = adapter.read_claude_code_credentials
    original_pure = adapter.refresh_anthropic_oauth_pure
    original_entry = pool._refresh_entry_impl

    def _refresh_oauth_token(creds):
        # Hermes calls this near expiry and after any 401, but always with the login it has just read from
        # the store, not with a token a server rejected: passing that one as --if-token would refresh a token
        # Claude Code or the gateway rotated a moment ago (a second token POST for one expiry). And Hermes
        # never sends Claude Code's token anywhere once pointed at the gateway, whose own 401s tollgate
        # handles; so ask only for a token that is valid, refreshed if it is about to expire.
        data = _token()
        return data["accessToken"] if data else None

    def _write_claude_code_credentials(*args, **kwargs):
        logger.debug("tollgate: not writing ~/.claude/.credentials.json; 'tollgate token' stored the whole login")

    def refresh_anthropic_oauth_pure(refresh_token, *args, **kwargs):
        stored = read_stored() or {}
        if not refresh_token or refresh_token != stored.get("refreshToken"):
            return original_pure(refresh_token, *args, **kwargs)  # one of Hermes's own logins, not Claude Code's
        data = _token()
        if data is None:
            raise RuntimeError("tollgate token gave no token (see the warning before this)")
        return {"access_token": data["accessToken"], "refresh_token": refresh_token, "expires_at_ms": data.get("expiresAt") or 0}

    def _refresh_entry_impl(self, entry, *args, **kwargs):
        if getattr(self, "provider", None) != "anthropic" or getattr(entry, "source", None) != "claude_code":
            return original_entry(self, entry, *args, **kwargs)
        force = kwargs.get("force", args[0] if args else False)
        held = getattr(entry, "access_token", None)
        data = _token(fingerprint(held) if force and held else None)
        if data is None:
            self._mark_exhausted(entry, None)
            return None
        updated = replace(
            entry,
            access_token=data["accessToken"],
            expires_at_ms=data.get("expiresAt") or 0,
            last_status=status_ok,
            last_status_at=None,
            last_error_code=None,
            last_error_reason=None,
            last_error_message=None,
            last_error_reset_at=None,
        )
        self._replace_entry(entry, updated)
        self._persist()
        return updated

    wrapped = []
    for label, owner, replacement in (
        ("agent.anthropic_adapter", adapter, _refresh_oauth_token),
        ("agent.anthropic_adapter", adapter, _write_claude_code_credentials),
        ("agent.anthropic_adapter", adapter, refresh_anthropic_oauth_pure),
        ("agent.credential_pool:CredentialPool", pool, _refresh_entry_impl),
    ):
        name = replacement.__name__
        if not hasattr(getattr(owner, name), _MARK):  # a second discovery in the same process
            _wrap(owner, name, replacement)
        wrapped.append("%s%s%s" % (label, "." if ":" in label else ":", name))
    return wrapped


def register(ctx):
    missing = []
    for name in EXPECTED:
        try:
            _lookup(name)
        except Exception:
            missing.append(name)
    if missing:
        reason = "this Hermes lacks " + ", ".join(missing)
        if not getattr(sys, _WARNED, False):
            setattr(sys, _WARNED, True)
            logger.warning(
                "tollgate: %s; the plugin leaves Hermes alone, so Hermes may still refresh Claude Code's login without "
                "its locks. Update tollgate, or run 'tollgate hermes uninstall'.",
                reason,
            )
        _record({"active": False, "reason": reason, "missing": missing})
        return
    found = _command()
    wrapped = _activate()
    command_ok = found is not None and all(os.path.exists(part) for part in found[0] if os.path.isabs(part))
    _record({"active": True, "wrapped": wrapped, "commandFound": command_ok})
`
