#!/usr/bin/env python3
"""Per-head statistics over a corpus with Hugging Face transformers (development time only).

The Python side of `headmap stats --texts FILE --bench`: every line of FILE (a tab splits a
sentence pair) is tokenized with the model's tokenizer, run through the model (eager attention,
output_attentions=True, fp32, inference_mode) and turned into the same per-head statistics as
headmap's (engine/analysis/analysis.h; allowed entries only, so GPT-2's masked upper triangle never
counts), in float64 with torch; the mean and population std over texts are aggregated with numpy.
One JSON line on stdout, like bench_hf.py's:

  {"impl": "hf-transformers", "transformers": ..., "torch": ..., "model": ..., "texts": N,
   "tokens": T, "threads": t, "seconds": s, "sentences_per_s": N / s, "heads": L*H}

seconds covers tokenizing, forwards, statistics and aggregation (not loading the model), as
headmap's does. --out FILE writes the table as `headmap stats --texts --format json` does;
--check HEADMAP_JSON compares the means and stds with such a file and prints the largest
differences per metric (exit 1 beyond --tolerance).

  /opt/hfref/bin/python tools/reference/bench_corpus_stats.py --model weights/all-MiniLM-L6-v2 \\
      --texts /tmp/sentences.txt --threads 2
Versions used: Python 3.11, torch 2.15, transformers 5.23, numpy (/opt/hfref).
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hf import Shape, read_texts, resolve_model_dir  # noqa: E402

METRICS = ["entropy", "normalized_entropy", "sparsity", "max", "first", "previous", "self",
           "distance", "local", "medium", "global", "top5_mass"]


class Geometry:
    """Masks and distances of one sequence length, cached."""

    def __init__(self, S, causal):
        i = torch.arange(S).view(S, 1)
        j = torch.arange(S).view(1, S)
        self.allowed = (j <= i) if causal else torch.ones(S, S, dtype=torch.bool)
        self.distance = (i - j).abs().to(torch.float64)
        self.keys = self.allowed.sum(dim=1).to(torch.float64)  # (S)
        self.n_allowed = int(self.allowed.sum())
        self.top = max(1, math.ceil(0.05 * self.n_allowed))


def head_stats(maps, geo, threshold):
    """maps: (L, H, S, S) float64 -> (L, H, 12) in METRICS order."""
    L, H, S, _ = maps.shape
    a = torch.where(geo.allowed, maps, torch.zeros((), dtype=maps.dtype))
    plogp = torch.where(a > 0, a * torch.log(torch.where(a > 0, a, torch.ones_like(a))),
                        torch.zeros_like(a))
    row_entropy = -plogp.sum(dim=-1)  # (L, H, S)
    entropy = row_entropy.mean(dim=-1)
    several = geo.keys >= 2
    normalized = ((row_entropy[..., several] / torch.log(geo.keys[several])).mean(dim=-1)
                  if bool(several.any()) else torch.zeros(L, H, dtype=maps.dtype))
    below = ((maps < threshold) & geo.allowed).sum(dim=(-1, -2)).to(maps.dtype) / geo.n_allowed
    largest = torch.clamp(torch.where(geo.allowed, maps, torch.full_like(maps, -math.inf))
                          .amax(dim=(-1, -2)), min=0.0)  # headmap's max starts at 0
    first = a[..., :, 0].mean(dim=-1)
    diagonal = torch.diagonal(a, dim1=-2, dim2=-1)
    self_ = diagonal.mean(dim=-1)
    previous = (torch.diagonal(a, offset=-1, dim1=-2, dim2=-1).mean(dim=-1) if S > 1
                else torch.zeros(L, H, dtype=maps.dtype))
    distance = (a * geo.distance).sum(dim=-1).mean(dim=-1)
    local = (a * (geo.distance <= 1)).sum(dim=-1).mean(dim=-1)
    medium = (a * ((geo.distance >= 2) & (geo.distance <= 3))).sum(dim=-1).mean(dim=-1)
    global_ = (a * (geo.distance >= 4)).sum(dim=-1).mean(dim=-1)
    flat = maps.reshape(L, H, S * S)[..., geo.allowed.reshape(-1)]
    total = flat.sum(dim=-1)
    top = flat.topk(geo.top, dim=-1).values.sum(dim=-1)
    top5 = torch.where(total > 0, top / torch.where(total > 0, total, torch.ones_like(total)),
                       torch.zeros_like(total))
    return torch.stack([entropy, normalized, below, largest, first, previous, self_, distance,
                        local, medium, global_, top5], dim=-1)


def table_json(model, causal, values, L, H):
    """values: (texts, L, H, 12) -> headmap's corpus JSON."""
    mean = values.mean(axis=0)
    std = values.std(axis=0)  # population std, as headmap's
    heads = []
    for layer in range(L):
        for head in range(H):
            heads.append({"layer": layer, "head": head,
                          "mean": dict(zip(METRICS, map(float, mean[layer, head]))),
                          "std": dict(zip(METRICS, map(float, std[layer, head])))})
    return {"model": model, "causal": causal, "texts": int(values.shape[0]), "metrics": METRICS,
            "heads": heads}


def check(ours, path, tolerance):
    theirs = json.loads(Path(path).read_text())
    if theirs["texts"] != ours["texts"] or len(theirs["heads"]) != len(ours["heads"]):
        sys.exit(f"--check {path}: {theirs['texts']} texts / {len(theirs['heads'])} heads, "
                 f"expected {ours['texts']} / {len(ours['heads'])}")
    worst = {}
    for a, b in zip(ours["heads"], theirs["heads"]):
        assert (a["layer"], a["head"]) == (b["layer"], b["head"])
        for part in ("mean", "std"):
            for m in METRICS:
                key = f"{m}_{part}"
                worst[key] = max(worst.get(key, 0.0), abs(a[part][m] - b[part][m]))
    print(json.dumps({"check": path, "max_abs_diff": worst}), file=sys.stderr)
    return max(worst.values()) <= tolerance


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory (or a name under weights/)")
    ap.add_argument("--tokenizer", help="tokenizer directory (default: the model's)")
    ap.add_argument("--texts", required=True, help="one text per line; a tab makes a pair")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--threshold", type=float, default=0.01)
    ap.add_argument("--out", help="write the table as JSON (headmap's corpus layout)")
    ap.add_argument("--check", help="headmap stats --texts ... --format json output to compare")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model_dir = resolve_model_dir(args.model)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager",
                                      dtype=torch.float32).float().eval()
    shape = Shape(model.config)
    tok = AutoTokenizer.from_pretrained(args.tokenizer or model_dir)
    texts = read_texts(args.texts)

    start = time.perf_counter()
    geometry, per_text, tokens = {}, [], 0
    with torch.inference_mode():
        for first, second in texts:
            enc = tok(first, second, add_special_tokens=True, return_tensors="pt")
            kwargs = dict(input_ids=enc["input_ids"], output_attentions=True)
            if shape.model_type == "gpt2":
                kwargs["use_cache"] = False
            if shape.token_types:
                kwargs["token_type_ids"] = enc.get("token_type_ids",
                                                   torch.zeros_like(enc["input_ids"]))
            out = model(**kwargs)
            S = enc["input_ids"].shape[1]
            tokens += S
            geo = geometry.setdefault(S, Geometry(S, shape.causal))
            maps = torch.cat(out.attentions, dim=0).to(torch.float64)  # (L, H, S, S)
            per_text.append(head_stats(maps, geo, args.threshold).numpy())
    values = np.stack(per_text)  # (texts, L, H, 12)
    table = table_json(Path(model_dir).name, shape.causal, values, shape.L, shape.H)
    seconds = time.perf_counter() - start

    print(json.dumps({"impl": "hf-transformers", "transformers": transformers.__version__,
                      "torch": torch.__version__, "model": args.model, "texts": len(texts),
                      "tokens": tokens, "threads": args.threads, "seconds": round(seconds, 3),
                      "sentences_per_s": round(len(texts) / seconds, 2),
                      "heads": shape.L * shape.H}))
    if args.out:
        Path(args.out).write_text(json.dumps(table) + "\n")
    if args.check and not check(table, args.check, args.tolerance):
        sys.exit(1)


if __name__ == "__main__":
    main()
