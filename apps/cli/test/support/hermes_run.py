"""Runs Hermes Agent's driver (../shared/realclients/hermes_driver.py) the way Hermes starts (cli.py): the
Hermes home's .env loaded (hermes_cli.env_loader.load_hermes_dotenv) and plugins discovered
(hermes_cli.plugins.discover_plugins) before the driver's MODE runs. Prints one JSON line about the plugins
first, then the driver's own lines ('ready', its JSON). Never prints a token.

usage: hermes_run.py DRIVER MODE [GO_FILE]
  HERMES_SRC      the Hermes source tree (default: hermes-agent beside DRIVER)
  TG_HERMES_HIDE  comma-separated module:attribute names removed before discovery, standing in for a
                  future Hermes that renamed them (e.g. agent.anthropic_adapter:_refresh_oauth_token)
"""
import importlib
import json
import logging
import os
import runpy
import sys

driver = os.path.abspath(sys.argv[1])
src = os.environ.get("HERMES_SRC") or os.path.join(os.path.dirname(driver), "hermes-agent")
sys.path.insert(0, src)
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="hermes %(name)s %(levelname)s %(message)s")

from hermes_constants import get_hermes_home  # noqa: E402
from hermes_cli.env_loader import load_hermes_dotenv  # noqa: E402

load_hermes_dotenv(hermes_home=get_hermes_home())

for name in filter(None, os.environ.get("TG_HERMES_HIDE", "").split(",")):
    module, _, path = name.partition(":")
    owner = importlib.import_module(module)
    *parents, last = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    delattr(owner, last)

from hermes_cli.plugins import discover_plugins, get_plugin_manager  # noqa: E402

discover_plugins()
plugins = {key: {"enabled": p.enabled, "error": p.error} for key, p in get_plugin_manager()._plugins.items()}
print(json.dumps({"plugins": plugins}), flush=True)

sys.argv = [driver] + sys.argv[2:]
runpy.run_path(driver, run_name="__main__")
