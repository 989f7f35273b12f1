#!/usr/bin/env bash
# The WebKit browser tests drive Debian's WebKitGTK through WebKitWebDriver
# (Selenium), with MiniBrowser as the browser, on an Xvfb display. Install
# them when one is missing and we may: as root.
#   webkit2gtk-driver  -> /usr/bin/WebKitWebDriver (depends on libwebkit2gtk-4.1-0,
#                         which ships /usr/lib/<multiarch>/webkit2gtk-4.1/MiniBrowser)
#   xvfb               -> /usr/bin/Xvfb
set -euo pipefail

have_all() {
  command -v WebKitWebDriver >/dev/null 2>&1 &&
    command -v Xvfb >/dev/null 2>&1 &&
    compgen -G "/usr/lib/*/webkit2gtk-4.1/MiniBrowser" >/dev/null
}

if have_all; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "WebKitWebDriver, MiniBrowser or Xvfb is missing and this is not root: install Debian's" \
    "packages first (sudo apt-get install webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb)." >&2
  exit 1
fi
echo "Installing Debian's webkit2gtk-driver, libwebkit2gtk-4.1-0 and xvfb (first run only)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb >/dev/null
have_all
