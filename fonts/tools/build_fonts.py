#!/usr/bin/env python3
"""Rebuild the bundled fonts in fonts/ from Debian font packages.

Usage (from the repository root, after installing the packages and
fontTools listed in fonts/README.md):

    python3 fonts/tools/build_fonts.py [--out fonts] [--keep-work DIR]

For every output font the script

1. writes the code point list it needs to fonts/tools/unicodes-*.txt,
2. runs pyftsubset (as ``python3 -m fontTools.subset``) on the Debian
   source file and prints the exact command line,
3. post-processes the subset with fontTools:
   * flattens the horizontal pair kerning of the GPOS ``kern`` feature
     (PairPos formats 1 and 2, Value1.XAdvance) into a legacy ``kern``
     table, format 0, because ab_glyph reads only that table,
   * removes GSUB/GPOS/GDEF (the engine does no OpenType shaping),
   * records in the name table that the file is a modified subset and,
     where a font is renamed, rewrites its names.

It also writes LICENSE-OFL-1.1.txt (licence text from the fonts-noto-core
copyright file) and LICENSE-Apache-2.0.txt (/usr/share/common-licenses).

The output is deterministic: timestamps are not recalculated.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile

from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._k_e_r_n import KernTable_format_0

# A format 0 subtable's length field is 16 bits: 14 header bytes plus
# 6 bytes per pair must stay below 65536, so at most 10920 pairs.
MAX_KERN_PAIRS = 10920

# Symbols a shelf label needs beyond ASCII / Latin-1 / Latin Extended-A.
EXTRA_SYMBOLS = "€¥£₩₹•…–—‘’“”×÷±№™°"

NOTO_DIR = "/usr/share/fonts/truetype/noto"

SOURCES = [
    {
        "out": "NotoSans-Regular.ttf",
        "src": f"{NOTO_DIR}/NotoSans-Regular.ttf",
        "package": "fonts-noto-core",
        "set": "latin",
    },
    {
        "out": "NotoSans-Bold.ttf",
        "src": f"{NOTO_DIR}/NotoSans-Bold.ttf",
        "package": "fonts-noto-core",
        "set": "latin",
    },
    {
        "out": "NotoSans-CondensedBold.ttf",
        "src": f"{NOTO_DIR}/NotoSans-CondensedBold.ttf",
        "package": "fonts-noto-extra",
        "set": "latin",
    },
    {
        # Face 0 of the collection is "WenQuanYi Micro Hei" (proportional
        # Latin); face 1 is "WenQuanYi Micro Hei Mono".
        "out": "WenQuanYiMicroHei-GB2312.ttf",
        "src": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "font_number": 0,
        "package": "fonts-wqy-microhei",
        "set": "gb2312",
    },
    {
        # GNU Unifont, CFF outlines on a 4-unit (= 1 px at 16 px) grid.
        # A subset is a Modified Version under the OFL, so it is given a
        # name of its own instead of "Unifont".
        "out": "EslPixel16-GB2312.otf",
        "src": "/usr/share/fonts/opentype/unifont/unifont.otf",
        "package": "fonts-unifont",
        "set": "gb2312",
        "rename": {"family": "ESL Pixel16", "postscript": "ESLPixel16-Regular"},
    },
]

# Options common to every pyftsubset run.
#   --layout-features=kern : keep only GPOS kerning (flattened below);
#                            no GSUB closure, so no unmapped extra glyphs.
#   --no-hinting           : ab_glyph does not hint; drops TT instructions.
#   --notdef-glyph/--notdef-outline : keep glyph 0 with its outline.
#   --name-IDs='*' --name-languages='*' : keep licence/copyright records.
#   --drop-tables-=EBDT,EBLC,EBSC : keep embedded bitmap strikes if a source
#                            has them (pyftsubset drops them by default).
COMMON_OPTIONS = [
    "--layout-features=kern",
    "--no-hinting",
    "--notdef-glyph",
    "--notdef-outline",
    "--name-IDs=*",
    "--name-languages=*",
    "--drop-tables-=EBDT,EBLC,EBSC",
]
LATIN_OPTIONS = ["--glyph-names"]


# --------------------------------------------------------------------------
# Code point sets


def latin_codepoints() -> list[int]:
    cps = set(range(0x20, 0x7F))  # ASCII printable
    cps |= set(range(0xA0, 0x100))  # Latin-1 Supplement
    cps |= set(range(0x100, 0x180))  # Latin Extended-A
    cps |= {ord(c) for c in EXTRA_SYMBOLS}
    return sorted(cps)


def gb2312_codepoints() -> list[int]:
    """Every BMP code point that Python's gb2312 codec can encode."""
    cps = []
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        cps.append(cp)
    return cps


def cjk_codepoints() -> list[int]:
    cps = set(gb2312_codepoints())
    cps |= set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    cps |= {ord(c) for c in EXTRA_SYMBOLS}
    return sorted(cps)


CODEPOINT_SETS = {
    "latin": (
        "unicodes-latin.txt",
        "ASCII, Latin-1 Supplement, Latin Extended-A and shelf-label symbols",
        latin_codepoints,
    ),
    "gb2312": (
        "unicodes-gb2312.txt",
        "GB 2312 (all code points Python's gb2312 codec encodes), ASCII, "
        "Latin-1 Supplement and shelf-label symbols",
        cjk_codepoints,
    ),
}


def to_ranges(cps: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def write_unicodes_file(path: str, title: str, cps: list[int]) -> None:
    """Write a pyftsubset --unicodes-file (one range per line)."""
    with open(path, "w", encoding="ascii") as f:
        f.write(f"# {title}\n# {len(cps)} code points; generated by build_fonts.py\n")
        for lo, hi in to_ranges(cps):
            f.write(f"U+{lo:04X}\n" if lo == hi else f"U+{lo:04X}-{hi:04X}\n")


# --------------------------------------------------------------------------
# GPOS pair kerning -> legacy kern table


def _kern_lookup_indices(gpos) -> list[int]:
    """Lookups of the 'kern' feature in the default LangSys of 'latn'
    (falling back to 'DFLT', then to the first script)."""
    records = {sr.ScriptTag: sr for sr in gpos.ScriptList.ScriptRecord}
    for tag in ("latn", "DFLT", *records):
        sr = records.get(tag)
        if sr is None or sr.Script.DefaultLangSys is None:
            continue
        indices: set[int] = set()
        for fi in sr.Script.DefaultLangSys.FeatureIndex:
            rec = gpos.FeatureList.FeatureRecord[fi]
            if rec.FeatureTag == "kern":
                indices.update(rec.Feature.LookupListIndex)
        return sorted(indices)
    return []


def flatten_gpos_kern(font: TTFont) -> tuple[dict, list[str]]:
    """Return ({(left, right): value}, notes) for glyphs reachable from the
    cmap. Within a lookup the first subtable that matches a pair wins (as in
    HarfBuzz: a format 2 subtable matches every pair whose first glyph it
    covers); values of different lookups add up."""
    notes: list[str] = []
    if "GPOS" not in font or font["GPOS"].table.LookupList is None:
        return {}, notes
    gpos = font["GPOS"].table
    mapped = set(font.getBestCmap().values())
    order = [g for g in font.getGlyphOrder() if g in mapped]
    mark_glyphs: set[str] = set()
    if "GDEF" in font and font["GDEF"].table.GlyphClassDef:
        mark_glyphs = {
            g for g, c in font["GDEF"].table.GlyphClassDef.classDefs.items() if c == 3
        }

    total: dict[tuple[str, str], int] = {}
    ignored_fields = 0
    for li in _kern_lookup_indices(gpos):
        lookup = gpos.LookupList.Lookup[li]
        subtables = []
        for st in lookup.SubTable:
            if lookup.LookupType == 9:
                if st.ExtensionLookupType != 2:
                    notes.append(f"lookup {li}: extension type {st.ExtensionLookupType} skipped")
                    continue
                st = st.ExtSubTable
            elif lookup.LookupType != 2:
                notes.append(
                    f"lookup {li}: type {lookup.LookupType} (not pair positioning) skipped"
                )
                break
            subtables.append(st)
        skip = mark_glyphs if lookup.LookupFlag & 0x8 else set()  # IgnoreMarks
        seen: set[tuple[str, str]] = set()
        for st in subtables:
            covered = [g for g in st.Coverage.glyphs if g in mapped and g not in skip]
            if st.Format == 1:
                index = {g: i for i, g in enumerate(st.Coverage.glyphs)}
                for left in covered:
                    for rec in st.PairSet[index[left]].PairValueRecord:
                        right = rec.SecondGlyph
                        if right not in mapped or right in skip:
                            continue
                        pair = (left, right)
                        if pair in seen:
                            continue
                        seen.add(pair)
                        value, extra = _x_advance(rec.Value1, getattr(rec, "Value2", None))
                        ignored_fields += extra
                        if value:
                            total[pair] = total.get(pair, 0) + value
            elif st.Format == 2:
                cd1 = st.ClassDef1.classDefs if st.ClassDef1 else {}
                cd2 = st.ClassDef2.classDefs if st.ClassDef2 else {}
                for left in covered:
                    row = st.Class1Record[cd1.get(left, 0)].Class2Record
                    for right in order:
                        if right in skip:
                            continue
                        pair = (left, right)
                        if pair in seen:
                            continue
                        seen.add(pair)
                        rec = row[cd2.get(right, 0)]
                        value, extra = _x_advance(rec.Value1, getattr(rec, "Value2", None))
                        ignored_fields += extra
                        if value:
                            total[pair] = total.get(pair, 0) + value
            else:
                notes.append(f"lookup {li}: PairPos format {st.Format} skipped")
    if ignored_fields:
        notes.append(
            f"{ignored_fields} pair records carried non-XAdvance adjustments (ignored)"
        )
    return {p: v for p, v in total.items() if v}, notes


def _x_advance(value1, value2) -> tuple[int, int]:
    """Kerning of a pair = first glyph's XAdvance; count any other
    non-zero adjustment so it can be reported."""
    extra = 0
    x = 0
    if value1 is not None:
        x = getattr(value1, "XAdvance", 0) or 0
        for attr in ("XPlacement", "YPlacement", "YAdvance"):
            if getattr(value1, attr, 0):
                extra = 1
    if value2 is not None:
        for attr in ("XPlacement", "YPlacement", "XAdvance", "YAdvance"):
            if getattr(value2, attr, 0):
                extra = 1
    return x, extra


def install_kern_table(font: TTFont, pairs: dict) -> tuple[int, int, int]:
    """Replace font['kern'] with one format 0 subtable. Returns
    (pairs found, pairs written, smallest |value| written)."""
    found = len(pairs)
    if found > MAX_KERN_PAIRS:
        gid = font.getReverseGlyphMap()
        ranked = sorted(
            pairs.items(), key=lambda kv: (-abs(kv[1]), gid[kv[0][0]], gid[kv[0][1]])
        )
        pairs = dict(ranked[:MAX_KERN_PAIRS])
    values = [max(-32768, min(32767, v)) for v in pairs.values()]
    sub = KernTable_format_0()
    sub.coverage = 1  # horizontal, kerning values (not minimum), no override
    sub.tupleIndex = None
    sub.kernTable = dict(zip(pairs.keys(), values))
    kern = newTable("kern")
    kern.version = 0
    kern.kernTables = [sub]
    font["kern"] = kern
    return found, len(pairs), min((abs(v) for v in values), default=0)


# --------------------------------------------------------------------------
# Name table


def set_name(font: TTFont, name_id: int, text: str) -> None:
    """Set a name on every platform/encoding/language that already has it,
    or add it for Windows English and Macintosh Roman."""
    table = font["name"]
    records = [r for r in table.names if r.nameID == name_id]
    if records:
        for r in records:
            r.string = text
    else:
        table.setName(text, name_id, 3, 1, 0x409)
        if any(r.platformID == 1 for r in table.names):
            table.setName(text, name_id, 1, 0, 0)


def rename(font: TTFont, family: str, postscript: str) -> None:
    style = font["name"].getDebugName(2) or "Regular"
    version = (font["name"].getDebugName(5) or "").replace("Version ", "")
    for nid in (16, 17, 18, 21, 22):
        font["name"].removeNames(nameID=nid)
    set_name(font, 1, family)
    set_name(font, 3, f"{version};{postscript}")
    set_name(font, 4, f"{family} {style}" if style != "Regular" else family)
    set_name(font, 6, postscript)
    if "CFF " in font:
        cff = font["CFF "].cff
        top = cff.topDictIndex[0]
        cff.fontNames = [postscript]
        top.FamilyName = family
        top.FullName = f"{family} {style}" if style != "Regular" else family


# --------------------------------------------------------------------------
# Licence files


OFL_HEADER = """\
The following fonts in this directory are licensed under the SIL Open Font
License, Version 1.1:

  NotoSans-Regular.ttf, NotoSans-Bold.ttf, NotoSans-CondensedBold.ttf
    Subsets of Noto Sans 2.004 (Debian packages fonts-noto-core and
    fonts-noto-extra).
    Copyright 2015 Google LLC. All Rights Reserved.
    (Debian lists: 2010, 2012-2020 Google Inc.; 2015-2020 Google LLC.)

  EslPixel16-GB2312.otf
    Subset of GNU Unifont 15.0.01 (Debian package fonts-unifont), renamed
    "ESL Pixel16" because a subset is a Modified Version under the OFL.
    Copyright (C) 1998-2022 Roman Czyborra, Paul Hardy, Qianqian Fang,
    Andrew Miller, Johnnie Weaver, David Corbett, Nils Moskopp,
    Rebecca Bettencourt, et al.
    The Unifont glyphs are dual-licensed (SIL OFL 1.1, or GNU GPL 2 or later
    with the GNU Font Embedding Exception); they are used here under the
    SIL OFL 1.1.

The changes made to each font are recorded in README.md and in name ID 10
of each font file.

This Font Software is licensed under the SIL Open Font License, Version 1.1.
This license is copied below, and is also available with a FAQ at:
https://openfontlicense.org

-----------------------------------------------------------
SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007
-----------------------------------------------------------

"""

APACHE_HEADER = """\
The following font in this directory is licensed under the Apache License,
Version 2.0 (text below):

  WenQuanYiMicroHei-GB2312.ttf
    Subset of WenQuanYi Micro Hei 0.2.0-beta, face 0 of wqy-microhei.ttc
    (Debian package fonts-wqy-microhei).
    Copyright (C) 2008-2009 The WenQuanYi Project Board of Trustees,
    Qianqian Fang and mozbug. Digitized data copyright (C) 2006-2008 Google
    Corporation (Droid Sans Fallback, Droid Sans); 2006-2008 Steve Matteson,
    Ascender Corp. Some CJK punctuation from Ume-Font: 2003-2004 Electronic
    Font Open Laboratory (/efont/), 1990-2003 Wada Laboratory, the
    University of Tokyo.
    Upstream licenses the font under Apache-2.0 or GPL-3+ with a font
    exception; it is used here under the Apache License, Version 2.0.
    Modified by the esl project (subset, hinting removed, GPOS kerning
    converted to a kern table, layout tables removed); see README.md and
    name ID 10 of the font file.

--------------------------------------------------------------------------

"""


def debian_license_stanza(copyright_file: str, license_name: str) -> str:
    """Text of the last stand-alone 'License: <name>' paragraph of a
    machine-readable Debian copyright file, with the continuation-line
    indent and the '.' blank-line markers undone."""
    with open(copyright_file, encoding="utf-8") as f:
        lines = f.read().split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == f"License: {license_name}"]
    if not starts:
        raise SystemExit(f"no License: {license_name} paragraph in {copyright_file}")
    body = []
    for line in lines[starts[-1] + 1 :]:
        if line and not line.startswith(" "):
            break
        text = line[1:]
        body.append("" if text.strip() == "." else text)
    return "\n".join(body).strip() + "\n"


def write_licences(out_dir: str) -> None:
    ofl = debian_license_stanza("/usr/share/doc/fonts-noto-core/copyright", "OFL-1.1")
    with open(os.path.join(out_dir, "LICENSE-OFL-1.1.txt"), "w", encoding="utf-8") as f:
        f.write(OFL_HEADER + ofl)
    with open("/usr/share/common-licenses/Apache-2.0", encoding="utf-8") as f:
        apache = f.read()
    with open(os.path.join(out_dir, "LICENSE-Apache-2.0.txt"), "w", encoding="utf-8") as f:
        f.write(APACHE_HEADER + apache)


# --------------------------------------------------------------------------


def run_subset(src: str, dst: str, unicodes_file: str, job: dict) -> list[str]:
    cmd = [sys.executable, "-m", "fontTools.subset", src, f"--output-file={dst}"]
    cmd.append(f"--unicodes-file={unicodes_file}")
    if "font_number" in job:
        cmd.append(f"--font-number={job['font_number']}")
    cmd += COMMON_OPTIONS
    if job["set"] == "latin":
        cmd += LATIN_OPTIONS
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)
    return cmd


def build(job: dict, out_dir: str, tools_dir: str, work_dir: str) -> None:
    unicodes_name, _, _ = CODEPOINT_SETS[job["set"]]
    unicodes_file = os.path.join(tools_dir, unicodes_name)
    tmp = os.path.join(work_dir, job["out"])
    run_subset(job["src"], tmp, unicodes_file, job)

    font = TTFont(tmp, recalcTimestamp=False)
    steps = [f"subset to the code points in fonts/tools/{unicodes_name}", "hinting removed"]
    pairs, notes = flatten_gpos_kern(font)
    dropped = [t for t in ("GPOS", "GSUB", "GDEF") if t in font]
    for t in dropped:
        del font[t]
    if pairs:
        found, kept, smallest = install_kern_table(font, pairs)
        steps.append("GPOS pair kerning flattened into a kern table")
        msg = f"kern: {found} non-zero pairs from GPOS, {kept} written"
        if kept < found:
            msg += f" (largest |value| kept; smallest kept |value| = {smallest})"
        print("  " + msg)
    if dropped:
        steps.append("/".join(dropped) + " removed")
    for n in notes:
        print("  note: " + n)

    original = os.path.basename(job["src"])
    if "font_number" in job:
        original += f" face {job['font_number']}"
    if "rename" in job:
        old_family = font["name"].getDebugName(1)
        rename(font, job["rename"]["family"], job["rename"]["postscript"])
        steps.append(f"renamed from {old_family}")
    set_name(
        font,
        10,
        f"Modified by the esl project from {original} (Debian package "
        f"{job['package']}): " + ", ".join(steps) + ". See fonts/README.md.",
    )
    dst = os.path.join(out_dir, job["out"])
    font.save(dst)
    print(f"  wrote {dst} ({os.path.getsize(dst)} bytes)")


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.dirname(here), help="output directory")
    parser.add_argument("--keep-work", help="keep intermediate subsets in this directory")
    args = parser.parse_args()

    for name, title, fn in CODEPOINT_SETS.values():
        write_unicodes_file(os.path.join(here, name), title, fn())

    missing = [j["src"] for j in SOURCES if not os.path.exists(j["src"])]
    if missing:
        sys.exit("missing source fonts (install the Debian packages): " + ", ".join(missing))

    write_licences(args.out)
    if args.keep_work:
        os.makedirs(args.keep_work, exist_ok=True)
        for job in SOURCES:
            build(job, args.out, here, args.keep_work)
    else:
        with tempfile.TemporaryDirectory() as work:
            for job in SOURCES:
                build(job, args.out, here, work)


if __name__ == "__main__":
    main()
