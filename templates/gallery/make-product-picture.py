#!/usr/bin/env python3
"""Writes product.png (120x160 RGBA), the picture of picture-4.2.json: a stylised tin of tea
(a green cylinder with shading, a red label band with a white leaf, a soft shadow).
No dependencies beyond Python 3. Run from this folder: python3 make-product-picture.py
"""
import math, struct, zlib

W, H = 120, 160

def png(path, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", W, H, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

rows = []
for y in range(H):
    row = []
    for x in range(W):
        r, g, b, a = 0, 0, 0, 0
        # Shadow under the tin.
        d = ((x - 62) / 48) ** 2 + ((y - 150) / 7) ** 2
        if d < 1:
            r, g, b, a = 60, 60, 60, int(120 * (1 - d))
        # The tin: x in 18..102, y in 14..148, elliptic top.
        if 18 <= x <= 102 and 14 <= y <= 148:
            t = (x - 18) / 84.0
            shade = 0.55 + 0.45 * math.sin(math.pi * t)
            r, g, b, a = int(30 * shade), int(140 * shade), int(70 * shade), 255
            if 60 <= y <= 110:  # label band
                r, g, b = int(200 * shade), int(20 * shade), int(30 * shade)
                # a white leaf
                lx, ly = (x - 60) / 18.0, (y - 85) / 12.0
                if lx * lx + ly * ly < 1 and abs(ly - lx * 0.3) < 0.8:
                    r, g, b = 245, 245, 240
        if 18 <= x <= 102 and 6 <= y < 22:
            e = ((x - 60) / 42.0) ** 2 + ((y - 14) / 8.0) ** 2
            if e <= 1:
                r, g, b, a = 90, 190, 120, 255
        row += [r, g, b, a]
    rows.append(row)
png("product.png", rows)
