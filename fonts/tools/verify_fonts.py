#!/usr/bin/env python3
"""Check the bundled fonts in fonts/ and print the facts fonts/README.md records.

Usage: python3 fonts/tools/verify_fonts.py [--dir fonts]

Exits non-zero if a check fails. Checks:
* every font loads and every table decompiles with fontTools;
* each cmap covers every code point of its unicodes-*.txt list that the
  source font had (anything missing is listed);
* the CJK fonts map all 6763 GB 2312 hanzi;
* the Latin fonts and the WenQuanYi subset carry a legacy kern table;
* the sample shelf-label strings are fully covered by the font chain
  "Latin first, then CJK" (a code point is covered when the cmap maps it
  to a glyph other than 0, which is what ab_glyph's glyph_id() reports);
* every outline point and advance of the pixel font lies on its pixel
  grid (unitsPerEm / 16 units), so it is exact at 16 ppem.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys

from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

LATIN = ["NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSans-CondensedBold.ttf"]
CJK = ["WenQuanYiMicroHei-GB2312.ttf", "EslPixel16-GB2312.otf"]
PIXEL = {"EslPixel16-GB2312.otf": 16}  # font -> native pixel size
KERNED = LATIN + ["WenQuanYiMicroHei-GB2312.ttf"]
UNICODES = {name: "unicodes-latin.txt" for name in LATIN}
UNICODES.update({name: "unicodes-gb2312.txt" for name in CJK})

SAMPLES = [
    "可口可乐/灌装",
    "可口可乐 Coca-Cola 330ml",
    "¥12.99",
    "€3,49",
    "Special offer – 20% off…",
]
BITMAP_TABLES = ("EBDT", "EBLC", "CBDT", "CBLC", "sbix", "bdat", "bloc")


def read_unicodes(path: str) -> set[int]:
    cps: set[int] = set()
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            lo, _, hi = line.removeprefix("U+").partition("-")
            cps.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return cps


def gb2312_hanzi() -> set[int]:
    out = set()
    for cp in range(0x4E00, 0xA000):
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        out.add(cp)
    return out


def kern_pairs(font: TTFont) -> int:
    if "kern" not in font:
        return 0
    return sum(len(getattr(st, "kernTable", {})) for st in font["kern"].kernTables)


def off_grid(font: TTFont, px: int) -> int:
    """Number of outline points and advances not on the px-per-em grid."""
    step = font["head"].unitsPerEm / px
    glyphs = font.getGlyphSet()
    bad = 0
    for name in font.getGlyphOrder():
        pen = RecordingPen()
        glyphs[name].draw(pen)
        for _, pts in pen.value:
            bad += sum(1 for x, y in pts if x % step or y % step)
        bad += font["hmtx"][name][0] % step != 0
    return bad


def covered(cmap: dict, cp: int) -> bool:
    return cmap.get(cp, ".notdef") != ".notdef"


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=os.path.dirname(here))
    args = parser.parse_args()

    failures: list[str] = []
    checks = 0
    fonts: dict[str, TTFont] = {}
    hanzi = gb2312_hanzi()
    rows = []
    for name in LATIN + CJK:
        path = os.path.join(args.dir, name)
        font = TTFont(path, recalcTimestamp=False)
        font.ensureDecompiled()
        font.save(io.BytesIO())  # round-trips every table
        fonts[name] = font
        cmap = font.getBestCmap()
        want = read_unicodes(os.path.join(here, UNICODES[name]))
        missing = sorted(cp for cp in want if not covered(cmap, cp))
        pairs = kern_pairs(font)
        bitmaps = [t for t in BITMAP_TABLES if t in font]
        hhea = font["hhea"]
        n = font["name"]
        n_hanzi = sum(1 for cp in hanzi if covered(cmap, cp))
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        rows.append(
            (
                name,
                f"{n.getDebugName(16) or n.getDebugName(1)} / {n.getDebugName(17) or n.getDebugName(2)}",
                len(cmap),
                len(font.getGlyphOrder()),
                n_hanzi,
                size,
                pairs,
                ",".join(bitmaps) or "none",
                f"{font['head'].unitsPerEm}/{hhea.ascent}/{hhea.descent}/{hhea.lineGap}",
                digest,
            )
        )
        print(f"{name}: cmap {len(cmap)} code points, {len(font.getGlyphOrder())} glyphs, "
              f"GB2312 hanzi {n_hanzi}/{len(hanzi)}, kern pairs {pairs}, bitmaps {bitmaps or 'none'}")
        if missing:
            print("  not in font (absent from the source): "
                  + " ".join(f"U+{cp:04X}" for cp in missing))
        checks += 2  # loads and round-trips; cmap coverage
        if name in LATIN and missing:
            failures.append(f"{name}: missing {len(missing)} wanted code points")
        checks += name in CJK
        if name in CJK and n_hanzi != len(hanzi):
            failures.append(f"{name}: only {n_hanzi} of {len(hanzi)} GB2312 hanzi")
        checks += name in KERNED
        if name in KERNED and pairs == 0:
            failures.append(f"{name}: no legacy kern table")
        if name in PIXEL:
            bad = off_grid(font, PIXEL[name])
            step = font["head"].unitsPerEm // PIXEL[name]
            print(f"  pixel grid: {step} units = 1 px at {PIXEL[name]} ppem; "
                  f"{bad} points/advances off the grid")
            checks += 1
            if bad:
                failures.append(f"{name}: {bad} points off its pixel grid")
        checks += 1
        if font.getGlyphOrder()[0] != ".notdef":
            failures.append(f"{name}: glyph 0 is not .notdef")

    for cjk in CJK:
        chain = [fonts["NotoSans-Regular.ttf"].getBestCmap(), fonts[cjk].getBestCmap()]
        for text in SAMPLES:
            gaps = [c for c in text if not any(covered(cm, ord(c)) for cm in chain)]
            status = "ok" if not gaps else "MISSING " + "".join(gaps)
            print(f"chain NotoSans-Regular -> {cjk}: {text!r}: {status}")
            checks += 1
            if gaps:
                failures.append(f"{cjk}: sample {text!r} not covered")

    print()
    print("| file | family / style | cmap code points | glyphs | GB2312 hanzi | bytes "
          "| kern pairs | bitmap tables | upem/ascender/descender/lineGap (hhea) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]} | {r[8]} |")
    print()
    for r in rows:
        print(f"{r[9]}  {r[0]}")
    total = sum(r[5] for r in rows)
    print(f"\ntotal font bytes: {total}")

    for f in failures:
        print("FAIL: " + f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
