#!/usr/bin/env bash
# Installs the Debian packages the test suite needs on a fresh Debian 12 machine (as root, or
# with sudo). Does nothing when they are already there. Debian's own packages only: nothing is
# downloaded from anywhere else.
#   socat    - pseudo-terminal pairs: real serial ports for sensor simulators in tests
#   chromium - the operator dashboard is tested in a real browser (driven by playwright-core)
#   libxml2-utils - xmllint validates CAP 1.2 output against the OASIS XML schema
#   systemd  - systemd-analyze verifies the gateway's service unit
set -euo pipefail
packages=(socat chromium libxml2-utils systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "system packages present: ${packages[*]}"; exit 0; }
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "installing Debian packages: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
