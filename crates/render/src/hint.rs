//! Hinted outlines for 1-bit glyphs (issue 10): skrifa grid-fits a glyph for a monochrome
//! target — with the font's TrueType bytecode where it has some, with skrifa's autohinter
//! otherwise — and hands back the outline in pixels, and the rounded advance.
//!
//! Building a hinting instance runs the font's setup programs (or the autohinter's analysis
//! of the whole font), so instances are kept per face and pixel size ([`Hinters`]).
//!
//! Autohinted ideographs (Han, kana, Hangul, CJK punctuation) at up to [`LIGHT_UP_TO`] pixels
//! are hinted light: vertical only, like FreeType's `FT_LOAD_TARGET_LIGHT`. At those sizes a
//! hanzi has about one pixel per stroke across, and fitting its vertical stems to the grid
//! as well (the strong `Mono` target) pushes neighbouring strokes together; light hinting
//! keeps their spacing and leaves thin stems to the rasteriser's dropout control. Measured
//! with `tools/legibility` (see its README): on 53 names held out from the choice, OCR
//! recall at 10/11/12 px went from 0.569/0.731/0.733 to 0.628/0.792/0.817 (FreeType mono
//! 0.596/0.715/0.783). Latin keeps `Mono` at every size (light read worse there: 0.969
//! against 0.996 at 8 px), and so does every glyph from 13 px (light read worse at 13 and
//! 16 px), and every font with its own bytecode, whose hints were written for the target
//! they ask for.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph_rasterizer::{Point, point};
use skrifa::MetadataProvider as _;
use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{
    DrawSettings, Engine, HintingInstance, HintingOptions, OutlinePen, SmoothMode, Target,
};
use skrifa::raw::TableProvider as _;

/// One piece of a hinted outline, in pixels, y downwards, relative to the glyph's origin.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Segment {
    Line(Point, Point),
    Quad(Point, Point, Point),
    Cubic(Point, Point, Point, Point),
}

/// Ideographs of autohinted fonts are hinted light up to this many pixels per em (see the
/// module's documentation).
pub(crate) const LIGHT_UP_TO: u32 = 12;

/// The hinting instances of one face, by pixel size and whether light; `None` records a
/// size at which the font cannot be hinted (its glyphs are then drawn unhinted).
#[derive(Default)]
pub(crate) struct Hinters {
    by_ppem: Mutex<HashMap<(u32, bool), Kept>>,
    /// Whether the font has bytecode, and for each glyph id whether the font's character
    /// map reaches it from an ideograph; built on first use.
    kind: OnceLock<FontKind>,
}

/// A hinting instance, or `None` where the font cannot be hinted at that size.
type Kept = Option<Arc<HintingInstance>>;

/// What decides a glyph's hinting target, per face.
struct FontKind {
    bytecode: bool,
    ideographs: Vec<bool>,
}

/// Han (with extension A and compatibility ideographs), kana, Hangul syllables and jamo, CJK
/// symbols and punctuation, and the full-width forms.
fn is_ideographic(c: u32) -> bool {
    matches!(c,
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3130..=0x318F
        | 0x3190..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

impl fmt::Debug for Hinters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes = self.by_ppem.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "Hinters({sizes} sizes)")
    }
}

impl Hinters {
    /// The face's [`FontKind`], read from `font` on first use.
    fn kind(&self, font: &skrifa::FontRef<'_>) -> &FontKind {
        self.kind.get_or_init(|| {
            let glyphs = font.maxp().map_or(0, |m| usize::from(m.num_glyphs()));
            let mut ideographs = vec![false; glyphs];
            for (c, g) in font.charmap().mappings() {
                if is_ideographic(c) {
                    if let Some(cell) = ideographs.get_mut(g.to_u32() as usize) {
                        *cell = true;
                    }
                }
            }
            // As `Engine::AutoFallback` decides: the font's own bytecode where FreeType
            // would run it (or where the font cannot do without it), else the autohinter.
            let outlines = font.outline_glyphs();
            FontKind {
                bytecode: outlines.prefer_interpreter() || outlines.require_interpreter(),
                ideographs,
            }
        })
    }

    /// Whether glyph `id` is hinted light at `ppem` (see the module's documentation).
    fn light(&self, font: &skrifa::FontRef<'_>, id: u16, ppem: u32) -> bool {
        if ppem > LIGHT_UP_TO {
            return false;
        }
        let kind = self.kind(font);
        !kind.bytecode
            && kind
                .ideographs
                .get(usize::from(id))
                .copied()
                .unwrap_or(false)
    }

    /// The instance for `ppem`, light or not, built on first use.
    fn get(
        &self,
        font: &skrifa::FontRef<'_>,
        ppem: u32,
        light: bool,
    ) -> Option<Arc<HintingInstance>> {
        let key = (ppem, light);
        if let Some(kept) = self.by_ppem.lock().ok().and_then(|m| m.get(&key).cloned()) {
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
            target: if light {
                SmoothMode::Light.into()
            } else {
                Target::Mono
            },
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
            m.insert(key, made.clone());
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

/// Whether glyph `id` of the font in `data` is hinted light at `ppem` (an autohinted
/// ideograph at a small size; see the module's documentation).
pub(crate) fn is_light(data: &[u8], hinters: &Hinters, id: u16, ppem: u32) -> bool {
    skrifa::FontRef::new(data).is_ok_and(|font| hinters.light(&font, id, ppem))
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
    let instance = hinters.get(&font, ppem, hinters.light(&font, id, ppem))?;
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
