#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser download of
# Playwright's own). Install it when it is missing and we may: as root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing and this is not root: install Debian's package first (sudo apt-get install chromium)." >&2
  exit 1
fi
echo "Installing Debian's chromium (first run only)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
