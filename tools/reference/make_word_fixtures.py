#!/usr/bin/env python3
"""Writes tests/data/words/{gpt2,bert,roberta}_words.json: Hugging Face's word_ids() for texts
that exercise the word grouping of engine/analysis/words.h (development time only; tests/test_words.cpp
reads the files, nothing at test time needs Python).

    /opt/hfref/bin/python tools/reference/make_word_fixtures.py

Generated with transformers 5.23.0, tokenizers 0.23.3 (torch 2.15.0 CPU installed, not used).
Tokenizers, all built from files in this repository (no hub access):
  gpt2     GPT2TokenizerFast from weights/gpt2 (vocab.json + merges.txt), the real GPT-2 files
  bert     BertTokenizerFast(vocab=weights/bert-base-uncased/vocab.txt, do_lower_case=True)
  roberta  AutoTokenizer on tests/data/roberta-tiny (GPT-2's BPE with RoBERTa's special tokens)
transformers 5 ignores BertTokenizerFast(vocab_file=...); vocab= is used, and the vocabulary is
checked ("hello world" -> [7592, 2088]).

Each file: {"transformers", "tokenizers", "tokenizer", "cases": [{"text", optionally "pair",
"tokens" (convert_ids_to_tokens of the ids, special tokens included), "word_ids" (null for the
special tokens the post-processor adds), "sequence_ids"}]}. word_ids restart at 0 in the second
text of a pair, so a word is a run of tokens with the same (sequence_id, word_id); the script
checks that every such word is one contiguous run of tokens.
"""
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import tokenizers
import transformers
from transformers import AutoTokenizer, BertTokenizerFast, GPT2TokenizerFast

REPO = Path(__file__).resolve().parents[2]

# Shared by every tokenizer: punctuation, contractions, numbers, runs of spaces, newlines and tabs,
# accents, emoji, other scripts, superscript digits, URLs.
COMMON = [
    "A new sentence to visualize attention weights",
    "Hello, world! It's a test... isn't it?",
    "They'll say we'd've done it; I'm sure you're right.",
    "don't DON'T Don'T 's 'S",
    "Numbers: 3.14159, 1,000,000 and 2024-11-23.",
    "Several   spaces    here",
    "  leading and trailing spaces  ",
    "Line one\nLine two\n\n\tTabbed line\r\nend",
    "na\u00efve caf\u00e9 r\u00e9sum\u00e9 \u00dcn\u00efc\u00f6d\u00e9",
    "emoji \U0001F600\U0001F389 and \U0001F44D\U0001F3FD thumbs",
    "\u4e2d\u6587\u5b57\u7b26 and \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "x\u00b2+y\u00b3=z\u2074 \u00bd",
    "mail me@example.com or see http://x.y/z?a=b&c=d",
    "Ellipsis\u2026 \u201cquotes\u201d \u2014 dashes \u2013 (brackets) [x]",
    "tokenization unbelievably antidisestablishmentarianism",
]
PAIRS = [
    ("What is attention?", "Attention is a weighted average."),
    ("It's here", "  there's more"),
    # Joined, these would read as one word ("Helloworld", "wait......what"): the pair boundary
    # must split them.
    ("Hello", "world"),
    ("wait...", "...what"),
]
EXTRA = {
    "gpt2": ["It's <|endoftext|> special", "a<|endoftext|><|endoftext|>b"],
    "bert": ["a [MASK] b [UNK] c", "[CLS] inside [SEP] text"],
    "roberta": ["The capital of France is <mask>.", "a  <mask>b <s>x</s>"],
}


def load(kind):
    if kind == "gpt2":
        tok = GPT2TokenizerFast.from_pretrained(str(REPO / "weights" / "gpt2"))
        assert len(tok) == 50257, len(tok)
        return tok, "GPT2TokenizerFast from weights/gpt2 (vocab.json + merges.txt)"
    if kind == "bert":
        vocab = REPO / "weights" / "bert-base-uncased" / "vocab.txt"
        tok = BertTokenizerFast(vocab=str(vocab), do_lower_case=True)
        assert tok("hello world", add_special_tokens=False)["input_ids"] == [7592, 2088]
        return tok, "BertTokenizerFast(vocab=weights/bert-base-uncased/vocab.txt, do_lower_case=True)"
    tok = AutoTokenizer.from_pretrained(str(REPO / "tests" / "data" / "roberta-tiny"))
    assert tok("Hello world")["input_ids"] == [0, 15500, 999, 2]
    return tok, "AutoTokenizer on tests/data/roberta-tiny (RoBERTa specials, GPT-2 BPE)"


def case(tok, text, pair=None):
    encoding = tok(text, pair) if pair is not None else tok(text)
    tokens = tok.convert_ids_to_tokens(encoding["input_ids"])
    word_ids = encoding.word_ids()
    sequence_ids = encoding.sequence_ids()
    # Each (sequence, word) must be one contiguous run of tokens.
    seen, previous = set(), None
    for key in zip(sequence_ids, word_ids):
        if key[1] is None:
            previous = None
            continue
        if key != previous:
            assert key not in seen, (text, pair, key)
            seen.add(key)
        previous = key
    out = {"text": text}
    if pair is not None:
        out["pair"] = pair
    out.update({"tokens": tokens, "word_ids": word_ids, "sequence_ids": sequence_ids})
    return out


def main():
    out_dir = REPO / "tests" / "data" / "words"
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("gpt2", "bert", "roberta"):
        tok, description = load(kind)
        cases = [case(tok, t) for t in COMMON + EXTRA[kind]]
        cases += [case(tok, a, b) for a, b in PAIRS]
        doc = {
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "tokenizer": description,
            "cases": cases,
        }
        path = out_dir / f"{kind}_words.json"
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.relative_to(REPO)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
