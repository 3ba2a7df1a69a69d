#!/usr/bin/env bash
# Installs the Debian packages (idempotent) and builds the headmap CLI into build/ (Release): the
# main job builds only what it runs. HEADMAP_BUILD_ALL=1 builds every target (the libraries, the
# test suites, the CUDA objects where nvcc is found); tools/test.sh sets it.
# Extra arguments go to the CMake configure step, e.g. -DHEADMAP_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build_dir=${HEADMAP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
if [ "${HEADMAP_BUILD_ALL:-0}" = 1 ]; then
  cmake --build "$build_dir" -j "$(nproc)"
else
  cmake --build "$build_dir" -j "$(nproc)" --target headmap
fi
