//! Label fingerprints and image hashes.
//!
//! # The fingerprint of a label
//!
//! A label's picture is a pure function of its template, its model, the values of the product
//! fields the template reads, the fonts, and the engine (esl-render is deterministic). The
//! fingerprint hashes exactly these, so two labels with equal fingerprints show identical
//! pixels, and a label whose fingerprint equals the one of its last acknowledged image needs
//! nothing. It is the first 16 bytes of the SHA-256 of this byte string (integers
//! little-endian, `str(x)` = the length of `x` in bytes as a `u32`, then its UTF-8 bytes):
//!
//! | part | bytes |
//! |---|---|
//! | domain tag | `str("esl-diff label fingerprint v1")` |
//! | engine | [`esl_render::RENDER_VERSION`] as `u32` |
//! | fonts | [`esl_render::FontBook::fingerprint`] as `u64` (names, bytes and fallback chain) |
//! | template | [`esl_render::Template::content_hash`] as `u64` (FNV-1a of its JSON file) |
//! | model | `str(model name)`, e.g. `str("SL126+")` |
//! | fields | the count of [`esl_render::Template::fields_read`] as `u32`, then for each field in sorted order: `str(name)`, then `0x00` if the product lacks it (absent or `null`), or `0x01` and `str(compact JSON of the value)` |
//!
//! The shop, the ESL id and the product's other fields are not part of it: changing a field
//! that no template reads changes no fingerprint. A price given as `"3.20"` instead of
//! `"3.2"` does change it (the JSON differs); such a label is re-rendered, found
//! pixel-identical ([`ImageHash`]) and not pushed again.
//!
//! Why SHA-256 rather than a 64-bit hash: a collision would leave a wrong price on a shelf
//! silently; 128 bits of SHA-256 make that impossible in practice, and hashing costs about a
//! microsecond per label, only for labels the plan looks at.

use std::fmt;

use esl_model::{Model, Product};
use esl_render::{PanelImage, Renderer};
use sha2::{Digest, Sha256};

/// A label fingerprint: 16 bytes, shown as 32 hex digits. See the [module docs](self).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 16]);

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
hash_type!(Fingerprint);
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

/// The fingerprint of a label: `template_hash` and `fields` are the template's
/// [`content_hash`](esl_render::Template::content_hash) and sorted
/// [`fields_read`](esl_render::Template::fields_read).
///
/// ```
/// use esl_diff::{Fingerprint, Stamp, fingerprint::fingerprint};
/// use esl_model::{Model, Product};
/// let stamp = Stamp { render_version: 1, fonts: 7 };
/// let fields = ["name".to_owned(), "price".to_owned()];
/// let a = Product::new().with("name", "Tea").with("price", "3.2");
/// let b = a.clone().with("seq_num", "X-1"); // a field the template does not read
/// let c = a.clone().with("price", "3.5");
/// let fp = |p: &Product| fingerprint(stamp, 42, &fields, Model::Sl121, p);
/// assert_eq!(fp(&a), fp(&b));
/// assert_ne!(fp(&a), fp(&c));
/// ```
#[must_use]
pub fn fingerprint(
    stamp: Stamp,
    template_hash: u64,
    fields: &[String],
    model: Model,
    product: &Product,
) -> Fingerprint {
    let mut h = Sha256::new();
    put_str(&mut h, "esl-diff label fingerprint v1");
    h.update(stamp.render_version.to_le_bytes());
    h.update(stamp.fonts.to_le_bytes());
    h.update(template_hash.to_le_bytes());
    put_str(&mut h, model.name());
    h.update(
        u32::try_from(fields.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    for field in fields {
        put_str(&mut h, field);
        match product.get(field) {
            None => h.update([0u8]),
            Some(value) => {
                h.update([1u8]);
                put_str(&mut h, &value.to_string());
            }
        }
    }
    Fingerprint(first16(&h.finalize()))
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

    #[test]
    #[allow(clippy::unwrap_used)]
    fn stable_across_builds() {
        // Pinned (checked against an independent implementation of the encoding in the module
        // docs): a change of this value means stored fingerprints no longer match and every
        // label would be re-rendered once. Change it only together with the format version.
        let stamp = Stamp {
            render_version: 1,
            fonts: 0x0123_4567_89ab_cdef,
        };
        let p = Product::from_json(br#"{"name": "Tea", "price": "3.2", "spec": null}"#).unwrap();
        let fields = ["name", "price", "spec"].map(String::from);
        let fp = fingerprint(stamp, 99, &fields, Model::Sl126Plus, &p);
        assert_eq!(fp.to_string(), "8d65dea4d4a8a3265a90922dcf8fb8d8");
        let again = fingerprint(stamp, 99, &fields, Model::Sl126Plus, &p.clone());
        assert_eq!(fp, again);
        // null and absent are the same; the model matters.
        let q = Product::from_json(br#"{"name": "Tea", "price": "3.2"}"#).unwrap();
        assert_eq!(fp, fingerprint(stamp, 99, &fields, Model::Sl126Plus, &q));
        assert_ne!(fp, fingerprint(stamp, 99, &fields, Model::Sl126, &q));
        assert_ne!(fp, fingerprint(stamp, 98, &fields, Model::Sl126Plus, &q));
    }
}
