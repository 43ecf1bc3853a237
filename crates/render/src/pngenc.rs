//! A minimal indexed-PNG writer for labels: IHDR, PLTE, IDAT, IEND, 1 or 2 bits per pixel.
//!
//! What it does instead of a general encoder:
//! * rows are packed eight (1 bit) or four (2 bits) pixels at a time with one multiplication;
//! * the filter (none or up) is chosen per image, by which leaves fewer non-zero bytes;
//! * the deflate state is kept per thread and reused between images, so no image pays for
//!   allocating it;
//! * the default compressor is libdeflate at level 4 (the figures are in
//!   `benches/README.md`); miniz_oxide and fdeflate are options.

use std::cell::RefCell;

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output, create_comp_flags_from_zip_params,
};

/// How the pixel data of a PNG is compressed (see [`PngOptions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PngCompression {
    /// libdeflate at this level (1 fastest … 12 smallest), its state reused per thread.
    Libdeflate(u8),
    /// miniz_oxide at this level (1 fastest … 9 smallest), its state reused per thread.
    Miniz(u8),
    /// fdeflate: very fast, larger files.
    Fdeflate,
}

/// The row filter of a PNG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PngFilter {
    /// No filter on any row.
    None,
    /// "Up" on every row but the first.
    Up,
    /// Per image: none or up, whichever leaves fewer non-zero bytes.
    Auto,
}

/// Options of [`PanelImage::to_png_with`](crate::PanelImage::to_png_with). The default is
/// what [`PanelImage::to_png`](crate::PanelImage::to_png) uses: the trade-off measured in
/// `benches/README.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PngOptions {
    /// The compressor.
    pub compression: PngCompression,
    /// The row filter.
    pub filter: PngFilter,
}

impl Default for PngOptions {
    fn default() -> PngOptions {
        PngOptions {
            compression: PngCompression::Libdeflate(DEFAULT_LEVEL),
            filter: PngFilter::None,
        }
    }
}

// libdeflate level 4: on the throughput set 4.4% more bytes than miniz (= the png crate) at
// level 6, 0.3% fewer than miniz at level 4, in half the time of either (benches/README.md,
// `png_choice`).
const DEFAULT_LEVEL: u8 = 4;

/// Packs a row of palette indices at `depth` bits per pixel (1 or 2), most significant
/// first, into `out` (`len.div_ceil(8 / depth)` bytes). Indices must fit `depth` bits.
pub(crate) fn pack_row(row: &[u8], depth: usize, out: &mut [u8]) {
    if depth == 1 {
        let mut chunks = row.chunks_exact(8);
        for (o, c) in out.iter_mut().zip(&mut chunks) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            // Byte i (0 or 1) of the little-endian word lands on bit 7 - i of the top
            // byte; the partial products never overlap, so nothing carries.
            let x = u64::from_le_bytes(b) & 0x0101_0101_0101_0101;
            *o = (x.wrapping_mul(0x8040_2010_0804_0201) >> 56) as u8;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut v = 0u8;
            for (i, &p) in rest.iter().enumerate() {
                v |= (p & 1) << (7 - i);
            }
            out[row.len() / 8] = v;
        }
    } else {
        let mut chunks = row.chunks_exact(4);
        for (o, c) in out.iter_mut().zip(&mut chunks) {
            let mut b = [0u8; 4];
            b.copy_from_slice(c);
            // Byte i (2 bits) moves to bits 30 - 2i: shifts 30, 20, 10, 0; the other
            // partial products fall in disjoint bit pairs outside bits 24..32.
            let x = u32::from_le_bytes(b) & 0x0303_0303;
            *o = (x.wrapping_mul((1 << 30) | (1 << 20) | (1 << 10) | 1) >> 24) as u8;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut v = 0u8;
            for (i, &p) in rest.iter().enumerate() {
                v |= (p & 3) << (6 - 2 * i);
            }
            out[row.len() / 4] = v;
        }
    }
}

/// The CRC-32 of the PNG specification.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunks here are at most a few hundred kilobytes (MAX_SCALE bounds previews).
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

thread_local! {
    /// One deflate state per thread and level, reset between images.
    static MINIZ: RefCell<Option<(u8, Box<CompressorOxide>)>> = const { RefCell::new(None) };
}

thread_local! {
    /// One libdeflate compressor per thread and level.
    static LIBDEFLATE: RefCell<Option<(u8, libdeflater::Compressor)>> = const { RefCell::new(None) };
}

/// zlib-compresses `data` with libdeflate at `level` (1–12), appending to `out`.
fn libdeflate(data: &[u8], level: u8, out: &mut Vec<u8>) {
    LIBDEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match slot.as_mut() {
            Some((l, c)) if *l == level => c,
            _ => {
                // Levels 1–12 are all valid; the caller clamps to that range.
                let lvl = libdeflater::CompressionLvl::new(i32::from(level))
                    .unwrap_or_else(|_| libdeflater::CompressionLvl::default());
                &mut slot.insert((level, libdeflater::Compressor::new(lvl))).1
            }
        };
        let start = out.len();
        out.resize(start + c.zlib_compress_bound(data.len()), 0);
        // The output has room for the bound libdeflate gives, so compression cannot run out
        // of space; should it fail anyway, miniz writes the stream instead.
        match c.zlib_compress(data, &mut out[start..]) {
            Ok(n) => out.truncate(start + n),
            Err(_) => {
                out.truncate(start);
                miniz(data, 6, out);
            }
        }
    });
}

/// zlib-compresses `data` with miniz_oxide at `level`, appending to `out`.
fn miniz(data: &[u8], level: u8, out: &mut Vec<u8>) {
    MINIZ.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match slot.as_mut() {
            Some((l, d)) if *l == level => {
                d.reset();
                d
            }
            _ => {
                let flags = create_comp_flags_from_zip_params(i32::from(level), 15, 0);
                &mut slot
                    .insert((level, Box::new(CompressorOxide::new(flags))))
                    .1
            }
        };
        let (status, _) = compress_to_output(d, data, TDEFLFlush::Finish, |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        // With the whole input and `Finish`, and a callback that takes everything, the
        // compressor completes in one call.
        debug_assert_eq!(status, TDEFLStatus::Done);
    });
}

/// An indexed PNG of `width × height` pixels, `depth` bits each (1 or 2), rows of palette
/// indices given by `row(y, buf)` (which fills `buf` with `width` indices), palette `rgb`.
pub(crate) fn encode(
    width: usize,
    height: usize,
    depth: usize,
    rgb: &[u8],
    opts: PngOptions,
    mut row: impl FnMut(usize, &mut [u8]),
) -> Vec<u8> {
    let row_bytes = width.div_ceil(8 / depth);
    let stride = row_bytes + 1;
    let mut raw = vec![0u8; stride * height];
    let mut line = vec![0u8; width];
    for y in 0..height {
        row(y, &mut line);
        pack_row(&line, depth, &mut raw[y * stride + 1..(y + 1) * stride]);
    }
    let up = match opts.filter {
        PngFilter::None => false,
        PngFilter::Up => true,
        PngFilter::Auto => {
            let plain = raw.iter().filter(|&&b| b != 0).count();
            let mut diff = raw[1..stride].iter().filter(|&&b| b != 0).count();
            for y in 1..height {
                let (prev, cur) = (&raw[(y - 1) * stride..y * stride], &raw[y * stride..]);
                diff += (1..stride).filter(|&i| cur[i] != prev[i]).count();
            }
            diff < plain
        }
    };
    if up {
        for y in (1..height).rev() {
            let (above, cur) = raw.split_at_mut(y * stride);
            let prev = &above[(y - 1) * stride..];
            cur[0] = 2;
            for i in 1..stride {
                cur[i] = cur[i].wrapping_sub(prev[i]);
            }
        }
    }
    let mut out = Vec::with_capacity(raw.len() / 8 + 128);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = [0u8; 13];
    ihdr[0..4].copy_from_slice(&(width as u32).to_be_bytes());
    ihdr[4..8].copy_from_slice(&(height as u32).to_be_bytes());
    ihdr[8] = depth as u8;
    ihdr[9] = 3; // indexed colour; compression, filter method, interlace all 0
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", rgb);
    // IDAT: length placeholder, then the zlib stream straight into `out`.
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IDAT");
    match opts.compression {
        PngCompression::Libdeflate(level) => libdeflate(&raw, level.clamp(1, 12), &mut out),
        PngCompression::Miniz(level) => miniz(&raw, level.clamp(1, 9), &mut out),
        PngCompression::Fdeflate => out.extend_from_slice(&fdeflate::compress_to_vec(&raw)),
    }
    let len = out.len() - at - 8;
    out[at..at + 4].copy_from_slice(&(len as u32).to_be_bytes());
    let crc = crc32(&[&out[at + 4..]]);
    out.extend_from_slice(&crc.to_be_bytes());
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow_pack(row: &[u8], depth: usize) -> Vec<u8> {
        let per = 8 / depth;
        let mut out = vec![0u8; row.len().div_ceil(per)];
        for (x, &v) in row.iter().enumerate() {
            out[x / per] |= v << (8 - depth * (x % per + 1));
        }
        out
    }

    #[test]
    fn word_packing_matches_bit_by_bit() {
        for len in [1usize, 3, 7, 8, 9, 15, 16, 17, 212, 296, 301, 400] {
            for depth in [1usize, 2] {
                let max = if depth == 1 { 2 } else { 3 };
                let row: Vec<u8> = (0..len).map(|i| ((i * 7 + i / 3) % max) as u8).collect();
                let mut fast = vec![0u8; len.div_ceil(8 / depth)];
                pack_row(&row, depth, &mut fast);
                assert_eq!(fast, slow_pack(&row, depth), "len {len}, depth {depth}");
            }
        }
    }

    #[test]
    fn crc_of_iend_is_the_known_constant() {
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }
}
