#!/usr/bin/env bash
# The proxy tests start Debian's nginx themselves, on a free port, with a self-signed
# certificate that openssl makes at test time (never a running service). Install the
# packages when they are missing and we may: as root.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "${missing[*]} missing and this is not root: install Debian's packages first (sudo apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "Installing Debian's ${missing[*]} (first run only)…"
apt-get update -qq
# policy-rc.d 101: the package must not start a service of its own (the tests start theirs).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
command -v nginx >/dev/null && command -v openssl >/dev/null
