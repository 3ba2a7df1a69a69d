#!/usr/bin/env python3
"""Writes tests/data/tokenizer/wordpiece_cases.json, the BERT WordPiece reference fixture used by
tests/test_tokenizer_bert.cpp.

Run from anywhere with the reference environment (no hub access needed; the tokenizers are built
from the local weights/bert-base-uncased/vocab.txt and weights/all-MiniLM-L6-v2/):

    /opt/hfref/bin/python tools/reference/make_wordpiece_fixtures.py

Reference tokenizers, which must all agree (the script exits otherwise):
  uncased  transformers BertTokenizerFast(vocab=<vocab.txt>, do_lower_case=True)
           == a hand-built tokenizers.Tokenizer (WordPiece.from_file + BertNormalizer +
              BertPreTokenizer + the 5 special tokens)
           == AutoTokenizer.from_pretrained(weights/all-MiniLM-L6-v2)  (its tokenizer.json)
  cased    the same vocabulary with do_lower_case=False (bert-base-uncased's vocab: no real cased
           vocab is available offline), == the hand-built tokenizer with lowercase=False
           == AutoTokenizer on all-MiniLM-L6-v2's tokenizer.json with a tokenizer_config.json
              saying do_lower_case=false (transformers lets the config override tokenizer.json).
transformers 5 silently ignores BertTokenizerFast(vocab_file=...); vocab= is used, and the
loaded vocabulary is checked ("hello world" -> [7592, 2088]).

Document layout:
  versions, tokenizer            provenance
  cases                          [{"text" | "bytes_hex", "uncased": ids, "cased": ids,
                                   optionally "uncased_with_special"/"cased_with_special"}],
                                 ids without special tokens unless named *_with_special;
                                 bytes_hex inputs are invalid UTF-8, HF gets
                                 bytes.decode("utf-8", "replace")
  code_points                    per-code-point behaviour of HF over 0..0x10FFFF (no surrogates):
    dropped, to_space            BertNormalizer(clean_text only): code point -> "" / " "
    chinese                      BertNormalizer(handle_chinese_chars only): c -> " c "
    whitespace, punctuation      BertPreTokenizer on "a" + c + "a": 2 / 3 pieces
    lowercase                    [[c, [lowercase code points]]] for BertNormalizer(lowercase only)
                                 where the result is not c itself
    strip_removed                BertNormalizer(strip_accents only): code points -> "" (ranges)
    strip_hangul                 [first, last]: syllables whose result is the algorithmic NFD
    strip_mapped                 [[c, [code points]]] every other non-identity result
    block_hashes                 {"uncased": [...], "cased": [...]}: FNV-1a 64 (hex) per block of
                                 0x1000 code points over the full normalizer's output of each
                                 single code point (UTF-8, each followed by byte 0xFF)
  normalize_cases                [[text, uncased_normalized, cased_normalized]]: multi-code-point
                                 strings (canonical reordering, marks, sigma, ...)
Ranges are [first, last] inclusive lists.
"""
import json
import os
import random
import shutil
import sys
import tempfile

import tokenizers
import transformers
from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordPiece
from transformers import AutoTokenizer, BertTokenizerFast

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOCAB = os.path.join(ROOT, "weights", "bert-base-uncased", "vocab.txt")
MINILM = os.path.join(ROOT, "weights", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "tests", "data", "tokenizer", "wordpiece_cases.json")
UCD = "/usr/share/unicode/UnicodeData.txt"
SEED = 20240612
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ALL_CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def fail(message):
    sys.exit("make_wordpiece_fixtures: " + message)


def hand_built(lowercase):
    tok = Tokenizer(WordPiece.from_file(VOCAB, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=None)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    return tok


def minilm_with_config(lowercase, tmp):
    """AutoTokenizer on MiniLM's tokenizer.json with a tokenizer_config.json override."""
    directory = os.path.join(tmp, f"minilm_lower_{lowercase}")
    os.makedirs(directory)
    shutil.copy(os.path.join(MINILM, "tokenizer.json"), directory)
    with open(os.path.join(MINILM, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["do_lower_case"] = lowercase
    with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    return AutoTokenizer.from_pretrained(directory)


def build_references(tmp):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    refs = {}
    for mode, lowercase in (("uncased", True), ("cased", False)):
        fast = BertTokenizerFast(vocab=VOCAB, do_lower_case=lowercase)
        if len(fast) != 30522:
            fail(f"{mode}: BertTokenizerFast has {len(fast)} tokens; was vocab.txt loaded?")
        expected = [7592, 2088] if lowercase else [100, 100]
        if fast("Hello World", add_special_tokens=False)["input_ids"] != expected:
            fail(f"{mode}: 'Hello World' does not give {expected}: wrong vocabulary or options")
        others = [hand_built(lowercase), minilm_with_config(lowercase, tmp)]
        if lowercase:
            others.append(AutoTokenizer.from_pretrained(MINILM))
        refs[mode] = (fast, others)
    return refs


def encode(refs, mode, text, special=False):
    fast, others = refs[mode]
    ids = fast(text, add_special_tokens=special)["input_ids"]
    for other in others:
        if special and isinstance(other, Tokenizer):
            continue  # the hand-built tokenizer has no [CLS]/[SEP] post-processor
        got = (other.encode(text, add_special_tokens=special).ids if isinstance(other, Tokenizer)
               else other(text, add_special_tokens=special)["input_ids"])
        if got != ids:
            fail(f"references disagree ({mode}) on {text!r}: {ids} vs {got} from {type(other)}")
    return ids


def handwritten_texts():
    emoji = [  # by the Unicode version that added them
        "\u263a \u2764\ufe0f", "\U0001f600", "\U0001f914\U0001f32d", "\U0001f923\U0001f951",
        "\U0001f929\U0001f995", "\U0001f970\U0001f99d", "\U0001f971\U0001f9a9",
        "\U0001f972\U0001fac0", "\U0001fae0\U0001fae3", "\U0001fae8\U0001fa77",
        "\U0001fae9\U0001fac6 (16.0)", "\U0001f44d\U0001f3fd", "\U0001f1fa\U0001f1f8",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467", "1\ufe0f\u20e3", "hi\U0001f600there",
    ]
    return emoji + [
        # basics
        "hello world", "Hello World", "A new sentence to visualize attention weights", "",
        " ", "  \t\n ", "a", "The quick brown fox jumps over the lazy dog.", "unaffable",
        "Transformers are AMAZING!!!", "I can't believe it's not butter.", "don't", "e-mail",
        "state-of-the-art", "U.S.A.", "Mr. Smith's 3rd car costs $12,345.67 (approx.)",
        "HeLLo WoRLD", "playing played plays player", "tokenization is fun", "##ing", "##",
        "a##b", "ing", "#hashtag @mention", "snake_case_word camelCaseWord",
        # special tokens
        "hello [SEP] world", "[CLS] hello [SEP]", "[CLS][SEP][PAD][MASK][UNK]", "[cls] [Sep]",
        "[ CLS ]", "x[MASK]y", "[MASK]ed", "[[SEP]]", "[SEP", "SEP]", "[UNK]unk", "  [PAD]  ",
        "[CLS]\u00e9[SEP]", "a\u0301[SEP]\u0300b", "[SEP]\u65e5\u672c", "[MASK][MASK]",
        "[unused0]", "[unused1] [unused993]",
        # accents, casing
        "caf\u00e9", "cafe\u0301", "CAF\u00c9", "na\u00efve r\u00e9sum\u00e9", "Se\u00f1or",
        "Z\u00fcrich \u00dcber", "cr\u00e8me br\u00fbl\u00e9e", "\u0141\u00f3d\u017a",
        "\u1e9e \u00df STRASSE", "\u0130stanbul \u0131", "\u00c5ngstr\u00f6m \u212b",
        "\u01c5 \u01c4 \u01c6", "\u1f88 \u1fbc", "e\u0301\u0301\u0301", "\u0301", " \u0301x",
        "\u00aa\u00ba", "\ufb01 \ufb03", "\u2160\u2161 \u216b", "\u24b6\u24d0",
        "\uff21\uff22\uff23 \uff41", "\u039f\u0394\u039f\u03a3 \u039f\u0394\u039f\u03a3.",
        "\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2", "\u1e0a\u0323 \u1e0c\u0307",
        "q\u0307\u0323", "\u0958\u0959", "\u1e9b\u0323",
        # scripts
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4f60\u597d\uff0c\u4e16\u754c\uff01",
        "\u6f22\u5b57abc\u6f22\u5b57", "\u3402\u4dbf\u9fff\uf900\ufaff",
        "\U00020000\U0002a6df\U0002a700\U0002b81f\U0002b820\U0002b91f\U0002b920\U0002ceaf",
        "\U0002ceb0\U0002f800\U0002fa1f\U00030000\u2e80\u2f00\u3005\u3007",
        "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "\uc548\ub155\ud558\uc138\uc694",
        "\u1100\u1161\u11a8", "\u3131\u314f",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",
        "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
        "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a", "\u041f\u0420\u0418\u0412\u0415\u0422",
        "\u0401\u0451\u0419\u0439", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
        "\u0386\u03b8\u03ae\u03bd\u03b1", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
        "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a",
        "\u05e2\u05d1\u05e8\u05d9\u05ea \u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd",
        "\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8", "\u0540\u0561\u0575\u0565\u0580\u0565\u0576",
        "\u1403\u14c4\u1483\u144e\u1450\u1466", "\u12a0\u121b\u122d\u129b",
        "\u0ba4\u0bae\u0bbf\u0bb4\u0bcd", "\u0c24\u0c46\u0c32\u0c41\u0c17\u0c41",
        "\u0995\u09be\u0982\u09b2\u09be", "\u0f56\u0f7c\u0f51\u0f0b\u0f61\u0f72\u0f42",
        "\u1780\u1798\u17d2\u1796\u17bb\u1787\u17b6", "\u101c\u1031\u102c\u1004\u103a",
        "\U0001d400\U0001d41a \U0001d7ce", "\U00010330\U00010331", "\U0001e900\U0001e922\U0001e944",
        "\U00011938 \U00011935\U00011930", "\U00016ea0\U00010d50 \ua7cb\ua7dc\u1c89",
        "\u1885\u1886 \ua9bd \U000111c9 \u166d \u1734",
        # punctuation and symbols
        "!!!", "...", "?!?!", "a...b", "(a)[b]{c}", "#$%&*+=<>|\\/^`~", "\"quoted\" 'single'",
        "\u2014dash\u2013en\u2010hy", "\u00ab\u00bb\u2039\u203a", "\u201cquotes\u201d \u2018x\u2019",
        "\u3001\u3002\u300c\u300d", "\uff01\uff1f\uff08\uff09", "\u00bf\u00a1", "\u00a7\u00b6\u2020\u2021",
        "\u2026\u2025", "\u060c\u061b\u061f", "\u0964\u0965", "\u2e3a\u2e3b \u2e43 \u2e4f",
        "\u00a9\u00ae\u2122", "\u00b1\u00d7\u00f7", "\u20ac100 \u00a350 \u00a5", "\u2190\u2192\u21d2",
        "\u221e\u2211\u221a", "\u00b0C", "\u2022 item", "\u00b7middle\u00b7", "\uff0e\uff0c",
        "\u300a\u300b\u3008\u3009", "\u2e2e\u2e41", "\U000111c9x", "\U0001e95e\U0001e95f",
        # whitespace and controls
        "a\tb", "a\nb", "a\r\nb", "a\u000bb\u000cc", "a\u0085b", "a\u00a0b", "a\u1680b",
        "a\u2000b\u200ac", "a\u2028b\u2029c", "a\u202fb", "a\u205fb", "a\u3000b",
        "a\u180eb", "a\u200bb", "a\u200cb\u200dc", "\ufeffBOM", "\ufeff", "a\u00adb",
        "a\u2060b", "\u202eRTL\u202c", "a\u2066b\u2069", "\u0000", "a\u0000b", "a\u0007b",
        "\u001b[31mred\u001b[0m", "a\u007fb", "a\u0080\u009fb", "\ufffd", "a\ufffdb",
        "\ue000private\uf8ff", "\U000f0000\U0010fffd", "\ufdd0\ufffe\uffff", "\U0010ffff",
        "\u0378\u0379", "\U000e0001\U000e0041", "\u0890\u0891\u08e2", "\U00013430\U0001343f",
        "\u0600\u0605\u061c\u06dd\u070f", "\U000110bd\U000110cd", "\U0001bca0\U0001d173",
        "\ufff9\ufffb", "\u034f", "\u2061\u2062\u2063\u2064",
        # word length: exactly 100 and 101 characters, also multi-byte ones
        "a" * 100, "a" * 101, "\u00e9" * 100, "\u00e9" * 101, "ab" * 50, "ab" * 50 + "a",
        "x" * 99 + "!", "\u4e00" * 150, "\u0430" * 100, "\u0430" * 101,
        "e\u0301" * 60, "E\u0301" * 100, "\u00c9" * 101, "\u0130" * 60, "\u0130" * 51,
        "x" * 100 + " " + "y" * 101, "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        # cannot be pieced
        "\u2603snowman", "snow\u2603man", "\u2603", "\U0001f600abc", "xyz\u2603 abc",
        "\u0f04\u0f05", "\u07c0\u07c1", "\u1b05", "\U00010900",
        # mixed
        "Hello\u00a0world \u3000\u4e16\u754c 123 \U0001f600 it's", "  Leading and trailing  ",
        "\n\tMixed \r\n whitespace\u00a0\u2009end", "def f(x):\n    return x**2\n",
        "https://huggingface.co/bert-base-uncased?x=1&y=two#frag", "user@example.org",
        "<div class=\"x\">text</div>", "{\"key\": [1, 2.5, null]}", "C:\\Users\\file.txt",
        "1,000,000 3.14159 2024-06-12 0x1F", "\u0661\u0662\u0663 \u00bd \u00b2",
    ]


def random_texts(rng):
    buckets = {}
    range_start = None
    with open(UCD, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            code_point, name, category = int(fields[0], 16), fields[1], fields[2]
            if category == "Cs":
                continue
            if name.endswith(", First>"):
                range_start = code_point
                continue
            first = range_start if name.endswith(", Last>") else code_point
            range_start = None
            buckets.setdefault(category[0], []).append((first, code_point))
    fragments = ["the", " cat", "'s", " ", "  ", "\n", "\t", "\u00a0", "\u3000", "42", "...",
                 "!", " (", ")", "[SEP]", "[CLS]", "[cls]", "caf\u00e9", "e\u0301", "\u65e5\u672c",
                 "\ud55c", "\u0639\u0631\u0628", "\u0939\u093f", "\u0e44\u0e17\u0e22", "\U0001f600",
                 "\u200b", "\u00ad", "\u0000", "\ufeff", "Word", "ING", "##", "-", "'", "\u0130",
                 "\u03a3", "\u00c5", "playing", "un", "##able", "\u2603", "\ufffd"]
    words = []
    with open(VOCAB, encoding="utf-8") as f:
        words = [w for w in f.read().split("\n") if w and not w.startswith("[")]

    def random_char(major):
        first, last = rng.choice(buckets[major])
        return chr(rng.randint(first, last))

    texts = []
    for _ in range(40):  # fragment soups
        texts.append("".join(rng.choice(fragments) for _ in range(rng.randint(1, 12))))
    for _ in range(40):  # random assigned characters of every major category
        texts.append("".join(random_char(rng.choice("LLLNNZPSMC")) if rng.random() < 0.8
                             else rng.choice(" \n\t") for _ in range(rng.randint(1, 16))))
    for _ in range(20):  # arbitrary code points, unassigned and private use included
        chars = []
        for _ in range(rng.randint(1, 12)):
            c = rng.randrange(0x110000)
            while 0xD800 <= c <= 0xDFFF:
                c = rng.randrange(0x110000)
            chars.append(chr(c) if rng.random() < 0.7 else rng.choice(" a"))
        texts.append("".join(chars))
    for _ in range(30):  # vocabulary pieces glued together: exercises greedy matching
        pieces = [rng.choice(words).removeprefix("##") for _ in range(rng.randint(1, 6))]
        glue = rng.choice(["", "", " ", "-"])
        text = glue.join(pieces)
        texts.append(text.upper() if rng.random() < 0.3 else text)
    return texts


def invalid_byte_strings(rng):
    fixed = [b"\x80", b"abc\x80def", b"\xc3", b"a\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
             b"\xf0\x9f\x98 x", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\xff", b"x\xffy\xfez", b"caf\xe9", b"[SEP]\xff", b"\xff[SEP]", b"[SE\xffP]",
             b"Hello \xff world", b"\xe4\xb8\xad\xe4", b"a\xcc", b"e\xcc\x81\xcc"]
    pieces = [b"a", b" ", b"word", b"\xc3\xa9", b"\xe4\xb8\xad", b"\xf0\x9f\x98\x80", b"\x80",
              b"\xc3", b"\xe4\xb8", b"\xff", b"\xed\xa0\x80", b"[SEP]", b"\xcc\x81"]
    randomized = [b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
                  for _ in range(12)]
    randomized += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 10))) for _ in range(8)]
    return fixed + randomized


def long_text(rng, texts):
    """About 10 KB of mixed text, for the speed check (and its ids)."""
    parts = []
    while sum(len(p.encode()) for p in parts) < 10000:
        parts.append(rng.choice(texts[:120]))
    return " ".join(parts)


def ranges(code_points):
    out = []
    for c in sorted(code_points):
        if out and c == out[-1][1] + 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def fnv1a64(data, h=0xCBF29CE484222325):
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hangul_nfd(c):
    s = c - 0xAC00
    out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
    if s % 28:
        out.append(0x11A7 + s % 28)
    return out


def code_point_data():
    BN = normalizers.BertNormalizer
    only = {
        "clean": BN(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False),
        "chinese": BN(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False),
        "strip": BN(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False),
        "lower": BN(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True),
    }
    full = {"uncased": BN(lowercase=True, strip_accents=None),
            "cased": BN(lowercase=False, strip_accents=None)}
    pre = pre_tokenizers.BertPreTokenizer()
    dropped, to_space, chinese, whitespace, punctuation = [], [], [], [], []
    lowercase, strip_removed, strip_mapped = [], [], []
    hangul = [0xAC00, 0xD7A3]
    for c in ALL_CODE_POINTS:
        ch = chr(c)
        cleaned = only["clean"].normalize_str(ch)
        if cleaned == "":
            dropped.append(c)
        elif cleaned == " " and ch != " ":
            to_space.append(c)
        elif cleaned != ch:
            fail(f"clean_text maps U+{c:04X} to {cleaned!r}")
        padded = only["chinese"].normalize_str(ch)
        if padded == f" {ch} ":
            chinese.append(c)
        elif padded != ch:
            fail(f"handle_chinese_chars maps U+{c:04X} to {padded!r}")
        pieces = len(pre.pre_tokenize_str("a" + ch + "a"))
        if pieces == 2:
            whitespace.append(c)
        elif pieces == 3:
            punctuation.append(c)
        elif pieces != 1:
            fail(f"pre-tokenizer splits 'a' U+{c:04X} 'a' into {pieces} pieces")
        lowered = only["lower"].normalize_str(ch)
        if lowered != ch:
            lowercase.append([c, [ord(x) for x in lowered]])
        stripped = only["strip"].normalize_str(ch)
        if hangul[0] <= c <= hangul[1]:
            if [ord(x) for x in stripped] != hangul_nfd(c):
                fail(f"U+{c:04X}: Hangul syllable does not decompose algorithmically")
        elif stripped == "":
            strip_removed.append(c)
        elif stripped != ch:
            strip_mapped.append([c, [ord(x) for x in stripped]])
    hashes = {}
    for mode, normalizer in full.items():
        block_hashes = []
        for block in range(0x110):
            h = 0xCBF29CE484222325
            for c in range(block * 0x1000, block * 0x1000 + 0x1000):
                if 0xD800 <= c <= 0xDFFF:
                    continue
                h = fnv1a64(normalizer.normalize_str(chr(c)).encode("utf-8") + b"\xff", h)
            block_hashes.append(f"{h:016x}")
        hashes[mode] = block_hashes
    return {
        "count": len(ALL_CODE_POINTS),
        "dropped": ranges(dropped), "to_space": to_space, "chinese": ranges(chinese),
        "whitespace": whitespace, "punctuation": ranges(punctuation), "lowercase": lowercase,
        "strip_removed": ranges(strip_removed), "strip_hangul": hangul,
        "strip_mapped": strip_mapped, "block_hashes": hashes,
    }


def normalize_cases(rng):
    """Multi-code-point strings: canonical reordering among marks HF keeps, marks it drops."""
    combining = {}
    with open(UCD, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            if int(fields[3]):
                combining[int(fields[0], 16)] = (int(fields[3]), fields[2])
    uncased = normalizers.BertNormalizer(lowercase=True, strip_accents=None)
    cased = normalizers.BertNormalizer(lowercase=False, strip_accents=None)
    kept = [c for c in combining if uncased.normalize_str("a" + chr(c)) != "a"]
    marks = list(combining)
    texts = ["a\U0001d16d\U0001d165", "a\U0001d165\U0001d16d", "\U0001d15f\U0001d16e",
             "a\u0301\U0001e94a\u08d4", "a\u08d4\U0001e94a", "a\u0316\u0301\U0001d16d\u0300",
             "\u0130\u0301", "\u1e9b\u0323\u0301", "a\u0301\u200b\u0300", "\uac00\u0301\u11a8",
             "\u039f\u0394\u039f\u03a3", "A\u030a\u0327", "\u00c5\u0327", "a\u0345\u0301"]
    for _ in range(250):
        text = rng.choice("aAeZ\u00e9\u0391\u0430\uac00 ")
        for _ in range(rng.randint(2, 5)):
            text += chr(rng.choice(kept) if rng.random() < 0.6 else rng.choice(marks))
        texts.append(text)
    return [[t, uncased.normalize_str(t), cased.normalize_str(t)] for t in texts]


def main():
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        refs = build_references(tmp)
        cases = []
        texts = handwritten_texts() + random_texts(rng)
        texts.append(long_text(rng, texts))
        for i, text in enumerate(texts):
            case = {"text": text, "uncased": encode(refs, "uncased", text),
                    "cased": encode(refs, "cased", text)}
            if i % 10 == 0:
                case["uncased_with_special"] = encode(refs, "uncased", text, special=True)
                case["cased_with_special"] = encode(refs, "cased", text, special=True)
            cases.append(case)
        for raw in invalid_byte_strings(rng):
            text = raw.decode("utf-8", errors="replace")
            cases.append({"bytes_hex": raw.hex(), "uncased": encode(refs, "uncased", text),
                          "cased": encode(refs, "cased", text)})
    document = {
        "generator": "tools/reference/make_wordpiece_fixtures.py",
        "versions": {"transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "python": sys.version.split()[0]},
        "tokenizer": "weights/bert-base-uncased/vocab.txt; uncased: do_lower_case=True, "
                     "cased: do_lower_case=False (same vocabulary)",
        "cases": cases,
        "code_points": code_point_data(),
        "normalize_cases": normalize_cases(rng),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases, {len(document['normalize_cases'])} normalize "
          f"cases, {document['code_points']['count']} code points, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
