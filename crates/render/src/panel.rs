//! The rendered label and its encodings.

use esl_model::{Ink, Model, Palette};

use crate::limits::MAX_SCALE;
use crate::pngenc::{self, PngOptions};

/// A rendered label: exactly the model's size, one ink per pixel.
///
/// `pixels` holds palette indices (0 white, 1 black, 2 red; see [`Ink`]), row by row. Every
/// index is one of the model's inks: red never appears on a black/white model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PanelImage {
    model: Model,
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

/// A label that cannot be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A preview scale above [`MAX_SCALE`].
    #[error("scale {scale} is too large: at most {MAX_SCALE}")]
    Scale {
        /// The scale asked for.
        scale: u32,
    },
}

/// The scale of a preview: 0 counts as 1, above [`MAX_SCALE`] is an error.
fn checked_scale(scale: u32) -> Result<u32, EncodeError> {
    if scale > MAX_SCALE {
        return Err(EncodeError::Scale { scale });
    }
    Ok(scale.max(1))
}

impl PanelImage {
    pub(crate) fn new(model: Model, width: u32, height: u32, pixels: Vec<u8>) -> PanelImage {
        PanelImage {
            model,
            width,
            height,
            pixels,
        }
    }

    /// A label of `model` from palette indices, row by row (for instance from
    /// [`quantise`](crate::quantise::quantise) of a picture of the model's size).
    ///
    /// `None` unless there is exactly one index per pixel of the model and every index is
    /// one of the model's inks (no red on a black/white model).
    ///
    /// ```
    /// use esl_model::Model;
    /// use esl_render::PanelImage;
    ///
    /// let (w, h) = Model::Sl121.size();
    /// let label = PanelImage::from_indices(Model::Sl121, vec![2; (w * h) as usize]);
    /// assert_eq!(label.map(|l| l.ink_counts()), Some([0, 0, (w * h) as usize]));
    /// assert!(PanelImage::from_indices(Model::Sl126Plus, vec![2; 296 * 152]).is_none());
    /// ```
    #[must_use]
    pub fn from_indices(model: Model, indices: Vec<u8>) -> Option<PanelImage> {
        let (width, height) = model.size();
        let inks = model.palette().inks().len();
        let fits = indices.len() == width as usize * height as usize
            && indices.iter().all(|&i| usize::from(i) < inks);
        fits.then(|| PanelImage::new(model, width, height, indices))
    }

    /// The model it was rendered for.
    #[must_use]
    pub fn model(&self) -> Model {
        self.model
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The model's palette.
    #[must_use]
    pub fn palette(&self) -> Palette {
        self.model.palette()
    }

    /// Palette indices, row by row.
    #[must_use]
    pub fn indices(&self) -> &[u8] {
        &self.pixels
    }

    /// The ink at `(x, y)`; `None` outside the image.
    #[must_use]
    pub fn ink(&self, x: u32, y: u32) -> Option<Ink> {
        if x >= self.width || y >= self.height {
            return None;
        }
        Ink::from_index(self.pixels[(y * self.width + x) as usize])
    }

    /// How many pixels show each ink: `[white, black, red]`.
    #[must_use]
    pub fn ink_counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for &p in &self.pixels {
            c[usize::from(p.min(2))] += 1;
        }
        c
    }

    /// RGB bytes, 3 per pixel, row by row.
    #[must_use]
    pub fn to_rgb(&self) -> Vec<u8> {
        self.pixels
            .iter()
            .flat_map(|&i| Ink::from_index(i).unwrap_or(Ink::White).rgb())
            .collect()
    }

    /// An RGB image, scaled up `scale` times with nearest-neighbour (a preview for
    /// people; a scale of 0 counts as 1).
    ///
    /// # Errors
    /// [`EncodeError::Scale`] for a scale above [`MAX_SCALE`].
    pub fn to_rgb_image(&self, scale: u32) -> Result<image::RgbImage, EncodeError> {
        let s = checked_scale(scale)?;
        let rgb = image::RgbImage::from_raw(self.width, self.height, self.to_rgb())
            .unwrap_or_else(|| image::RgbImage::new(self.width, self.height));
        if s == 1 {
            return Ok(rgb);
        }
        Ok(image::imageops::resize(
            &rgb,
            self.width * s,
            self.height * s,
            image::imageops::FilterType::Nearest,
        ))
    }

    /// An indexed PNG of the label: 1 bit per pixel on black/white models, 2 bits on
    /// black/white/red, with the palette white, black(, red). Small, and exactly what the
    /// platform accepts. `scale` > 1 makes a nearest-neighbour preview. The same as
    /// [`PanelImage::to_png_with`] with the default [`PngOptions`].
    ///
    /// # Errors
    /// [`EncodeError::Scale`] for a scale above [`MAX_SCALE`].
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, EncodeError> {
        self.to_png_with(scale, PngOptions::default())
    }

    /// [`PanelImage::to_png`] with a choice of compressor and row filter (the pixels are the
    /// same whatever the options; only size and time differ).
    ///
    /// # Errors
    /// [`EncodeError::Scale`] for a scale above [`MAX_SCALE`].
    pub fn to_png_with(&self, scale: u32, options: PngOptions) -> Result<Vec<u8>, EncodeError> {
        let s = checked_scale(scale)? as usize;
        let (w, h) = (self.width as usize * s, self.height as usize * s);
        let inks = self.palette().inks();
        let depth: usize = if inks.len() <= 2 { 1 } else { 2 };
        let rgb: Vec<u8> = inks.iter().flat_map(|i| i.rgb()).collect();
        let src_w = self.width as usize;
        Ok(pngenc::encode(w, h, depth, &rgb, options, |y, line| {
            let src = &self.pixels[(y / s) * src_w..(y / s + 1) * src_w];
            if s == 1 {
                line.copy_from_slice(src);
            } else {
                for (x, v) in line.iter_mut().enumerate() {
                    *v = src[x / s];
                }
            }
        }))
    }

    /// One packed 1-bit plane per ink other than white (black, then red on BWR models),
    /// rows padded to whole bytes, most significant bit first; a set bit means the pixel
    /// shows that ink. This is the layout e-paper controllers take.
    #[must_use]
    pub fn bit_planes(&self) -> Vec<Vec<u8>> {
        let row_bytes = (self.width as usize).div_ceil(8);
        self.palette()
            .inks()
            .iter()
            .filter(|&&i| i != Ink::White)
            .map(|&ink| {
                let mut plane = vec![0u8; row_bytes * self.height as usize];
                for (i, &p) in self.pixels.iter().enumerate() {
                    if p == ink as u8 {
                        let (x, y) = (i % self.width as usize, i / self.width as usize);
                        plane[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
                    }
                }
                plane
            })
            .collect()
    }
}
