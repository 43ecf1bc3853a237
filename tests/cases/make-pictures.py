#!/usr/bin/env python3
"""Writes the pictures of the feature golden cases (no dependencies beyond Python 3):

* logo.png  - 48x48 RGBA: a flat brand-red disc RGB(200, 20, 30) with a soft edge, dark grey
              bars, a transparent background;
* photo.png - 64x48 RGB: smooth colour gradients with a bright blob (a photo-like scene).

Run from this folder: python3 make-pictures.py
"""
import math, struct, zlib

def png(path, w, h, rows, alpha):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

rows = []
for y in range(48):
    row = []
    for x in range(48):
        d = math.hypot(x - 23.5, y - 23.5)
        a = max(0.0, min(1.0, 20.5 - d))  # one-pixel soft edge
        r, g, b = 200, 20, 30
        if 17 <= y <= 30 and (10 <= x <= 14 or 21 <= x <= 26 or 33 <= x <= 37):
            r, g, b = 40, 40, 44
        row += [r, g, b, int(round(a * 255))]
    rows.append(row)
png("logo.png", 48, 48, rows, True)

rows = []
for y in range(48):
    row = []
    for x in range(64):
        blob = math.exp(-((x - 44) ** 2 + (y - 14) ** 2) / 90.0)
        r = 40 + 150 * x / 63 + 60 * blob
        g = 60 + 120 * y / 47 + 60 * blob
        b = 180 - 120 * x / 63 + 40 * blob
        row += [int(max(0, min(255, v))) for v in (r, g, b)]
    rows.append(row)
png("photo.png", 64, 48, rows, False)
