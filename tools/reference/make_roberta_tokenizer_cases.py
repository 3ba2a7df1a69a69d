#!/usr/bin/env python3
"""Make tests/data/tokenizer/roberta_cases.json (development time only).

RoBERTa tokenization of the test strings with RobertaTokenizerFast loaded from
tests/data/roberta-tiny (vocab.json + merges.txt built from GPT-2's files by
make_bert_fixtures.py): single texts and pairs, with special tokens. transformers 5 builds
this tokenizer with <mask> lstrip=False, so "is <mask>" keeps its space token.

Run:  /opt/hfref/bin/python tools/reference/make_roberta_tokenizer_cases.py
"""
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import tokenizers
import transformers
from transformers import AutoTokenizer

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "A new sentence to visualize attention weights",
    "The capital of France is <mask>.",
    "a  <mask>b <s>x</s>",
    "\t<mask>\n <mask>",
    "<pad><unk></s>",
    "Hello world",
    " leading space and trailing space ",
    "café naïve 日本語 🚀",
    "I can't believe it's done; they'd said we'll see.",
    "numbers 12345 and 3.14159",
    "",
]
PAIRS = [("The capital of France is <mask>.", "Paris"), ("Question?", "Answer!"), ("", "x")]


def main():
    tok = AutoTokenizer.from_pretrained(str(REPO / "tests/data/roberta-tiny"))
    assert tok("Hello world")["input_ids"] == [0, 15500, 999, 2]
    single = [{"text": t, "ids": tok(t)["input_ids"]} for t in TEXTS]
    pairs = [{"text": a, "text_pair": b, "ids": tok(a, b)["input_ids"]} for a, b in PAIRS]
    out = {
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "tokenizer_dir": "tests/data/roberta-tiny",
        "single": single,
        "pairs": pairs,
    }
    path = REPO / "tests/data/tokenizer/roberta_cases.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({len(single)} texts, {len(pairs)} pairs)")


if __name__ == "__main__":
    main()
