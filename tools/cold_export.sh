#!/usr/bin/env bash
# Cold-start check: writes a random GPT-2-small checkpoint (124M, F32) to a temporary directory
# with `headmap make-random`, then times N fresh `headmap export` processes of the seed sentence
# (model load, tokenizer load and forward included) and prints one JSON line with the times.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build/bin/headmap make-random --config gpt2 --out "$dir/gpt2-random"
times=()
for _ in $(seq "$runs"); do
  start=$EPOCHREALTIME
  build/bin/headmap export --model "$dir/gpt2-random" \
    --text "A new sentence to visualize attention weights" --out "$dir/attn.npy"
  end=$EPOCHREALTIME
  times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
done
printf '{"cold_export_s": [%s], "model": "gpt2 (random, 124M, F32)"}\n' \
  "$(IFS=,; echo "${times[*]}")"
