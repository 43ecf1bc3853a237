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

/// The hash of a rendered picture: the first 16 bytes of the SHA-256 of the model name, the
/// width and height (`u32` little-endian) and the palette index of every pixel, row by row.
/// Equal hashes mean pixel-identical pictures.
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

/// The [`ImageHash`] of a rendered picture.
#[must_use]
pub fn image_hash(image: &PanelImage) -> ImageHash {
    let mut h = Sha256::new();
    put_str(&mut h, image.model().name());
    h.update(image.width().to_le_bytes());
    h.update(image.height().to_le_bytes());
    h.update(image.indices());
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
        // Pinned: a change of the encoding would make every stored hash stale (every label
        // would be pushed once more).
        // The value was checked against an independent implementation of the encoding (Python
        // hashlib over the bytes the docs list).
        assert_eq!(
            image_hash(&white).to_string(),
            "14e4fe5dbeaa02519013705c6ee54be5"
        );
    }
}
