//! Fitting a picture to a box: Catmull-Rom resampling in linear, premultiplied light.

use std::collections::VecDeque;

use image::RgbaImage;

use super::color;
use crate::template::Fit;

/// The size a `(sw, sh)` picture is scaled to for a `bw × bh` box: the box itself for
/// [`Fit::Stretch`]; for [`Fit::Contain`] and [`Fit::Cover`] the aspect ratio is kept
/// and the picture fits inside the box or covers it (one side equal to the box's).
#[must_use]
pub fn fitted_size(source: (u32, u32), bw: u32, bh: u32, fit: Fit) -> (u32, u32) {
    let (bw, bh) = (bw.max(1), bh.max(1));
    let (sw, sh) = (source.0.max(1), source.1.max(1));
    match fit {
        Fit::Stretch => (bw, bh),
        Fit::Contain | Fit::Cover => {
            // Compare bw/sw with bh/sh exactly, in integers.
            let width_limited = u64::from(bw) * u64::from(sh) <= u64::from(bh) * u64::from(sw);
            let use_width = if fit == Fit::Contain {
                width_limited
            } else {
                !width_limited
            };
            let scaled = |a: u32, num: u32, den: u32| -> u32 {
                let v = (u64::from(a) * u64::from(num) + u64::from(den) / 2) / u64::from(den);
                u32::try_from(v.max(1)).unwrap_or(u32::MAX)
            };
            if use_width {
                (bw, scaled(sh, bw, sw))
            } else {
                (scaled(sw, bh, sh), bh)
            }
        }
    }
}

/// Resizes `src` for a `width × height` box and returns exactly `width × height` pixels:
/// the picture scaled by [`fitted_size`] and centred; with [`Fit::Cover`] the overflow is
/// cut off evenly, and with [`Fit::Contain`] the uncovered margin is transparent (which
/// [`quantise`](super::quantise) turns white).
///
/// Resampling uses the Catmull-Rom cubic on linear light with premultiplied alpha, so
/// fine detail averages to the right brightness and transparent pixels do not bleed their
/// colour. The cubic is a polynomial, which keeps the result identical on every platform.
///
/// ```
/// use esl_render::quantise::resize_to_fit;
/// use esl_render::template::Fit;
///
/// let wide = image::RgbaImage::from_pixel(200, 100, image::Rgba([0, 0, 0, 255]));
/// let boxed = resize_to_fit(&wide, 50, 50, Fit::Contain);
/// assert_eq!(boxed.dimensions(), (50, 50));
/// assert_eq!(boxed.get_pixel(25, 2)[3], 0); // margin above the picture
/// assert_eq!(boxed.get_pixel(25, 25).0, [0, 0, 0, 255]);
/// ```
#[must_use]
pub fn resize_to_fit(src: &RgbaImage, width: u32, height: u32, fit: Fit) -> RgbaImage {
    resize_region(src, width, height, fit, (0, 0, width, height))
}

/// The part `region` = `(x0, y0, x1, y1)` (box pixels, `x0 ≤ x < x1`, `y0 ≤ y < y1`, cut to
/// the box) of [`resize_to_fit`]`(src, width, height, fit)`, pixel for pixel, computed
/// without the rest: a huge box of which only a corner is visible costs only that corner.
///
/// ```
/// use esl_render::quantise::{resize_region, resize_to_fit};
/// use esl_render::template::Fit;
///
/// let src = image::RgbaImage::from_fn(30, 20, |x, y| image::Rgba([(x * 8) as u8, (y * 12) as u8, 0, 255]));
/// let whole = resize_to_fit(&src, 90, 60, Fit::Cover);
/// let part = resize_region(&src, 90, 60, Fit::Cover, (10, 20, 40, 35));
/// assert_eq!(part.dimensions(), (30, 15));
/// assert_eq!(part.get_pixel(0, 0), whole.get_pixel(10, 20));
/// assert_eq!(part.get_pixel(29, 14), whole.get_pixel(39, 34));
/// ```
#[must_use]
pub fn resize_region(
    src: &RgbaImage,
    width: u32,
    height: u32,
    fit: Fit,
    region: (u32, u32, u32, u32),
) -> RgbaImage {
    let rx1 = region.2.min(width);
    let ry1 = region.3.min(height);
    let rx0 = region.0.min(rx1);
    let ry0 = region.1.min(ry1);
    let mut out = RgbaImage::new(rx1 - rx0, ry1 - ry0);
    if out.width() == 0 || out.height() == 0 || src.width() == 0 || src.height() == 0 {
        return out;
    }
    let (w, h) = fitted_size(src.dimensions(), width, height, fit);
    // Top-left of the scaled picture in the box (negative when it overflows).
    let ox = (i64::from(width) - i64::from(w)).div_euclid(2);
    let oy = (i64::from(height) - i64::from(h)).div_euclid(2);
    // Only the scaled columns and rows that land in the region are computed.
    let cols = (ox.max(i64::from(rx0))..(ox + i64::from(w)).min(i64::from(rx1)))
        .map(|x| (x - ox) as u32)
        .collect::<Vec<_>>();
    let rows = (oy.max(i64::from(ry0))..(oy + i64::from(h)).min(i64::from(ry1)))
        .map(|y| (y - oy) as u32)
        .collect::<Vec<_>>();
    let hw = Weights::new(src.width(), w, &cols);
    let vw = Weights::new(src.height(), h, &rows);
    let decode = color::decode_table();
    let mut window: VecDeque<(u32, Vec<[f32; 4]>)> = VecDeque::new();
    let mut line = vec![[0.0f32; 4]; src.width() as usize];
    for (j, _) in rows.iter().enumerate() {
        let (start, weights) = vw.get(j);
        while window.front().is_some_and(|(y, _)| *y < start) {
            window.pop_front();
        }
        let next = window.back().map_or(start, |(y, _)| y + 1).max(start);
        for sy in next..start + weights.len() as u32 {
            // One source row: to linear premultiplied light, then resampled across.
            let stride = src.width() as usize * 4;
            let raw = src.as_raw();
            let row = raw
                .get(sy as usize * stride..(sy as usize + 1) * stride)
                .unwrap_or_default();
            for (px, l) in row.chunks_exact(4).zip(line.iter_mut()) {
                let [r, g, b, a] = [px[0], px[1], px[2], px[3]];
                let a = f32::from(a) / 255.0;
                *l = [
                    decode[usize::from(r)] * a,
                    decode[usize::from(g)] * a,
                    decode[usize::from(b)] * a,
                    a,
                ];
            }
            let across = (0..cols.len())
                .map(|i| {
                    let (s, ws) = hw.get(i);
                    let mut acc = [0.0f32; 4];
                    for (k, &wt) in ws.iter().enumerate() {
                        let p = line[s as usize + k];
                        for c in 0..4 {
                            acc[c] += p[c] * wt;
                        }
                    }
                    acc
                })
                .collect();
            window.push_back((sy, across));
        }
        let y = (oy + i64::from(rows[j]) - i64::from(ry0)) as u32;
        for i in 0..cols.len() {
            let mut acc = [0.0f32; 4];
            for (k, &wt) in weights.iter().enumerate() {
                if let Some((_, r)) = window.get(k) {
                    for c in 0..4 {
                        acc[c] += r[i][c] * wt;
                    }
                }
            }
            let a = acc[3].clamp(0.0, 1.0);
            let alpha = (a * 255.0).round() as u8;
            if alpha == 0 {
                continue;
            }
            let un = |v: f32| color::encode((v / a).clamp(0.0, 1.0));
            let x = (ox + i64::from(cols[i]) - i64::from(rx0)) as u32;
            out.put_pixel(
                x,
                y,
                image::Rgba([un(acc[0]), un(acc[1]), un(acc[2]), alpha]),
            );
        }
    }
    out
}

/// The Catmull-Rom cubic (Keys, a = −½).
fn catmull_rom(x: f32) -> f32 {
    let x = x.abs();
    if x < 1.0 {
        (1.5 * x - 2.5) * x * x + 1.0
    } else if x < 2.0 {
        ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    } else {
        0.0
    }
}

/// Resampling weights along one axis: for each wanted output index, the first source
/// index and the weights of consecutive source samples from it.
struct Weights {
    spans: Vec<(u32, usize, usize)>,
    weights: Vec<f32>,
}

impl Weights {
    fn new(src_len: u32, dst_len: u32, wanted: &[u32]) -> Weights {
        let ratio = src_len as f32 / dst_len.max(1) as f32;
        // Widen the filter when shrinking, so every source pixel counts.
        let scale = ratio.max(1.0);
        let support = 2.0 * scale;
        let mut spans = Vec::with_capacity(wanted.len());
        let mut weights = Vec::new();
        for &o in wanted {
            let centre = (o as f32 + 0.5) * ratio;
            let first = ((centre - support).floor() as i64).clamp(0, i64::from(src_len) - 1);
            let last = ((centre + support).ceil() as i64).clamp(first + 1, i64::from(src_len));
            let at = weights.len();
            let mut total = 0.0;
            for s in first..last {
                let w = catmull_rom((s as f32 + 0.5 - centre) / scale);
                weights.push(w);
                total += w;
            }
            if total != 0.0 {
                for w in &mut weights[at..] {
                    *w /= total;
                }
            }
            spans.push((first as u32, at, weights.len() - at));
        }
        Weights { spans, weights }
    }

    fn get(&self, i: usize) -> (u32, &[f32]) {
        let (first, at, len) = self.spans[i];
        (first, &self.weights[at..at + len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_fit_mode() {
        assert_eq!(fitted_size((200, 100), 50, 50, Fit::Contain), (50, 25));
        assert_eq!(fitted_size((200, 100), 50, 50, Fit::Cover), (100, 50));
        assert_eq!(fitted_size((200, 100), 50, 50, Fit::Stretch), (50, 50));
        assert_eq!(fitted_size((1, 1000), 10, 10, Fit::Contain), (1, 10));
    }

    #[test]
    fn flat_colours_survive_resampling() {
        let src = RgbaImage::from_pixel(37, 23, image::Rgba([200, 30, 90, 255]));
        for fit in [Fit::Contain, Fit::Cover, Fit::Stretch] {
            let out = resize_to_fit(&src, 64, 48, fit);
            assert_eq!(out.dimensions(), (64, 48));
            let centre = out.get_pixel(32, 24).0;
            assert_eq!(centre, [200, 30, 90, 255], "{fit:?}");
        }
        let cover = resize_to_fit(&src, 64, 48, Fit::Cover);
        assert!(cover.pixels().all(|p| p.0 == [200, 30, 90, 255]));
    }

    #[test]
    fn fine_checks_average_in_linear_light() {
        // A 1-pixel black/white checkerboard halved is mid-grey in light: sRGB ≈ 188,
        // not 128 as averaging the encoded values would give.
        let src = RgbaImage::from_fn(64, 64, |x, y| {
            let v = if (x + y) % 2 == 0 { 255 } else { 0 };
            image::Rgba([v, v, v, 255])
        });
        let out = resize_to_fit(&src, 16, 16, Fit::Stretch);
        let v = out.get_pixel(8, 8)[0];
        assert!((186..=190).contains(&v), "{v}");
    }

    #[test]
    fn transparent_pixels_do_not_bleed() {
        // Transparent black around opaque white: the edge must not turn grey.
        let src = RgbaImage::from_fn(40, 40, |x, _| {
            if x < 20 {
                image::Rgba([0, 0, 0, 0])
            } else {
                image::Rgba([255, 255, 255, 255])
            }
        });
        let out = resize_to_fit(&src, 13, 13, Fit::Stretch);
        for p in out.pixels().filter(|p| p[3] > 0) {
            assert_eq!(&p.0[..3], &[255, 255, 255]);
        }
    }
}
