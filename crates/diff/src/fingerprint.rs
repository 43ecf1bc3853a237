//! Image hashes, and the rendering environment's stamp.
//!
//! A label's identity is its scene's fingerprint ([`esl_render::Scene::fingerprint`]): the
//! SHA-256 of exactly what it draws, the engine's render version and the fonts it draws with.
//! Two labels with equal fingerprints show identical pixels, and a label whose fingerprint
//! equals the one of its last acknowledged image needs nothing. Products that differ only
//! where nothing is drawn (`"3.20"` for `"3.2"`, a field no element shows) have equal
//! fingerprints.
//!
//! The [`ImageHash`] of a rendered picture is kept beside it: a label re-rendered to the very
//! pixels it shows (a new fingerprint, the same picture) is settled without a push.

use std::fmt;

use esl_render::{PanelImage, Renderer};
use sha2::{Digest, Sha256};

/// The hash of a rendered picture: the first 16 bytes of the SHA-256 of the tag `img2`, the
/// model name (its length as `u32` little-endian, then its bytes), the width and height
/// (`u32` little-endian) and the palette indices of the pixels, row by row, packed four to a
/// byte: pixel `k` of the picture in bits `2 (k mod 4)` and up of byte `k / 4` (palettes
/// have at most three inks, so two bits hold an index). Equal hashes mean pixel-identical
/// pictures.
///
/// Version 1 (before the tag) hashed one byte per pixel; an acknowledged hash of version 1
/// never equals a version-2 hash, so a label whose scene changes but whose pixels do not is
/// pushed once more after the upgrade, and settled by its fingerprint from then on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageHash(pub [u8; 16]);

fn hex(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! hash_type {
    ($t:ident) => {
        impl $t {
            /// From the 16 bytes stored in the registry; `None` for another length.
            #[must_use]
            pub fn from_slice(bytes: &[u8]) -> Option<$t> {
                bytes.try_into().ok().map($t)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                hex(&self.0, f)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($t))?;
                hex(&self.0, f)?;
                write!(f, ")")
            }
        }
    };
}
hash_type!(ImageHash);

fn first16(digest: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn put_str(h: &mut Sha256, s: &str) {
    // Lengths above 4 GiB cannot occur for field names or values held in memory as JSON
    // products; saturating keeps the encoding total anyway.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    h.update(len.to_le_bytes());
    h.update(s.as_bytes());
}

/// What a fingerprint takes from the rendering environment: the engine's render version and
/// the font book's fingerprint. The registry stores the stamp it last saw; when it changes,
/// every label is checked again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// [`esl_render::RENDER_VERSION`].
    pub render_version: u32,
    /// [`esl_render::FontBook::fingerprint`].
    pub fonts: u64,
}

impl Stamp {
    /// The stamp of a renderer: this engine's render version and the renderer's fonts.
    #[must_use]
    pub fn of(renderer: &Renderer) -> Stamp {
        Stamp {
            render_version: esl_render::RENDER_VERSION,
            fonts: renderer.fonts().fingerprint(),
        }
    }
}

/// Eight palette indices (bytes of `x`, little-endian, each below 4) packed into 16 bits,
/// index `k` at bits `2k`.
fn pack8(x: u64) -> u16 {
    let x = x & 0x0303_0303_0303_0303;
    let x = (x | (x >> 6)) & 0x000F_000F_000F_000F;
    let x = (x | (x >> 12)) & 0x0000_00FF_0000_00FF;
    // The mask leaves 16 bits.
    ((x | (x >> 24)) & 0xFFFF) as u16
}

/// Palette indices (each below 4) packed four to a byte, index `k` at bits `2 (k mod 4)` of
/// byte `k / 4`, handed to `out` in blocks (on the stack: no allocation).
fn packed(indices: &[u8], mut out: impl FnMut(&[u8])) {
    let mut block = [0u8; 4096];
    let mut used = 0;
    let mut words = indices.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        block[used..used + 2].copy_from_slice(&pack8(u64::from_le_bytes(b)).to_le_bytes());
        used += 2;
        if used == block.len() {
            out(&block);
            used = 0;
        }
    }
    // The last 0–7 indices: up to two more bytes.
    let rest = words.remainder();
    for (k, &i) in rest.iter().enumerate() {
        if k % 4 == 0 {
            block[used] = 0;
            used += 1;
        }
        block[used - 1] |= (i & 3) << (2 * (k % 4));
    }
    out(&block[..used]);
}

/// The [`ImageHash`] of a rendered picture.
#[must_use]
pub fn image_hash(image: &PanelImage) -> ImageHash {
    let mut h = Sha256::new();
    h.update(b"img2");
    put_str(&mut h, image.model().name());
    h.update(image.width().to_le_bytes());
    h.update(image.height().to_le_bytes());
    packed(image.indices(), |bytes| h.update(bytes));
    ImageHash(first16(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use esl_model::Model;

    #[test]
    fn image_hashes_tell_pixels_apart() {
        let (w, h) = Model::Sl121.size();
        let white = PanelImage::from_indices(Model::Sl121, vec![0; (w * h) as usize]);
        let mut dot = vec![0; (w * h) as usize];
        dot[7] = 1;
        let dot = PanelImage::from_indices(Model::Sl121, dot);
        let (Some(white), Some(dot)) = (white, dot) else {
            panic!("valid panels")
        };
        assert_eq!(image_hash(&white), image_hash(&white.clone()));
        assert_ne!(image_hash(&white), image_hash(&dot));
        // Pinned: a change of the encoding would make every stored hash stale (labels whose
        // scene changes would be pushed once more even where their pixels did not).
        // The values were checked against an independent implementation of the encoding
        // (Python hashlib over the bytes the docs list, packed bit by bit).
        assert_eq!(
            image_hash(&white).to_string(),
            "826c5ea0081a8af119800f9d8393e8be"
        );
        assert_eq!(
            image_hash(&dot).to_string(),
            "1afbe94637845d4c0bc6ff45085e6ab7"
        );
    }

    #[test]
    fn word_packing_matches_bit_by_bit() {
        for len in [
            0usize, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 16_383, 16_384, 16_390, 22_048,
        ] {
            let indices: Vec<u8> = (0..len).map(|k| ((k * 7 + k / 5) % 3) as u8).collect();
            let mut slow = vec![0u8; len.div_ceil(4)];
            for (k, &i) in indices.iter().enumerate() {
                slow[k / 4] |= i << (2 * (k % 4));
            }
            let mut fast = Vec::new();
            packed(&indices, |b| fast.extend_from_slice(b));
            assert_eq!(fast, slow, "{len} indices");
        }
    }
}
