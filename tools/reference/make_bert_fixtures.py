#!/usr/bin/env python3
"""Make the BERT-family test fixtures for headmap (development time only).

Writes four tiny, randomly initialised encoder checkpoints in the Hugging Face layout plus the
outputs Hugging Face transformers computes for them, and the expected outputs of the real
sentence-transformers/all-MiniLM-L6-v2 (whose weights stay in weights/, not in tests/data):

  tests/data/bert-tiny/        BertForPreTraining, F32, single model.safetensors, names with the
                               "bert." prefix plus the "cls.predictions.*" / "cls.seq_relationship.*"
                               heads (the loader must ignore them); every LayerNorm parameter is
                               renamed to the OLD "LayerNorm.gamma" / "LayerNorm.beta" names.
                               vocab.txt + tokenizer_config.json (bert-base-uncased).
  tests/data/bert-tiny-f16/    BertModel (with pooler), F16, no prefix, "LayerNorm.weight/bias".
                               vocab.txt + tokenizer_config.json (bert-base-uncased).
  tests/data/roberta-tiny/     RobertaModel (with pooler), F16, no prefix; vocab.json + merges.txt
                               built from the GPT-2 BPE files (no real RoBERTa vocab offline).
  tests/data/distilbert-tiny/  DistilBertModel, F32, no prefix; vocab.txt + tokenizer_config.json.
  tests/data/minilm-expected/  expected outputs only (no weights) of weights/all-MiniLM-L6-v2/.

Each directory gets expected.safetensors (case{i}.attentions F32 (L,H,S,S), case{i}.hidden F32
(S,C) = last_hidden_state) and expected.json. Expected outputs always come from the model
RELOADED from the written directory with <Class>.from_pretrained(dir, attn_implementation="eager",
dtype=float32) (no missing keys; reloaded weights checked equal to the saved ones), so the F16
models' reference is fp16-rounded weights computed in fp32.

Run:  /opt/hfref/bin/python tools/reference/make_bert_fixtures.py
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForPreTraining,
    BertModel,
    BertTokenizerFast,
    DistilBertConfig,
    DistilBertModel,
    DistilBertTokenizerFast,
    RobertaConfig,
    RobertaModel,
    RobertaTokenizerFast,
)

REPO = Path(__file__).resolve().parents[2]
N_TOK = 64  # max tokens incl. specials (BERT/DistilBERT: max_position_embeddings; RoBERTa: 66 - 2)
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # = weights/fetch

SEED_SENTENCE = "A new sentence to visualize attention weights"
TINY_TEXTS = [
    # (label, text, text_pair)
    ("seed_sentence", SEED_SENTENCE, None),
    ("single_word", "Hello", None),
    ("sentence_pair", "The cat sat on the mat.", "It was warm and comfortable there."),
    ("unicode", "Café naïve résumé — Ünïcödé! 日本語のテキスト 🚀🎉 ok", None),
    ("punct_numbers", "Wait... what?! $3.14, 12,345 items (approx.) -- e-mail: a@b.com; 50% off #1", None),
]
LONG_WORDS = (
    "attention maps show which tokens each head looks at in a bidirectional encoder every "
    "position may attend to all the others so each row of the map is a probability "
    "distribution over the whole sequence and the tokens"
).split()
FILLERS = ["a", "the", "and", "of", "to"]

MINILM_TEXTS = [
    ("seed_sentence", SEED_SENTENCE, None),
    ("sentence_pair", "How is the weather today?", "It is sunny and warm outside."),
    ("accented", "Les élèves ont étudié à l'école près du café. Über naïve Zoë!", None),
    ("cjk_emoji", "東京は美しい都市です 🚀 I love it 😊", None),
    ("punctuation", "Hey!!! Really?? (yes) -- no... [maybe]; a/b @user #tag 100%", None),
    ("single_word", "Transformers", None),
    ("long_paragraph",
     "Sentence embeddings map a whole sentence to one vector, so that sentences with similar "
     "meanings end up close together; attention maps show how each layer mixes the tokens.",
     None),
]
MINILM_MAX_TOK = 40


# ----------------------------------------------------------------------------- helpers

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def clean_dir(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in out_dir.iterdir():
        if p.is_file():
            p.unlink()


def discriminative_init(model: torch.nn.Module, seed: int):
    """Re-initialise so attention is peaky (not near-uniform) and tests are sensitive."""
    g = torch.Generator().manual_seed(seed)

    seen = set()  # tied parameters (BertForPreTraining's decoder = word embeddings) are set once

    def normal_(t, mean, std):
        if id(t) in seen:
            return
        seen.add(id(t))
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float32) * std + mean)

    for _, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            normal_(mod.weight, 0.0, 0.35)
            if mod.bias is not None:
                normal_(mod.bias, 0.0, 0.1)
        elif isinstance(mod, torch.nn.Embedding):
            normal_(mod.weight, 0.0, 0.4)
        elif isinstance(mod, torch.nn.LayerNorm):
            normal_(mod.weight, 1.0, 0.2)
            normal_(mod.bias, 0.0, 0.1)
    # Heads with parameters outside Linear/Embedding/LayerNorm (BertForPreTraining's
    # cls.predictions.bias): give them deterministic values too.
    for name, p in model.named_parameters():
        if name.endswith("predictions.bias"):
            normal_(p, 0.0, 0.1)


def tokenize(tok, text, text_pair=None):
    enc = tok(text, text_pair) if text_pair is not None else tok(text)
    ids = list(enc["input_ids"])
    has_tt = "token_type_ids" in enc
    tt = list(enc["token_type_ids"]) if has_tt else [0] * len(ids)
    return ids, tt, has_tt


def fill_to_length(tok, n_total: int) -> str:
    """Deterministic text whose tokenization (with specials) is exactly n_total tokens."""
    text, i = "", 0
    words = LONG_WORDS * 3
    for w in words + FILLERS * n_total:
        cand = f"{text} {w}" if text else w
        n = len(tok(cand)["input_ids"])
        if n <= n_total:
            text = cand
        if n == n_total:
            return text
        i += 1
    raise AssertionError("could not reach the exact length")


def build_cases(tok, texts, max_tok, full_length=None):
    cases, any_tt = [], False
    for label, text, pair in texts:
        ids, tt, has_tt = tokenize(tok, text, pair)
        any_tt |= has_tt
        assert 1 <= len(ids) <= max_tok, (label, len(ids))
        c = {"label": label, "text": text}
        if pair is not None:
            c["text_pair"] = pair
        c.update({"ids": ids, "type_ids": tt})
        cases.append(c)
    if full_length is not None:
        text = fill_to_length(tok, full_length)
        ids, tt, _ = tokenize(tok, text)
        assert len(ids) == full_length
        cases.append({"label": f"max_length_{full_length}", "text": text, "ids": ids, "type_ids": tt})
    return cases, any_tt


def attention_stats(tensors, min_keys=8):
    """Non-causal peakiness statistics: each row of a map has S keys (uniform = 1/S)."""
    rm_all, uni_all, rm_long, uni_long = [], [], [], []
    for k, att in tensors.items():
        if not k.endswith(".attentions"):
            continue
        S = att.shape[-1]
        rm = att.max(-1).values.reshape(-1)
        rm_all.append(rm)
        uni_all.append(torch.full_like(rm, 1.0 / S))
        if S >= min_keys:
            rm_long.append(rm)
            uni_long.append(torch.full_like(rm, 1.0 / S))
    rm_all, uni_all = torch.cat(rm_all), torch.cat(uni_all)
    rm_long, uni_long = torch.cat(rm_long), torch.cat(uni_long)
    return {
        "mean_row_max_all_rows": round(rm_all.mean().item(), 4),
        "uniform_mean_row_max_all_rows": round(uni_all.mean().item(), 4),
        f"mean_row_max_cases_ge{min_keys}_keys": round(rm_long.mean().item(), 4),
        f"uniform_mean_row_max_cases_ge{min_keys}_keys": round(uni_long.mean().item(), 4),
        f"median_row_max_cases_ge{min_keys}_keys": round(rm_long.median().item(), 4),
        f"frac_rows_cases_ge{min_keys}_keys_with_max_gt_0.5": round((rm_long > 0.5).float().mean().item(), 4),
        f"frac_rows_cases_ge{min_keys}_keys_with_max_gt_0.99": round((rm_long > 0.99).float().mean().item(), 4),
        "hidden_abs_max": round(max(t.abs().max().item() for k, t in tensors.items() if k.endswith(".hidden")), 3),
    }


def reload_and_run(cls, model_dir: Path, cases, ref_state: dict, allowed_unexpected, pass_type_ids: bool):
    """Reload from model_dir, check the weights are exactly ref_state, run every case."""
    model, info = cls.from_pretrained(
        str(model_dir), attn_implementation="eager", dtype=torch.float32, output_loading_info=True
    )
    assert not info["missing_keys"], f"missing keys: {info['missing_keys']}"
    assert not info.get("mismatched_keys"), info.get("mismatched_keys")
    assert not info.get("error_msgs"), info.get("error_msgs")
    unexpected = sorted(info["unexpected_keys"])
    assert all(allowed_unexpected(k) for k in unexpected), unexpected
    print(f"  reload OK: no missing keys; {len(unexpected)} unexpected (ignored): {unexpected[:3]}...")
    model.eval()
    sd = model.state_dict()
    assert set(sd) == set(ref_state), (sorted(set(sd) ^ set(ref_state)))
    for k, v in ref_state.items():
        assert sd[k].dtype == torch.float32 and torch.equal(sd[k], v.float()), k
    tensors, meta_cases = {}, []
    L, H = model.config.num_hidden_layers, model.config.num_attention_heads
    with torch.inference_mode():
        for i, c in enumerate(cases):
            ids = torch.tensor([c["ids"]], dtype=torch.long)
            kwargs = {"input_ids": ids, "output_attentions": True}
            if pass_type_ids:
                kwargs["token_type_ids"] = torch.tensor([c["type_ids"]], dtype=torch.long)
            out = model(**kwargs)
            att = torch.stack([a[0] for a in out.attentions]).float().contiguous()  # (L,H,S,S)
            hid = out.last_hidden_state[0].float().contiguous()  # (S,C)
            S = ids.shape[1]
            assert att.shape == (L, H, S, S) and hid.shape == (S, model.config.hidden_size)
            assert torch.allclose(att.sum(-1), torch.ones(()), atol=1e-5)
            assert torch.isfinite(hid).all()
            tensors[f"case{i}.attentions"] = att
            tensors[f"case{i}.hidden"] = hid
            meta_cases.append({"name": f"case{i}", **c})
    stats = attention_stats(tensors)
    print("  attention peakiness:", json.dumps(stats))
    return model, tensors, meta_cases, stats


def assert_peaky(stats):
    # Non-causal rows see all S keys (uniform row max = 1/S, ~0.03 here), so the bar is relative:
    # the mean row max must be several times the uniform value and a good share of rows > 0.5.
    assert stats["mean_row_max_all_rows"] > 0.2, stats
    assert stats["mean_row_max_all_rows"] > 4 * stats["uniform_mean_row_max_all_rows"], stats
    assert stats["mean_row_max_cases_ge8_keys"] > 5 * stats["uniform_mean_row_max_cases_ge8_keys"], stats
    assert stats["frac_rows_cases_ge8_keys_with_max_gt_0.5"] > 0.1, stats


BERT_KEYS = ["model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "intermediate_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
             "hidden_act", "pad_token_id"]
ROBERTA_KEYS = BERT_KEYS + ["bos_token_id", "eos_token_id"]
DISTIL_KEYS = ["model_type", "vocab_size", "dim", "n_layers", "n_heads", "hidden_dim",
               "max_position_embeddings", "activation", "sinusoidal_pos_embds", "pad_token_id"]


def write_expected(out_dir: Path, model, keys, tensors, meta_cases, stats, extra=None, extra_config=None):
    save_file(tensors, str(out_dir / "expected.safetensors"), metadata={"format": "pt"})
    cfg = model.config
    config = {k: getattr(cfg, k) for k in keys}
    config.update(extra_config or {})
    meta = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        **(extra or {}),
        "config": config,
        "attention_stats": stats,
        "cases": meta_cases,
    }
    (out_dir / "expected.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")


def check_config_json(out_dir: Path, model_type: str, need):
    cj = json.loads((out_dir / "config.json").read_text())
    missing = [k for k in need if k not in cj]
    assert not missing and cj["model_type"] == model_type, missing


def copy_bert_tokenizer(src: Path, out_dir: Path):
    for f in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(src / f, out_dir / f)


def load_bert_tokenizer(out_dir: Path, cls=BertTokenizerFast):
    tok = cls.from_pretrained(str(out_dir))
    assert len(tok) == 30522, len(tok)
    assert tok("Hello world")["input_ids"] == [101, 7592, 2088, 102], "vocab.txt did not load"
    return tok


def print_cases(cases):
    for i, c in enumerate(cases):
        print(f"  case{i} [{c['label']}] {len(c['ids'])} tokens")


# ----------------------------------------------------------------------------- models

def make_bert_tiny(out_dir: Path, bert_tok_dir: Path):
    print(f"== {out_dir.relative_to(REPO)}")
    torch.manual_seed(2024)
    cfg = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=N_TOK, type_vocab_size=2,
                     layer_norm_eps=1e-12, hidden_act="gelu")
    model = BertForPreTraining(cfg).float().eval()
    discriminative_init(model, seed=2024)
    model.tie_weights()
    clean_dir(out_dir)
    model.save_pretrained(str(out_dir))
    copy_bert_tokenizer(bert_tok_dir, out_dir)
    st = out_dir / "model.safetensors"
    sd = load_file(str(st))
    assert all(v.dtype == torch.float32 for v in sd.values())
    assert any(k.startswith("cls.predictions.") for k in sd) and any(k.startswith("cls.seq_relationship.") for k in sd)
    assert all(k.startswith(("bert.", "cls.")) for k in sd), sorted(sd)
    # The state the model must have after reload (BertModel strips the "bert." prefix).
    intended = {k[len("bert."):]: v.clone() for k, v in sd.items() if k.startswith("bert.")}
    # Old checkpoints name LayerNorm parameters gamma/beta: rename every one of them.
    renamed, n_ln = {}, 0
    for k, v in sd.items():
        if ".LayerNorm.weight" in k or k.endswith("LayerNorm.weight"):
            k, n_ln = k[: -len("weight")] + "gamma", n_ln + 1
        elif ".LayerNorm.bias" in k or k.endswith("LayerNorm.bias"):
            k, n_ln = k[: -len("bias")] + "beta", n_ln + 1
        renamed[k] = v
    assert n_ln == 2 * (1 + 2 * cfg.num_hidden_layers + 1), n_ln  # emb + 2/layer + cls transform
    assert not any(k.endswith(("LayerNorm.weight", "LayerNorm.bias")) for k in renamed)
    save_file(renamed, str(st), metadata={"format": "pt"})
    check_config_json(out_dir, "bert", BERT_KEYS[1:])
    tok = load_bert_tokenizer(out_dir)
    cases, has_tt = build_cases(tok, TINY_TEXTS, N_TOK, full_length=N_TOK)
    assert has_tt and cases[2]["type_ids"].count(1) > 0
    print_cases(cases)
    m, tensors, mc, stats = reload_and_run(BertModel, out_dir, cases, intended,
                                           lambda k: k.startswith("cls."), pass_type_ids=True)
    assert_peaky(stats)
    write_expected(out_dir, m, BERT_KEYS, tensors, mc, stats,
                   extra={"model_dir": str(out_dir.relative_to(REPO)),
                          "checkpoint": {"class": "BertForPreTraining", "dtype": "F32", "prefix": "bert.",
                                         "layernorm_names": "gamma/beta",
                                         "ignored_prefixes": ["cls.predictions.", "cls.seq_relationship."]},
                          "expected_from": "BertModel"})
    return cases


def make_bert_tiny_f16(out_dir: Path, bert_tok_dir: Path):
    print(f"== {out_dir.relative_to(REPO)}")
    torch.manual_seed(2025)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=N_TOK, type_vocab_size=2,
                     layer_norm_eps=1e-12, hidden_act="gelu")
    model = BertModel(cfg, add_pooling_layer=True).float().eval()
    discriminative_init(model, seed=2025)
    model = model.half()
    clean_dir(out_dir)
    model.save_pretrained(str(out_dir))
    copy_bert_tokenizer(bert_tok_dir, out_dir)
    sd = load_file(str(out_dir / "model.safetensors"))
    assert {v.dtype for v in sd.values()} == {torch.float16}
    assert "pooler.dense.weight" in sd and not any(k.startswith("bert.") for k in sd)
    assert "embeddings.LayerNorm.weight" in sd
    check_config_json(out_dir, "bert", BERT_KEYS[1:])
    tok = load_bert_tokenizer(out_dir)
    cases, has_tt = build_cases(tok, TINY_TEXTS, N_TOK, full_length=N_TOK)
    assert has_tt
    print_cases(cases)
    m, tensors, mc, stats = reload_and_run(BertModel, out_dir, cases, sd, lambda k: False, pass_type_ids=True)
    assert_peaky(stats)
    write_expected(out_dir, m, BERT_KEYS, tensors, mc, stats,
                   extra={"model_dir": str(out_dir.relative_to(REPO)),
                          "checkpoint": {"class": "BertModel", "dtype": "F16", "prefix": "",
                                         "layernorm_names": "weight/bias"},
                          "expected_from": "BertModel"})
    return cases


def write_roberta_vocab(gpt2_dir: Path, out_dir: Path):
    gv = json.loads((gpt2_dir / "vocab.json").read_text(encoding="utf-8"))
    assert len(gv) == 50257 and gv["<|endoftext|>"] == 50256
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for t, _ in sorted(gv.items(), key=lambda kv: kv[1]):
        if t == "<|endoftext|>":
            continue
        assert t not in vocab
        vocab[t] = len(vocab)
    vocab["<mask>"] = len(vocab)
    assert len(vocab) == 50261 and vocab["<mask>"] == 50260
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(gpt2_dir / "merges.txt", out_dir / "merges.txt")
    return vocab


def make_roberta_tiny(out_dir: Path, gpt2_dir: Path):
    print(f"== {out_dir.relative_to(REPO)}")
    clean_dir(out_dir)
    vocab = write_roberta_vocab(gpt2_dir, out_dir)
    tok = RobertaTokenizerFast.from_pretrained(str(out_dir))
    assert len(tok) == len(vocab), len(tok)
    hw = tok("Hello world")["input_ids"]
    # GPT-2: "Hello" 15496, " world" 995 -> +4 here.
    assert hw == [0, 15496 + 4, 995 + 4, 2], hw
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id, tok.mask_token_id) == (0, 1, 2, 3, 50260)

    torch.manual_seed(2026)
    cfg = RobertaConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=N_TOK + 2, pad_token_id=1,
                        bos_token_id=0, eos_token_id=2, type_vocab_size=1, layer_norm_eps=1e-5,
                        hidden_act="gelu")
    model = RobertaModel(cfg, add_pooling_layer=True).float().eval()
    discriminative_init(model, seed=2026)
    model = model.half()
    model.save_pretrained(str(out_dir))
    sd = load_file(str(out_dir / "model.safetensors"))
    assert {v.dtype for v in sd.values()} == {torch.float16}
    assert not any(k.startswith("roberta.") for k in sd)
    assert tuple(sd["embeddings.position_embeddings.weight"].shape) == (N_TOK + 2, 16)
    assert tuple(sd["embeddings.token_type_embeddings.weight"].shape) == (1, 16)
    check_config_json(out_dir, "roberta", ROBERTA_KEYS[1:])
    for extra in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        assert not (out_dir / extra).exists(), extra

    cases, has_tt = build_cases(tok, TINY_TEXTS, N_TOK, full_length=N_TOK)
    pair = cases[2]["ids"]  # <s> A </s></s> B </s>
    k = pair.index(2)
    assert pair[0] == 0 and pair[-1] == 2 and pair.count(2) == 3 and pair[k + 1] == 2, pair
    assert all(t == 0 for c in cases for t in c["type_ids"])
    # A <pad> (id 1) in the middle pins HF's position rule (create_position_ids_from_input_ids):
    # positions count non-pad tokens from padding_idx+1; a pad token gets position padding_idx.
    seed_ids = cases[0]["ids"]
    pad_ids = seed_ids[:3] + [1] + seed_ids[3:]
    position_ids = model.embeddings.create_position_ids_from_input_ids(torch.tensor([pad_ids]), 1)[0].tolist()
    assert position_ids[3] == 1 and position_ids[:3] == [2, 3, 4] and position_ids[4] == 5, position_ids
    cases.append({"label": "pad_in_middle", "text": "", "ids_only": True, "ids": pad_ids,
                  "type_ids": [0] * len(pad_ids), "hf_position_ids": position_ids})
    print_cases(cases)
    m, tensors, mc, stats = reload_and_run(RobertaModel, out_dir, cases, sd, lambda k: False, pass_type_ids=False)
    assert_peaky(stats)
    write_expected(out_dir, m, ROBERTA_KEYS, tensors, mc, stats,
                   extra={"model_dir": str(out_dir.relative_to(REPO)),
                          "checkpoint": {"class": "RobertaModel", "dtype": "F16", "prefix": "",
                                         "layernorm_names": "weight/bias"},
                          "expected_from": "RobertaModel",
                          "tokenizer_returns_token_type_ids": has_tt})
    return cases


def make_distilbert_tiny(out_dir: Path, bert_tok_dir: Path):
    print(f"== {out_dir.relative_to(REPO)}")
    torch.manual_seed(2027)
    cfg = DistilBertConfig(vocab_size=30522, dim=16, n_layers=2, n_heads=2, hidden_dim=64,
                           max_position_embeddings=N_TOK, activation="gelu", sinusoidal_pos_embds=False)
    model = DistilBertModel(cfg).float().eval()
    discriminative_init(model, seed=2027)
    clean_dir(out_dir)
    model.save_pretrained(str(out_dir))
    copy_bert_tokenizer(bert_tok_dir, out_dir)
    sd = load_file(str(out_dir / "model.safetensors"))
    assert {v.dtype for v in sd.values()} == {torch.float32}
    assert not any(k.startswith("distilbert.") for k in sd)
    check_config_json(out_dir, "distilbert", DISTIL_KEYS[1:])
    tok = load_bert_tokenizer(out_dir, DistilBertTokenizerFast)
    cases, has_tt = build_cases(tok, TINY_TEXTS, N_TOK, full_length=N_TOK)
    # The ids must be the plain BERT tokenizer's (same vocab.txt), only token_type_ids may differ.
    btok = load_bert_tokenizer(out_dir, BertTokenizerFast)
    for c in cases:
        assert tokenize(btok, c["text"], c.get("text_pair"))[0] == c["ids"], c["label"]
    print_cases(cases)
    print(f"  DistilBertTokenizerFast returns token_type_ids: {has_tt}")
    m, tensors, mc, stats = reload_and_run(DistilBertModel, out_dir, cases, sd, lambda k: False, pass_type_ids=False)
    assert_peaky(stats)
    write_expected(out_dir, m, DISTIL_KEYS, tensors, mc, stats,
                   extra={"model_dir": str(out_dir.relative_to(REPO)),
                          "checkpoint": {"class": "DistilBertModel", "dtype": "F32", "prefix": "",
                                         "layernorm_names": "weight/bias"},
                          "expected_from": "DistilBertModel",
                          "tokenizer_returns_token_type_ids": has_tt},
                   # Not a config field: hard-coded eps=1e-12 in modeling_distilbert.py.
                   extra_config={"layer_norm_eps": 1e-12})
    return cases


def make_minilm_expected(out_dir: Path, minilm_dir: Path):
    print(f"== {out_dir.relative_to(REPO)} (from {minilm_dir})")
    st = minilm_dir / "model.safetensors"
    digest = sha256(st)
    assert digest == MINILM_SHA256, f"unexpected {st} sha256 {digest}"
    tok = AutoTokenizer.from_pretrained(str(minilm_dir))
    assert isinstance(tok, BertTokenizerFast), type(tok)
    cases, has_tt = build_cases(tok, MINILM_TEXTS, MINILM_MAX_TOK)
    assert has_tt and cases[1]["type_ids"].count(1) > 0
    assert max(len(c["ids"]) for c in cases) >= 30
    print_cases(cases)
    file_sd = load_file(str(st))
    assert torch.equal(file_sd["embeddings.position_ids"], torch.arange(512).view(1, 512))
    ref = {k: v for k, v in file_sd.items() if k != "embeddings.position_ids"}
    m, tensors, mc, stats = reload_and_run(BertModel, minilm_dir, cases, ref,
                                           lambda k: k == "embeddings.position_ids", pass_type_ids=True)
    clean_dir(out_dir)
    try:
        model_dir = str(minilm_dir.resolve().relative_to(REPO))
    except ValueError:
        model_dir = str(minilm_dir)
    write_expected(out_dir, m, BERT_KEYS, tensors, mc, stats,
                   extra={"model_dir": model_dir,
                          "model": "sentence-transformers/all-MiniLM-L6-v2",
                          "model_safetensors_sha256": digest,
                          "checkpoint": {"class": "BertModel", "dtype": "F32", "prefix": "",
                                         "layernorm_names": "weight/bias",
                                         "ignored_tensors": ["embeddings.position_ids"]},
                          "expected_from": "BertModel"})
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bert-tokenizer-dir", default=str(REPO / "weights" / "bert-base-uncased"))
    ap.add_argument("--gpt2-tokenizer-dir", default=str(REPO / "weights" / "gpt2"))
    ap.add_argument("--minilm-dir", default=str(REPO / "weights" / "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=str(REPO / "tests" / "data"))
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    out = Path(args.out)
    bert_tok = Path(args.bert_tokenizer_dir)
    make_bert_tiny(out / "bert-tiny", bert_tok)
    make_bert_tiny_f16(out / "bert-tiny-f16", bert_tok)
    make_roberta_tiny(out / "roberta-tiny", Path(args.gpt2_tokenizer_dir))
    make_distilbert_tiny(out / "distilbert-tiny", bert_tok)
    dirs = ["bert-tiny", "bert-tiny-f16", "roberta-tiny", "distilbert-tiny"]
    minilm = Path(args.minilm_dir)
    if (minilm / "model.safetensors").exists():
        make_minilm_expected(out / "minilm-expected", minilm)
        dirs.append("minilm-expected")
    else:
        print(f"!! {minilm} has no model.safetensors (run weights/fetch): minilm-expected left as is")
    total = 0
    for d in dirs:
        for p in sorted((out / d).iterdir()):
            total += p.stat().st_size
            print(f"  {p.relative_to(REPO)}  {p.stat().st_size} bytes")
    print(f"total fixture size: {total} bytes ({total / 1e6:.2f} MB)")
    assert total < 12e6  # ~9.8 MB of it are the weights + tokenizer files asked for


if __name__ == "__main__":
    sys.exit(main())
