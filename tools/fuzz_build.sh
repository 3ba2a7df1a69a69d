#!/usr/bin/env bash
# Configures and builds the libFuzzer targets of tests/fuzz with clang, in a build directory of
# their own (HEADMAP_FUZZ=ON: every room compiled with -fsanitize=fuzzer-no-link,address,undefined).
# Used by tools/fuzz_smoke.sh and tools/fuzz_campaign.sh. Exits 3, saying so, when clang or its
# libFuzzer runtime is missing.
#   HEADMAP_FUZZ_BUILD_DIR  the build directory (build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${HEADMAP_FUZZ_BUILD_DIR:-build-fuzz}
if ! command -v clang++ >/dev/null 2>&1 || ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang/clang++ not found (Debian: apt-get install clang)" >&2
  exit 3
fi
# libFuzzer's runtime ships with clang (libclang_rt.fuzzer); a clang without it cannot link.
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1; then
  echo "fuzz: clang++ cannot link -fsanitize=fuzzer (libFuzzer runtime missing)" >&2
  exit 3
fi
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DHEADMAP_FUZZ=ON -DHEADMAP_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target headmap_fuzz_all
