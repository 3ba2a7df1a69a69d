#!/usr/bin/env bash
# Installs the Debian packages headmap needs to build and test. Idempotent, non-interactive.
set -euo pipefail
packages=(build-essential cmake ninja-build libopenblas-dev doctest-dev nlohmann-json3-dev
          libstb-dev unicode-data python3 python3-pip unzip fonts-dejavu-core poppler-utils
          pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
