#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_font (tests/fuzz/corpus/font/): small subsets of the DejaVu
fonts (fonts-dejavu-core, free licence: see /usr/share/doc/fonts-dejavu-core/copyright), each
reaching a different path of stb_truetype: cmap formats 4, 6, 0 and 12 (the one stb picks is the
last Unicode subtable), kerning from GPOS pair lookups (formats 1 and 2) or from the old 'kern'
table, composite glyphs nested two deep, short and long 'loca'. Needs fontTools (pip install
fonttools); run from the repository root."""
import io
import sys
from pathlib import Path

from fontTools import subset
from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path("tests/fuzz/corpus/font")


def subset_font(name, text, unicodes=(), drop=(), hinting=False):
    options = subset.Options()
    options.hinting = hinting
    options.layout_features = ["kern"]
    options.legacy_kern = True  # keep the old 'kern' table where the font has one
    options.drop_tables += list(drop) + ["GSUB", "MATH", "FFTM", "DSIG"]
    options.name_IDs = [1, 2, 6]
    options.notdef_outline = True
    font = TTFont(DEJAVU / name, recalcTimestamp=False)  # reruns give the same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text, unicodes=list(unicodes))
    subsetter.subset(font)
    return font


def only_cmap(font, fmt, platform=(3, 1)):
    """Replaces the cmap by one subtable of `fmt` holding the font's BMP mapping."""
    best = font.getBestCmap()
    table = CmapSubtable.newSubtable(fmt)
    table.platformID, table.platEncID, table.language = platform[0], platform[1], 0
    table.cmap = {c: g for c, g in best.items() if c < (256 if fmt == 0 else 0x10000)}
    if fmt == 6:  # one contiguous range
        first = min(table.cmap)
        last = first
        while last + 1 in table.cmap:
            last += 1
        table.cmap = {c: table.cmap[c] for c in range(first, last + 1)}
    cmap = newTable("cmap")
    cmap.tableVersion = 0
    cmap.tables = [table]
    font["cmap"] = cmap


def add_format12(font):
    """Adds a Windows full-repertoire (3, 10) format 12 subtable: the last Unicode one, so the
    subtable stb_truetype uses."""
    table = CmapSubtable.newSubtable(12)
    table.platformID, table.platEncID, table.language = 3, 10, 0
    table.cmap = dict(font.getBestCmap())
    font["cmap"].tables.append(table)


def save(font, name):
    buffer = io.BytesIO()
    font.save(buffer)
    data = buffer.getvalue()
    (OUT / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes", file=sys.stderr)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    ascii_text = "".join(chr(c) for c in range(0x20, 0x7F))
    latin = ascii_text + "\u00e9\u00f6\u00c5\u01fa\u2026\u2014"
    # DejaVu Sans as headmap uses it: GPOS kerning, formats 4 and 12, composites (U+01FA).
    sans = subset_font("DejaVuSans.ttf", latin)
    add_format12(sans)
    save(sans, "sans-latin.ttf")
    # No GPOS: stb_truetype then kerns from the 'kern' table.
    serif = subset_font("DejaVuSerif.ttf", ascii_text, drop=["GPOS"])
    serif["glyf"].padding = 0  # odd glyph lengths: long (32-bit) 'loca' offsets
    save(serif, "serif-kern-table.ttf")
    # Class-based pair kerning (GPOS PairPos format 2), with hinting instructions kept.
    save(subset_font("DejaVuSerif.ttf", "AVWTaeoy.,", hinting=True), "serif-gpos-classes.ttf")
    mono = subset_font("DejaVuSansMono.ttf", "0123456789:;<=>?@ABCDEF")
    only_cmap(mono, 6)
    # Glyph-pair kerning (GPOS PairPos format 1), which DejaVu itself does not use.
    addOpenTypeFeaturesFromString(
        mono, "feature kern { pos A B -120; pos A D -80; pos C four 60; pos one one -200; } kern;")
    save(mono, "mono-cmap6.ttf")
    bold = subset_font("DejaVuSans-Bold.ttf", "Headmp 0.5", drop=["GPOS"])
    only_cmap(bold, 0, platform=(0, 3))
    save(bold, "bold-cmap0.ttf")


if __name__ == "__main__":
    main()
