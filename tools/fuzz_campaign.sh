#!/usr/bin/env bash
# A long fuzzing campaign over every libFuzzer target of tests/fuzz (or the ones named), one after
# another: each starts from a scratch copy of its seeds, with its dictionary, -rss_limit_mb=2048
# and -timeout=10, in fork mode so that it goes on after a crash, a leak, a timeout or an OOM and
# keeps each such input. Inputs are capped at 64 KiB, or less where the format's real files are
# small (config.json, a cache lookup), so that the fuzzer's time goes to inputs like real ones. Prints one row per target: executions, crashes, leaks, timeouts, OOMs,
# corpus size and coverage (cov: edges, ft: features), in the README's table format.
#   tools/fuzz_campaign.sh [seconds-per-target] [target ...]    # default 600 s, every target
#   HEADMAP_FUZZ_CAMPAIGN_DIR   where corpora and findings go (build-fuzz/campaign)
#   HEADMAP_FUZZ_RUNS           stop each target after about this many executions (no limit)
# Findings: <dir>/<name>/artifacts/{crash,leak,timeout,oom}-*; replay one with
#   build-fuzz/bin/fuzz_<name> <file>
# Never pause a campaign (SIGSTOP for a quiet benchmark): the input in flight outlives -timeout
# and is kept as a timeout. Run it at nice 10 instead, and keep build-fuzz as it is meanwhile (its
# fork-mode children start the binary afresh); tools/fuzz_build.sh takes HEADMAP_FUZZ_BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
build_dir=${HEADMAP_FUZZ_BUILD_DIR:-build-fuzz}
out=${HEADMAP_FUZZ_CAMPAIGN_DIR:-$build_dir/campaign}
status=0
mkdir -p "$out"
tools/fuzz_build.sh >"$out/build.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  tail -40 "$out/build.log" >&2
  echo "fuzz: no libFuzzer build (tools/fuzz_build.sh exited $status)" >&2
  exit "$status"
fi
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  for binary in "$build_dir"/bin/fuzz_*; do targets+=("$(basename "$binary")"); done
fi
echo "| target | seconds | executions | crashes | leaks | timeouts | OOMs | corpus | cov | ft |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for target in "${targets[@]}"; do
  target=fuzz_${target#fuzz_}
  name=${target#fuzz_}
  work="$out/$name"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$name"/* "$work/corpus/" 2>/dev/null || true  # a target may start empty
  dict=()
  [ -f "tests/fuzz/dict/$name.dict" ] && dict=(-dict="tests/fuzz/dict/$name.dict")
  max_len=65536
  case $name in
    model_files) max_len=1024 ;;         # a model id, refs/main's text and a folder name
    config | safetensors_index) max_len=8192 ;; # real ones are 1-4 KB
  esac
  runs=()
  [ -n "${HEADMAP_FUZZ_RUNS:-}" ] && runs=(-runs="$HEADMAP_FUZZ_RUNS")
  start=$(date +%s)
  "$build_dir/bin/$target" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" \
    "${runs[@]}" -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" >"$work/log" 2>&1 || true
  elapsed=$(($(date +%s) - start))
  # Fork mode's status lines: "#<execs>: cov: <n> ft: <n> corp: <n> exec/s: <n> oom/timeout/crash: ..."
  last=$(grep -E '^#[0-9]+: cov:' "$work/log" | tail -1)
  execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  count() { find "$work/artifacts" -name "$1-*" | wc -l; }
  echo "| $name | $elapsed | ${execs:-?} | $(count crash) | $(count leak) | $(count timeout) | $(count oom) | $(ls "$work/corpus" | wc -l) | ${cov:-?} | ${ft:-?} |"
done
