//! The scene: one label fully resolved, ready to rasterise.
//!
//! [`Renderer::bind`](crate::Renderer::bind) does all the fallible work of a label — conditions,
//! bound and formatted values, font choice, fitting and line breaking, price parts, code
//! modules, prepared pictures — and records the result as a [`Scene`].
//! [`rasterise`](crate::rasterise) then draws the scene; it reads nothing else and cannot
//! fail.
//!
//! # What a scene holds
//!
//! * the model, the rotation and the size of the design canvas (the panel as seen after
//!   rotation; see `templates/README.md`);
//! * every element that is shown, in drawing order, groups flattened (a group is followed by
//!   its children), each with its JSON path, its box and the part of it that is visible
//!   ([`SceneElement::clip`]: the box cut to its groups and to the canvas), and what it shows
//!   ([`Content`]): final strings after binding, formatting and fitting (the chosen size, the
//!   line breaks, the ellipsis), prices split into their parts with sizes and positions, code
//!   values and module sizes, picture identities;
//! * the drawing itself, as primitives in canvas pixels with integer coordinates: filled
//!   rectangles, rounded rectangles, ellipses, lines, glyphs at integer origins, code modules,
//!   and prepared pictures (already fitted to their box and quantised to the model's inks);
//! * the warnings.
//!
//! Boxes are in the coordinates of the design canvas; [`Scene::to_panel`] maps one onto the
//! panel as the label is pushed (after rotation).
//!
//! # The fingerprint
//!
//! [`Scene::fingerprint`] is the SHA-256 of the scene's canonical encoding, which covers
//! exactly what [`rasterise`](crate::rasterise) reads, and nothing else (no element paths,
//! strings or warnings). Integers are little-endian; `str(s)` is the byte length of `s` as a
//! `u32`, then its UTF-8 bytes; a rectangle is `x0, y0, x1, y1` as four `i32`; an ink is its
//! palette index as a `u8`; an optional ink is `0xFF` when absent.
//!
//! | part | encoding |
//! |---|---|
//! | domain | `str("esl-render scene v1")` |
//! | engine | [`RENDER_VERSION`](crate::RENDER_VERSION) as `u32` |
//! | model | `str(name)`, panel width and height as `u32`, number of inks as `u8` |
//! | canvas | rotation in quarter turns as `u8`, canvas width and height as `u32`, background ink |
//! | fonts | their count as `u32`, then each font the scene draws with, in order of first use: the SHA-256 of its file (32 bytes); for the synthetic-bold twin of a font (hanzi in a bold text, drawn by a regular fallback and emboldened), the SHA-256 of that hash followed by the bytes `synthetic bold` |
//! | elements | the count of drawn elements as `u32`; each: its clip, the count of its primitives as `u32`, then each primitive |
//!
//! Primitives start with a tag byte:
//!
//! | tag | primitive | then |
//! |---|---|---|
//! | 1 | fill | rectangle, ink |
//! | 2 | rounded rectangle | rectangle, radius `u32`, fill ink (optional), outline ink (optional), stroke `u32` |
//! | 3 | ellipse | rectangle, fill ink (optional), outline ink (optional), stroke `u32` |
//! | 4 | line | from `x, y` and to `x, y` as `i32`, width `u32`, ink |
//! | 5 | glyphs | font index `u32` (into the fonts above), size `u32`, hinting `u8` (1 hinted, 0 not), ink, count `u32`, each glyph id `u16`, `x`, `y` as `i32` |
//! | 6 | modules | `x, y` as `i32`, module size `u32`, columns `u32`, rows `u32`, ink, the dark modules as bits, row by row, most significant bit first, padded to a byte |
//! | 7 | picture | `x, y` as `i32`, width and height `u32`, its [`PictureId`] (32 bytes) |
//!
//! Two scenes with the same fingerprint therefore draw the same pixels, and a change of
//! anything that moves a pixel — a value, a picture file's pixels, a font file, the template,
//! the model, the engine — changes it. Products that differ only where nothing is drawn
//! (a field no element shows, `"3.2"` against `"3.20"` for a price with two decimals) give
//! equal fingerprints.

use std::fmt;
use std::sync::Arc;

use esl_model::{Ink, Model};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Warning;
use crate::fonts::Face;
use crate::picture::{PictureId, Prepared};
use crate::raster::Rect;
use crate::template::{Rotation, Symbology};

/// One label fully resolved: see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Scene {
    pub(crate) template: String,
    pub(crate) model: Model,
    pub(crate) rotation: Rotation,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) background: Ink,
    pub(crate) fonts: Vec<Arc<Face>>,
    pub(crate) elements: Vec<SceneElement>,
    pub(crate) warnings: Vec<Warning>,
}

/// An element as it will be drawn.
#[derive(Clone, Debug, Serialize)]
pub struct SceneElement {
    /// JSON path of the element in its template, e.g. `elements[2]` or
    /// `variants[0].elements[1].elements[0]`.
    pub path: String,
    /// The element's `id`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its box on the design canvas (a line's is the box around its end pixels).
    #[serde(rename = "box")]
    pub bounds: Rect,
    /// The part of the canvas it may draw on: its box (for boxed elements) cut to its groups'
    /// boxes and to the canvas. `None` when nothing of it is visible.
    pub clip: Option<Rect>,
    /// What it shows.
    pub content: Content,
    #[serde(skip)]
    pub(crate) prims: Vec<Prim>,
}

/// What an element shows, resolved.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Text, after binding, formatting and fitting.
    Text(TextContent),
    /// A price, split into its parts.
    Price(PriceContent),
    /// A rectangle, ellipse or line.
    Shape,
    /// A group's own background (its children follow it as elements of their own).
    Group,
    /// A linear barcode.
    Barcode(BarcodeContent),
    /// A QR code.
    Qr(QrContent),
    /// A picture, fitted and quantised.
    Picture(PictureContent),
}

/// Text as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextContent {
    /// The em size chosen by shrink-to-fit, in pixels.
    pub size: u32,
    /// The lines after breaking (and the ellipsis, when cut).
    pub lines: Vec<String>,
    /// Whether the text was cut with an ellipsis.
    pub truncated: bool,
}

/// A price as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriceContent {
    /// The parts in drawing order (empty parts are left out).
    pub parts: Vec<PricePart>,
    /// Whether it is struck through.
    pub strike: bool,
}

/// Which part of a price a [`PricePart`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceRole {
    /// Text before the amount (`prefix`, e.g. "2 for ").
    Prefix,
    /// The currency sign.
    Currency,
    /// The integer part, with any thousands separators.
    Integer,
    /// The decimal separator and the decimals.
    Fraction,
    /// Text after the amount (`suffix`, e.g. "/kg").
    Suffix,
}

/// One part of a price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PricePart {
    /// Which part.
    pub role: PriceRole,
    /// Its text.
    pub text: String,
    /// Its em size in pixels.
    pub size: u32,
    /// The pen position where it starts, on the canvas.
    pub x: i32,
    /// Its baseline, on the canvas.
    pub baseline: i32,
}

/// A barcode as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BarcodeContent {
    /// The symbology.
    #[serde(serialize_with = "symbology_name")]
    pub symbology: Symbology,
    /// The value encoded.
    pub value: String,
    /// Width of one module in pixels.
    pub module_px: u32,
    /// Number of modules, quiet zones included.
    pub modules: u32,
}

fn symbology_name<S: serde::Serializer>(s: &Symbology, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(match s {
        Symbology::Ean13 => "ean13",
        Symbology::Ean8 => "ean8",
        Symbology::Upca => "upca",
        Symbology::Code128 => "code128",
        Symbology::Code39 => "code39",
        Symbology::Itf => "itf",
        Symbology::Itf14 => "itf14",
    })
}

/// A QR code as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QrContent {
    /// The data encoded.
    pub value: String,
    /// Modules per side, quiet zone excluded.
    pub modules: u32,
    /// Size of one module in pixels.
    pub module_px: u32,
}

/// A picture as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PictureContent {
    /// The identity of the prepared bitmap.
    pub id: PictureId,
    /// The part of the box the prepared bitmap covers (the visible part).
    pub area: Rect,
}

/// A drawing primitive, in canvas pixels. Every primitive of an element is clipped to the
/// element's clip.
#[derive(Clone, Debug)]
pub(crate) enum Prim {
    /// A filled rectangle.
    Fill { rect: Rect, ink: Ink },
    /// A rectangle with rounded corners: fill inside, an outline of `stroke` pixels inside
    /// the edge.
    RoundRect {
        rect: Rect,
        radius: u32,
        fill: Option<Ink>,
        outline: Option<Ink>,
        stroke: u32,
    },
    /// An ellipse inscribed in `rect`.
    Ellipse {
        rect: Rect,
        fill: Option<Ink>,
        outline: Option<Ink>,
        stroke: u32,
    },
    /// A line between the centres of two pixels.
    Line {
        from: (i32, i32),
        to: (i32, i32),
        width: u32,
        ink: Ink,
    },
    /// Glyphs of one font at one size, each with its origin (pen position on the baseline).
    Glyphs {
        font: u32,
        size: u32,
        /// Whether the glyphs are hinted (grid-fitted) before rasterising.
        hinted: bool,
        ink: Ink,
        glyphs: Vec<GlyphPos>,
    },
    /// A grid of square modules (a QR code): `dark[row * columns + column]`.
    Modules {
        x: i32,
        y: i32,
        module: u32,
        columns: u32,
        rows: u32,
        ink: Ink,
        dark: Vec<bool>,
    },
    /// A prepared picture with its top-left corner at `(x, y)`.
    Picture {
        x: i32,
        y: i32,
        picture: Arc<Prepared>,
    },
}

/// A glyph and its integer origin on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GlyphPos {
    pub id: u16,
    pub x: i32,
    pub y: i32,
}

/// The identity of a scene: see the [module docs](self#the-fingerprint).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Where the canonical encoding goes: a hasher, or bytes for inspection.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct Enc<'a, S: Sink>(&'a mut S);

impl<S: Sink> Enc<'_, S> {
    fn u8(&mut self, v: u8) {
        self.0.put(&[v]);
    }
    fn u16(&mut self, v: u16) {
        self.0.put(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.put(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.put(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        // Counts in a scene are bounded far below 4 Gi (template and value limits).
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.put(s.as_bytes());
    }
    fn rect(&mut self, r: Rect) {
        self.i32(r.x0);
        self.i32(r.y0);
        self.i32(r.x1);
        self.i32(r.y1);
    }
    fn ink(&mut self, i: Ink) {
        self.u8(i as u8);
    }
    fn opt_ink(&mut self, i: Option<Ink>) {
        self.u8(i.map_or(0xFF, |i| i as u8));
    }
}

impl Scene {
    /// The name of the template it was bound from.
    #[must_use]
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The model.
    #[must_use]
    pub fn model(&self) -> Model {
        self.model
    }

    /// The label's rotation.
    #[must_use]
    pub fn rotation(&self) -> Rotation {
        self.rotation
    }

    /// Width and height of the design canvas: the panel's, swapped for 90° and 270°.
    #[must_use]
    pub fn canvas_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The label's background ink (already mapped to the model's palette).
    #[must_use]
    pub fn background(&self) -> Ink {
        self.background
    }

    /// The elements shown, in drawing order.
    #[must_use]
    pub fn elements(&self) -> &[SceneElement] {
        &self.elements
    }

    /// Characters no font had, text cut to fit, codes not drawn, …
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Maps a rectangle of the design canvas onto the panel (after rotation), as the label
    /// is shown on the shelf.
    #[must_use]
    pub fn to_panel(&self, r: Rect) -> Rect {
        let (w, h) = (self.width as i32, self.height as i32);
        match self.rotation.quarter_turns() % 4 {
            0 => r,
            // Clockwise: canvas (x, y) lands on panel (h - 1 - y, x).
            1 => Rect {
                x0: h - r.y1,
                y0: r.x0,
                x1: h - r.y0,
                y1: r.x1,
            },
            2 => Rect {
                x0: w - r.x1,
                y0: h - r.y1,
                x1: w - r.x0,
                y1: h - r.y0,
            },
            _ => Rect {
                x0: r.y0,
                y0: w - r.x1,
                x1: r.y1,
                y1: w - r.x0,
            },
        }
    }

    /// The scene's identity: the SHA-256 of its canonical encoding (see the
    /// [module docs](self#the-fingerprint)).
    ///
    /// ```
    /// # #[cfg(feature = "embedded-fonts")] {
    /// use esl_model::{Model, Product};
    /// use esl_render::{Renderer, Template};
    ///
    /// let t = Template::from_json(br#"{"version": 1, "models": ["SL121"], "elements": [
    ///     {"type": "price", "box": {"x": 0, "y": 0, "w": 212, "h": 104}, "field": "price", "size": 40}]}"#,
    ///     "example", None)?;
    /// let r = Renderer::bundled();
    /// let a = r.bind(&t, &Product::new().with("price", "3.2"), Model::Sl121)?;
    /// let b = r.bind(&t, &Product::new().with("price", "3.20").with("name", "Tea"), Model::Sl121)?;
    /// let c = r.bind(&t, &Product::new().with("price", "3.25"), Model::Sl121)?;
    /// assert_eq!(a.fingerprint(), b.fingerprint());
    /// assert_ne!(a.fingerprint(), c.fingerprint());
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = Sha256::new();
        self.encode(&mut Enc(&mut h));
        Fingerprint(h.finalize().into())
    }

    /// The canonical encoding itself (what [`Scene::fingerprint`] hashes), for inspection and
    /// for tests.
    #[must_use]
    pub fn canonical_encoding(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut Enc(&mut v));
        v
    }

    fn encode<S: Sink>(&self, e: &mut Enc<'_, S>) {
        e.str("esl-render scene v1");
        e.u32(crate::RENDER_VERSION);
        e.str(self.model.name());
        let (pw, ph) = self.model.size();
        e.u32(pw);
        e.u32(ph);
        e.u8(self.model.palette().inks().len() as u8);
        e.u8(self.rotation.quarter_turns());
        e.u32(self.width);
        e.u32(self.height);
        e.ink(self.background);
        e.len(self.fonts.len());
        for f in &self.fonts {
            e.0.put(&f.content_hash);
        }
        let drawn: Vec<(&SceneElement, Rect)> = self
            .elements
            .iter()
            .filter_map(|el| el.clip.filter(|_| !el.prims.is_empty()).map(|c| (el, c)))
            .collect();
        e.len(drawn.len());
        for (el, clip) in drawn {
            e.rect(clip);
            e.len(el.prims.len());
            for p in &el.prims {
                encode_prim(e, p);
            }
        }
    }

    /// The scene as JSON for people and tools: model, rotation, canvas size, every element
    /// with its path, box, clip and content (boxes also mapped onto the panel), the
    /// warnings and the fingerprint.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let elements: Vec<serde_json::Value> = self
            .elements
            .iter()
            .map(|el| {
                let mut v = serde_json::to_value(el).unwrap_or(serde_json::Value::Null);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert(
                        "panel_box".to_owned(),
                        serde_json::to_value(self.to_panel(el.bounds))
                            .unwrap_or(serde_json::Value::Null),
                    );
                }
                v
            })
            .collect();
        serde_json::json!({
            "template": self.template,
            "model": self.model.name(),
            "rotation": u32::from(self.rotation.quarter_turns()) * 90,
            "canvas": {"width": self.width, "height": self.height},
            "elements": elements,
            "warnings": self.warnings.iter().map(|w| serde_json::json!({
                "element": w.element(),
                "message": w.to_string(),
            })).collect::<Vec<_>>(),
            "fingerprint": self.fingerprint().to_string(),
        })
    }
}

fn encode_prim<S: Sink>(e: &mut Enc<'_, S>, p: &Prim) {
    match p {
        Prim::Fill { rect, ink } => {
            e.u8(1);
            e.rect(*rect);
            e.ink(*ink);
        }
        Prim::RoundRect {
            rect,
            radius,
            fill,
            outline,
            stroke,
        } => {
            e.u8(2);
            e.rect(*rect);
            e.u32(*radius);
            e.opt_ink(*fill);
            e.opt_ink(*outline);
            e.u32(*stroke);
        }
        Prim::Ellipse {
            rect,
            fill,
            outline,
            stroke,
        } => {
            e.u8(3);
            e.rect(*rect);
            e.opt_ink(*fill);
            e.opt_ink(*outline);
            e.u32(*stroke);
        }
        Prim::Line {
            from,
            to,
            width,
            ink,
        } => {
            e.u8(4);
            e.i32(from.0);
            e.i32(from.1);
            e.i32(to.0);
            e.i32(to.1);
            e.u32(*width);
            e.ink(*ink);
        }
        Prim::Glyphs {
            font,
            size,
            hinted,
            ink,
            glyphs,
        } => {
            e.u8(5);
            e.u32(*font);
            e.u32(*size);
            e.u8(u8::from(*hinted));
            e.ink(*ink);
            e.len(glyphs.len());
            for g in glyphs {
                e.u16(g.id);
                e.i32(g.x);
                e.i32(g.y);
            }
        }
        Prim::Modules {
            x,
            y,
            module,
            columns,
            rows,
            ink,
            dark,
        } => {
            e.u8(6);
            e.i32(*x);
            e.i32(*y);
            e.u32(*module);
            e.u32(*columns);
            e.u32(*rows);
            e.ink(*ink);
            for chunk in dark.chunks(8) {
                let mut byte = 0u8;
                for (i, &d) in chunk.iter().enumerate() {
                    if d {
                        byte |= 0x80 >> i;
                    }
                }
                e.u8(byte);
            }
        }
        Prim::Picture { x, y, picture } => {
            e.u8(7);
            e.i32(*x);
            e.i32(*y);
            e.u32(picture.width);
            e.u32(picture.height);
            e.0.put(&picture.id.0);
        }
    }
}
