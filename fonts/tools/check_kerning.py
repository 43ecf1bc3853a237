#!/usr/bin/env python3
"""Compare the flattened kern tables in fonts/ with HarfBuzz.

Usage: python3 fonts/tools/check_kerning.py   (needs: pip install uharfbuzz)

For every pair of code points of a bundled font (for the CJK font: only the
code points below U+2200 and from U+FF00 on, where its kerning lives), the
original Debian font is shaped by HarfBuzz with only the 'kern' feature on;
the first glyph's advance change must equal the value in our kern table.
Pairs with U+00AD are skipped: HarfBuzz hides the soft hyphen.
"""

from __future__ import annotations

import os
import sys

import uharfbuzz as hb
from fontTools.ttLib import TTFont

sys.dont_write_bytecode = True  # keep fonts/tools free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_fonts import SOURCES  # noqa: E402

OFF = ["liga", "clig", "calt", "ccmp", "locl", "rlig", "mark", "mkmk", "rclt", "dlig"]
FEATURES = {tag: False for tag in OFF} | {"kern": True}


def check(job: dict, fonts_dir: str) -> int:
    ours = TTFont(os.path.join(fonts_dir, job["out"]))
    if "kern" not in ours:
        return 0
    table = ours["kern"].kernTables[0].kernTable
    first_cp: dict[str, int] = {}
    for cp, glyph in sorted(ours.getBestCmap().items()):
        first_cp.setdefault(glyph, cp)
    glyphs = [
        g
        for g, cp in first_cp.items()
        if cp != 0xAD and (job["set"] == "latin" or cp < 0x2200 or cp >= 0xFF00)
    ]

    index = job.get("font_number", 0)
    font = hb.Font(hb.Face(hb.Blob.from_file_path(job["src"]), index))
    src = TTFont(job["src"], fontNumber=index, lazy=True)
    src_cmap, hmtx = src.getBestCmap(), src["hmtx"]

    tested = mismatches = 0
    for left in glyphs:
        advance = hmtx[src_cmap[first_cp[left]]][0]
        for right in glyphs:
            buf = hb.Buffer()
            buf.add_str(chr(first_cp[left]) + chr(first_cp[right]))
            buf.direction, buf.script, buf.language = "ltr", "Latn", "en"
            hb.shape(font, buf, FEATURES)
            if len(buf.glyph_positions) != 2:
                continue
            tested += 1
            expected = buf.glyph_positions[0].x_advance - advance
            if expected != table.get((left, right), 0):
                mismatches += 1
                if mismatches <= 5:
                    print(f"  {left} {right}: HarfBuzz {expected}, kern table "
                          f"{table.get((left, right), 0)}")
    print(f"{job['out']}: {tested} pairs compared, {mismatches} mismatches")
    return mismatches


def main() -> int:
    fonts_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = sum(check(job, fonts_dir) for job in SOURCES)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
