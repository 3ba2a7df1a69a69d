#!/usr/bin/env python3
"""Make the small attention maps the golden-image tests draw (development time only).

tests/data/golden/run{0,1,2}.npy  float32 (2, 2, 8, 8): three "runs" of a 2-layer, 2-head
    model on 8 tokens -- causal softmax rows from fixed logits plus per-run noise, so compare,
    stability and evolution have real differences to show.
tests/data/golden/blocks.npy       float32 (24, 24): two bright blocks on a dim background
    (row-normalised), for region detection.

Deterministic (numpy Generator with fixed seeds): a rerun gives byte-identical files.
Run:  /opt/hfref/bin/python tools/reference/make_golden_maps.py
"""
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "golden"


def softmax_rows(logits, causal):
    if causal:
        S = logits.shape[-1]
        logits = np.where(np.tril(np.ones((S, S), dtype=bool)), logits, -np.inf)
    logits = logits - logits.max(-1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    base = np.random.default_rng(7).normal(0.0, 2.0, size=(2, 2, 8, 8))
    base[..., 0] += 1.5  # a first-token sink, as trained models show
    for run in range(3):
        noise = np.random.default_rng(100 + run).normal(0.0, 0.6, size=base.shape)
        np.save(OUT / f"run{run}.npy", softmax_rows(base + noise, causal=True))
    blocks = np.full((24, 24), 0.2)
    blocks[3:7, 2:6] = 3.0
    blocks[14:19, 12:18] = 2.5
    blocks += np.random.default_rng(3).uniform(0.0, 0.3, size=blocks.shape)
    np.save(OUT / "blocks.npy", (blocks / blocks.sum(-1, keepdims=True)).astype(np.float32))
    print("wrote", sorted(p.name for p in OUT.glob("*.npy")))


if __name__ == "__main__":
    main()
