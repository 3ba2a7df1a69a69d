#!/usr/bin/env bash
# Side-by-side benchmark: headmap bench and HF transformers (tools/reference/bench_hf.py) with the
# same model, lengths (or texts) and threads, one after the other in one run, then the speed-up.
# HF needs torch + transformers: HEADMAP_HF_PYTHON names that interpreter (default python3).
# Usage: tools/bench.sh [--config NAME | --model DIR] [--seq 64,256,1024 | --texts FILE]
#                       [--threads 2] [--runs 5]
#   --config NAME  random weights of a named shape (gpt2, gpt2-medium, bert-base, bert-large,
#                  minilm, roberta-base, distilbert-base); the default is gpt2
#   --model DIR    a Hugging Face model directory (or a name under weights/)
#   --seq LIST     random ids of these lengths (default 64,256,1024 for GPT-2, 32,128,512 for
#                  encoders); one comparison line per length
#   --texts FILE   one text per line (a tab splits a sentence pair), needs --model; each text at
#                  its own length, the whole file per run; one comparison line
set -euo pipefail
cd "$(dirname "$0")/.."
usage="expected --config NAME, --model DIR, --texts FILE, --seq LIST, --threads N, --runs N"
config='' model='' texts='' seq='' threads=$(nproc) runs=5
while (($#)); do
  case "$1" in
    --config|--model|--texts|--seq|--threads|--runs)
      if (($# < 2)) || [[ -z $2 || $2 == --* ]]; then
        echo "tools/bench.sh: $1 needs a value ($usage)" >&2; exit 2
      fi
      case "$1" in
        --config) config=$2 ;; --model) model=$2 ;; --texts) texts=$2 ;;
        --seq) seq=$2 ;; --threads) threads=$2 ;; --runs) runs=$2 ;;
      esac
      shift 2 ;;
    *) echo "tools/bench.sh: unknown argument '$1' ($usage)" >&2; exit 2 ;;
  esac
done
if [[ -n $config && -n $model ]]; then
  echo "tools/bench.sh: pass --config or --model, not both" >&2; exit 2
fi
if [[ -n $texts && -z $model ]]; then
  echo "tools/bench.sh: --texts needs --model (a real model and its tokenizer)" >&2; exit 2
fi
if [[ -n $texts && -n $seq ]]; then
  echo "tools/bench.sh: pass --texts or --seq, not both" >&2; exit 2
fi
if [[ -n $texts && ! -f $texts ]]; then
  echo "tools/bench.sh: --texts $texts: no such file" >&2; exit 2
fi
python=${HEADMAP_HF_PYTHON:-python3}

# What both tools run: the same model, and the same lengths (the tools' shared default when no
# --seq: GPT-2 64,256,1024, encoders 32,128,512).
if [[ -n $model ]]; then
  what=(--model "$model")
  if [[ -z $texts && -z $seq ]]; then
    config_json=$model/config.json
    [[ -f $config_json ]] || config_json=weights/$model/config.json
    if [[ -f $config_json ]]; then
      model_type=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("model_type", ""))' "$config_json")
      [[ $model_type == gpt2 ]] && seq=64,256,1024 || seq=32,128,512
    fi  # else (a hub id): each tool picks the same default from the model's config
  fi
else
  config=${config:-gpt2}
  what=(--config "$config")
  if [[ -z $seq ]]; then
    [[ $config == gpt2* ]] && seq=64,256,1024 || seq=32,128,512
  fi
fi
if [[ -n $texts ]]; then
  what+=(--texts "$texts")
elif [[ -n $seq ]]; then
  what+=(--seq "$seq")
fi
common=("${what[@]}" --threads "$threads" --runs "$runs")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -n) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
build/bin/headmap bench "${common[@]}" | tee "$out/headmap.jsonl"
"$python" tools/reference/bench_hf.py "${common[@]}" | tee "$out/hf.jsonl"
"$python" - "$out/headmap.jsonl" "$out/hf.jsonl" <<'PY'
import json, sys
ours = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
hf = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]

def compare(key, value, a, b, efficiency):
    row = {key: value, "headmap_ms": a["ms"], "hf_ms": b["ms"],
           "speedup": round(b["ms"] / a["ms"], 2)}
    if efficiency:
        row["headmap_efficiency"] = a["efficiency"]
    row["headmap_sentences_per_s"] = a["sentences_per_s"]
    row["hf_sentences_per_s"] = b["sentences_per_s"]
    print(json.dumps(row))

if ours and "texts" in ours[0]:
    a, b = ours[0], hf[0]
    if (a["texts"], a["tokens"]) != (b["texts"], b["tokens"]):
        print(f"tools/bench.sh: the tools saw different inputs: headmap {a['texts']} texts, "
              f"{a['tokens']} tokens; HF {b['texts']} texts, {b['tokens']} tokens", file=sys.stderr)
    compare("texts", a["texts"], a, b, efficiency=False)
else:
    by_seq = {r["seq"]: r for r in hf}
    for a in sorted(ours, key=lambda r: r["seq"]):
        if a["seq"] in by_seq:
            compare("seq", a["seq"], a, by_seq[a["seq"]], efficiency=True)
PY
