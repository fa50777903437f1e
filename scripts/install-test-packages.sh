#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (the served API docs, through
# playwright-core), and prometheus, promtool and amtool (the monitoring tests, test/ops). Installs
# only what is missing, as root, or through sudo when not root (GitHub's runner user). GitHub's
# Ubuntu image already carries a Chromium at /usr/bin/chromium, so there only the Prometheus tools
# are installed (Ubuntu packages them under the same names).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -gt 0 ]; then
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo"
  echo "installing ${missing[*]}${as_root:+ (through sudo)}"
  $as_root apt-get update -qq
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
