#!/usr/bin/env python3
"""Writes the GPT-2 tokenizer reference fixtures used by tests/test_tokenizer_gpt2.cpp.

Run from the repository root with the reference environment (no hub access needed; the
tokenizer is built from the local weights/gpt2/vocab.json + merges.txt):

    /opt/hfref/bin/python tools/reference/make_tokenizer_fixtures.py

Outputs (in tests/data/tokenizer/):
  gpt2_cases.json      {"versions": {...}, "cases": [...]}; a case is either
                         {"text": str, "ids": [...], "tokens": [...]}  or, for invalid UTF-8,
                         {"bytes_hex": str, "ids": [...]} where ids are HF's ids for
                         bytes.decode("utf-8", "replace").
  gpt2_tokenizer.json  the same tokenizer saved by tokenizers (tests tokenizer.json loading).

Two independent HF front ends are built and must agree on every case: the `tokenizers` library
configured like GPT-2 by hand, and transformers' GPT2TokenizerFast loaded from the local dir.
"""
import json
import os
import random
import sys

import tokenizers
import transformers
from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers
from tokenizers.models import BPE
from transformers import GPT2TokenizerFast

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEIGHTS = os.path.join(ROOT, "weights", "gpt2")
OUT_DIR = os.path.join(ROOT, "tests", "data", "tokenizer")
UCD = "/usr/share/unicode/UnicodeData.txt"
SEED = 20240611


def build_tokenizers():
    direct = Tokenizer(BPE.from_file(os.path.join(WEIGHTS, "vocab.json"),
                                     os.path.join(WEIGHTS, "merges.txt")))
    direct.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    direct.decoder = decoders.ByteLevel()
    direct.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    fast = GPT2TokenizerFast.from_pretrained(WEIGHTS)
    if len(fast) != 50257 or direct.get_vocab_size() != 50257:
        sys.exit(f"unexpected vocab sizes {len(fast)} / {direct.get_vocab_size()}")
    return direct, fast


def handwritten_texts():
    long_word = "a" * 500
    return [
        # seed sentence and basics
        "A new sentence to visualize attention weights", "Hello world", "Hello, world!", "",
        " ", "a", "hello", "The quick brown fox jumps over the lazy dog.",
        # contractions (case-sensitive: 'S and 'LL are not contractions)
        "it's", "don't", "we're", "I've", "I'm", "we'll", "he'd", "IT'S", "WE'LL", "I'M",
        "HE'D", "They'Re", "it 's", "'s", "'", "''", "'''s", "rock'n'roll", "'sup", "'tis",
        "o'clock", "she's'nt", "y'all'd've", "it’s (curly)", "x'1", "'re'", "'ll'll",
        # whitespace
        "  ", "   ", "a  b", "a   b", "a    b", " a", "  a", "   a", "a ", "a  ", "a   ",
        "\n", "\n\n", "a\nb", "a\n\nb", "a \nb", "a\n b", "a \n b", "\t", "a\tb", "\ta",
        "a\t\tb", "a\r\nb", "\r\n", "line1\r\nline2\r\n", "  \n  a", " \t a", "\t \tword",
        "a\u000bb", "a\u000cb", "word \n\n\t  next", "end with spaces   ", "   ",
        # unicode spaces
        "a\u00a0b", "\u00a0a", "a\u00a0\u00a0b", "a\u3000b", "\u3000\u3000x", "a\u2009b",
        "a \u2009b", "a\u0085b", "\u0085", "a\u2028b", "a\u200bb", "a\u202fb", "a\u1680b",
        "a\u205fb", " \u00a0 x", "x\u00a0 y",
        # digits
        "0", "123", "1234567890", "3.14159", "1,000,000", "12ab34", "ab12cd", " 42", "  42",
        "Room 101", "2024-06-11", "v1.2.3", "0x1F", "\u0661\u0662\u0663", "\u00bd \u2153",
        "\u2160\u2161", "\u00b2\u00b3", "\uff11\uff12",
        # punctuation
        "!!!", "...", "?!?!", "a...b", " ...", "--", "---", "(a)", "[x]{y}", "#$%&*", "@@",
        "a,b,c", "\"quoted\"", "`code`", "~~~", "\u2014 dash \u2014", "\u00ab\u00bb", "\u3001\u3002",
        # accents
        "caf\u00e9", "cafe\u0301", "na\u00efve", "Se\u00f1or", "\u00fc\u00f6\u00e4",
        "Z\u00fcrich", "e\u0301\u0301", " \u0301", "\u0301", "cr\u00e8me br\u00fbl\u00e9e",
        "\u0141\u00f3d\u017a", "\u1e9e", "\u0130stanbul",
        # scripts
        "\u65e5\u672c\u8a9e", "\u4f60\u597d\uff0c\u4e16\u754c", "\u6f22\u5b57 and kana \u304b\u306a",
        "\ud55c\uad6d\uc5b4", "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
        "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
        "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
        "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a",
        "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u05e2\u05d1\u05e8\u05d9\u05ea",
        "\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8", "\u1403\u14c4\u1483\u144e\u1450\u1466",
        "\U00020000\U0002a6d6", "\U0001d400\U0001d401", "\u1100\u1161\u11a8",
        # emoji
        "\U0001f600", "hi \U0001f600", "\U0001f600\U0001f600\U0001f600", "\U0001f44d\U0001f3fd",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f1fa\U0001f1f8",
        "\U0001f1ef\U0001f1f5 flag", "\u2764\ufe0f", "\U0001f3f3\ufe0f\u200d\U0001f308",
        "I \u2764 NY", "\u263a", "a\U0001f600b", " \U0001f525\U0001f525", "\U0001f9d1\U0001f3ff\u200d\U0001f4bb",
        # special token
        "<|endoftext|>", "Hello<|endoftext|>World", "Hello <|endoftext|> World",
        "<|endoftext|><|endoftext|>", "<|endoftext|> <|endoftext|>", "a<|endoftext|>",
        "<|endoftext|>a", " <|endoftext|>", "<|endoftext|> ", "<|endoftext|>\n\nNext doc",
        "<|endoftext", "<|endoftext|", "endoftext|>", "<|ENDOFTEXT|>", "<<|endoftext|>>",
        "<|endoftext|>'s", "x  <|endoftext|>  y", "<|endo<|endoftext|>ftext|>",
        # long words
        long_word, "b" * 257, " " + "xyz" * 150, "1" * 300, "!" * 200, " " * 100, "\n" * 40,
        "\u00e9" * 120, "\u4e00" * 100, "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis", "Llanfairpwllgwyngyll",
        # code, URLs, markup
        "def f(x):\n    return x**2\n", "int main() { return 0; }",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "if x == 1:\n        pass\n    else:\n        y = 'it''s'",
        "const s = `${a}+${b}`;", "#include <vector>\n", "SELECT * FROM t WHERE id=42;",
        "https://huggingface.co/gpt2?x=1&y=two#frag", "http://example.com/a_b-c/d.html",
        "mailto:user@example.org", "<div class=\"x\">text</div>", "{\"key\": [1, 2.5, null]}",
        "C:\\Users\\name\\file.txt", "$ ls -la | grep foo > out.txt", "a_b_c", "__init__",
        "camelCaseWord", "snake_case_word", "x+=1;y-=2", "// comment\n/* block */",
        "   indented code", "\t\tdouble tab", "1+1=2", "e=mc^2", "\u03bb x. x",
        # mixed
        "Hello\u00a0world \u3000\u4e16\u754c 123 \U0001f600 it's", "The year 1999's hits",
        "Mr. O'Neil's 2nd car", "  Leading and trailing  ", "\n\tMixed \r\n whitespace\u00a0\u2009end",
        "\u200d", "\ufeffBOM", "a\u00adb", "\ufffd", "x\ufffdy", "\u0000null", "ctrl\u0001\u001f",
        "\u007f", "\u0080\u009f", "\U0010ffff", "\ue000private", "\ufdd0",
    ]


def assigned_code_points():
    """Assigned code points from the Unicode 15.0 UCD, bucketed by major category."""
    buckets = {}
    range_start = None
    with open(UCD, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            code_point, name, category = int(fields[0], 16), fields[1], fields[2]
            if category in ("Cs", "Co", "Cn"):
                continue
            if name.endswith(", First>"):
                range_start = code_point
                continue
            first = range_start if name.endswith(", Last>") else code_point
            range_start = None
            buckets.setdefault(category[0], []).append((first, code_point))
    return buckets


def random_texts(rng):
    buckets = assigned_code_points()
    fragments = ["the", " cat", "'s", "'LL", "'ll", " ", "  ", "\n", "\t", "\r\n", "\u00a0",
                 "\u3000", "\u2009", "\u0085", "42", " 7", "...", "!", " (", ")", "<|endoftext|>",
                 "caf\u00e9", "e\u0301", "\u65e5\u672c", "\ud55c", "\u0639\u0631\u0628",
                 "\u0939\u093f", "\u0e44\u0e17\u0e22", "\U0001f600", "\U0001f44d\U0001f3fd",
                 "\U0001f1fa\U0001f1f8", "\u200d", "x", "Word", "\u00bd", "_", "-", "'"]

    def random_char(major):
        ranges = buckets[major]
        first, last = rng.choice(ranges)
        return chr(rng.randint(first, last))

    texts = []
    for _ in range(60):  # fragment soups
        texts.append("".join(rng.choice(fragments) for _ in range(rng.randint(1, 12))))
    for _ in range(40):  # random assigned characters of every major category
        texts.append("".join(random_char(rng.choice("LLLNNZPSMC")) if rng.random() < 0.8
                             else rng.choice(" \n\t") for _ in range(rng.randint(1, 16))))
    return texts


def invalid_byte_strings(rng):
    fixed = [
        b"\x80", b"abc\x80def", b"\x80\x80\x80", b"\xbf", b"a\xc3", b"\xc3", b"\xc3(", b"\xe2\x82",
        b"\xe2\x82a", b"\xf0\x9f\x98", b"\xf0\x9f\x98 x", b"\xf0\x9f", b"\xc0\xaf", b"\xc1\xbf",
        b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf",
        b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\x80\xed\xb0\x80", b"\xf4\x90\x80\x80",
        b"\xf5", b"\xf8\x88\x80\x80\x80", b"\xfe\xff", b"\xff", b"x\xffy\xfez", b"\xf7\xbf\xbf\xbf",
        b"Hello \xff world", b"caf\xe9", b"\xe9t\xe9", b"<|endoftext|>\xff", b"\xff<|endoftext|>",
        b"it\x80's", b" \x80 ", b"\xc3\xa9\xc3", b"\xe4\xb8", b"\xe4\xb8\xad\xe4",
    ]
    pieces = [b"a", b" ", b"word", b"\xc3\xa9", b"\xe4\xb8\xad", b"\xf0\x9f\x98\x80", b"\x80",
              b"\xc3", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"'s"]
    randomized = [b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
                  for _ in range(25)]
    randomized += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 12))) for _ in range(15)]
    return fixed + randomized


def encode_both(direct, fast, text):
    ids = direct.encode(text).ids
    fast_ids = fast(text, add_special_tokens=True)["input_ids"]
    if ids != fast_ids:
        sys.exit(f"tokenizers and GPT2TokenizerFast disagree on {text!r}: {ids} vs {fast_ids}")
    return ids


def main():
    rng = random.Random(SEED)
    direct, fast = build_tokenizers()
    cases = []
    for text in handwritten_texts() + random_texts(rng):
        ids = encode_both(direct, fast, text)
        cases.append({"text": text, "ids": ids, "tokens": direct.encode(text).tokens})
    for raw in invalid_byte_strings(rng):
        ids = encode_both(direct, fast, raw.decode("utf-8", errors="replace"))
        cases.append({"bytes_hex": raw.hex(), "ids": ids})

    os.makedirs(OUT_DIR, exist_ok=True)
    document = {
        "generator": "tools/reference/make_tokenizer_fixtures.py",
        "versions": {"transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__,
                     "python": sys.version.split()[0]},
        "tokenizer": "GPT-2 from weights/gpt2/vocab.json + merges.txt, add_prefix_space=False",
        "cases": cases,
    }
    cases_path = os.path.join(OUT_DIR, "gpt2_cases.json")
    with open(cases_path, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    tokenizer_path = os.path.join(OUT_DIR, "gpt2_tokenizer.json")
    fast.backend_tokenizer.save(tokenizer_path, pretty=False)  # compact: ~1.5 MB
    print(f"wrote {cases_path}: {len(cases)} cases, {os.path.getsize(cases_path)} bytes")
    print(f"wrote {tokenizer_path}: {os.path.getsize(tokenizer_path)} bytes")


if __name__ == "__main__":
    main()
