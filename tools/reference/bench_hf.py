#!/usr/bin/env python3
"""Benchmark Hugging Face transformers GPT-2 forward + attention maps on the CPU.

Development-time reference for headmap's C++ benchmark. Random-init GPT-2 (no hub
access), eager attention, output_attentions=True, fp32, inference_mode.
Prints one JSON line per sequence length:

  {"impl": "hf-transformers", "transformers": ..., "torch": ..., "config": "gpt2",
   "seq": S, "threads": T, "runs": R, "ms": median_ms, "gflops": ..., "sgemm_gflops": ...,
   "efficiency": gflops / sgemm_gflops, "maps": L*H}

Example:
  /opt/hfref/bin/python tools/reference/bench_hf.py --config gpt2 --seq 64,256,1024 --threads 2
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import torch
import transformers
from transformers import GPT2Config, GPT2Model

CONFIGS = {
    "gpt2": dict(n_embd=768, n_layer=12, n_head=12),
    "gpt2-medium": dict(n_embd=1024, n_layer=24, n_head=16),
}


def model_flop(n_layer: int, C: int, S: int) -> int:
    """Model FLOPs of one forward pass over S tokens (must match the C++ benchmark).

    Per layer, with F = 4*C (MLP hidden width):
      QKV projection      2*S*C*(3C)
      attention out proj  2*S*C*C
      MLP (fc + proj)     2*S*C*F*2
      attention, causal:  2 * 2 * C * S*(S+1)/2   (QK^T and PV over the allowed
                                                   lower triangle, summed over heads)
    Summed over layers. Embeddings, layernorms, softmax, biases, GELU and lm_head
    are not counted.
    """
    F = 4 * C
    per_layer = 2 * S * C * (3 * C) + 2 * S * C * C + 2 * S * C * F * 2 + 2 * 2 * C * (S * (S + 1) // 2)
    return n_layer * per_layer


def sgemm_gflops(S: int, C: int, reps: int = 5, min_time_s: float = 0.2) -> float:
    """Median GFLOP/s of torch.mm fp32 (S x C) . (C x 4C) on the current threads."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(S, C, generator=g)
    b = torch.randn(C, 4 * C, generator=g)
    out = torch.empty(S, 4 * C)
    flop = 2 * S * C * 4 * C
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="gpt2", choices=sorted(CONFIGS))
    ap.add_argument("--seq", default="64,256,1024", help="comma-separated sequence lengths")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=5, help="timed runs (plus 1 warm-up)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    # vocab 50257, n_positions 1024, gelu_new; random init, nothing loaded from the hub.
    cfg = GPT2Config(**CONFIGS[args.config], attn_implementation="eager")
    model = GPT2Model(cfg)
    model = model.float().eval()
    assert model.config._attn_implementation == "eager"
    L, H, C = cfg.n_layer, cfg.n_head, cfg.n_embd

    for S in [int(s) for s in args.seq.split(",") if s]:
        assert 1 <= S <= cfg.n_positions, S
        ids = torch.randint(0, cfg.vocab_size, (1, S), generator=torch.Generator().manual_seed(args.seed + S))
        times = []
        with torch.inference_mode():
            for r in range(args.runs + 1):
                t0 = time.perf_counter()
                out = model(input_ids=ids, output_attentions=True, use_cache=False)
                dt = time.perf_counter() - t0
                assert len(out.attentions) == L and out.attentions[0].shape == (1, H, S, S)
                del out
                if r > 0:  # run 0 is the warm-up
                    times.append(dt)
        ms = statistics.median(times) * 1000.0
        gflops = model_flop(L, C, S) / (ms / 1000.0) / 1e9
        peak = sgemm_gflops(S, C)
        print(json.dumps({
            "impl": "hf-transformers",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "config": args.config,
            "seq": S,
            "threads": torch.get_num_threads(),
            "runs": args.runs,
            "ms": round(ms, 3),
            "gflops": round(gflops, 3),
            "sgemm_gflops": round(peak, 3),
            "efficiency": round(gflops / peak, 4),
            "maps": L * H,
        }), flush=True)


if __name__ == "__main__":
    main()
