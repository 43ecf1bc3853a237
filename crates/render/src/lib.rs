//! `esl-render` turns a label template and a product into the exact bitmap an electronic
//! shelf label shows.
//!
//! # The pipeline
//!
//! ```text
//! template JSON ──Template::from_json──▶ Template   (validated, within limits, pictures decoded)
//! Template + Product + Model ──Renderer::bind──▶ Scene   (fallible: all the work that can fail)
//!     conditions evaluated, fields bound and formatted (money, dates, case, prefix/suffix),
//!     fonts chosen per character, kerning, wrapping, shrink-to-fit, ellipsis,
//!     prices split into parts, barcodes and QR codes encoded to modules,
//!     pictures fitted to their box and quantised to the panel's inks (once, then shared),
//!     every box placed on the canvas and clipped, warnings collected
//! Scene ──rasterise──▶ PanelImage   (cannot fail: pixel-centre sampling, 1-bit glyphs,
//!                                    everything clipped to the panel, rotation last)
//! PanelImage ──to_png / to_bmp / bit_planes──▶ indexed PNG · indexed BMP (1 or 2 bits) · packed ink planes
//! ```
//!
//! * [`Template`]: [`Template::from_json`], [`Template::load`]; the bounds it enforces are in
//!   [`limits`].
//! * [`Scene`]: what [`Renderer::bind`] resolves (see [`scene`] for what it holds), with
//!   [`Scene::fingerprint`], the label's identity: equal fingerprints draw equal pixels, and
//!   anything that moves a pixel — a value, a picture file, a font file, the template, the
//!   model, [`RENDER_VERSION`] — changes it.
//! * [`rasterise`]: the scene drawn into a [`PanelImage`].
//! * [`Renderer::render`] runs both stages.
//!
//! A [`Template`] is loaded once and rendered for many products; it and the [`Renderer`]
//! (with its [`FontBook`]) are `Send + Sync`, so one of each serves every rayon thread.
//! Rendering is deterministic: the same template, product, model and fonts give the same
//! pixels, on any thread.
//!
//! Every [`PanelImage`] has exactly the model's size, and every pixel is one of the model's
//! inks: white, black, and red on black/white/red models. Red asked of a black/white model
//! is drawn black ([`esl_model::Palette::map`]).
//!
//! The template format is described in `templates/README.md`; [`json_schema`] gives its
//! JSON Schema.
#![deny(clippy::unwrap_used)]
#![warn(missing_docs, clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![forbid(unsafe_code)]

mod bind;
mod bmp;
mod codes;
mod error;
mod fonts;
pub mod golden;
mod hint;
mod kern;
mod layout;
pub mod limits;
mod loader;
mod panel;
mod picture;
mod pngenc;
pub mod quantise;
mod raster;
mod rasterise;
mod render;
pub mod scene;
pub mod template;
mod text;
mod unit_price;

pub use error::{RenderError, RenderErrorKind, TemplateError, Warning};
pub use fonts::{FontBook, FontError};
pub use limits::{MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, MAX_SCALE, MAX_VALUE_CHARS};
pub use loader::Template;
pub use panel::{EncodeError, PanelImage};
pub use picture::PictureId;
pub use pngenc::{PngCompression, PngFilter, PngOptions};
pub use raster::Rect;
pub use rasterise::rasterise;
pub use render::{RenderOptions, Rendered, Renderer};
pub use scene::{Fingerprint, Scene, SceneElement};
pub use template::json_schema;

/// The engine's render version: bumped whenever a change to this crate can change the
/// pixels of a label, so stored fingerprints of rendered labels become stale. It is part of
/// every [`Scene::fingerprint`]; a test (`tests/src/pins.rs`) ties it to the pixels of every
/// golden reference, so a change that moves pixels cannot ship without a bump.
pub const RENDER_VERSION: u32 = 10;

#[cfg(test)]
mod tests;
