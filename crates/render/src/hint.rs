//! Hinted outlines for 1-bit glyphs (issue 10): skrifa grid-fits a glyph for a monochrome
//! target — with the font's TrueType bytecode where it has some, with skrifa's autohinter
//! otherwise — and hands back the outline in pixels, and the rounded advance.
//!
//! Building a hinting instance runs the font's setup programs (or the autohinter's analysis
//! of the whole font), so instances are kept per face and pixel size ([`Hinters`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use ab_glyph_rasterizer::{Point, point};
use skrifa::MetadataProvider as _;
use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, Engine, HintingInstance, HintingOptions, OutlinePen, Target};

/// One piece of a hinted outline, in pixels, y downwards, relative to the glyph's origin.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Segment {
    Line(Point, Point),
    Quad(Point, Point, Point),
    Cubic(Point, Point, Point, Point),
}

/// The hinting instances of one face, by pixel size; `None` records a size at which the
/// font cannot be hinted (its glyphs are then drawn unhinted).
#[derive(Default)]
pub(crate) struct Hinters {
    by_ppem: Mutex<HashMap<u32, Option<Arc<HintingInstance>>>>,
}

impl fmt::Debug for Hinters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes = self.by_ppem.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "Hinters({sizes} sizes)")
    }
}

impl Hinters {
    /// The instance for `ppem`, built on first use.
    fn get(&self, font: &skrifa::FontRef<'_>, ppem: u32) -> Option<Arc<HintingInstance>> {
        if let Some(kept) = self.by_ppem.lock().ok().and_then(|m| m.get(&ppem).cloned()) {
            return kept;
        }
        // Built outside the lock: two threads may both build one, and they build the same.
        let outlines = font.outline_glyphs();
        let engine = if outlines.require_interpreter() {
            Engine::Interpreter
        } else {
            Engine::AutoFallback
        };
        let options = HintingOptions {
            engine,
            target: Target::Mono,
        };
        let made = HintingInstance::new(
            &outlines,
            Size::new(ppem as f32),
            LocationRef::default(),
            options,
        )
        .ok()
        .map(Arc::new);
        if let Ok(mut m) = self.by_ppem.lock() {
            m.insert(ppem, made.clone());
        }
        made
    }
}

/// Collects skrifa's pen calls as segments, flipping y (fonts are y-up, canvases y-down).
#[derive(Default)]
struct Collect {
    segments: Vec<Segment>,
    start: Option<Point>,
    at: Point,
}

impl Collect {
    fn close_contour(&mut self) {
        if let Some(start) = self.start.take() {
            if start != self.at {
                self.segments.push(Segment::Line(self.at, start));
            }
            self.at = start;
        }
    }
}

fn px(x: f32, y: f32) -> Point {
    point(x, -y)
}

impl OutlinePen for Collect {
    fn move_to(&mut self, x: f32, y: f32) {
        self.close_contour();
        self.at = px(x, y);
        self.start = Some(self.at);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let to = px(x, y);
        self.segments.push(Segment::Line(self.at, to));
        self.at = to;
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        let to = px(x, y);
        self.segments.push(Segment::Quad(self.at, px(cx0, cy0), to));
        self.at = to;
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        let to = px(x, y);
        self.segments
            .push(Segment::Cubic(self.at, px(cx0, cy0), px(cx1, cy1), to));
        self.at = to;
    }

    fn close(&mut self) {
        self.close_contour();
    }
}

/// Glyph `id` of the font in `data`, hinted for a 1-bit target at `ppem` pixels per em; `None`
/// when the font or the glyph cannot be hinted (the caller then draws it unhinted). Its
/// advance is [`hinted_advance`].
pub(crate) fn hinted(data: &[u8], hinters: &Hinters, id: u16, ppem: u32) -> Option<Vec<Segment>> {
    let mut pen = Collect::default();
    draw(data, hinters, id, ppem, &mut pen)?;
    pen.close_contour();
    Some(pen.segments)
}

/// The advance of [`hinted`]'s glyph, without collecting its outline (text is measured at
/// many sizes while it is fitted, and drawn at one).
pub(crate) fn hinted_advance(data: &[u8], hinters: &Hinters, id: u16, ppem: u32) -> Option<f32> {
    draw(data, hinters, id, ppem, &mut Discard)
}

/// A pen that keeps nothing.
struct Discard;

impl OutlinePen for Discard {
    fn move_to(&mut self, _: f32, _: f32) {}
    fn line_to(&mut self, _: f32, _: f32) {}
    fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {}
    fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {}
    fn close(&mut self) {}
}

/// Draws glyph `id` hinted at `ppem` into `pen`; returns its advance in whole pixels.
fn draw(
    data: &[u8],
    hinters: &Hinters,
    id: u16,
    ppem: u32,
    pen: &mut impl OutlinePen,
) -> Option<f32> {
    let font = skrifa::FontRef::new(data).ok()?;
    let instance = hinters.get(&font, ppem)?;
    let outlines = font.outline_glyphs();
    let glyph = outlines.get(skrifa::GlyphId::new(u32::from(id)))?;
    let metrics = glyph
        .draw(DrawSettings::hinted(&instance, false), pen)
        .ok()?;
    let advance = match metrics.advance_width {
        Some(a) => a,
        None => font
            .glyph_metrics(Size::new(ppem as f32), LocationRef::default())
            .advance_width(skrifa::GlyphId::new(u32::from(id)))
            .unwrap_or(0.0),
    };
    Some(advance.round().max(0.0))
}
