#!/usr/bin/env bash
# Side-by-side benchmark: headmap bench and HF transformers (tools/reference/bench_hf.py) with the
# same model, lengths (or texts) and threads, interleaved pair by pair: each of --runs pairs runs
# one timed headmap pass and one timed HF pass (each in a fresh process after its own warm-up),
# alternating which goes first, so that a load that comes and goes hits both alike. Prints each
# tool's lines, then per length (or text file) the medians, the median of the per-pair ratios
# HF ms / headmap ms with their range, and the load average before and after.
# HF needs torch + transformers: HEADMAP_HF_PYTHON names that interpreter (default python3).
# Usage: tools/bench.sh [--config NAME | --model DIR] [--seq 64,256,1024 | --texts FILE]
#                       [--threads 2] [--runs 5]   (--runs: pairs)
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
common=("${what[@]}" --threads "$threads" --runs 1)
if ! [[ $runs =~ ^[0-9]+$ ]] || ((runs < 1)); then
  echo "tools/bench.sh: --runs $runs: expected a whole number of pairs, at least 1" >&2; exit 2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -n) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
read -r load_before _ </proc/loadavg
for ((pair = 0; pair < runs; pair++)); do
  if ((pair % 2 == 0)); then
    build/bin/headmap bench "${common[@]}" | tee -a "$out/headmap.jsonl"
    "$python" tools/reference/bench_hf.py "${common[@]}" | tee -a "$out/hf.jsonl"
  else
    "$python" tools/reference/bench_hf.py "${common[@]}" | tee -a "$out/hf.jsonl"
    build/bin/headmap bench "${common[@]}" | tee -a "$out/headmap.jsonl"
  fi
done
read -r load_after _ </proc/loadavg
"$python" - "$out/headmap.jsonl" "$out/hf.jsonl" "$load_before" "$load_after" <<'PY'
import json, statistics, sys
ours = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
hf = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
load = {"load_before": float(sys.argv[3]), "load_after": float(sys.argv[4])}

def key(row):
    return ("texts", row["texts"]) if "texts" in row else ("seq", row["seq"])

# Lines in run order: the i-th line of a key in each file is the same pair.
pairs = {}
for tool, rows in (("headmap", ours), ("hf", hf)):
    for row in rows:
        pairs.setdefault(key(row), {"headmap": [], "hf": []})[tool].append(row)
for (name, value), both in sorted(pairs.items(), key=lambda kv: kv[0][1]):
    a, b = both["headmap"], both["hf"]
    if len(a) != len(b) or not a:
        print(f"tools/bench.sh: {name} {value}: {len(a)} headmap runs against {len(b)} HF runs",
              file=sys.stderr)
        sys.exit(1)
    if name == "texts" and (a[0]["tokens"] != b[0]["tokens"]):
        print(f"tools/bench.sh: the tools saw different inputs: headmap {a[0]['tokens']} tokens, "
              f"HF {b[0]['tokens']} tokens", file=sys.stderr)
    ratios = [y["ms"] / x["ms"] for x, y in zip(a, b)]
    row = {name: value, "pairs": len(ratios),
           "headmap_ms": round(statistics.median(x["ms"] for x in a), 2),
           "hf_ms": round(statistics.median(y["ms"] for y in b), 2),
           "ratio_median": round(statistics.median(ratios), 3),
           "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3)}
    if name == "seq":
        row["headmap_efficiency"] = round(statistics.median(x["efficiency"] for x in a), 3)
    row.update(load)
    for field in ("cpu", "extensions", "kernels", "peak_rss_mib"):
        if field in a[-1]:
            row[field] = a[-1][field]
    print(json.dumps(row))
PY
