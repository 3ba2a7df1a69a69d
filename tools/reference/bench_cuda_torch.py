#!/usr/bin/env python3
"""PyTorch eager on the GPU: the comparison for `headmap bench --device cuda`.

Development-time only (the lent GPU machine has torch and transformers; nothing at run time
needs them). Same shapes and random init as bench_hf.py's --config presets, random ids.

Two JSON lines per --seq length:

  {"impl": "torch-eager-cuda" (-cpu with --device cpu), "torch": ..., "transformers": ..., "device": NAME,
   "config": "gpt2", "seq": S, "runs": R, "tf32": false,
   "forward_ms": median forward with output_attentions=True, maps left on the device,
   "ms": median forward plus every map copied to the host ([a.cpu() for a in attentions]),
   "maps": L*H}

  {"impl": "torch-eager-cuda-attention", "seq": S, "heads": H, "head_dim": D, "causal": ...,
   "runs": R, "ms": median of one layer's eager attention alone (HF's eager_attention_forward:
   matmul, scale, mask, softmax, matmul) on random Q, K, V, CUDA events}

headmap's lines to set beside them: `headmap bench --config gpt2 --seq 1024 --device cuda`
("ms" and "forward_ms" of impl headmap-cuda; "fused_ms" and "baseline_ms" of
headmap-cuda-attention). FP32 throughout; TF32 stays off unless --tf32 (headmap's --fast).

Example (on the GPU machine):
  python3 tools/reference/bench_cuda_torch.py --config gpt2 --seq 1024 --runs 10
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hf import CONFIGS, Shape  # noqa: E402  (the same presets)


def timed_ms(fn, runs, device):
    """Median milliseconds of fn() over runs, after one warm-up; CUDA events on a GPU."""
    times = []
    for run in range(-1, runs):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            fn()
            ms = (time.perf_counter() - t0) * 1e3
        if run >= 0:
            times.append(ms)
    return statistics.median(times)


def eager_attention(q, k, v, causal, scale):
    """HF's eager_attention_forward for one layer: (H, S, D) each -> maps (H, S, S), ctx."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if causal:
        S = q.shape[-2]
        mask = torch.ones(S, S, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(mask, torch.finfo(scores.dtype).min)
    maps = torch.softmax(scores, dim=-1)
    return maps, torch.matmul(maps, v)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="gpt2")
    ap.add_argument("--seq", default="1024", help="comma-separated sequence lengths")
    ap.add_argument("--runs", type=int, default=10, help="timed runs (plus 1 warm-up)")
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu, to check the script")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (headmap --fast)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_cuda_torch.py: no CUDA device (expected a GPU, or --device cpu)")
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = "tf32" if args.tf32 else "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(args.seed)

    config_cls, model_cls, shape_kwargs = CONFIGS[args.config]
    cfg = config_cls(**shape_kwargs, attn_implementation="eager")
    model = model_cls(cfg).float().eval().to(device)
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    shape = Shape(model.config)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    common = {"torch": torch.__version__, "transformers": transformers.__version__,
              "device": device_name}

    for S in [int(s) for s in args.seq.split(",")]:
        if not 1 <= S <= shape.max_tokens:
            sys.exit(f"bench_cuda_torch.py: --seq {S} is outside 1..{shape.max_tokens}")
        ids = torch.randint(0, shape.vocab_size, (1, S), device=device)

        def forward():
            with torch.inference_mode():
                return model(input_ids=ids, output_attentions=True).attentions

        def forward_to_host():
            return [a.cpu() for a in forward()]

        maps = forward()
        assert len(maps) == shape.L and tuple(maps[0].shape) == (1, shape.H, S, S), maps[0].shape
        forward_ms = timed_ms(forward, args.runs, device)
        ms = timed_ms(forward_to_host, args.runs, device)
        print(json.dumps({"impl": f"torch-eager-{device.type}", **common, "config": args.config, "seq": S,
                          "runs": args.runs, "tf32": args.tf32, "forward_ms": round(forward_ms, 3),
                          "ms": round(ms, 3), "maps": shape.L * shape.H}), flush=True)

        D = shape.C // shape.H
        g = torch.Generator(device=device).manual_seed(args.seed)
        q, k, v = (torch.randn(shape.H, S, D, generator=g, device=device) for _ in range(3))
        with torch.inference_mode():
            attention_ms = timed_ms(lambda: eager_attention(q, k, v, shape.causal, D ** -0.5),
                                    args.runs, device)
        print(json.dumps({"impl": f"torch-eager-{device.type}-attention", **common, "seq": S,
                          "heads": shape.H, "head_dim": D, "causal": shape.causal,
                          "runs": args.runs, "tf32": args.tf32, "ms": round(attention_ms, 4)}),
              flush=True)


if __name__ == "__main__":
    main()
