#!/usr/bin/env bash
# Installs the Debian packages (idempotent) and builds headmap into build/ (Release).
# Extra arguments go to the CMake configure step, e.g. -DHEADMAP_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build_dir=${HEADMAP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
