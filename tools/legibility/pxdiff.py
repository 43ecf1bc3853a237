#!/usr/bin/env python3
"""Pixel agreement of esl's hinted text with FreeType's, from the images legibility.py saves.

Usage: pxdiff.py DIR [--script chi_sim|eng]

DIR is the folder given to `legibility.py --save`. For each size, and summed over the names,
prints the inked pixels of esl hinted (renderer r0) and of FreeType hinted mono (r2), and how
many pixels differ between the two once FreeType's image is shifted (by at most 2 px each way)
to where it agrees best: glyph shapes, not line placement, are compared.
"""

import argparse
import glob
import itertools
import os
import re

from PIL import Image, ImageChops


def black(im):
    """The set of inked pixels of a 1-bit image."""
    w = im.width
    return {(i % w, i // w) for i, v in enumerate(im.get_flattened_data()) if v == 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--script", default="chi_sim", choices=["chi_sim", "eng"])
    args = ap.parse_args()
    pattern = re.compile(rf"{args.script}-(\d+)px-n(\d+)-r0\.png$")
    found = {}
    for path in glob.glob(os.path.join(args.dir, f"{args.script}-*-r0.png")):
        m = pattern.search(os.path.basename(path))
        if m:
            found.setdefault(int(m.group(1)), []).append(int(m.group(2)))
    print("size  names  ink esl  ink FreeType  differing")
    for size in sorted(found):
        ink_esl = ink_ft = differing = 0
        for n in sorted(found[size]):
            base = os.path.join(args.dir, f"{args.script}-{size}px-n{n}")
            esl = Image.open(f"{base}-r0.png").convert("1")
            ft = Image.open(f"{base}-r2.png").convert("1")
            a = black(esl)
            ink_esl += len(a)
            ink_ft += len(black(ft))
            differing += min(
                len(a ^ black(ImageChops.offset(ft, dx, dy)))
                for dx, dy in itertools.product(range(-2, 3), repeat=2)
            )
        print(f"{size:4}  {len(found[size]):5}  {ink_esl:7}  {ink_ft:12}  {differing:9}")


if __name__ == "__main__":
    main()
