//! Pictures the legacy way, for image elements that set only `threshold`: fitting a decoded
//! image into a box, and mapping it to inks by plain threshold. Every other image element
//! goes through [`crate::quantise`].

use esl_model::Ink;
use image::RgbaImage;
use image::imageops::{self, FilterType};

use crate::raster::Rect;
use crate::template::Fit;

/// A picture resized for its box, composited on white, with its top-left canvas position.
pub(crate) struct Placed {
    x: i32,
    y: i32,
    rgb: image::RgbImage,
}

impl Placed {
    /// Every pixel with its canvas position.
    pub(crate) fn pixels(&self) -> impl Iterator<Item = (i32, i32, [u8; 3])> + '_ {
        self.rgb
            .enumerate_pixels()
            .map(move |(x, y, p)| (self.x + x as i32, self.y + y as i32, p.0))
    }
}

/// Resizes `src` into `bounds` (Lanczos3), aspect kept for contain and cover, centred.
pub(crate) fn fit(src: &RgbaImage, bounds: Rect, mode: Fit) -> Placed {
    let (bw, bh) = (bounds.width().max(1) as u32, bounds.height().max(1) as u32);
    let (w, h) = crate::quantise::fitted_size(src.dimensions(), bw, bh, mode);
    let resized = imageops::resize(src, w, h, FilterType::Lanczos3);
    let x = bounds.x0 + (bw as i32 - w as i32).div_euclid(2);
    let y = bounds.y0 + (bh as i32 - h as i32).div_euclid(2);
    let rgb = image::RgbImage::from_fn(w, h, |px, py| {
        let [r, g, b, a] = resized.get_pixel(px, py).0;
        let over = |c: u8| -> u8 {
            ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8
        };
        image::Rgb([over(r), over(g), over(b)])
    });
    Placed { x, y, rgb }
}

/// The ink for a colour by plain threshold: strongly red pixels become red where the
/// panel has red, otherwise pixels darker than `threshold` (Rec. 601 luma) become black.
pub(crate) fn threshold_ink(r: u8, g: u8, b: u8, threshold: u8, has_red: bool) -> Ink {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    if has_red && r >= 128 && r - g.max(b) >= 96 {
        return Ink::Red;
    }
    let luma = (299 * r + 587 * g + 114 * b) / 1000;
    if luma < i32::from(threshold) {
        Ink::Black
    } else {
        Ink::White
    }
}
