#!/usr/bin/env bash
# Side-by-side benchmark: headmap bench and HF transformers (tools/reference/bench_hf.py) with the
# same config, lengths and threads, one after the other in one run, then the speed-up per length.
# HF needs torch + transformers: HEADMAP_HF_PYTHON names that interpreter (default python3).
# Usage: tools/bench.sh [--config gpt2] [--seq 64,256,1024] [--threads 2] [--runs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
config=gpt2 seq=64,256,1024 threads=$(nproc) runs=5
while (($#)); do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --seq) seq=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "tools/bench.sh: unknown argument '$1' (expected --config, --seq, --threads, --runs)" >&2; exit 2 ;;
  esac
done
python=${HEADMAP_HF_PYTHON:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -n) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
build/bin/headmap bench --config "$config" --seq "$seq" --threads "$threads" --runs "$runs" | tee "$out/headmap.jsonl"
"$python" tools/reference/bench_hf.py --config "$config" --seq "$seq" --threads "$threads" --runs "$runs" | tee "$out/hf.jsonl"
"$python" - "$out/headmap.jsonl" "$out/hf.jsonl" <<'PY'
import json, sys
ours = {r["seq"]: r for r in map(json.loads, open(sys.argv[1]))}
hf = {r["seq"]: r for r in map(json.loads, open(sys.argv[2]))}
for seq in sorted(ours):
    if seq in hf:
        print(json.dumps({"seq": seq, "headmap_ms": ours[seq]["ms"], "hf_ms": hf[seq]["ms"],
                          "speedup": round(hf[seq]["ms"] / ours[seq]["ms"], 2),
                          "headmap_efficiency": ours[seq]["efficiency"]}))
PY
