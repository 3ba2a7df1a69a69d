#!/usr/bin/env python3
"""Generates tokenizer/unicode_bert_tables.cpp: the character data BERT's normalizer and
pre-tokenizer need, reproducing Hugging Face tokenizers 0.23.3 (BertNormalizer,
BertPreTokenizer) exactly.

HF's Rust code takes these classes from three different Unicode versions, and this generator
derives each of them from the Unicode Character Database 15.0 (Debian unicode-data) plus
DerivedAge.txt, which says in which version every code point was assigned:

  Unicode 8.0   crate `unicode_categories` (is_other, is_punctuation, is_mark_nonspacing):
                  control   clean_text drops general categories Cc Cf Co (NOT Cn: unassigned
                            code points, e.g. emoji newer than 8.0, are kept), plus U+0000 and
                            U+FFFD; \\t \\n \\r are whitespace instead
                  punct     P* (plus ASCII punctuation)
                  mark      Mn: dropped after NFD when accents are stripped
                A code point is in a class iff it was assigned in <= 8.0 and its 8.0 category
                is in the class. The 8.0 category is the 15.0 one except for the few code points
                whose category changed later (CATEGORY_8_0_CHANGES below).
  Unicode 9.0   crate `unicode-normalization-alignments` (NFD): canonical decompositions and
                combining classes of code points assigned in <= 9.0 (later ones, e.g. U+11938
                from 13.0, do not decompose and have combining class 0).
  Unicode 17.0  Rust std (char::to_lowercase, char::is_whitespace): 15.0's simple lowercase
                mappings plus SpecialCasing's unconditional U+0130 -> "i\\u0307", plus the
                mappings of letters added in 16.0/17.0, which the 15.0 UCD cannot provide
                (LOWERCASE_AFTER_15_0 below, taken from HF probing). White_Space is unchanged
                and comes from tokenizer/unicode_tables.cpp.

Every class was checked against HF on all 1,114,112 code points (surrogates excepted) by
tools/reference/make_wordpiece_fixtures.py; tests/test_tokenizer_bert.cpp re-checks the
generated tables against that fixture.

Usage: python3 tokenizer/gen_bert_tables.py [UCD_DIR] [OUTPUT_CPP]
Stdlib only, deterministic output. The build never runs this; the output is checked in.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_unicode_tables import (format_table, merge_ranges,  # noqa: E402
                                read_general_categories, read_unicode_version)

CATEGORIES_VERSION = 8.0      # unicode_categories
NORMALIZATION_VERSION = 9.0   # unicode-normalization-alignments

# General categories that changed after Unicode 8.0 (8.0 value here; the 15.0 UCD has the new
# one). Found by comparing the UCD with HF on every code point; each is also in the fixture.
CATEGORY_8_0_CHANGES = {
    0x166D: "Po",   # CANADIAN SYLLABICS CHI SIGN, now So: still punctuation for HF
    0x1734: "Mn",   # HANUNOO SIGN PAMUDPOD, now Mc: still dropped by strip_accents
    0x1885: "Lo",   # MONGOLIAN LETTER ALI GALI BALUDA, now Mn: kept by strip_accents
    0x1886: "Lo",   # MONGOLIAN LETTER ALI GALI THREE BALUDA, now Mn: kept
    0xA9BD: "Mc",   # JAVANESE CONSONANT SIGN KERET, now Mn: kept
    0x111C9: "Po",  # SHARADA SANDHI MARK, now Mn: punctuation, kept by strip_accents
}

# Lowercase mappings of letters assigned after Unicode 15.0 that HF's Rust std (Unicode 17.0)
# applies. Not derivable from the 15.0 UCD; observed with
# BertNormalizer(lowercase=True, others False).normalize_str(chr(c)). (first, last, delta).
LOWERCASE_AFTER_15_0 = [
    (0x1C89, 0x1C89, 1),            # CYRILLIC CAPITAL LETTER TJE (16.0)
    (0xA7CB, 0xA7CB, 0x264 - 0xA7CB),  # LATIN CAPITAL LETTER RAMS HORN (16.0)
    (0xA7CC, 0xA7CC, 1), (0xA7CE, 0xA7CE, 1), (0xA7D2, 0xA7D2, 1), (0xA7D4, 0xA7D4, 1),
    (0xA7DA, 0xA7DA, 1),
    (0xA7DC, 0xA7DC, 0x19B - 0xA7DC),  # LATIN CAPITAL LETTER LAMBDA WITH STROKE (16.0)
    (0x10D50, 0x10D65, 0x20),       # GARAY (16.0)
    (0x16EA0, 0x16EB8, 0x1B),       # BERIA ERFE (17.0)
]

ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def read_ages(ucd_dir):
    """code point -> version (float) it was assigned in, from DerivedAge.txt."""
    ages = {}
    with open(os.path.join(ucd_dir, "DerivedAge.txt"), encoding="utf-8") as f:
        for line in f:
            data = line.split("#", 1)[0].strip()
            if not data:
                continue
            code_points, age = (part.strip() for part in data.split(";"))
            first, _, last = code_points.partition("..")
            for code_point in range(int(first, 16), int(last or first, 16) + 1):
                ages[code_point] = float(age)
    return ages


def read_unicode_data(ucd_dir):
    """(decompositions, combining classes, simple lowercase) from UnicodeData.txt."""
    decompositions, combining, lowercase = {}, {}, {}
    with open(os.path.join(ucd_dir, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            code_point = int(fields[0], 16)
            if int(fields[3]):
                combining[code_point] = int(fields[3])
            if fields[5] and not fields[5].startswith("<"):  # canonical, not compatibility
                decompositions[code_point] = [int(x, 16) for x in fields[5].split()]
            if fields[13]:
                lowercase[code_point] = [int(fields[13], 16)]
    return decompositions, combining, lowercase


def read_unconditional_lowercase(ucd_dir):
    """SpecialCasing.txt entries without a condition whose lowercase is not one code point."""
    special = {}
    with open(os.path.join(ucd_dir, "SpecialCasing.txt"), encoding="utf-8") as f:
        for line in f:
            data = line.split("#", 1)[0].strip()
            if not data:
                continue
            fields = [part.strip() for part in data.split(";")]
            if len(fields) > 4 and fields[4]:
                continue  # language- or context-dependent: Rust's char::to_lowercase ignores them
            lower = [int(x, 16) for x in fields[1].split()]
            if len(lower) > 1:
                special[int(fields[0], 16)] = lower
    return special


def categories_8_0(ucd_dir, ages):
    """code point -> general category in Unicode 8.0 (assigned code points only)."""
    categories = {}
    for first, last, category in read_general_categories(ucd_dir):
        for code_point in range(first, last + 1):
            if ages.get(code_point, 99.0) <= CATEGORIES_VERSION:
                categories[code_point] = category
    categories.update(CATEGORY_8_0_CHANGES)
    return categories


def full_decomposition(code_point, decompositions):
    if code_point not in decompositions:
        return [code_point]
    return [c for part in decompositions[code_point] for c in full_decomposition(part, decompositions)]


def value_ranges(mapping):
    """{code point: value} -> merged [first, last, value] runs of equal values."""
    runs = []
    for code_point in sorted(mapping):
        value = mapping[code_point]
        if runs and runs[-1][1] + 1 == code_point and runs[-1][2] == value:
            runs[-1][1] = code_point
        else:
            runs.append([code_point, code_point, value])
    return runs


def lowercase_runs(mapping):
    """{code point: lower} -> [first, last, delta, stride] runs (stride 1 or 2)."""
    runs = []
    for code_point in sorted(mapping):
        delta = mapping[code_point] - code_point
        if runs:
            first, last, run_delta, stride = runs[-1]
            if run_delta == delta and first == last and code_point - last in (1, 2):
                runs[-1] = [first, code_point, delta, code_point - last]
                continue
            if run_delta == delta and first != last and code_point - last == stride:
                runs[-1][1] = code_point
                continue
        runs.append([code_point, code_point, delta, 1])
    return runs


def format_rows(type_name, name, rows, per_line, formatter):
    lines = [f"constexpr {type_name} {name}[] = {{"]
    for start in range(0, len(rows), per_line):
        lines.append("    " + " ".join(formatter(row) for row in rows[start:start + per_line]))
    lines.append("};")
    return "\n".join(lines)


def main():
    ucd_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
    here = os.path.dirname(os.path.abspath(__file__))
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "unicode_bert_tables.cpp")

    version = read_unicode_version(ucd_dir)
    ages = read_ages(ucd_dir)
    categories = categories_8_0(ucd_dir, ages)
    decompositions, combining, simple_lowercase = read_unicode_data(ucd_dir)

    control = [(c, c) for c, cat in categories.items() if cat in ("Cc", "Cf", "Co")
               and c not in (0x09, 0x0A, 0x0D)]
    control = merge_ranges(control + [(0x0, 0x0), (0xFFFD, 0xFFFD)])
    punctuation = [(c, c) for c, cat in categories.items() if cat.startswith("P")]
    punctuation = merge_ranges(punctuation + [(ord(c), ord(c)) for c in ASCII_PUNCTUATION])
    marks = merge_ranges([(c, c) for c, cat in categories.items() if cat == "Mn"])

    old = {c: v for c, v in combining.items() if ages.get(c, 99.0) <= NORMALIZATION_VERSION}
    combining_runs = value_ranges(old)
    decomposition_rows, pool = [], []
    for code_point in sorted(decompositions):
        if ages.get(code_point, 99.0) > NORMALIZATION_VERSION:
            continue
        expansion = full_decomposition(code_point, decompositions)
        decomposition_rows.append((code_point, len(pool), len(expansion)))
        pool.extend(expansion)
    if len(pool) >= 1 << 16 or max(n for _, _, n in decomposition_rows) > 255:
        sys.exit("gen_bert_tables: decomposition pool does not fit its uint16/uint8 fields")

    lowercase = {c: lower[0] for c, lower in simple_lowercase.items()}
    special = read_unconditional_lowercase(ucd_dir)
    if sorted(special) != [0x130]:
        sys.exit(f"gen_bert_tables: unexpected multi-code-point lowercase mappings {special}")
    for first, last, delta in LOWERCASE_AFTER_15_0:
        for code_point in range(first, last + 1):
            if code_point in lowercase or ages.get(code_point) is not None:
                sys.exit(f"gen_bert_tables: U+{code_point:04X} is already in the UCD")
            lowercase[code_point] = code_point + delta
    lowercase.pop(0x130, None)  # handled in code: expands to two code points
    lower_runs = lowercase_runs(lowercase)

    text = f"""// GENERATED by tokenizer/gen_bert_tables.py from the Unicode Character Database {version}
// (UnicodeData.txt, DerivedAge.txt, SpecialCasing.txt) plus the few Hugging Face observations
// listed in the generator. Do not edit by hand; rerun:
//   python3 tokenizer/gen_bert_tables.py /usr/share/unicode
#include "tokenizer/unicode_bert_tables.h"

#include <algorithm>
#include <span>

namespace headmap::unicode::bert {{

namespace {{

struct CodePointRange {{
    char32_t first;
    char32_t last;  // inclusive
}};

struct CombiningClassRange {{
    char32_t first;
    char32_t last;  // inclusive
    unsigned char combining_class;
}};

struct Decomposition {{
    char32_t code_point;
    unsigned short offset;  // into kDecompositionPool
    unsigned char length;
}};

struct LowercaseRun {{
    char32_t first;
    char32_t last;  // inclusive
    int delta;      // lowercase = code point + delta
    int stride;     // 1: every code point of the run; 2: every other one (first, first + 2, ...)
}};

// Generated layout is kept as is.
// clang-format off

// Dropped by clean_text: Cc Cf Co as of Unicode 8.0 except \\t \\n \\r, plus U+0000, U+FFFD.
// {len(control)} ranges.
{format_table("kControlRanges", control)}

// Punctuation for BertPreTokenizer: ASCII punctuation plus P* as of Unicode 8.0.
// {len(punctuation)} ranges.
{format_table("kPunctuationRanges", punctuation)}

// Nonspacing marks (Mn as of Unicode 8.0), dropped after NFD by strip_accents.
// {len(marks)} ranges.
{format_table("kNonspacingMarkRanges", marks)}

// Canonical combining classes != 0 of code points assigned in Unicode <= 9.0.
// {len(combining_runs)} runs.
{format_rows("CombiningClassRange", "kCombiningClasses", combining_runs, 3,
             lambda r: f"{{0x{r[0]:X}, 0x{r[1]:X}, {r[2]}}},")}

// Full canonical decompositions (recursively expanded) of code points assigned in
// Unicode <= 9.0; Hangul syllables are decomposed algorithmically instead. {len(decomposition_rows)} entries.
{format_rows("Decomposition", "kDecompositions", decomposition_rows, 4,
             lambda r: f"{{0x{r[0]:X}, {r[1]}, {r[2]}}},")}

{format_rows("char32_t", "kDecompositionPool", pool, 8, lambda c: f"0x{c:X},")}

// Simple lowercase mappings: Unicode {version} plus letters added in 16.0/17.0 (U+0130 is
// handled in code). {len(lower_runs)} runs.
{format_rows("LowercaseRun", "kLowercaseRuns", lower_runs, 3,
             lambda r: f"{{0x{r[0]:X}, 0x{r[1]:X}, {r[2]}, {r[3]}}},")}
// clang-format on

bool in_ranges(std::span<const CodePointRange> ranges, char32_t code_point) {{
    auto it = std::lower_bound(
        ranges.begin(), ranges.end(), code_point,
        [](const CodePointRange& range, char32_t value) {{ return range.last < value; }});
    return it != ranges.end() && it->first <= code_point;
}}

}}  // namespace

bool is_control(char32_t code_point) {{
    return in_ranges(kControlRanges, code_point);
}}

bool is_punctuation(char32_t code_point) {{
    return in_ranges(kPunctuationRanges, code_point);
}}

bool is_nonspacing_mark(char32_t code_point) {{
    return in_ranges(kNonspacingMarkRanges, code_point);
}}

int canonical_combining_class(char32_t code_point) {{
    const std::span<const CombiningClassRange> runs = kCombiningClasses;
    auto it = std::lower_bound(
        runs.begin(), runs.end(), code_point,
        [](const CombiningClassRange& run, char32_t value) {{ return run.last < value; }});
    return it != runs.end() && it->first <= code_point ? it->combining_class : 0;
}}

std::span<const char32_t> canonical_decomposition(char32_t code_point) {{
    const std::span<const Decomposition> entries = kDecompositions;
    auto it = std::lower_bound(
        entries.begin(), entries.end(), code_point,
        [](const Decomposition& entry, char32_t value) {{ return entry.code_point < value; }});
    if (it == entries.end() || it->code_point != code_point) return {{}};
    return std::span<const char32_t>(kDecompositionPool).subspan(it->offset, it->length);
}}

char32_t simple_lowercase(char32_t code_point) {{
    const std::span<const LowercaseRun> runs = kLowercaseRuns;
    auto it =
        std::lower_bound(runs.begin(), runs.end(), code_point,
                         [](const LowercaseRun& run, char32_t value) {{ return run.last < value; }});
    if (it == runs.end() || it->first > code_point) return code_point;
    if ((code_point - it->first) % static_cast<char32_t>(it->stride) != 0) return code_point;
    return static_cast<char32_t>(static_cast<int>(code_point) + it->delta);
}}

}}  // namespace headmap::unicode::bert
"""
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {output}: Unicode {version}; {len(control)} control, {len(punctuation)} "
          f"punctuation, {len(marks)} mark ranges; {len(combining_runs)} combining-class runs; "
          f"{len(decomposition_rows)} decompositions ({len(pool)} code points); "
          f"{len(lower_runs)} lowercase runs")


if __name__ == "__main__":
    main()
