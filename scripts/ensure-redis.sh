#!/usr/bin/env bash
# The Redis tests start Debian's redis-server themselves, on a free port (never a
# running service). Install the package when it is missing and we may: as root.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "redis-server is missing and this is not root: install Debian's package first (sudo apt-get install redis-server)." >&2
  exit 1
fi
echo "Installing Debian's redis-server (first run only)…"
apt-get update -qq
# policy-rc.d 101: the package must not start a service of its own (the tests start theirs).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
command -v redis-server >/dev/null
