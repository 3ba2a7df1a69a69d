#!/usr/bin/env python3
"""Write a file of short English sentences for corpus benchmarks (development time only).

The sentences come from Jane Austen's six novels in the Debian package r-cran-janeaustenr
(1.0.0-1; public-domain text, MIT packaging): the same corpus, and the same reader, as the
embedded default model's training (train_tiny_gpt2.py: the installed package, else
`apt-get download r-cran-janeaustenr` unpacked with dpkg-deb; see weights/README.md).

Paragraphs are split into sentences after '.', '!' or '?' (and any closing quotes) followed by a
space, except after the titles Mr./Mrs./Dr./St. Gutenberg's _emphasis_ underscores are dropped and
whitespace is collapsed. Sentences of --min-words to --max-words words (default 5..30) are kept,
duplicates dropped, shuffled with --seed and the first --count written, one per line (no tabs, so
no sentence pairs).

    /opt/hfref/bin/python tools/reference/make_sentence_corpus.py /tmp/sentences.txt
    headmap stats --model minilm --texts /tmp/sentences.txt --threads 2 --bench

The default run (10,000 sentences of 22,151 candidates, 145,429 words, 801,638 bytes) has sha256
9aead48c5a3aa70380668557e7f2b89f218e26b7d680cfc19e53e4f331794cf4; the script prints it, so two
machines can check they benchmark the same file. Made with /opt/hfref/bin/python (Python 3.11;
torch 2.15 and transformers 5.23 are imported only because train_tiny_gpt2.py imports them).
"""

import argparse
import hashlib
import random
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_tiny_gpt2 import NOVELS, fetch_corpus, lines_to_text, read_austen  # noqa: E402

TITLES = re.compile(r"\b(Mr|Mrs|Dr|St|Mme|Messrs)\.$")
BOUNDARY = re.compile(r"""(?<=[.!?])["'\u201d\u2019)]*\s+""")


def sentences_of(paragraph):
    """Sentences of one paragraph; a split after a title (Mr. Darcy) is undone."""
    pieces = [p for p in BOUNDARY.split(paragraph) if p]
    out = []
    for piece in pieces:
        if out and TITLES.search(out[-1]):
            out[-1] = out[-1] + " " + piece
        else:
            out.append(piece)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="the file to write, one sentence per line")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--min-words", type=int, default=5)
    ap.add_argument("--max-words", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as work:
        data_dir, source = fetch_corpus(work)
        books = read_austen(data_dir)
    seen, kept = set(), []
    for name in NOVELS:
        for paragraph in lines_to_text(books[name]).split("\n\n"):
            paragraph = re.sub(r"\s+", " ", paragraph.replace("_", "")).strip()
            for sentence in sentences_of(paragraph):
                words = sentence.split()
                if args.min_words <= len(words) <= args.max_words and sentence not in seen:
                    seen.add(sentence)
                    kept.append(sentence)
    if len(kept) < args.count:
        sys.exit(f"error: only {len(kept)} sentences of {args.min_words}..{args.max_words} words "
                 f"(asked for {args.count})")
    random.Random(args.seed).shuffle(kept)
    text = "\n".join(kept[:args.count]) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    words = sum(len(s.split()) for s in kept[:args.count])
    print(f"{args.out}: {args.count} sentences ({words} words, {len(text.encode())} bytes) of "
          f"{len(kept)} candidates from {source}; sha256 "
          f"{hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main()
