//! Pictures: decoded once when a template loads, prepared (fitted to their box and quantised
//! to a palette) once per box, palette and options when first needed, then shared by every
//! label and thread.

use std::fmt;
use std::sync::{Arc, Mutex};

use esl_model::{Ink, Palette};
use image::RgbaImage;
use sha2::{Digest, Sha256};

use crate::quantise;
use crate::raster::Rect;
use crate::template::Fit;

/// How many prepared forms one picture keeps. A version-1 template needs one per palette
/// (its boxes are fixed); the bound only keeps a pathological caller from growing it.
const MAX_PREPARED_PER_PICTURE: usize = 16;

/// The identity of a prepared picture: the SHA-256 of its decoded source pixels and
/// everything its preparation depends on (the box size, the visible part of the box, the
/// fit, the palette and every quantiser option). Two prepared pictures with the same id are
/// the same pixels.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PictureId(pub [u8; 32]);

impl fmt::Display for PictureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PictureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PictureId({self})")
    }
}

impl serde::Serialize for PictureId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A picture ready to draw: palette indices for a `width × height` area, row by row, with
/// [`Prepared::SKIP`] where the picture leaves the label as it is (transparent pixels and
/// the margins of `contain`).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub id: PictureId,
    pub width: u32,
    pub height: u32,
    pub inks: Vec<u8>,
}

impl Prepared {
    /// The index of a pixel that is not drawn.
    pub const SKIP: u8 = u8::MAX;
}

/// What a prepared form is made for: the box size, the visible part of the box, the
/// palette and the quantiser options (in their `Debug` form, which names every field, so a
/// new option can never be left out of the key or the identity).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    box_size: (u32, u32),
    area: (u32, u32, u32, u32),
    inks: usize,
    fit: Fit,
    options: String,
}

/// A decoded picture of an image element, with its prepared forms.
#[derive(Debug)]
pub(crate) struct Source {
    pixels: RgbaImage,
    /// SHA-256 of the width, height and RGBA bytes.
    hash: [u8; 32],
    prepared: Mutex<Vec<(Key, Arc<Prepared>)>>,
}

impl Source {
    pub(crate) fn new(pixels: RgbaImage) -> Source {
        let mut h = Sha256::new();
        h.update(b"esl-render picture pixels v1");
        h.update(pixels.width().to_le_bytes());
        h.update(pixels.height().to_le_bytes());
        h.update(pixels.as_raw());
        Source {
            pixels,
            hash: h.finalize().into(),
            prepared: Mutex::new(Vec::new()),
        }
    }

    /// Width and height of the decoded picture.
    pub(crate) fn dimensions(&self) -> (u32, u32) {
        self.pixels.dimensions()
    }

    /// SHA-256 of the decoded picture (width, height, RGBA bytes).
    pub(crate) fn pixel_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The picture fitted to a `bw × bh` box and quantised to `palette` over `area` (box
    /// pixels, the visible part of the box), made on first use and shared after.
    ///
    /// The whole visible part is dithered as one picture; only pixels at least half opaque
    /// are drawn (white too).
    pub(crate) fn prepare(
        &self,
        bw: u32,
        bh: u32,
        area: Rect,
        fit: Fit,
        palette: Palette,
        opts: &quantise::Options,
    ) -> Arc<Prepared> {
        let key = Key {
            box_size: (bw, bh),
            area: (
                area.x0.max(0) as u32,
                area.y0.max(0) as u32,
                area.x1.max(0) as u32,
                area.y1.max(0) as u32,
            ),
            inks: palette.inks().len(),
            fit,
            options: format!("{opts:?}"),
        };
        // A poisoned lock only means another thread panicked while holding it; the list
        // itself is always consistent (entries are pushed whole), so go on with it.
        if let Some(hit) = self
            .prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(k, _)| *k == key)
        {
            return Arc::clone(&hit.1);
        }
        let made = Arc::new(self.make(&key, palette, opts));
        let mut list = self
            .prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(hit) = list.iter().find(|(k, _)| *k == key) {
            // Another thread made it meanwhile: use one copy everywhere.
            return Arc::clone(&hit.1);
        }
        if list.len() < MAX_PREPARED_PER_PICTURE {
            list.push((key, Arc::clone(&made)));
        }
        made
    }

    fn make(&self, key: &Key, palette: Palette, opts: &quantise::Options) -> Prepared {
        let mut h = Sha256::new();
        h.update(b"esl-render prepared picture v1");
        h.update(self.hash);
        h.update(format!("{key:?}").as_bytes());
        let id = PictureId(h.finalize().into());
        let (bw, bh) = key.box_size;
        let fitted = quantise::resize_region(&self.pixels, bw, bh, key.fit, key.area);
        let inks = quantise::quantise(&fitted, palette, opts);
        let inks = fitted
            .pixels()
            .zip(inks)
            .map(|(px, ink)| {
                if px[3] >= 128 && Ink::from_index(ink).is_some() {
                    ink
                } else {
                    Prepared::SKIP
                }
            })
            .collect();
        Prepared {
            id,
            width: fitted.width(),
            height: fitted.height(),
            inks,
        }
    }
}
