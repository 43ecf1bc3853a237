//! Golden-image snapshot testing of label templates.
//!
//! A *suite* is every template of a folder × every product JSON of a fixtures folder × every
//! model the template serves. Each case is rendered and compared pixel-exact with the
//! reference `<golden>/<template>__<fixture>__<model>.png`. References are compared by their
//! *decoded* pixels, never by PNG bytes, so a change of encoder or compression does not count
//! as a difference. On a mismatch a diff picture is written: reference | differing pixels
//! (magenta on a faded reference) | actual.
//!
//! In a user's own `cargo test`, one line pins every label:
//!
//! ```no_run
//! # #[cfg(feature = "embedded-fonts")]
//! esl_render::golden::assert_suite("templates", "tests/fixtures", "tests/golden");
//! ```
//!
//! `ESL_BLESS=1` writes new references instead (refused when `CI` is set).

use std::path::{Path, PathBuf};

use esl_model::{Model, Product};

use crate::loader::Template;
use crate::panel::PanelImage;
use crate::render::Renderer;

/// What checking one label against its reference found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
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
    // Scale 1 is always in range.
    let actual_rgb = actual.to_rgb_image(1).unwrap_or_default();
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

/// One case of a suite: a template, a fixture product and a model.
#[derive(Clone, Debug)]
pub struct Case {
    /// `<template>__<fixture>__<model>`, e.g. `shelf-2.6__cola__sl126plus`.
    pub name: String,
    /// The template's file stem.
    pub template_name: String,
    /// The fixture's file stem.
    pub fixture_name: String,
    /// The model.
    pub model: Model,
    /// The loaded template.
    pub template: std::sync::Arc<Template>,
    /// The fixture product.
    pub product: std::sync::Arc<Product>,
}

/// The result of one case, or of an input that could not be loaded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseReport {
    /// The case name (or the file that failed to load).
    pub case: String,
    /// The template's file stem.
    pub template: String,
    /// The fixture's file stem (empty for a template that failed to load).
    pub fixture: String,
    /// The model, when the case got that far.
    pub model: Option<Model>,
    /// What happened.
    pub result: CaseResult,
}

/// What happened to one case.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseResult {
    /// The label was rendered and compared (or blessed).
    Compared {
        /// The comparison.
        outcome: Outcome,
    },
    /// The label could not be rendered, or an input could not be loaded.
    Error {
        /// The message.
        message: String,
    },
}

impl CaseReport {
    /// Whether the case passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        matches!(&self.result, CaseResult::Compared { outcome } if outcome.passed())
    }

    /// One line for people: `ok <case>` or `FAIL <case>: <why>`.
    #[must_use]
    pub fn line(&self) -> String {
        match &self.result {
            CaseResult::Compared { outcome } if outcome.passed() => {
                format!("ok   {}: {outcome}", self.case)
            }
            CaseResult::Compared { outcome } => format!("FAIL {}: {outcome}", self.case),
            CaseResult::Error { message } => format!("FAIL {}: {message}", self.case),
        }
    }
}

/// The results of a suite.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Every case, in order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// Adds a case result.
    pub fn push(&mut self, case: CaseReport) {
        if case.passed() {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        self.cases.push(case);
    }

    /// The closing line: `N passed, M failed`.
    #[must_use]
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    /// The report as pretty JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Where a suite's files are.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Folder of template JSON files (`*.schema.json` files are skipped).
    pub templates: PathBuf,
    /// Folder of fixture product JSON files.
    pub fixtures: PathBuf,
    /// Folder of reference PNGs.
    pub golden: PathBuf,
    /// Folder for `<case>.actual.png` and `<case>.diff.png` of failing cases.
    pub diffs: PathBuf,
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read folder {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.to_string_lossy().ends_with(".schema.json"))
        .collect();
    files.sort();
    Ok(files)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The file-name form of a model: `sl126plus`.
#[must_use]
pub fn model_slug(m: Model) -> String {
    m.name().to_ascii_lowercase().replace('+', "plus")
}

impl Suite {
    /// A suite whose diff pictures go to `diffs`.
    pub fn new(
        templates: impl Into<PathBuf>,
        fixtures: impl Into<PathBuf>,
        golden: impl Into<PathBuf>,
        diffs: impl Into<PathBuf>,
    ) -> Suite {
        Suite {
            templates: templates.into(),
            fixtures: fixtures.into(),
            golden: golden.into(),
            diffs: diffs.into(),
        }
    }

    /// Loads every template and fixture and lists the cases, sorted by template, model and
    /// fixture. Inputs that cannot be loaded come back as failed reports.
    ///
    /// # Errors
    /// A message when a folder cannot be read.
    pub fn cases(&self) -> Result<(Vec<Case>, Vec<CaseReport>), String> {
        let mut broken = Vec::new();
        let mut fixtures = Vec::new();
        for path in json_files(&self.fixtures)? {
            let loaded = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| Product::from_json(&b).map_err(|e| e.to_string()));
            match loaded {
                Ok(p) => fixtures.push((stem(&path), std::sync::Arc::new(p))),
                Err(message) => broken.push(CaseReport {
                    case: path.display().to_string(),
                    template: String::new(),
                    fixture: stem(&path),
                    model: None,
                    result: CaseResult::Error {
                        message: format!("fixture {}: {message}", path.display()),
                    },
                }),
            }
        }
        let mut cases = Vec::new();
        for path in json_files(&self.templates)? {
            let template = match Template::load(&path) {
                Ok(t) => std::sync::Arc::new(t),
                Err(e) => {
                    broken.push(CaseReport {
                        case: path.display().to_string(),
                        template: stem(&path),
                        fixture: String::new(),
                        model: None,
                        result: CaseResult::Error {
                            message: e.to_string(),
                        },
                    });
                    continue;
                }
            };
            for model in template.models() {
                for (fixture_name, product) in &fixtures {
                    cases.push(Case {
                        name: format!("{}__{fixture_name}__{}", stem(&path), model_slug(model)),
                        template_name: stem(&path),
                        fixture_name: fixture_name.clone(),
                        model,
                        template: template.clone(),
                        product: product.clone(),
                    });
                }
            }
        }
        Ok((cases, broken))
    }

    /// Renders and checks one case.
    #[must_use]
    pub fn run_case(&self, renderer: &Renderer, case: &Case, bless: Bless) -> CaseReport {
        let result = match renderer.render(&case.template, &case.product, case.model) {
            Err(e) => CaseResult::Error {
                message: e.to_string(),
            },
            Ok(label) => {
                let reference = self.golden.join(format!("{}.png", case.name));
                match check(&reference, &label.image, bless, &self.diffs) {
                    Ok(outcome) => CaseResult::Compared { outcome },
                    Err(e) => CaseResult::Error {
                        message: e.to_string(),
                    },
                }
            }
        };
        CaseReport {
            case: case.name.clone(),
            template: case.template_name.clone(),
            fixture: case.fixture_name.clone(),
            model: Some(case.model),
            result,
        }
    }

    /// Runs every case.
    ///
    /// # Errors
    /// A message when a folder cannot be read.
    pub fn run(&self, renderer: &Renderer, bless: Bless) -> Result<Report, String> {
        let (cases, broken) = self.cases()?;
        let mut report = Report::default();
        for b in broken {
            report.push(b);
        }
        for case in &cases {
            report.push(self.run_case(renderer, case, bless));
        }
        Ok(report)
    }
}

/// Runs a suite with the bundled fonts and panics with every failing case when one fails:
/// one line in a user's `cargo test`. Diff pictures go to `target/golden-diffs`. Blessing
/// follows `ESL_BLESS` (see [`Bless::from_env`]).
///
/// # Panics
/// When a case fails, a folder cannot be read, or blessing is asked for under CI.
#[cfg(feature = "embedded-fonts")]
pub fn assert_suite(
    templates: impl AsRef<Path>,
    fixtures: impl AsRef<Path>,
    golden: impl AsRef<Path>,
) {
    let bless = match Bless::from_env() {
        Ok(b) => b,
        Err(message) => panic!("{message}"),
    };
    let suite = Suite::new(
        templates.as_ref(),
        fixtures.as_ref(),
        golden.as_ref(),
        "target/golden-diffs",
    );
    let report = match suite.run(&Renderer::bundled(), bless) {
        Ok(r) => r,
        Err(message) => panic!("{message}"),
    };
    if report.failed > 0 {
        let lines: Vec<String> = report
            .cases
            .iter()
            .filter(|c| !c.passed())
            .map(CaseReport::line)
            .collect();
        panic!("golden images: {}\n{}", report.summary(), lines.join("\n"));
    }
}
