#!/usr/bin/env bash
# The C API's capture overhead against the CLI's export on the seed sentence, side by side in one
# run: median of N of `headmap export` (a process each) and of tools/bench_c_api.c (in process).
# usage: tools/bench_c_api.sh [BUILD_DIR] [N]     (JSON lines; the load average beside them)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-20}
text="A new sentence to visualize attention weights"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -std=c11 -O2 tools/bench_c_api.c -Iinclude -L"$build/lib" -lheadmap -o "$work/bench"
times=()
for ((i = 0; i < runs; i++)); do
  start=$(date +%s%N)
  "$build/bin/headmap" export --text "$text" --out "$work/cli.npy"
  times+=($(( ($(date +%s%N) - start) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2) / 1000}')
echo "{\"bench\": \"cli_export\", \"runs\": $runs, \"process_ms\": $median}"
LD_LIBRARY_PATH="$build/lib" "$work/bench" "$text" "$work/api.npy" "$runs"
cmp "$work/cli.npy" "$work/api.npy" && echo "{\"same_npy_bytes\": true}"
echo "{\"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"nproc\": $(nproc)}"
