#!/usr/bin/env python3
"""headmap against HF transformers, interleaved pair by pair in one driver.

Sequential benchmarks mislead on a shared host: the same comparison printed 7.03x under load and
0.87x when quiet. Here each pair times one headmap forward (`headmap bench --runs 1`, in a fresh
process, after its own warm-up) and one HF forward (eager attention, output_attentions=True, the
model built once), back to back, alternating which goes first; the ratio of each pair is
HF ms / headmap ms, and the line reports the median of those ratios, their range and the load
average before and after. Random-init weights of a named shape (bench_hf.py's presets), random
ids, fp32, the same threads for both.

  HEADMAP_CPU=avx2 /path/to/venv/bin/python tools/reference/bench_vs_hf.py \\
      --config gpt2 --seq 64,256,1024 --threads 2 --pairs 7

One JSON line per length:
  {"config": "gpt2", "seq": 64, "threads": 2, "pairs": 7, "headmap_ms": median,
   "hf_ms": median, "ratio_median": ..., "ratio_min": ..., "ratio_max": ...,
   "load_before": [1, 5, 15 min], "load_after": [...], "cpu": ..., "extensions": ...,
   "kernels": ..., "headmap_efficiency": median, "headmap_peak_rss_mib": ..., "torch": ...,
   "transformers": ..., "date": ...}
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hf import CONFIGS, Shape  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="gpt2", choices=sorted(CONFIGS))
    parser.add_argument("--seq", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--headmap", default=str(ROOT / "build" / "bin" / "headmap"))
    args = parser.parse_args()
    if args.pairs < 1:
        sys.exit("bench_vs_hf.py: --pairs must be at least 1")

    torch.set_num_threads(args.threads)
    config_cls, model_cls, shape_kwargs = CONFIGS[args.config]
    cfg = config_cls(**shape_kwargs, attn_implementation="eager")
    model = model_cls(cfg).float().eval()
    assert model.config._attn_implementation == "eager"
    shape = Shape(model.config)
    seqs = [int(s) for s in (args.seq or ("64,256,1024" if shape.causal else "32,128,512"))
            .split(",") if s]

    def hf_ms(ids):
        kwargs = dict(input_ids=ids, output_attentions=True)
        if shape.model_type == "gpt2":
            kwargs["use_cache"] = False
        if shape.token_types:
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        t0 = time.perf_counter()
        out = model(**kwargs)
        dt = (time.perf_counter() - t0) * 1000.0
        assert len(out.attentions) == shape.L
        return dt

    def headmap_line(S):
        run = subprocess.run([args.headmap, "bench", "--config", args.config, "--seq", str(S),
                              "--threads", str(args.threads), "--runs", "1"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"bench_vs_hf.py: headmap bench exited {run.returncode}: "
                     f"{run.stderr.strip()}")
        return json.loads(run.stdout.strip().splitlines()[-1])

    for S in seqs:
        ids = torch.randint(0, shape.vocab_size, (1, S),
                            generator=torch.Generator().manual_seed(S))
        with torch.inference_mode():
            hf_ms(ids)  # warm-up
            load_before = os.getloadavg()
            ours, theirs, ratios, lines = [], [], [], []
            for pair in range(args.pairs):
                if pair % 2 == 0:
                    line = headmap_line(S)
                    hf = hf_ms(ids)
                else:
                    hf = hf_ms(ids)
                    line = headmap_line(S)
                lines.append(line)
                ours.append(line["ms"])
                theirs.append(hf)
                ratios.append(hf / line["ms"])
            load_after = os.getloadavg()
        last = lines[-1]
        print(json.dumps({
            "config": args.config, "seq": S, "threads": args.threads, "pairs": args.pairs,
            "headmap_ms": round(statistics.median(ours), 2),
            "hf_ms": round(statistics.median(theirs), 2),
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "cpu": last.get("cpu"), "extensions": last.get("extensions"),
            "kernels": last.get("kernels"),
            "headmap_efficiency": round(statistics.median(l["efficiency"] for l in lines), 3),
            "headmap_peak_rss_mib": last.get("peak_rss_mib"),
            "torch": torch.__version__, "transformers": transformers.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        }), flush=True)


if __name__ == "__main__":
    main()
