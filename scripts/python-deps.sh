#!/usr/bin/env bash
# Installs Debian's python3 packages the Hermes judge needs (PyPI is not reachable here):
# python3-httpx python3-yaml python3-dotenv python3-requests. A no-op when they are present.
set -euo pipefail
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import httpx, yaml, dotenv, requests' 2>/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-httpx python3-yaml python3-dotenv python3-requests >/dev/null
"$PY" -c 'import httpx, yaml, dotenv, requests'
