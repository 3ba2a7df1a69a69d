#!/usr/bin/env python3
"""Make the tiny GPT-2 test fixtures for headmap (development time only).

Writes two tiny, randomly initialised GPT-2 checkpoints in the Hugging Face
layout plus the outputs Hugging Face transformers computes for them:

  tests/data/gpt2-tiny/         GPT2Model, F32, single model.safetensors, names
                                without prefix ("wte.weight", "h.0.attn.c_attn.weight", ...),
                                plus BOOL "h.N.attn.bias" (1,1,64,64) causal-mask tensors.
  tests/data/distilgpt2-tiny/   GPT2LMHeadModel, F16, sharded (model.safetensors.index.json),
                                names with the "transformer." prefix, lm_head tied (not saved),
                                plus U8 "transformer.h.N.attn.bias" (1,1,64,64) and F32 scalar
                                "transformer.h.N.attn.masked_bias" tensors in one shard.

Each directory also gets expected.safetensors (case{i}.attentions F32 (L,H,S,S),
case{i}.hidden F32 (S,C) = last_hidden_state after ln_f) and expected.json.

Expected outputs are always computed by a model RELOADED from the written directory
with GPT2Model.from_pretrained(dir, attn_implementation="eager", dtype=float32),
so the F16 model's reference is fp16-rounded weights computed in fp32.

Run:  /opt/hfref/bin/python tools/reference/make_gpt2_fixtures.py
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import numpy as np
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model, GPT2TokenizerFast
from transformers.pytorch_utils import Conv1D

REPO = Path(__file__).resolve().parents[2]
N_POS = 64

SEED_SENTENCE = "A new sentence to visualize attention weights"
BASE_TEXTS = [
    ("seed_sentence", SEED_SENTENCE),
    ("single_word", "Hello"),
    ("endoftext", "The first document ends here.<|endoftext|>A second one starts."),
    ("unicode_newlines", "Line one\nLine two: café, naïve, 日本語 🚀🎉\n\tindented  end"),
    ("contractions", "I can't believe it's raining; they'd said we'll be fine."),
    ("numbers_spaces", "  Leading spaces, 12345 numbers and 3.14159 pi!"),
]
LONG_SOURCE = (
    "Attention maps show which earlier tokens each head looks at. "
    "In a causal transformer every position may only attend to itself and the "
    "positions before it, so each row of the map is a probability distribution "
    "over a growing prefix of the sequence. "
)


def make_tokenizer(tok_dir: Path):
    # transformers 5 takes vocab=/merges= (vocab_file=/merges_file= are silently
    # ignored there and give an empty vocabulary), so pass the paths explicitly.
    tok = GPT2TokenizerFast(vocab=str(tok_dir / "vocab.json"), merges=str(tok_dir / "merges.txt"))
    assert len(tok) == 50257, len(tok)
    assert tok("Hello world")["input_ids"] == [15496, 995], "tokenizer did not load"
    assert tok("a<|endoftext|>b")["input_ids"] == [64, 50256, 65]
    return tok


def build_cases(tok):
    cases = []
    for name, text in BASE_TEXTS:
        ids = tok(text)["input_ids"]
        assert 1 <= len(ids) <= N_POS, (name, len(ids))
        cases.append({"label": name, "text": text, "ids": ids})
    # Exactly n_positions tokens: repeat the source, cut to 64 tokens, decode, and
    # check the decoded text re-tokenizes to the same 64 ids.
    ids = tok((LONG_SOURCE * 4))["input_ids"][:N_POS]
    text = tok.decode(ids)
    assert tok(text)["input_ids"] == ids and len(ids) == N_POS
    cases.append({"label": "full_context_64", "text": text, "ids": ids})
    assert len(cases[1]["ids"]) == 1 and 50256 in cases[2]["ids"]
    return cases


def discriminative_init(model: torch.nn.Module, seed: int):
    """Re-initialise so attention is peaky (not near-uniform) and tests are sensitive."""
    g = torch.Generator().manual_seed(seed)

    def normal_(t, mean, std):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float32) * std + mean)

    for name, mod in model.named_modules():
        if isinstance(mod, (Conv1D, torch.nn.Linear)):
            normal_(mod.weight, 0.0, 0.35)
            if mod.bias is not None:
                normal_(mod.bias, 0.0, 0.1)
        elif isinstance(mod, torch.nn.Embedding):
            normal_(mod.weight, 0.0, 0.4)
        elif isinstance(mod, torch.nn.LayerNorm):
            normal_(mod.weight, 1.0, 0.2)
            normal_(mod.bias, 0.0, 0.1)


def causal_mask(dtype):
    return torch.tril(torch.ones(N_POS, N_POS, dtype=torch.bool)).view(1, 1, N_POS, N_POS).to(dtype)


def reload_and_run(out_dir: Path, cases, ref_state: dict, prefix: str):
    model, info = GPT2Model.from_pretrained(
        str(out_dir), attn_implementation="eager", dtype=torch.float32, output_loading_info=True
    )
    assert not info["missing_keys"], f"missing keys: {info['missing_keys']}"
    assert not info.get("mismatched_keys"), info.get("mismatched_keys")
    print(f"  reload OK: no missing keys; unexpected (ignored): {sorted(info['unexpected_keys'])[:4]}...")
    model.eval()
    # The reloaded weights must be exactly the saved ones (fp16-rounded for the F16 model).
    sd = model.state_dict()
    for k, v in ref_state.items():
        kk = k[len(prefix):] if k.startswith(prefix) else k
        if kk in sd:
            assert torch.equal(sd[kk], v.float()), k
        else:
            assert kk.endswith(("attn.bias", "attn.masked_bias")), k
    tensors, meta_cases, row_max_all, row_max_long, uniform_long = {}, [], [], [], []
    with torch.inference_mode():
        for i, c in enumerate(cases):
            ids = torch.tensor([c["ids"]], dtype=torch.long)
            out = model(input_ids=ids, output_attentions=True)
            att = torch.stack([a[0] for a in out.attentions]).float().contiguous()  # (L,H,S,S)
            hid = out.last_hidden_state[0].float().contiguous()  # (S,C)
            S = ids.shape[1]
            assert att.shape == (model.config.n_layer, model.config.n_head, S, S)
            assert torch.allclose(att.sum(-1), torch.ones(()), atol=1e-5)
            assert torch.all(att.triu(1) == 0)
            tensors[f"case{i}.attentions"] = att
            tensors[f"case{i}.hidden"] = hid
            meta_cases.append({"name": f"case{i}", "label": c["label"], "text": c["text"], "ids": c["ids"]})
            rm = att.max(-1).values  # (L,H,S)
            row_max_all.append(rm.reshape(-1))
            if S >= 8:
                row_max_long.append(rm[..., 8:].reshape(-1))  # rows with >= 9 allowed keys
                uniform_long.append((1.0 / torch.arange(9, S + 1, dtype=torch.float32)).repeat(rm.shape[0] * rm.shape[1]))
    rm_all = torch.cat(row_max_all)
    rm_long = torch.cat(row_max_long)
    uni = torch.cat(uniform_long)
    stats = {
        "mean_row_max_all_rows": round(rm_all.mean().item(), 4),
        "mean_row_max_rows_ge9_keys": round(rm_long.mean().item(), 4),
        "uniform_mean_row_max_rows_ge9_keys": round(uni.mean().item(), 4),
        "median_row_max_rows_ge9_keys": round(rm_long.median().item(), 4),
        "frac_rows_ge9_keys_with_max_gt_0.5": round((rm_long > 0.5).float().mean().item(), 4),
        "frac_rows_ge9_keys_with_max_gt_0.99": round((rm_long > 0.99).float().mean().item(), 4),
        "hidden_abs_max": round(max(t.abs().max().item() for k, t in tensors.items() if k.endswith(".hidden")), 3),
    }
    print("  attention peakiness:", json.dumps(stats))
    assert stats["mean_row_max_all_rows"] > 0.4 and stats["mean_row_max_rows_ge9_keys"] > 0.4, stats
    return model, tensors, meta_cases, stats


def write_expected(out_dir: Path, model, tensors, meta_cases, stats):
    save_file(tensors, str(out_dir / "expected.safetensors"), metadata={"format": "pt"})
    cfg = model.config
    keys = ["model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner",
            "activation_function", "layer_norm_epsilon", "scale_attn_weights",
            "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"]
    meta = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "model_dir": str(out_dir.relative_to(REPO)),
        "config": {k: getattr(cfg, k) for k in keys},
        "attention_stats": stats,
        "cases": meta_cases,
    }
    (out_dir / "expected.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")


def check_config_json(out_dir: Path):
    cj = json.loads((out_dir / "config.json").read_text())
    need = ["model_type", "n_layer", "n_head", "n_embd", "n_positions", "vocab_size",
            "layer_norm_epsilon", "activation_function"]
    missing = [k for k in need if k not in cj]
    assert not missing and cj["model_type"] == "gpt2", missing


def clean_dir(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in out_dir.iterdir():
        if p.is_file():
            p.unlink()


def make_gpt2_tiny(out_dir: Path, cases):
    print(f"== {out_dir.relative_to(REPO)}")
    torch.manual_seed(1234)
    cfg = GPT2Config(vocab_size=50257, n_positions=N_POS, n_embd=24, n_layer=2, n_head=3,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5)
    model = GPT2Model(cfg).float().eval()
    discriminative_init(model, seed=1234)
    clean_dir(out_dir)
    model.save_pretrained(str(out_dir))
    st = out_dir / "model.safetensors"
    sd = load_file(str(st))
    assert "wte.weight" in sd and tuple(sd["h.0.attn.c_attn.weight"].shape) == (24, 72)
    assert all(v.dtype == torch.float32 for v in sd.values())
    for n in range(cfg.n_layer):
        sd[f"h.{n}.attn.bias"] = causal_mask(torch.bool)
    save_file(sd, str(st), metadata={"format": "pt"})
    check_config_json(out_dir)
    m, tensors, mc, stats = reload_and_run(out_dir, cases, load_file(str(st)), prefix="")
    write_expected(out_dir, m, tensors, mc, stats)


def make_distilgpt2_tiny(out_dir: Path, cases):
    print(f"== {out_dir.relative_to(REPO)}")
    torch.manual_seed(4321)
    cfg = GPT2Config(vocab_size=50257, n_positions=N_POS, n_embd=32, n_layer=3, n_head=4,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5)
    model = GPT2LMHeadModel(cfg).float().eval()
    discriminative_init(model, seed=4321)
    model.tie_weights()
    model = model.half()
    clean_dir(out_dir)
    # wte alone is ~3.2 MB in F16, so a 1 MB limit gives one shard for it plus the rest.
    model.save_pretrained(str(out_dir), max_shard_size="1MB")
    idx_path = out_dir / "model.safetensors.index.json"
    assert idx_path.exists(), "not sharded"
    index = json.loads(idx_path.read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 2, shards
    assert "lm_head.weight" not in index["weight_map"]
    assert all(k.startswith("transformer.") for k in index["weight_map"])
    # Add the legacy buffers to the shard that holds block 0 (as old checkpoints have).
    target = index["weight_map"]["transformer.h.0.attn.c_attn.weight"]
    sd = load_file(str(out_dir / target))
    added = 0
    for n in range(cfg.n_layer):
        b = causal_mask(torch.uint8)
        mb = torch.tensor(-1e4, dtype=torch.float32)
        sd[f"transformer.h.{n}.attn.bias"] = b
        sd[f"transformer.h.{n}.attn.masked_bias"] = mb
        index["weight_map"][f"transformer.h.{n}.attn.bias"] = target
        index["weight_map"][f"transformer.h.{n}.attn.masked_bias"] = target
        added += b.numel() * b.element_size() + mb.numel() * mb.element_size()
    save_file(sd, str(out_dir / target), metadata={"format": "pt"})
    index["metadata"]["total_size"] = int(index["metadata"].get("total_size", 0)) + added
    index["weight_map"] = dict(sorted(index["weight_map"].items()))
    idx_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    check_config_json(out_dir)
    full = {}
    for s in shards:
        full.update(load_file(str(out_dir / s)))
    assert set(full) == set(index["weight_map"])
    float_dtypes = {v.dtype for k, v in full.items() if not k.endswith(("attn.bias", "attn.masked_bias"))}
    assert float_dtypes == {torch.float16}, float_dtypes
    print(f"  shards: {shards}")
    m, tensors, mc, stats = reload_and_run(out_dir, cases, full, prefix="transformer.")
    write_expected(out_dir, m, tensors, mc, stats)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer-dir", default=str(REPO / "weights" / "gpt2"))
    ap.add_argument("--out", default=str(REPO / "tests" / "data"))
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    tok = make_tokenizer(Path(args.tokenizer_dir))
    cases = build_cases(tok)
    for i, c in enumerate(cases):
        print(f"case{i} [{c['label']}] {len(c['ids'])} tokens")
    out = Path(args.out)
    make_gpt2_tiny(out / "gpt2-tiny", cases)
    make_distilgpt2_tiny(out / "distilgpt2-tiny", cases)
    total = 0
    for d in ("gpt2-tiny", "distilgpt2-tiny"):
        for p in sorted((out / d).iterdir()):
            total += p.stat().st_size
            print(f"  {p.relative_to(REPO)}  {p.stat().st_size} bytes")
    print(f"total fixture size: {total} bytes ({total / 1e6:.2f} MB)")
    assert total < 10e6


if __name__ == "__main__":
    sys.exit(main())
