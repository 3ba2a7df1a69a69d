#!/usr/bin/env bash
# The test command's fuzz step (tools/test.sh): builds the libFuzzer targets (tools/fuzz_build.sh)
# and runs each for a fixed number of inputs from its seeds, with its dictionary, under ASan and
# UBSan. Fails on any crash, leak, timeout, out-of-memory or broken property, naming the saved
# input. Without clang it says the step is skipped (and exits 0: a missing compiler is not a test
# failure, but nothing is counted as passed).
#   tools/fuzz_smoke.sh [runs]     # runs per target (default 2000)
#   HEADMAP_FUZZ_SEED              libFuzzer's -seed (default 1: the same inputs every time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2000}
build_dir=${HEADMAP_FUZZ_BUILD_DIR:-build-fuzz}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
tools/fuzz_build.sh >"$scratch/build.log" 2>&1 || status=$?
if [ "$status" = 3 ]; then
  cat "$scratch/build.log" >&2
  echo "fuzz: SKIPPED (not passed): no usable clang for the libFuzzer targets" >&2
  exit 0
elif [ "$status" != 0 ]; then
  tail -40 "$scratch/build.log" >&2
  echo "fuzz: the libFuzzer build failed ($build_dir)" >&2
  exit "$status"
fi
failed=0
for binary in "$build_dir"/bin/fuzz_*; do
  target=$(basename "$binary")
  name=${target#fuzz_}
  mkdir -p "$scratch/$name/corpus" "$scratch/$name/artifacts"
  dict=()
  [ -f "tests/fuzz/dict/$name.dict" ] && dict=(-dict="tests/fuzz/dict/$name.dict")
  # New inputs go to the first corpus directory (scratch); the seeds stay as they are.
  if "$binary" -runs="$runs" -seed="${HEADMAP_FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$scratch/$name/artifacts/" \
      "${dict[@]}" "$scratch/$name/corpus" "tests/fuzz/corpus/$name" >"$scratch/$name/log" 2>&1; then
    summary=$(grep -E '^#[0-9]+.*DONE' "$scratch/$name/log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+/\1 runs, /')
    seconds=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$scratch/$name/log" | grep -oE '[0-9]+ second' | cut -d' ' -f1)
    echo "fuzz: $target ok: ${summary:-?} (${seconds:-?} s)"
  else
    failed=1
    mkdir -p "build-fuzz-findings/$name"
    cp "$scratch/$name/artifacts/"* "build-fuzz-findings/$name/" 2>/dev/null || true
    echo "fuzz: $target FAILED; the input is kept in build-fuzz-findings/$name/; the report:" >&2
    grep -E 'ERROR|SUMMARY|property broken|terminate|==[0-9]+==' "$scratch/$name/log" | head -20 >&2
  fi
done
exit "$failed"
