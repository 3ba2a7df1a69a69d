#!/usr/bin/env python3
"""Writes tests/data/tokenizer/truncation_pairs.json: how many tokens of each text of a sentence
pair Hugging Face `tokenizers` keeps under truncation=True (strategy "longest_first"), for every
pair of text lengths (development time only; tests/test_tokenizer_truncation.cpp reads the file,
nothing at test time needs Python).

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install tokenizers
    /tmp/hfvenv/bin/python tools/reference/make_truncation_fixtures.py

Only the `tokenizers` package is needed (no transformers, no hub access). Truncation depends on
nothing but the two lengths and the budget (max_length minus the special tokens the
post-processor adds), so the grid uses a WordLevel tokenizer where every word is one token: the
first text is "a a a ...", the second "b b b ...", and the kept lengths are counted in the ids.
The real bert-base-uncased vocabulary (WordPiece, BertNormalizer, BertPreTokenizer,
BertProcessing) is then run on part of the grid and must agree, or the script exits.

Each grid is one post-processor at one max_length:
  bert     [CLS] A [SEP] B [SEP]     3 special tokens (BERT, DistilBERT, MiniLM)
  roberta  <s> A </s></s> B </s>     4 special tokens (RobertaProcessing)
  none     A B                       no special tokens (GPT-2)
and covers every (first, second) length pair with both in 0..max_text_tokens (0 is a text that
gives no tokens, e.g. only spaces). The file, one row per first length on its own line:

  {"tokenizers": version, "generator": this script, "grids": [{"post_processor", "max_length",
   "added", "budget", "max_text_tokens", "rows": [row for first = 0..max_text_tokens]}]}

A row walks second = 0..max_text_tokens: [kept_first, kept_second at second = 0, then runs of
(delta_first, delta_second, count)]: each run steps second by one `count` times, adding the deltas
to the kept lengths at every step. The kept lengths change by a constant step over long stretches
(whole, first cut, both cut), so a row is a few runs rather than 513 pairs.
"""
import json
import random
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "data" / "tokenizer" / "truncation_pairs.json"
BERT_VOCAB = REPO / "weights" / "bert-base-uncased" / "vocab.txt"

VOCAB = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "<s>": 3, "</s>": 4, "a": 5, "b": 6}
A, B = VOCAB["a"], VOCAB["b"]

# (post-processor, max_length, longest text in the grid). The 512-position grids are the real
# models' (BERT 509, RoBERTa 508, GPT-2-style 512 and an odd 511 without special tokens); the small
# ones are the test checkpoints' 64 positions (bert-tiny: 61) and a GPT-2 copy cut to 63, and the
# edge budgets 0..2, over lengths up to a little past twice the budget, beyond which nothing
# changes.
GRIDS = [
    ("bert", 512, 512),
    ("roberta", 512, 512),
    ("none", 512, 512),
    ("none", 511, 512),
    ("bert", 64, 160),
    ("none", 63, 160),
    ("bert", 3, 16),
    ("bert", 4, 16),
    ("none", 2, 16),
]


def post_processor(name):
    if name == "bert":
        return processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", VOCAB["[CLS]"]), ("[SEP]", VOCAB["[SEP]"])])
    if name == "roberta":
        return processors.RobertaProcessing(("</s>", VOCAB["</s>"]), ("<s>", VOCAB["<s>"]))
    return processors.TemplateProcessing(single="$A", pair="$A $B:1", special_tokens=[])


def word_level(name, max_length):
    tok = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = post_processor(name)
    tok.enable_truncation(max_length=max_length, strategy="longest_first")
    return tok


def kept_lengths(tok, firsts, seconds, added):
    """(kept first, kept second) for each pair, counted in the ids; checks nothing else is there."""
    out = []
    for enc in tok.encode_batch(list(zip(firsts, seconds))):
        ids = enc.ids
        kept = (ids.count(A), ids.count(B))
        if len(ids) != kept[0] + kept[1] + added:
            sys.exit(f"unexpected ids {ids}")
        out.append(kept)
    return out


def encode_row(kept):
    """[first0, second0, (d_first, d_second, count)...] for kept[0..n]."""
    row = [kept[0][0], kept[0][1]]
    for i in range(1, len(kept)):
        step = [kept[i][0] - kept[i - 1][0], kept[i][1] - kept[i - 1][1]]
        if len(row) > 2 and row[-3:-1] == step:
            row[-1] += 1
        else:
            row += step + [1]
    return row


def decode_row(row, n):
    first, second = row[0], row[1]
    kept = [(first, second)]
    for i in range(2, len(row), 3):
        for _ in range(row[i + 2]):
            first, second = first + row[i], second + row[i + 1]
            kept.append((first, second))
    assert len(kept) == n
    return kept


def make_grid(name, max_length, longest):
    added = word_level(name, 10**6).post_processor.num_special_tokens_to_add(True)
    tok = word_level(name, max_length)
    a_texts = [" ".join("a" * n) for n in range(longest + 1)]
    b_texts = [" ".join("b" * n) for n in range(longest + 1)]
    rows, table = [], []
    for first in range(longest + 1):
        kept = kept_lengths(tok, [a_texts[first]] * (longest + 1), b_texts, added)
        table.append(kept)
        rows.append(encode_row(kept))
        assert decode_row(rows[-1], longest + 1) == kept
    grid = {"post_processor": name, "max_length": max_length, "added": added,
            "budget": max_length - added, "max_text_tokens": longest, "rows": rows}
    return grid, table


def check_real_bert(table, max_length, longest):
    """The real bert-base-uncased tokenizer keeps the same lengths as the WordLevel grid."""
    tok = Tokenizer(models.WordPiece.from_file(str(BERT_VOCAB), unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 102), ("[CLS]", 101))
    tok.enable_truncation(max_length=max_length, strategy="longest_first")
    hello, world = tok.token_to_id("hello"), tok.token_to_id("world")
    rng = random.Random(0)
    pairs = [(f, s) for f in range(longest - 16, longest + 1) for s in range(longest - 16, longest + 1)]
    pairs += [(rng.randint(0, longest), rng.randint(0, longest)) for _ in range(2000)]
    pairs += [(256, 255), (255, 256), (256, 256)] if longest >= 256 else []
    encs = tok.encode_batch([("hello " * f, "world " * s) for f, s in pairs])
    for (f, s), enc in zip(pairs, encs):
        got = (enc.ids.count(hello), enc.ids.count(world))
        if got != table[f][s] or enc.ids[0] != 101 or len(enc.ids) != got[0] + got[1] + 3:
            sys.exit(f"bert-base-uncased at {max_length} keeps {got} of ({f}, {s}), the grid "
                     f"{table[f][s]}")
    return len(pairs)


def main():
    grids = []
    for name, max_length, longest in GRIDS:
        grid, table = make_grid(name, max_length, longest)
        if name == "bert" and max_length > 16:
            checked = check_real_bert(table, max_length, longest)
            print(f"  bert-base-uncased agrees on {checked} pairs at max_length {max_length}")
        print(f"{name} max_length {max_length} (budget {grid['budget']}): "
              f"{sum(len(r) for r in grid['rows'])} numbers")
        grids.append(grid)
    # The case: 256 + 255 one-token words at 512 positions keep 255 + 254.
    bert512 = grids[0]
    assert decode_row(bert512["rows"][256], 513)[255] == (255, 254)

    lines = ["{", f'"tokenizers": {json.dumps(tokenizers.__version__)},',
             '"generator": "tools/reference/make_truncation_fixtures.py",', '"grids": [']
    for g, grid in enumerate(grids):
        head = {k: v for k, v in grid.items() if k != "rows"}
        lines.append(json.dumps(head, separators=(",", ":"))[:-1] + ',"rows":[')
        rows = [json.dumps(r, separators=(",", ":")) for r in grid["rows"]]
        lines.append(",\n".join(rows))
        lines.append("]}" + ("," if g + 1 < len(grids) else ""))
    lines.append("]}")
    OUT.write_text("\n".join(lines) + "\n")
    json.loads(OUT.read_text())  # well-formed
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) with tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main()
