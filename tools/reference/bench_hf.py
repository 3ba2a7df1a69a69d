#!/usr/bin/env python3
"""Benchmark Hugging Face transformers forward + attention maps on the CPU.

Development-time reference for headmap's C++ benchmark (`headmap bench`), with the same modes:

  --config NAME        random init of a named shape (gpt2, gpt2-medium, bert-base, bert-large,
                       minilm, roberta-base, distilbert-base), random ids, one line per --seq length
  --model DIR          a real Hugging Face model directory (or a name under weights/), random ids,
                       one line per --seq length
  --model DIR --texts FILE
                       one text per line (a tab splits a sentence pair), each tokenized with its
                       special tokens and run at its own length, one after another; one line for
                       the whole file

Always eager attention, output_attentions=True, fp32, inference_mode, no hub access.
One JSON line per sequence length:

  {"impl": "hf-transformers", "transformers": ..., "torch": ..., "config": "gpt2",
   "seq": S, "threads": T, "runs": R, "ms": median_ms, "sentences_per_s": ..., "gflops": ...,
   "sgemm_gflops": ..., "efficiency": gflops / sgemm_gflops, "maps": L*H}

("model" instead of "config" with --model; with --texts, "texts": N, "tokens": total tokens
instead of "seq", "ms" is the median time of the whole file and "maps" counts all texts.)

Examples:
  /opt/hfref/bin/python tools/reference/bench_hf.py --config gpt2 --seq 64,256,1024 --threads 2
  /opt/hfref/bin/python tools/reference/bench_hf.py --model weights/all-MiniLM-L6-v2 \\
      --texts tools/reference/bench_sentences.txt --threads 2
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import torch
import transformers
from transformers import (AutoModel, AutoTokenizer, BertConfig, BertModel, DistilBertConfig,
                          DistilBertModel, GPT2Config, GPT2Model, RobertaConfig, RobertaModel)

ROOT = Path(__file__).resolve().parents[2]

# The published shapes (the same presets as the C++ `preset_config`); random init.
CONFIGS = {
    "gpt2": (GPT2Config, GPT2Model, dict(n_embd=768, n_layer=12, n_head=12)),
    "gpt2-medium": (GPT2Config, GPT2Model, dict(n_embd=1024, n_layer=24, n_head=16)),
    "bert-base": (BertConfig, BertModel, dict()),  # 12L/768/12H/3072, 512 positions, 30522 vocab
    "bert-large": (BertConfig, BertModel,
                   dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                        intermediate_size=4096)),
    "minilm": (BertConfig, BertModel,
               dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536)),
    "roberta-base": (RobertaConfig, RobertaModel,
                     dict(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                          pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)),
    "distilbert-base": (DistilBertConfig, DistilBertModel, dict()),  # 6L/768/12H/3072
}


class Shape:
    """What the benchmark needs from an HF config, whatever its family."""

    def __init__(self, cfg):
        t = cfg.model_type
        self.model_type = t
        if t == "gpt2":
            self.L, self.H, self.C = cfg.n_layer, cfg.n_head, cfg.n_embd
            self.F = cfg.n_inner or 4 * cfg.n_embd
            self.max_tokens = cfg.n_positions
            self.causal, self.token_types = True, False
        elif t == "distilbert":
            self.L, self.H, self.C, self.F = cfg.n_layers, cfg.n_heads, cfg.dim, cfg.hidden_dim
            self.max_tokens = cfg.max_position_embeddings
            self.causal, self.token_types = False, False
        elif t in ("bert", "roberta"):
            self.L, self.H = cfg.num_hidden_layers, cfg.num_attention_heads
            self.C, self.F = cfg.hidden_size, cfg.intermediate_size
            self.max_tokens = cfg.max_position_embeddings
            if t == "roberta":  # positions start after the padding index
                self.max_tokens -= cfg.pad_token_id + 1
            self.causal, self.token_types = False, cfg.type_vocab_size >= 1
        else:
            sys.exit(f"bench_hf.py: model_type '{t}' is not one headmap runs "
                     "(expected gpt2, bert, roberta or distilbert)")
        self.vocab_size = cfg.vocab_size


def model_flop(shape: Shape, S: int) -> int:
    """Model FLOPs of one forward pass over S tokens (must match the C++ `forward_flops`).

    Per layer, with F the MLP hidden width from the config:
      QKV projection      2*S*C*(3C)
      attention out proj  2*S*C*C
      MLP (fc + proj)     2*S*C*F*2
      attention           2 * 2 * C * A   (QK^T and PV summed over heads), with A the query-key
                          pairs per head: S*(S+1)/2 when causal (GPT-2), S*S for encoders
    Summed over layers. Embeddings, layernorms, softmax, biases, GELU, pooler and lm_head
    are not counted.
    """
    C, F = shape.C, shape.F
    attended = S * (S + 1) // 2 if shape.causal else S * S
    per_layer = 2 * S * C * (3 * C) + 2 * S * C * C + 2 * S * C * F * 2 + 2 * 2 * C * attended
    return shape.L * per_layer


def sgemm_gflops(S: int, C: int, N: int, reps: int = 5, min_time_s: float = 0.2) -> float:
    """Median GFLOP/s of torch.mm fp32 (S x C) . (C x N) on the current threads."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(S, C, generator=g)
    b = torch.randn(C, N, generator=g)
    out = torch.empty(S, N)
    flop = 2 * S * C * N
    torch.mm(a, b, out=out)  # warm-up
    t0 = time.perf_counter()
    torch.mm(a, b, out=out)
    one = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(min_time_s / one))
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b, out=out)
        dt = time.perf_counter() - t0
        rates.append(flop * inner / dt / 1e9)
    return statistics.median(rates)


def resolve_model_dir(model: str) -> str:
    """A directory as given, else a model of that name under the project's weights/."""
    if os.path.isdir(model):
        return model
    local = ROOT / "weights" / model
    if "/" not in model and local.is_dir() and (local / "config.json").is_file():
        return str(local)
    return model  # a hub id: from_pretrained looks in the local cache only (HF_HUB_OFFLINE)


def read_texts(path: str):
    """Lines of a --texts file like the C++ reader: empty lines skipped, a tab makes a pair."""
    texts = []
    with open(path, encoding="utf-8", newline="") as f:
        for raw in f.read().split("\n"):
            line = raw[:-1] if raw.endswith("\r") else raw
            if not line:
                continue
            first, tab, second = line.partition("\t")
            texts.append((first, second if tab else None))
    if not texts:
        sys.exit(f"bench_hf.py: --texts {path}: no texts (expected one text per line)")
    return texts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS),
                    help="random weights of a named shape (default gpt2 when no --model)")
    ap.add_argument("--model", help="a Hugging Face model directory (or a name under weights/)")
    ap.add_argument("--tokenizer", help="tokenizer directory for --texts (default: the model's)")
    ap.add_argument("--texts", help="one text per line, a tab splits a sentence pair (needs --model)")
    ap.add_argument("--truncate", action="store_true", help="cut texts longer than the model's positions")
    ap.add_argument("--seq", help="comma-separated sequence lengths "
                    "(default 64,256,1024 for GPT-2, 32,128,512 for encoders)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=5, help="timed runs (plus 1 warm-up)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.config and args.model:
        ap.error("pass --config (random weights of a named shape) or --model, not both")
    if args.texts and not args.model:
        ap.error("--texts needs --model (a real model and its tokenizer)")
    if args.texts and args.seq:
        ap.error("pass --texts or --seq, not both")
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    transformers.utils.logging.disable_progress_bar()  # keep stderr to real problems
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    if args.model:
        model_dir = resolve_model_dir(args.model)
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32)
        name_key, name = "model", args.model
    else:
        name = args.config or "gpt2"
        config_cls, model_cls, shape_kwargs = CONFIGS[name]
        # Random init, nothing loaded from the hub (GPT-2: vocab 50257, n_positions 1024, gelu_new).
        cfg = config_cls(**shape_kwargs, attn_implementation="eager")
        model = model_cls(cfg)
        name_key = "config"
    model = model.float().eval()
    cfg = model.config
    assert cfg._attn_implementation == "eager", cfg._attn_implementation
    shape = Shape(cfg)
    L, H = shape.L, shape.H

    def forward(ids, type_ids):
        kwargs = dict(input_ids=ids, output_attentions=True)
        if shape.model_type == "gpt2":
            kwargs["use_cache"] = False
        if shape.token_types:
            kwargs["token_type_ids"] = type_ids if type_ids is not None else torch.zeros_like(ids)
        out = model(**kwargs)
        S = ids.shape[1]
        assert len(out.attentions) == L and out.attentions[0].shape == (1, H, S, S)

    # Each batch: (what, list of (ids, type_ids)); every run times the whole batch.
    batches = []
    if args.texts:
        tok = AutoTokenizer.from_pretrained(args.tokenizer or model_dir)
        inputs = []
        for i, (first, second) in enumerate(read_texts(args.texts)):
            enc = tok(first, second, add_special_tokens=True, return_tensors="pt",
                      truncation=True if args.truncate else False,
                      max_length=shape.max_tokens if args.truncate else None)
            ids = enc["input_ids"]
            n = ids.shape[1]
            if n == 0:
                sys.exit(f"bench_hf.py: text {i + 1} gives no tokens")
            if n > shape.max_tokens:
                sys.exit(f"bench_hf.py: text {i + 1} is {n} tokens, more than the model's "
                         f"{shape.max_tokens} positions (shorten it or pass --truncate)")
            inputs.append((ids, enc.get("token_type_ids")))
        tokens = sum(ids.shape[1] for ids, _ in inputs)
        batches.append(({"texts": len(inputs), "tokens": tokens}, inputs))
    else:
        default_seq = "64,256,1024" if shape.causal else "32,128,512"
        for S in [int(s) for s in (args.seq or default_seq).split(",") if s]:
            if not 1 <= S <= shape.max_tokens:
                sys.exit(f"bench_hf.py: --seq {S} is outside 1..{shape.max_tokens}")
            ids = torch.randint(0, shape.vocab_size, (1, S),
                                generator=torch.Generator().manual_seed(args.seed + S))
            batches.append(({"seq": S}, [(ids, torch.zeros_like(ids))]))

    for what, inputs in batches:
        times = []
        with torch.inference_mode():
            for r in range(args.runs + 1):
                t0 = time.perf_counter()
                for ids, type_ids in inputs:
                    forward(ids, type_ids)
                dt = time.perf_counter() - t0
                if r > 0:  # run 0 is the warm-up
                    times.append(dt)
        ms = statistics.median(times) * 1000.0
        tokens = [ids.shape[1] for ids, _ in inputs]
        gflops = sum(model_flop(shape, S) for S in tokens) / (ms / 1000.0) / 1e9
        mean_tokens = max(1, sum(tokens) // len(tokens))
        peak = sgemm_gflops(mean_tokens, shape.C, shape.F)
        print(json.dumps({
            "impl": "hf-transformers",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            name_key: name,
            **what,
            "threads": torch.get_num_threads(),
            "runs": args.runs,
            "ms": round(ms, 3),
            "sentences_per_s": round(len(inputs) / (ms / 1000.0), 2),
            "gflops": round(gflops, 3),
            "sgemm_gflops": round(peak, 3),
            "efficiency": round(gflops / peak, 4),
            "maps": L * H * len(inputs),
        }), flush=True)


if __name__ == "__main__":
    main()
