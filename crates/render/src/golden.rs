//! Golden-image comparison: a rendered label against a reference PNG, pixel-exact.
//!
//! References are compared by their *decoded* pixels, never by PNG bytes, so a change of
//! encoder or compression does not count as a difference. On a mismatch a diff picture is
//! written: reference | differing pixels (magenta on a faded reference) | actual.

use std::path::{Path, PathBuf};

use crate::panel::PanelImage;

/// What checking one label against its reference found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Identical pixels.
    Match,
    /// Blessing was on, and the reference was written (new or changed).
    Blessed,
    /// No reference exists (and blessing is off).
    Missing {
        /// Where the reference should be.
        reference: PathBuf,
    },
    /// Sizes differ.
    SizeMismatch {
        /// Reference size.
        expected: (u32, u32),
        /// Rendered size.
        actual: (u32, u32),
        /// Where the actual picture was written.
        actual_path: PathBuf,
    },
    /// Pixels differ.
    Differs {
        /// How many pixels differ.
        pixels: usize,
        /// Smallest box holding them: `(x, y, width, height)`.
        bbox: (u32, u32, u32, u32),
        /// The three-panel diff picture.
        diff_path: PathBuf,
        /// The actual picture.
        actual_path: PathBuf,
    },
}

impl Outcome {
    /// Whether the case passed (matched, or was blessed).
    #[must_use]
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Match | Outcome::Blessed)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Match => write!(f, "matches its reference"),
            Outcome::Blessed => write!(f, "reference written (blessed)"),
            Outcome::Missing { reference } => write!(
                f,
                "no reference at {}; run with ESL_BLESS=1 to create it",
                reference.display()
            ),
            Outcome::SizeMismatch {
                expected,
                actual,
                actual_path,
            } => write!(
                f,
                "size {}x{} differs from the reference's {}x{}; actual written to {}",
                actual.0,
                actual.1,
                expected.0,
                expected.1,
                actual_path.display()
            ),
            Outcome::Differs {
                pixels,
                bbox,
                diff_path,
                actual_path,
            } => write!(
                f,
                "{pixels} pixels differ within {}x{} at ({}, {}); diff: {}; actual: {}",
                bbox.2,
                bbox.3,
                bbox.0,
                bbox.1,
                diff_path.display(),
                actual_path.display()
            ),
        }
    }
}

/// A golden check that could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GoldenError {
    /// The reference exists but cannot be decoded.
    #[error("cannot read reference {path}: {message}")]
    Reference {
        /// The reference.
        path: String,
        /// Why.
        message: String,
    },
    /// A file cannot be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// Whether new references may be written, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bless {
    /// Compare only.
    Off,
    /// Write references that are missing or differ.
    On,
}

impl Bless {
    /// `On` when the environment variable `ESL_BLESS` is `1`.
    ///
    /// # Errors
    /// Blessing is refused (with a message) when the `CI` variable is set: a CI run must
    /// compare against committed references, never rewrite them.
    pub fn from_env() -> Result<Bless, String> {
        let want = std::env::var("ESL_BLESS").is_ok_and(|v| v == "1");
        if want && std::env::var_os("CI").is_some() {
            return Err("ESL_BLESS=1 is refused when CI is set: references are blessed by people, not by CI".to_owned());
        }
        Ok(if want { Bless::On } else { Bless::Off })
    }
}

/// Compares `actual` with the reference PNG at `reference`. On a difference, writes
/// `<name>.actual.png` and `<name>.diff.png` into `out_dir` (`name` is the reference's file
/// stem). With [`Bless::On`], writes the reference instead (and reports
/// [`Outcome::Blessed`]) when it is missing or differs.
///
/// # Errors
/// [`GoldenError`] when the reference cannot be decoded or a file cannot be written.
pub fn check(
    reference: &Path,
    actual: &PanelImage,
    bless: Bless,
    out_dir: &Path,
) -> Result<Outcome, GoldenError> {
    let write_err = |path: &Path, message: String| GoldenError::Write {
        path: path.display().to_string(),
        message,
    };
    let write_png = |path: &Path, bytes: &[u8]| -> Result<(), GoldenError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e.to_string()))?;
        }
        std::fs::write(path, bytes).map_err(|e| write_err(path, e.to_string()))
    };
    let bless_now = || -> Result<Outcome, GoldenError> {
        let png = actual
            .to_png(1)
            .map_err(|e| write_err(reference, e.to_string()))?;
        write_png(reference, &png)?;
        Ok(Outcome::Blessed)
    };
    if !reference.exists() {
        return match bless {
            Bless::On => bless_now(),
            Bless::Off => Ok(Outcome::Missing {
                reference: reference.to_path_buf(),
            }),
        };
    }
    let expected = image::open(reference)
        .map_err(|e| GoldenError::Reference {
            path: reference.display().to_string(),
            message: e.to_string(),
        })?
        .to_rgb8();
    let actual_rgb = actual.to_rgb_image(1);
    let stem = reference
        .file_stem()
        .map_or_else(|| "case".to_owned(), |s| s.to_string_lossy().into_owned());
    let actual_path = out_dir.join(format!("{stem}.actual.png"));
    if expected.dimensions() != actual_rgb.dimensions() {
        if bless == Bless::On {
            return bless_now();
        }
        let png = actual
            .to_png(1)
            .map_err(|e| write_err(&actual_path, e.to_string()))?;
        write_png(&actual_path, &png)?;
        return Ok(Outcome::SizeMismatch {
            expected: expected.dimensions(),
            actual: actual_rgb.dimensions(),
            actual_path,
        });
    }
    let Some((pixels, bbox)) = difference(&expected, &actual_rgb) else {
        return Ok(Outcome::Match);
    };
    if bless == Bless::On {
        return bless_now();
    }
    let diff_path = out_dir.join(format!("{stem}.diff.png"));
    let png = actual
        .to_png(1)
        .map_err(|e| write_err(&actual_path, e.to_string()))?;
    write_png(&actual_path, &png)?;
    let picture = diff_picture(&expected, &actual_rgb);
    picture
        .save(&diff_path)
        .map_err(|e| write_err(&diff_path, e.to_string()))?;
    Ok(Outcome::Differs {
        pixels,
        bbox,
        diff_path,
        actual_path,
    })
}

/// The number of differing pixels and their bounding box `(x, y, w, h)`; `None` when the
/// images are identical. The images must have the same size.
#[must_use]
pub fn difference(
    a: &image::RgbImage,
    b: &image::RgbImage,
) -> Option<(usize, (u32, u32, u32, u32))> {
    let mut count = 0;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in a.enumerate_pixels() {
        if b.get_pixel_checked(x, y) != Some(p) {
            count += 1;
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    (count > 0).then(|| (count, (x0, y0, x1 - x0 + 1, y1 - y0 + 1)))
}

/// Three panels side by side, 4 pixels apart: expected | differences | actual. The middle
/// panel shows the expected picture faded, with differing pixels in magenta.
#[must_use]
pub fn diff_picture(expected: &image::RgbImage, actual: &image::RgbImage) -> image::RgbImage {
    let (w, h) = expected.dimensions();
    let gap = 4;
    let mut out = image::RgbImage::from_pixel(w * 3 + gap * 2, h, image::Rgb([128, 128, 128]));
    for (x, y, p) in expected.enumerate_pixels() {
        out.put_pixel(x, y, *p);
        let a = actual.get_pixel_checked(x, y);
        let mid = if a == Some(p) {
            image::Rgb(p.0.map(|c| 192 + c / 4))
        } else {
            image::Rgb([255, 0, 255])
        };
        out.put_pixel(w + gap + x, y, mid);
    }
    for (x, y, p) in actual.enumerate_pixels() {
        if x < w && y < h {
            out.put_pixel(2 * (w + gap) + x, y, *p);
        }
    }
    out
}
