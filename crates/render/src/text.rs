//! Text layout: font fallback, kerning, wrapping, shrink-to-fit, ellipsis; and drawing the
//! laid-out glyphs crisply on a 1-bit canvas.

use ab_glyph::{Font, GlyphId, point};
use esl_model::Ink;

use crate::fonts::{Face, FontBook};
use crate::raster::{Canvas, Rect};
use crate::template::{HAlign, VAlign};

/// A glyph placed on a line: `x` is the pen position from the line's start, in pixels;
/// `style` is the index of the span style it is set in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placed {
    pub style: usize,
    pub face: usize,
    pub id: GlyphId,
    pub x: f32,
}

/// The font chain of an element, resolved to book indices, and whether its glyphs are
/// hinted (grid-fitted, with whole-pixel advances) or drawn from the plain outlines.
#[derive(Clone, Debug)]
pub(crate) struct Chain(pub Vec<usize>, pub bool);

/// How one span of a text is laid out: its fonts and size (its ink matters only when it is
/// drawn). A plain text is one span in the element's style.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpanStyle<'a> {
    pub chain: &'a Chain,
    /// The span's size when the element is set at its full size. When the text shrinks to
    /// fit, every span shrinks in the same proportion.
    pub size: u32,
}

/// A piece of text in one span style (an index into the styles).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run<'a> {
    pub text: &'a str,
    pub style: usize,
}

/// The size of each style when the element, whose full size is `full`, is set at `size`.
fn sizes_at(styles: &[SpanStyle<'_>], full: u32, size: u32) -> Vec<u32> {
    styles
        .iter()
        .map(|s| {
            if s.size == full || full == 0 {
                size.max(1)
            } else {
                let scaled =
                    (u64::from(s.size) * u64::from(size) + u64::from(full) / 2) / u64::from(full);
                u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
            }
        })
        .collect()
}

/// One shaped character: the style, face and glyph chosen for it, its size and its advance
/// (with the kerning against the previous character of the same face and size folded in).
#[derive(Clone, Copy, Debug)]
struct Shaped {
    ch: char,
    style: usize,
    face: usize,
    id: GlyphId,
    size: u32,
    advance: f32,
}

/// Characters no font of the chain has, in order of first appearance.
pub(crate) type Missing = Vec<char>;

/// Picks a face for every character and measures it; `sizes` gives each style's size.
/// Line feeds are kept (with no advance) so that wrapping can start a new paragraph there.
fn shape(
    book: &FontBook,
    styles: &[SpanStyle<'_>],
    runs: &[Run<'_>],
    sizes: &[u32],
    missing: &mut Missing,
) -> Vec<Shaped> {
    let mut out: Vec<Shaped> = Vec::with_capacity(runs.iter().map(|r| r.text.len()).sum());
    for run in runs {
        let Some(style) = styles.get(run.style) else {
            continue;
        };
        let size = sizes.get(run.style).copied().unwrap_or(style.size).max(1);
        let primary = style.chain.0.first().copied().unwrap_or(0);
        for ch in run.text.chars() {
            let ch = if ch == '\t' { ' ' } else { ch };
            if ch == '\n' {
                out.push(Shaped {
                    ch,
                    style: run.style,
                    face: primary,
                    id: GlyphId(0),
                    size,
                    advance: 0.0,
                });
                continue;
            }
            let found = style
                .chain
                .0
                .iter()
                .find_map(|&f| book.face(f).glyph(ch).map(|id| (f, id)));
            let (chosen, id) = match found {
                Some(x) => x,
                None => {
                    if ch.is_control() {
                        continue;
                    }
                    if !missing.contains(&ch) {
                        missing.push(ch);
                    }
                    (primary, GlyphId(0))
                }
            };
            let face = book.styled(primary, chosen);
            let f = book.face(face);
            let hint = style.chain.1;
            if let Some(prev) = out.last_mut() {
                if prev.face == face && prev.size == size && prev.ch != '\n' {
                    let kern = f.kern(prev.id, id, size as f32);
                    // Hinted glyphs stand at whole pixels: the kerning is rounded too.
                    prev.advance += if hint { kern.round() } else { kern };
                }
            }
            out.push(Shaped {
                ch,
                style: run.style,
                face,
                id,
                size,
                advance: advance(f, id, size, hint),
            });
        }
    }
    out
}

/// The advance of glyph `id` at `size`: the hinted one (whole pixels, from the same mask
/// that is drawn) or the outline's.
fn advance(face: &Face, id: GlyphId, size: u32, hint: bool) -> f32 {
    if hinting(hint, size) {
        face.glyphs
            .advance_or_make(id, size, || hinted_advance(face, id, size))
    } else {
        face.advance(id, size).max(0.0)
    }
}

/// Em sizes up to which glyphs are hinted: above, grid-fitting changes no visible pixel of a
/// 1-bit glyph, and each size would cost a hinting instance. Every hinted mask can be kept.
const MAX_HINTED_SIZE: u32 = MAX_CACHED_SIZE;

/// Whether a glyph asked for `hint` at `size` is hinted ([`MAX_HINTED_SIZE`]).
fn hinting(hint: bool, size: u32) -> bool {
    hint && size <= MAX_HINTED_SIZE
}

/// The advance of a hinted glyph: the advance [`glyph_mask`] gives its mask, without drawing
/// it (text is measured at every size it is tried at while it is fitted, and drawn at one).
fn hinted_advance(face: &Face, id: GlyphId, size: u32) -> f32 {
    match crate::hint::hinted_advance(face.data.bytes(), &face.hinters, id.0, size) {
        Some(a) => a + face.embolden(size).0 as f32,
        None => face.advance(id, size).max(0.0).round(),
    }
}

/// The line segmenter: UAX #14, with dictionaries for the scripts written without spaces
/// between words (Thai, Lao, Khmer, Burmese). Built once from the compiled-in data.
fn line_segmenter() -> icu_segmenter::LineSegmenterBorrowed<'static> {
    icu_segmenter::LineSegmenter::new_dictionary(icu_segmenter::options::LineBreakOptions::default())
}

/// The break opportunities of a paragraph by the Unicode line-breaking algorithm (UAX #14):
/// `at[i]` says a line may start at character `i` (for `0 < i < len`). It covers spaces,
/// hyphens, slashes, Chinese and Japanese between characters (never before closing
/// punctuation or after opening punctuation), Hangul between words, no-break spaces, and
/// Thai, Lao, Khmer and Burmese between words (found with ICU4X's dictionaries).
fn break_points(para: &[Shaped]) -> Vec<bool> {
    let text: String = para.iter().map(|s| s.ch).collect();
    let starts: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    let mut at = vec![false; para.len() + 1];
    for byte in line_segmenter().segment_str(&text) {
        if let Ok(i) = starts.binary_search(&byte) {
            at[i] = true;
        }
    }
    at
}

/// A laid-out line: its glyphs, width in pixels and text; `size` is its largest span size
/// and `lead` the style of the first span at that size (its font sets the baseline).
#[derive(Clone, Debug, Default)]
pub(crate) struct Line {
    pub glyphs: Vec<Placed>,
    pub width: f32,
    pub text: String,
    pub size: u32,
    pub lead: usize,
    chars: Vec<Shaped>,
}

/// A line of `chars`, trimmed of spaces at both ends; an empty line is `empty_size` high.
fn make_line(chars: &[Shaped], empty_size: u32) -> Line {
    let start = chars
        .iter()
        .position(|s| s.ch != ' ')
        .unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|s| s.ch != ' ')
        .map_or(start, |e| e + 1);
    let chars = &chars[start..end];
    let mut pen = 0.0;
    let mut line = Line {
        size: empty_size.max(1),
        ..Line::default()
    };
    if let Some(biggest) = chars.iter().map(|s| s.size).max() {
        line.size = biggest;
        line.lead = chars
            .iter()
            .find(|s| s.size == biggest)
            .map_or(0, |s| s.style);
    }
    for (i, s) in chars.iter().enumerate() {
        if s.ch == '\n' {
            continue;
        }
        line.glyphs.push(Placed {
            style: s.style,
            face: s.face,
            id: s.id,
            x: pen,
        });
        line.text.push(s.ch);
        // The kerning folded into the last glyph's advance does not count at line end.
        pen += if i + 1 == chars.len() {
            s.advance.max(0.0)
        } else {
            s.advance
        };
    }
    line.width = pen;
    line.chars = chars.to_vec();
    line
}

/// Greedy line breaking of one paragraph from character `from`: the ranges of its lines.
/// With `split_words`, a word wider than the line is cut between characters; without it
/// such a word makes the layout fail (`None`).
fn greedy(
    para: &[Shaped],
    breaks: &[bool],
    from: usize,
    max_width: f32,
    split_words: bool,
) -> Option<Vec<(usize, usize)>> {
    let mut lines = Vec::new();
    let mut start = from;
    while start < para.len() {
        // Skip leading spaces of a wrapped line.
        while start < para.len() && para[start].ch == ' ' && start > 0 {
            start += 1;
        }
        if start >= para.len() {
            break;
        }
        let mut width = 0.0;
        let mut last_break: Option<usize> = None; // index where the next line starts
        let mut end = start;
        while end < para.len() {
            let s = para[end];
            if end > start && breaks[end] {
                last_break = Some(end);
            }
            if s.ch != ' ' && width + s.advance > max_width + 0.01 && end > start {
                break;
            }
            width += s.advance;
            end += 1;
        }
        if end >= para.len() {
            lines.push((start, para.len()));
            break;
        }
        let cut = match last_break {
            Some(b) if b > start => b,
            _ if split_words => end.max(start + 1),
            _ => return None,
        };
        lines.push((start, cut));
        start = cut;
    }
    Some(lines)
}

/// Lines of one paragraph: greedy, then, line by line, a break at a space preferred to a
/// break inside a run of Chinese (or after a hyphen) when it costs no extra line — so
/// "Jasmine Green Tea 茉莉花茶" breaks as "Jasmine Green Tea / 茉莉花茶", not "… Tea 茉莉 / 花茶".
fn wrap_paragraph(
    para: &[Shaped],
    max_width: f32,
    split_words: bool,
) -> Option<Vec<(usize, usize)>> {
    let breaks = break_points(para);
    let mut lines = greedy(para, &breaks, 0, max_width, split_words)?;
    let at_space = |b: usize| b > 0 && para[b - 1].ch == ' ';
    let mut k = 0;
    while k + 1 < lines.len() {
        let (start, cut) = lines[k];
        if !at_space(cut) {
            let space = (start + 1..cut).rev().find(|&b| breaks[b] && at_space(b));
            if let Some(b) = space {
                if let Some(rest) = greedy(para, &breaks, b, max_width, split_words) {
                    if k + 1 + rest.len() <= lines.len() {
                        lines.truncate(k);
                        lines.push((start, b));
                        lines.extend(rest);
                    }
                }
            }
        }
        k += 1;
    }
    Some(lines)
}

/// Line breaking: paragraphs at line feeds, each wrapped to `max_width` (see
/// [`wrap_paragraph`]). Empty lines are `size` high.
fn wrap(shaped: &[Shaped], max_width: f32, split_words: bool, size: u32) -> Option<Vec<Line>> {
    let mut lines = Vec::new();
    for para in shaped.split(|s| s.ch == '\n') {
        if para.is_empty() {
            lines.push(make_line(&[], size));
            continue;
        }
        for (start, end) in wrap_paragraph(para, max_width, split_words)? {
            lines.push(make_line(&para[start..end], size));
        }
    }
    if lines.is_empty() {
        lines.push(make_line(&[], size));
    }
    Some(lines)
}

/// A text block laid out in a box.
#[derive(Clone, Debug)]
pub(crate) struct TextLayout {
    /// The element's size chosen (its spans scale with it).
    pub size: u32,
    /// The size of each span style at that size.
    pub sizes: Vec<u32>,
    pub lines: Vec<(Line, i32, i32)>, // line, x of its start, baseline y
    pub truncated: Option<String>,
    pub missing: Missing,
}

/// The parameters of a text box.
pub(crate) struct TextBox<'a> {
    pub bounds: Rect,
    /// The span styles; a plain text has one, at `size`.
    pub styles: &'a [SpanStyle<'a>],
    pub size: u32,
    pub min_size: u32,
    pub max_lines: u32,
    pub line_spacing: f32,
    pub align: HAlign,
    pub valign: VAlign,
}

fn pitch(size: u32, spacing: f32) -> i32 {
    ((size as f32 * spacing).round() as i32).max(1)
}

/// The height of a block of lines: each line's pitch is set by its largest span, and the
/// last line counts only its em height.
fn block_height(lines: &[Line], spacing: f32) -> i32 {
    match lines.split_last() {
        None => 0,
        Some((last, rest)) => rest
            .iter()
            .map(|l| pitch(l.size, spacing))
            .fold(last.size as i32, i32::saturating_add),
    }
}

/// Fits `runs` in the box: the largest size from `size` down to `min_size` at which the
/// text wraps into at most `max_lines` lines that fit the box; failing that, `min_size`
/// with the overflow cut and an ellipsis. Spans scale with the element's size.
pub(crate) fn layout(book: &FontBook, tb: &TextBox<'_>, runs: &[Run<'_>]) -> TextLayout {
    let max_w = tb.bounds.width() as f32;
    let max_h = tb.bounds.height();
    let full = tb.size.max(1);
    let min = tb.min_size.clamp(1, full);
    let mut missing = Missing::new();
    for size in (min..=full).rev() {
        let sizes = sizes_at(tb.styles, full, size);
        let shaped = shape(book, tb.styles, runs, &sizes, &mut missing);
        if let Some(lines) = wrap(&shaped, max_w, false, size) {
            if lines.len() <= tb.max_lines.max(1) as usize
                && block_height(&lines, tb.line_spacing) <= max_h
            {
                return place(book, tb, (size, sizes), lines, None, missing);
            }
        }
    }
    // Does not fit at the smallest size: cut what does not fit and end with an ellipsis.
    let size = min;
    let sizes = sizes_at(tb.styles, full, size);
    let shaped = shape(book, tb.styles, runs, &sizes, &mut missing);
    let mut lines = wrap(&shaped, max_w, true, size).unwrap_or_default();
    let mut room = (tb.max_lines.max(1) as usize).min(lines.len().max(1));
    while room > 1 && block_height(&lines[..room.min(lines.len())], tb.line_spacing) > max_h {
        room -= 1;
    }
    let overflow = lines.len() > room || lines.iter().any(|l| l.width > max_w + 0.01);
    lines.truncate(room);
    let mut truncated = None;
    if overflow {
        if let Some(last) = lines.pop() {
            let cut = ellipsize(book, tb.styles, &sizes, &last, max_w, &mut missing);
            truncated = Some(
                lines
                    .iter()
                    .map(|l| l.text.as_str())
                    .chain([cut.text.as_str()])
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            lines.push(cut);
        }
    }
    place(book, tb, (size, sizes), lines, truncated, missing)
}

/// The longest prefix of `line` that fits with `…` after it, the mark set in the style of
/// the last character kept.
fn ellipsize(
    book: &FontBook,
    styles: &[SpanStyle<'_>],
    sizes: &[u32],
    line: &Line,
    max_w: f32,
    missing: &mut Missing,
) -> Line {
    let chars = &line.chars;
    for keep in (0..=chars.len()).rev() {
        let kept = &chars[..keep];
        let kept = &kept[..kept.iter().rposition(|s| s.ch != ' ').map_or(0, |e| e + 1)];
        let style = kept.last().or(chars.first()).map_or(0, |s| s.style);
        let has_ellipsis = styles.get(style).is_some_and(|st| {
            st.chain
                .0
                .iter()
                .any(|&f| book.face(f).glyph('…').is_some())
        });
        let mark = if has_ellipsis { "…" } else { "..." };
        // Re-shape the kept characters as runs so that kerning and fallback stay as they were.
        let mut texts: Vec<(usize, String)> = Vec::new();
        for s in kept {
            match texts.last_mut() {
                Some((st, text)) if *st == s.style => text.push(s.ch),
                _ => texts.push((s.style, s.ch.to_string())),
            }
        }
        match texts.last_mut() {
            Some((st, text)) if *st == style => text.push_str(mark),
            _ => texts.push((style, mark.to_owned())),
        }
        let runs: Vec<Run<'_>> = texts
            .iter()
            .map(|(style, text)| Run {
                text,
                style: *style,
            })
            .collect();
        let shaped = shape(book, styles, &runs, sizes, missing);
        let cut = make_line(&shaped, line.size);
        if cut.width <= max_w + 0.01 || keep == 0 {
            return cut;
        }
    }
    Line::default()
}

fn place(
    book: &FontBook,
    tb: &TextBox<'_>,
    (size, sizes): (u32, Vec<u32>),
    lines: Vec<Line>,
    truncated: Option<String>,
    missing: Missing,
) -> TextLayout {
    let block = block_height(&lines, tb.line_spacing);
    let b = tb.bounds;
    let top = match tb.valign {
        VAlign::Top => b.y0,
        VAlign::Middle => b.y0 + (b.height() - block).div_euclid(2),
        VAlign::Bottom => b.y1 - block,
    };
    let mut line_top = top;
    let placed = lines
        .into_iter()
        .map(|line| {
            let w = line.width.round() as i32;
            let x = match tb.align {
                HAlign::Left => b.x0,
                HAlign::Center => b.x0 + (b.width() - w).div_euclid(2),
                HAlign::Right => b.x1 - w,
            };
            let lead = tb
                .styles
                .get(line.lead)
                .and_then(|s| s.chain.0.first().copied())
                .unwrap_or(0);
            let rise = line.size as f32 * book.face(lead).baseline_ratio;
            // Hinting rounds the tops of ascenders and dots up to whole pixels (the dot of
            // Noto Sans Bold's "i" at 12 px rises to 10 px above the baseline, where the em
            // box's top is 9.4 px above it), so a hinted line's baseline is the pixel at or
            // below the em box's: rounded, a first line's dots fell outside its box.
            let hinted = tb.styles.get(line.lead).is_some_and(|s| s.chain.1);
            let rise = if hinted { rise.ceil() } else { rise.round() };
            let baseline = line_top + rise as i32;
            line_top += pitch(line.size, tb.line_spacing);
            (line, x, baseline)
        })
        .collect();
    TextLayout {
        size,
        sizes,
        lines: placed,
        truncated,
        missing,
    }
}

/// Coverage at or above which a pixel is inked.
const INK: f32 = 0.5;
/// Coverage at which a thin stroke still gets a pixel (dropout control).
const DROPOUT: f32 = 0.2;

/// Whether a glyph pixel is inked, from its coverage and its four neighbours'.
///
/// Outlines are not hinted, so a stroke thinner than a pixel, or one that straddles two
/// pixels, can cover less than half of every pixel it touches and vanish at a plain 50%
/// threshold: small text loses strokes, and small Chinese loses whole radicals. Like the
/// dropout control of TrueType rasterisers, a pixel below the threshold is still inked when
/// it is the strongest across a thin stroke: at least `DROPOUT` covered, at least as covered
/// as the neighbour on one side and more than the other, with neither neighbour inked. This
/// keeps every stroke at least one pixel wide without thickening strokes that already show.
fn inked(c: f32, left: f32, right: f32, up: f32, down: f32) -> bool {
    if c >= INK {
        return true;
    }
    if c < DROPOUT {
        return false;
    }
    let across = |a: f32, b: f32| a < INK && b < INK && ((c >= a && c > b) || (c > a && c >= b));
    across(left, right) || across(up, down)
}

/// One row's run of inked pixels of a glyph, relative to the glyph's origin (the pen
/// position on the baseline): pixels `dx0..dx1` of row `dy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GlyphRun {
    dy: i32,
    dx0: i32,
    dx1: i32,
}

/// A glyph's inked pixels at one em size, as runs relative to its origin.
///
/// Glyphs are always placed at whole pixels, so a glyph's pixels are the same wherever it
/// stands: one mask serves every label.
#[derive(Debug, PartialEq)]
pub(crate) struct GlyphMask {
    runs: Vec<GlyphRun>,
    /// The advance in pixels: whole pixels when hinted.
    advance: f32,
}

/// Em sizes up to which glyph masks are kept: label text. Larger glyphs (a poster price)
/// are rasterised each time; they are few and would fill the budget quickly.
const MAX_CACHED_SIZE: u32 = 256;
/// Bytes of glyph masks one face keeps, at most: about 30,000 glyphs of label text. Once
/// full, further glyphs are rasterised each time (the same pixels, only slower).
const GLYPH_CACHE_BYTES: usize = 16 << 20;

/// The glyph masks of one face, keyed by glyph, em size and hinting, shared across labels
/// and threads and bounded in memory ([`GLYPH_CACHE_BYTES`]). A cached mask is the mask [`glyph_mask`] makes, so output does not
/// depend on what is cached, on the order labels are drawn in, or on the thread count.
#[derive(Debug, Default)]
pub(crate) struct GlyphCache {
    #[allow(clippy::type_complexity)]
    masks:
        std::sync::RwLock<std::collections::HashMap<(u16, u32, bool), std::sync::Arc<GlyphMask>>>,
    bytes: std::sync::atomic::AtomicUsize,
    /// Hinted advances by glyph and em size, at most [`MAX_CACHED_ADVANCES`].
    advances: std::sync::RwLock<std::collections::HashMap<(u16, u32), f32>>,
}

/// Hinted advances one face keeps, at most (about 8 MB).
const MAX_CACHED_ADVANCES: usize = 1 << 18;

impl GlyphCache {
    /// The mask of glyph `id` at `size`, hinted or not, made by `make` unless kept.
    fn get_or_make(
        &self,
        id: GlyphId,
        size: u32,
        hint: bool,
        make: impl FnOnce() -> GlyphMask,
    ) -> std::sync::Arc<GlyphMask> {
        use std::sync::atomic::Ordering::Relaxed;
        let key = (id.0, size, hint);
        // A poisoned lock (a panic elsewhere while writing) only turns the cache off.
        if let Some(m) = self.masks.read().ok().and_then(|m| m.get(&key).cloned()) {
            return m;
        }
        let mask = std::sync::Arc::new(make());
        let cost = mask.runs.len() * std::mem::size_of::<GlyphRun>() + 64;
        if size <= MAX_CACHED_SIZE && self.bytes.load(Relaxed) + cost <= GLYPH_CACHE_BYTES {
            if let Ok(mut masks) = self.masks.write() {
                if masks.insert(key, mask.clone()).is_none() {
                    self.bytes.fetch_add(cost, Relaxed);
                }
            }
        }
        mask
    }

    /// The hinted advance of glyph `id` at `size`, made by `make` unless kept.
    fn advance_or_make(&self, id: GlyphId, size: u32, make: impl FnOnce() -> f32) -> f32 {
        let key = (id.0, size);
        if let Some(a) = self.advances.read().ok().and_then(|m| m.get(&key).copied()) {
            return a;
        }
        let a = make();
        if let Ok(mut advances) = self.advances.write() {
            if advances.len() < MAX_CACHED_ADVANCES {
                advances.insert(key, a);
            }
        }
        a
    }

    /// How many masks are kept (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.masks.read().map(|m| m.len()).unwrap_or(0)
    }
}

/// The inked pixels of glyph `id` of `face` at em size `size`, its origin at `(x, y)`:
/// coverage from the outline, then [`inked`] per pixel. Returns the grid's top-left corner,
/// its width and the grid, row by row.
fn inked_grid(
    face: &Face,
    id: GlyphId,
    size: u32,
    (x, y): (i32, i32),
) -> ((i32, i32), usize, Vec<bool>) {
    let glyph = id.with_scale_and_position(face.scale(size as f32), point(x as f32, y as f32));
    let Some(outlined) = face.font.outline_glyph(glyph) else {
        return ((0, 0), 0, Vec::new());
    };
    let bounds = outlined.px_bounds();
    let corner = (bounds.min.x as i32, bounds.min.y as i32);
    let w = (bounds.max.x - bounds.min.x).max(0.0) as usize;
    let h = (bounds.max.y - bounds.min.y).max(0.0) as usize;
    let mut cov = vec![0f32; w * h];
    outlined.draw(|gx, gy, c| {
        if let Some(v) = cov.get_mut(gy as usize * w + gx as usize) {
            *v = c;
        }
    });
    (corner, w, ink_of(&cov, w, h))
}

/// The inked pixels of a hinted outline (origin at (0, 0)), as FreeType's monochrome
/// rasteriser draws a hinted glyph (the reference users compare with, issue 10): a pixel is
/// inked when its centre lies inside the outline (non-zero winding), and dropout control
/// keeps thin strokes: where a stroke crosses a row (or a column) of pixel centres without
/// covering one, the pixel under the middle of the crossing is inked, unless the crossing is
/// a stub — the stroke does not go on to both neighbouring rows (columns), as at the tip of a
/// contour, where inking would add a spur (FreeType's dropout mode without stubs), or unless
/// `keep_stubs` (small sizes, [`STUBS_KEPT_UP_TO`]). A filled contour that inks nothing at
/// all (the dot of an "i") keeps its stubs anyway.
///
/// Measured against FreeType (Pillow `fontmode = "1"`) on the legibility tool's 23 Chinese
/// names: at 12–14 px ink within 0.6% of FreeType's and 47–66% fewer pixels differing than
/// with coverage thresholding; at 10–11 px, where stubs are kept, 19–25% fewer
/// (`tools/legibility/README.md`).
///
/// Returns the grid's top-left corner, its width and the grid, row by row (empty for an
/// empty or absurd outline).
fn hinted_grid(
    segments: &[crate::hint::Segment],
    keep_stubs: bool,
) -> ((i32, i32), usize, Vec<bool>) {
    let edges = flatten(segments);
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(a, b) in &edges {
        for p in [a, b] {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
    }
    if !(x0 < x1 && y0 < y1) || x1 - x0 > 4096.0 || y1 - y0 > 4096.0 {
        return ((0, 0), 0, Vec::new());
    }
    let (cx, cy) = (x0.floor() as i32, y0.floor() as i32);
    let w = (x1.ceil() as i32 - cx) as usize;
    let h = (y1.ceil() as i32 - cy) as usize;
    let mut grid = vec![false; w * h];
    // The spans inside the outline along the rows (columns) of pixel centres, with one row
    // (column) more on each side for the stub test.
    let rows: Vec<Vec<(f32, f32)>> = (-1..=h as i32)
        .map(|gy| spans(&edges, Axis::Row, (cy + gy) as f32 + 0.5))
        .collect();
    let cols: Vec<Vec<(f32, f32)>> = (-1..=w as i32)
        .map(|gx| spans(&edges, Axis::Column, (cx + gx) as f32 + 0.5))
        .collect();
    let mut ink = |gx: i32, gy: i32| kept_ink(&mut grid, w, h, (gx, gy));
    // What a crossing `a..b` of a row or column starting at `origin` inks: the pixel
    // centres it covers (a ≤ k + 0.5 ≤ b); or, covering none, the pixel under its middle,
    // as a dropout, or as a stub when the stroke does not go on to both neighbours.
    let crossing =
        |(a, b): (f32, f32), origin: i32, before: &[(f32, f32)], after: &[(f32, f32)]| {
            let (first, last) = (
                (a - 0.5).ceil() as i32 - origin,
                (b - 0.5).floor() as i32 - origin,
            );
            let mid = ((a + b) / 2.0).floor() as i32 - origin;
            if first <= last {
                Crossing::Covers(first, last)
            } else if keep_stubs || (overlaps(before, a, b) && overlaps(after, a, b)) {
                Crossing::Dropout(mid)
            } else {
                Crossing::Stub(mid)
            }
        };
    let mut stubs: Vec<(i32, i32)> = Vec::new();
    for gy in 0..h {
        for &span in &rows[gy + 1] {
            match crossing(span, cx, &rows[gy], &rows[gy + 2]) {
                Crossing::Covers(first, last) => (first..=last).for_each(|gx| ink(gx, gy as i32)),
                Crossing::Dropout(gx) => ink(gx, gy as i32),
                Crossing::Stub(gx) => stubs.push((gx, gy as i32)),
            }
        }
    }
    // Columns add only their dropouts: the centres they cover, the rows inked already.
    for gx in 0..w {
        for &span in &cols[gx + 1] {
            match crossing(span, cy, &cols[gx], &cols[gx + 2]) {
                Crossing::Covers(..) => {}
                Crossing::Dropout(gy) => ink(gx as i32, gy),
                Crossing::Stub(gy) => stubs.push((gx as i32, gy)),
            }
        }
    }
    // A filled contour that inked nothing (the dot of an "i" thinner than a pixel both ways)
    // keeps its stubs, or failing those the pixel at its middle: no part of a glyph vanishes.
    for (x0, y0, x1, y1) in vanishing_contours(segments) {
        let (gx0, gy0) = (x0.floor() as i32 - cx, y0.floor() as i32 - cy);
        let (gx1, gy1) = (x1.ceil() as i32 - cx, y1.ceil() as i32 - cy);
        let inside = |&(gx, gy): &(i32, i32)| (gx0..gx1).contains(&gx) && (gy0..gy1).contains(&gy);
        let any_ink = (gy0.max(0)..gy1.min(h as i32)).any(|gy| {
            (gx0.max(0)..gx1.min(w as i32)).any(|gx| grid[gy as usize * w + gx as usize])
        });
        if any_ink {
            continue;
        }
        let kept: Vec<(i32, i32)> = stubs.iter().copied().filter(inside).collect();
        if kept.is_empty() {
            let mid = (
                ((x0 + x1) / 2.0).floor() as i32 - cx,
                ((y0 + y1) / 2.0).floor() as i32 - cy,
            );
            kept_ink(&mut grid, w, h, mid);
        }
        for p in kept {
            kept_ink(&mut grid, w, h, p);
        }
    }
    ((cx, cy), w, grid)
}

/// Inks pixel `(gx, gy)` of a `w` × `h` grid, if it is in the grid.
fn kept_ink(grid: &mut [bool], w: usize, h: usize, (gx, gy): (i32, i32)) {
    if (0..w as i32).contains(&gx) && (0..h as i32).contains(&gy) {
        grid[gy as usize * w + gx as usize] = true;
    }
}

/// What a crossing of a row or column of pixel centres inks (see [`hinted_grid`]).
enum Crossing {
    Covers(i32, i32),
    Dropout(i32),
    Stub(i32),
}

/// The bounding boxes `(x0, y0, x1, y1)` of an outline's filled contours (those wound the
/// way its largest contour is; not its holes) that are less than two pixels across one way
/// or the other: the ones that may ink no pixel. A contour ends where it returns to its
/// first point (the hinter's pen closes every contour so).
fn vanishing_contours(segments: &[crate::hint::Segment]) -> Vec<(f32, f32, f32, f32)> {
    use crate::hint::Segment;
    let mut contours: Vec<((f32, f32, f32, f32), f32)> = Vec::new();
    let mut start = None;
    let (mut bbox, mut area) = ((f32::MAX, f32::MAX, f32::MIN, f32::MIN), 0.0f32);
    for s in segments {
        // The segment's ends and control points (a line's end twice over, a quad's once more).
        let points = match *s {
            Segment::Line(a, b) => [a, b, b, b],
            Segment::Quad(a, b, c) => [a, b, c, c],
            Segment::Cubic(a, b, c, d) => [a, b, c, d],
        };
        let (from, to) = (points[0], points[3]);
        let first = *start.get_or_insert(from);
        for p in points {
            bbox = (
                bbox.0.min(p.x),
                bbox.1.min(p.y),
                bbox.2.max(p.x),
                bbox.3.max(p.y),
            );
        }
        // Twice the signed area by the chords (the curves' bulges do not change the sign).
        area += from.x * to.y - to.x * from.y;
        if to == first {
            contours.push((bbox, area));
            start = None;
            (bbox, area) = ((f32::MAX, f32::MAX, f32::MIN, f32::MIN), 0.0);
        }
    }
    let Some(&(_, largest)) = contours
        .iter()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
    else {
        return Vec::new();
    };
    contours
        .into_iter()
        .filter(|&((x0, y0, x1, y1), a)| {
            a.signum() == largest.signum() && a != 0.0 && (x1 - x0 < 2.0 || y1 - y0 < 2.0)
        })
        .map(|(b, _)| b)
        .collect()
}

/// Em sizes up to which hinted glyphs keep their stubs too. At 10–11 px the short strokes of
/// hanzi (dots, hooks, the ticks of 言 and 氵) are thinner than a pixel both ways, so they are
/// stubs, and dropping them drops strokes; from 12 px a stub is a spur on a stroke that shows
/// anyway. Chosen by measurement (`tools/legibility`, 23 Chinese names): keeping stubs up to
/// 11 px read 0.63/0.75 at 10/11 px against 0.61/0.65 without, and the same at 12–16 px;
/// keeping them at every size read 0.87/0.88 at 13/14 px against 0.92/0.90.
const STUBS_KEPT_UP_TO: u32 = 11;

/// Rows or columns of pixel centres.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    Row,
    Column,
}

/// Whether a span of `spans` comes within half a pixel of `a..b`.
fn overlaps(spans: &[(f32, f32)], a: f32, b: f32) -> bool {
    spans.iter().any(|&(p, q)| p < b + 0.5 && q > a - 0.5)
}

/// The spans inside the outline (non-zero winding) along the line `y = at` (a row) or
/// `x = at` (a column), sorted.
fn spans(
    edges: &[(ab_glyph_rasterizer::Point, ab_glyph_rasterizer::Point)],
    axis: Axis,
    at: f32,
) -> Vec<(f32, f32)> {
    let mut crossings: Vec<(f32, i32)> = Vec::new();
    for &(p, q) in edges {
        let (p0, p1, q0, q1) = match axis {
            Axis::Row => (p.y, p.x, q.y, q.x),
            Axis::Column => (p.x, p.y, q.x, q.y),
        };
        if (p0 <= at) != (q0 <= at) {
            let x = p1 + (at - p0) / (q0 - p0) * (q1 - p1);
            crossings.push((x, if q0 > p0 { 1 } else { -1 }));
        }
    }
    crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let (mut winding, mut start) = (0, 0.0);
    for (x, d) in crossings {
        let inside = winding != 0;
        winding += d;
        if !inside && winding != 0 {
            start = x;
        } else if inside && winding == 0 {
            out.push((start, x));
        }
    }
    out
}

/// A hinted outline as straight edges: curves cut into pieces of about a pixel (2 to 64).
fn flatten(
    segments: &[crate::hint::Segment],
) -> Vec<(ab_glyph_rasterizer::Point, ab_glyph_rasterizer::Point)> {
    use crate::hint::Segment;
    use ab_glyph_rasterizer::Point;
    let lerp = |a: Point, b: Point, t: f32| point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
    let dist = |a: Point, b: Point| ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
    let mut out = Vec::new();
    for s in segments {
        let (steps, at): (usize, Box<dyn Fn(f32) -> Point>) = match *s {
            Segment::Line(a, b) => {
                out.push((a, b));
                continue;
            }
            Segment::Quad(a, b, c) => (
                (dist(a, b) + dist(b, c)) as usize,
                Box::new(move |t| lerp(lerp(a, b, t), lerp(b, c, t), t)),
            ),
            Segment::Cubic(a, b, c, d) => (
                (dist(a, b) + dist(b, c) + dist(c, d)) as usize,
                Box::new(move |t| {
                    let (ab, bc, cd) = (lerp(a, b, t), lerp(b, c, t), lerp(c, d, t));
                    lerp(lerp(ab, bc, t), lerp(bc, cd, t), t)
                }),
            ),
        };
        let steps = steps.clamp(2, 64);
        let mut from = at(0.0);
        for i in 1..=steps {
            let to = at(i as f32 / steps as f32);
            out.push((from, to));
            from = to;
        }
    }
    out
}

/// An inked grid emboldened by `bx` pixels rightwards and `by` upwards: each inked pixel
/// also inks the `bx` pixels to its right and the `by` above it (a dilation, as FreeType's
/// `FT_Bitmap_Embolden`). The grid grows by as much, upwards, so the baseline stays.
fn embolden_grid(
    ((ox, oy), w, grid): ((i32, i32), usize, Vec<bool>),
    bx: u32,
    by: u32,
) -> ((i32, i32), usize, Vec<bool>) {
    if (bx == 0 && by == 0) || w == 0 {
        return ((ox, oy), w, grid);
    }
    let (bx, by) = (bx as usize, by as usize);
    let h = grid.len() / w;
    let nw = w + bx;
    let mut out = vec![false; nw * (h + by)];
    for (i, _) in grid.iter().enumerate().filter(|(_, on)| **on) {
        let (x, y) = (i % w, i / w);
        // Old row y is new row y + by; it inks new rows y..=y + by.
        for ny in y..=y + by {
            out[ny * nw + x..=ny * nw + x + bx].fill(true);
        }
    }
    ((ox, oy - by as i32), nw, out)
}

/// Ink from a `w` × `h` coverage grid, by [`inked`] (threshold and dropout control).
fn ink_of(cov: &[f32], w: usize, h: usize) -> Vec<bool> {
    let at = |x: isize, y: isize| -> f32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0.0
        } else {
            cov[y as usize * w + x as usize]
        }
    };
    let mut grid = Vec::with_capacity(w * h);
    for gy in 0..h as isize {
        for gx in 0..w as isize {
            grid.push(inked(
                at(gx, gy),
                at(gx - 1, gy),
                at(gx + 1, gy),
                at(gx, gy - 1),
                at(gx, gy + 1),
            ));
        }
    }
    grid
}

/// The mask of glyph `id` of `face` at em size `size`, with its origin at (0, 0): hinted
/// when `hint` is set and the font can be hinted, from the plain outline otherwise.
fn glyph_mask(face: &Face, id: GlyphId, size: u32, hint: bool) -> GlyphMask {
    let hint = hinting(hint, size);
    let hinted = if hint {
        crate::hint::hinted(face.data.bytes(), &face.hinters, id.0, size)
    } else {
        None
    };
    let grid = match hinted {
        Some(segments) => {
            // Light-hinted ideographs (up to 12 px) keep their stubs too: their stems are
            // not fitted to the grid, so more of them fall between pixel centres.
            let light = crate::hint::is_light(face.data.bytes(), &face.hinters, id.0, size);
            hinted_grid(&segments, size <= STUBS_KEPT_UP_TO || light)
        }
        None => inked_grid(face, id, size, (0, 0)),
    };
    let (bold_x, bold_y) = face.embolden(size);
    let ((ox, oy), w, grid) = embolden_grid(grid, bold_x, bold_y);
    // The advance layout measures with, so what is drawn is what was measured.
    let advance = advance(face, id, size, hint);
    let mut runs = Vec::new();
    if w == 0 {
        return GlyphMask { runs, advance };
    }
    for (gy, row) in grid.chunks_exact(w).enumerate() {
        let mut open: Option<usize> = None;
        // A blank pixel past the row's end closes its last run.
        for (gx, on) in row.iter().copied().chain([false]).enumerate() {
            match (on, open) {
                (true, None) => open = Some(gx),
                (false, Some(x0)) => {
                    runs.push(GlyphRun {
                        dy: oy + gy as i32,
                        dx0: ox + x0 as i32,
                        dx1: ox + gx as i32,
                    });
                    open = None;
                }
                _ => {}
            }
        }
    }
    GlyphMask { runs, advance }
}

/// Draws one glyph with its origin (pen position on the baseline) at integer `(x, y)`,
/// from the face's glyph cache.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_glyph(
    canvas: &mut Canvas,
    face: &Face,
    id: GlyphId,
    (size, hint): (u32, bool),
    (x, y): (i32, i32),
    ink: Ink,
    clip: Rect,
) {
    let mask = face
        .glyphs
        .get_or_make(id, size, hint, || glyph_mask(face, id, size, hint));
    for r in &mask.runs {
        let row = Rect {
            x0: x.saturating_add(r.dx0),
            y0: y.saturating_add(r.dy),
            x1: x.saturating_add(r.dx1),
            y1: y.saturating_add(r.dy).saturating_add(1),
        };
        canvas.fill_rect(row, ink, clip);
    }
}

/// Thickness of a strike-through line for a font size.
pub(crate) fn strike_thickness(size: u32) -> i32 {
    ((size as f32 / 14.0).round() as i32).max(1)
}

/// The natural size of `runs` at the element's full `size`, in whole pixels: the width of
/// its widest line and the height of the block, at most `max_lines` lines. With
/// `wrap_width`, the text is broken to fit that width (as `layout` would, without
/// shrinking); otherwise only at line feeds.
pub(crate) fn natural(
    book: &FontBook,
    styles: &[SpanStyle<'_>],
    runs: &[Run<'_>],
    (size, line_spacing, max_lines): (u32, f32, u32),
    wrap_width: Option<f32>,
    missing: &mut Missing,
) -> (i32, i32) {
    let size = size.max(1);
    let sizes = sizes_at(styles, size, size);
    let shaped = shape(book, styles, runs, &sizes, missing);
    let lines = match wrap_width {
        Some(w) => wrap(&shaped, w, true, size).unwrap_or_default(),
        None => shaped
            .split(|s| s.ch == '\n')
            .map(|p| make_line(p, size))
            .collect(),
    };
    let n = lines.len().clamp(1, max_lines.max(1) as usize);
    let lines = &lines[..n.min(lines.len())];
    let width = lines.iter().map(|l| l.width).fold(0.0f32, f32::max).ceil() as i32;
    let height = if lines.is_empty() {
        size as i32
    } else {
        block_height(lines, line_spacing)
    };
    (width, height)
}

/// A single run of text at one size, unwrapped: used by prices.
pub(crate) fn run(
    book: &FontBook,
    chain: &Chain,
    text: &str,
    size: u32,
    missing: &mut Missing,
) -> Line {
    let styles = [SpanStyle { chain, size }];
    let shaped = shape(book, &styles, &[Run { text, style: 0 }], &[size], missing);
    make_line(&shaped, size)
}

/// The ink extent of the digit `0` at `size`, in whole pixels: `(above, below)` the
/// baseline (round digits overshoot the baseline slightly), from the first face of the
/// chain that has it.
pub(crate) fn digit_extent(book: &FontBook, chain: &Chain, size: u32) -> (i32, i32) {
    for &f in &chain.0 {
        let face = book.face(f);
        if let Some(id) = face.glyph('0') {
            if chain.1 {
                let mask = face
                    .glyphs
                    .get_or_make(id, size, true, || glyph_mask(face, id, size, true));
                let top = mask.runs.iter().map(|r| r.dy).min().unwrap_or(0);
                let bottom = mask.runs.iter().map(|r| r.dy + 1).max().unwrap_or(0);
                return (-top, bottom.max(0));
            }
            let glyph = id.with_scale_and_position(face.scale(size as f32), point(0.0, 0.0));
            if let Some(o) = face.font.outline_glyph(glyph) {
                let b = o.px_bounds();
                return ((-b.min.y).round() as i32, (b.max.y.round() as i32).max(0));
            }
        }
    }
    ((size as f32 * 0.72).round() as i32, 0)
}

#[cfg(all(test, feature = "embedded-fonts"))]
mod glyph_cache_tests {
    use super::*;
    use esl_model::Palette;

    /// The pixels ab_glyph gives for `id` placed with its origin at `(x, y)` directly,
    /// without the cache: what `draw_glyph` drew before masks were kept.
    fn direct(face: &Face, id: GlyphId, size: u32, at: (i32, i32)) -> Vec<(i32, i32)> {
        let ((ox, oy), w, grid) = inked_grid(face, id, size, at);
        (0..grid.len())
            .filter(|&i| grid[i])
            .map(|i| (ox + (i % w) as i32, oy + (i / w) as i32))
            .collect()
    }

    fn drawn(face: &Face, id: GlyphId, size: u32, at: (i32, i32)) -> Vec<(i32, i32)> {
        let mut c = Canvas::new(120, 120, Palette::BlackWhite, Ink::White);
        let clip = c.bounds();
        draw_glyph(&mut c, face, id, (size, false), at, Ink::Black, clip);
        let black = Palette::BlackWhite.map(Ink::Black) as u8;
        let mut px = Vec::new();
        for y in 0..120 {
            for x in 0..120 {
                if c.pixels[y as usize * 120 + x as usize] == black {
                    px.push((x, y));
                }
            }
        }
        px
    }

    #[test]
    fn cached_masks_draw_the_pixels_of_the_outline_at_any_position() {
        let book = FontBook::bundled();
        for name in ["sans", "sans-bold", "cjk"] {
            let face = book.face(book.index_of(name).unwrap());
            for (c, size) in [('a', 9), ('g', 13), ('W', 20), ('茶', 12), ('8', 31)] {
                let Some(id) = face.glyph(c) else { continue };
                for at in [(10, 40), (37, 41), (58, 90)] {
                    let want = direct(face, id, size, at);
                    assert!(!want.is_empty(), "{name} {c:?} {size} px draws something");
                    assert_eq!(
                        drawn(face, id, size, at),
                        want,
                        "{name} {c:?} {size} px at {at:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn measuring_text_draws_no_glyph_and_large_glyphs_are_not_hinted() {
        let book = FontBook::bundled();
        let [bold, cjk] = ["sans-bold", "cjk"].map(|n| book.index_of(n).unwrap());
        let chain = Chain(vec![bold, cjk], true);
        // What fitting a text does: measure it at every size from large to small. (It made
        // and drew a mask per glyph and size, and took 80 s for one label in release.)
        let mut missing = Missing::new();
        for size in (1..=400).rev() {
            let line = run(&book, &chain, "Tea 茉莉花茶", size, &mut missing);
            assert!(line.width > 0.0);
        }
        for face in [bold, cjk, book.styled(bold, cjk)] {
            assert_eq!(
                book.face(face).glyphs.len(),
                0,
                "masks made while measuring"
            );
        }
        // Above MAX_HINTED_SIZE a glyph asked for hinted is drawn as it is unhinted.
        let face = book.face(bold);
        let id = face.glyph('e').unwrap();
        for size in [MAX_HINTED_SIZE + 1, 400] {
            assert_eq!(
                glyph_mask(face, id, size, true),
                glyph_mask(face, id, size, false)
            );
        }
        assert_ne!(
            glyph_mask(face, id, 12, true),
            glyph_mask(face, id, 12, false),
            "hinting moves pixels at label sizes"
        );
    }

    /// The inked pixels of a mask, relative to its origin.
    fn pixels(m: &GlyphMask) -> std::collections::BTreeSet<(i32, i32)> {
        m.runs
            .iter()
            .flat_map(|r| (r.dx0..r.dx1).map(move |x| (x, r.dy)))
            .collect()
    }

    #[test]
    fn chinese_set_in_a_bold_face_is_drawn_emboldened() {
        let book = FontBook::bundled();
        let [sans, bold, cjk] = ["sans", "sans-bold", "cjk"].map(|n| book.index_of(n).unwrap());
        // Regular text keeps the regular fallback; a bold face keeps its own glyphs.
        assert_eq!(book.styled(sans, cjk), cjk);
        assert_eq!(book.styled(bold, bold), bold);
        let twin = book.styled(bold, cjk);
        assert_ne!(twin, cjk);
        assert_ne!(book.face(twin).content_hash, book.face(cjk).content_hash);

        // Layout: the hanzi of a sans-bold text come from the twin, the Latin from sans-bold.
        let mut missing = Missing::new();
        let line = run(
            &book,
            &Chain(vec![bold, cjk], true),
            "Tea 茉莉花茶",
            12,
            &mut missing,
        );
        let faces: Vec<usize> = line.glyphs.iter().map(|g| g.face).collect();
        assert_eq!(faces, [bold, bold, bold, bold, twin, twin, twin, twin]);
        assert!(missing.is_empty());

        for (size, across, up) in [(10, 1, 0), (12, 1, 0), (16, 1, 0), (24, 1, 1), (48, 2, 2)] {
            for hint in [true, false] {
                for c in ['茶', '灌', '元'] {
                    let id = book.face(cjk).glyph(c).unwrap();
                    let plain = glyph_mask(book.face(cjk), id, size, hint);
                    let emboldened = glyph_mask(book.face(twin), id, size, hint);
                    let (bx, by) = book.face(twin).embolden(size);
                    let at = format!("{c:?} at {size} px, hinted {hint}");
                    assert_eq!((bx, by), (across, up), "{at}");
                    assert_eq!(emboldened.advance, plain.advance + bx as f32, "{at}");
                    // Every pixel of the regular glyph, and those right of and above it.
                    let want: std::collections::BTreeSet<(i32, i32)> = pixels(&plain)
                        .into_iter()
                        .flat_map(|(x, y)| {
                            (0..=bx as i32)
                                .flat_map(move |i| (0..=by as i32).map(move |j| (x + i, y - j)))
                        })
                        .collect();
                    let got = pixels(&emboldened);
                    assert_eq!(got, want, "{at}");
                    // The baseline stays: no ink below the regular glyph's lowest row.
                    let bottom =
                        |p: &std::collections::BTreeSet<(i32, i32)>| p.iter().map(|q| q.1).max();
                    assert_eq!(bottom(&got), bottom(&pixels(&plain)), "{at}");
                    assert!(got.len() > pixels(&plain).len(), "{at}");
                }
            }
        }
    }

    #[test]
    fn small_ideographs_of_autohinted_fonts_are_hinted_light() {
        let book = FontBook::bundled();
        let face = book.face(book.index_of("cjk").unwrap());
        let light = |c: char, size: u32| {
            let id = face.glyph(c).unwrap();
            crate::hint::is_light(face.data.bytes(), &face.hinters, id.0, size)
        };
        for c in ['茶', '，', 'か'] {
            if face.glyph(c).is_none() {
                continue;
            }
            assert!(light(c, 10) && light(c, 12), "{c:?} up to 12 px");
            assert!(!light(c, 13) && !light(c, 16), "{c:?} from 13 px");
        }
        // Latin, in the same font, stays on the strong (mono) target.
        assert!(!light('a', 10) && !light('H', 12));
    }

    #[test]
    fn hinted_glyphs_have_whole_pixel_advances_and_their_own_cache_entries() {
        let book = FontBook::bundled();
        for name in ["sans", "sans-bold", "cjk"] {
            let face = book.face(book.index_of(name).unwrap());
            for (c, size) in [('a', 9), ('H', 11), ('e', 12), ('茶', 12), ('品', 10)] {
                let Some(id) = face.glyph(c) else { continue };
                let before = face.glyphs.len();
                let hinted = face
                    .glyphs
                    .get_or_make(id, size, true, || glyph_mask(face, id, size, true));
                let plain = face
                    .glyphs
                    .get_or_make(id, size, false, || glyph_mask(face, id, size, false));
                assert_eq!(face.glyphs.len(), before + 2, "{name} {c:?} {size} px");
                assert!(!hinted.runs.is_empty(), "{name} {c:?} {size} px draws");
                assert_eq!(hinted.advance.fract(), 0.0, "{name} {c:?} {size} px");
                assert!(hinted.advance > 0.0, "{name} {c:?} {size} px");
                // The hinted advance is the outline's, rounded, give or take the pixel
                // the hinter may add or take away.
                assert!(
                    (hinted.advance - plain.advance).abs() <= 1.5,
                    "{name} {c:?} {size} px: {} vs {}",
                    hinted.advance,
                    plain.advance
                );
            }
        }
    }

    #[test]
    fn a_hinted_vertical_stem_is_one_whole_pixel_column_range() {
        // Grid fitting puts the stem of `l` on whole pixels: every row of it covers the
        // same columns, where an unhinted stem may straddle a pixel boundary.
        let book = FontBook::bundled();
        let face = book.face(book.index_of("sans").unwrap());
        let id = face.glyph('l').unwrap();
        for size in 9..=16 {
            let m = glyph_mask(face, id, size, true);
            let first = m.runs[0];
            assert!(
                m.runs
                    .iter()
                    .all(|r| (r.dx0, r.dx1) == (first.dx0, first.dx1)),
                "{size} px: {:?}",
                m.runs
            );
        }
    }

    #[test]
    fn label_sizes_are_kept_once_and_poster_sizes_are_not() {
        let book = FontBook::bundled();
        let face = book.face(book.index_of("sans").unwrap());
        let id = face.glyph('k').unwrap();
        // A book of its own: its faces' caches are this test's alone.
        let before = face.glyphs.len();
        assert_eq!(before, 0);
        let a = drawn(face, id, 17, (20, 60));
        let b = drawn(face, id, 17, (20, 60));
        assert_eq!(a, b);
        assert_eq!(face.glyphs.len(), before + 1);
        let mut c = Canvas::new(8, 8, Palette::BlackWhite, Ink::White);
        let clip = c.bounds();
        draw_glyph(
            &mut c,
            face,
            id,
            (MAX_CACHED_SIZE + 1, false),
            (0, 0),
            Ink::Black,
            clip,
        );
        assert_eq!(face.glyphs.len(), before + 1);
    }
}

#[cfg(test)]
mod hinted_raster_tests {
    use super::*;
    use crate::hint::Segment;
    use ab_glyph_rasterizer::Point;

    /// A closed polygon as line segments.
    fn polygon(points: &[(f32, f32)]) -> Vec<Segment> {
        let p: Vec<Point> = points.iter().map(|&(x, y)| point(x, y)).collect();
        (0..p.len())
            .map(|i| Segment::Line(p[i], p[(i + 1) % p.len()]))
            .collect()
    }

    /// The inked pixels, absolute, dropping stubs (as above 11 px).
    fn inked(segments: &[Segment]) -> Vec<(i32, i32)> {
        inked_keeping(segments, false)
    }

    /// The inked pixels, absolute, keeping stubs or not.
    fn inked_keeping(segments: &[Segment], keep_stubs: bool) -> Vec<(i32, i32)> {
        let ((ox, oy), w, grid) = hinted_grid(segments, keep_stubs);
        (0..grid.len())
            .filter(|&i| grid[i])
            .map(|i| (ox + (i % w) as i32, oy + (i / w) as i32))
            .collect()
    }

    #[test]
    fn pixels_whose_centres_are_inside_are_inked() {
        // Edges on pixel boundaries: exactly the pixels inside.
        let square = polygon(&[(1.0, 1.0), (4.0, 1.0), (4.0, 3.0), (1.0, 3.0)]);
        let want: Vec<(i32, i32)> = (1..3).flat_map(|y| (1..4).map(move |x| (x, y))).collect();
        assert_eq!(inked(&square), want);
        // Edges off the grid: only the centres inside (x from 1.6 to 4.4 holds 2.5 and 3.5).
        let off = polygon(&[(1.6, 1.2), (4.4, 1.2), (4.4, 2.9), (1.6, 2.9)]);
        assert_eq!(inked(&off), [(2, 1), (3, 1), (2, 2), (3, 2)]);
        // Opposite windings cancel (a square hole); the non-zero rule keeps a doubled area.
        let mut holed = polygon(&[(0.0, 0.0), (6.0, 0.0), (6.0, 6.0), (0.0, 6.0)]);
        holed.extend(polygon(&[(2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0)]));
        let px = inked(&holed);
        assert_eq!(px.len(), 36 - 4);
        assert!(!px.contains(&(2, 2)) && !px.contains(&(3, 3)));
    }

    #[test]
    fn thin_strokes_keep_a_pixel_stubs_add_none_and_no_contour_vanishes() {
        // A vertical stroke 0.3 px wide between two columns of centres (x 2.6..2.9): no centre
        // inside, yet one pixel per row, except at the two ends, which are stubs.
        let stroke = polygon(&[(2.6, 1.0), (2.9, 1.0), (2.9, 8.0), (2.6, 8.0)]);
        let want: Vec<(i32, i32)> = (2..7).map(|y| (2, y)).collect();
        assert_eq!(inked(&stroke), want);
        // Keeping stubs (small sizes), the ends are inked too.
        assert_eq!(
            inked_keeping(&stroke, true),
            (1..8).map(|y| (2, y)).collect::<Vec<_>>()
        );
        // The same horizontally (the column sweep's dropouts).
        let bar = polygon(&[(1.0, 3.6), (8.0, 3.6), (8.0, 3.9), (1.0, 3.9)]);
        let want: Vec<(i32, i32)> = (2..7).map(|x| (x, 3)).collect();
        assert_eq!(inked(&bar), want);
        // A speck that covers no centre and reaches no neighbouring row or column is a stub
        // both ways; being a whole contour, it keeps the pixel under its middle.
        assert_eq!(
            inked(&polygon(&[(2.6, 2.6), (2.9, 2.6), (2.9, 2.9), (2.6, 2.9)])),
            [(2, 2)]
        );
        // The dot of an "i" thinner than a pixel, across two columns of centres and between
        // two rows, over its stem: the dot keeps its two stubs, the stem its pixels.
        let mut i = polygon(&[(2.0, 1.6), (3.9, 1.6), (3.9, 2.4), (2.0, 2.4)]);
        i.extend(polygon(&[(2.0, 4.0), (4.0, 4.0), (4.0, 8.0), (2.0, 8.0)]));
        let stem: Vec<(i32, i32)> = (4..8).flat_map(|y| (2..4).map(move |x| (x, y))).collect();
        let want: Vec<(i32, i32)> = [(2, 2), (3, 2)].into_iter().chain(stem).collect();
        assert_eq!(inked(&i), want);
        // A hole thinner than a pixel is a contour wound the other way: it inks nothing.
        let mut o = polygon(&[(0.0, 0.0), (6.0, 0.0), (6.0, 6.0), (0.0, 6.0)]);
        o.extend(polygon(&[(2.6, 2.0), (2.6, 4.0), (2.9, 4.0), (2.9, 2.0)]));
        assert_eq!(inked(&o).len(), 36);
    }

    /// Every bundled glyph hinted at label sizes: each pixel whose centre is inside the
    /// flattened outline (by an independent point-in-polygon test) is inked, and the pixels
    /// dropout control adds stay few. (The coverage-threshold rasteriser this replaced
    /// differed from FreeType on many more pixels; see `hinted_grid`.)
    #[test]
    fn hinted_glyphs_ink_their_inside_centres_plus_few_dropouts() {
        let book = crate::FontBook::bundled();
        let (mut checked, mut expected, mut inside_px, mut extra_px) = (0, 0, 0usize, 0usize);
        for (name, text) in [
            ("sans", (' '..='~').collect::<String>()),
            ("sans-bold", (' '..='~').collect::<String>()),
            ("cjk", "茉莉花茶牛奶价格元每斤灌装".to_owned()),
        ] {
            let face = book.face(book.index_of(name).expect("a bundled face"));
            for size in [8u32, 11, 14, 24] {
                for c in text.chars() {
                    expected += 1;
                    let Some(id) = face.glyph(c) else { continue };
                    let Some(segments) =
                        crate::hint::hinted(face.data.bytes(), &face.hinters, id.0, size)
                    else {
                        continue;
                    };
                    let edges = flatten(&segments);
                    let ((ox, oy), w, grid) = hinted_grid(&segments, false);
                    let h = grid.len().checked_div(w).unwrap_or(0);
                    for gy in 0..h {
                        for gx in 0..w {
                            let centre =
                                point((ox + gx as i32) as f32 + 0.5, (oy + gy as i32) as f32 + 0.5);
                            let mut winding = 0;
                            for &(a, b) in &edges {
                                if (a.y <= centre.y) != (b.y <= centre.y) {
                                    let x = a.x + (centre.y - a.y) / (b.y - a.y) * (b.x - a.x);
                                    if x > centre.x {
                                        winding += if b.y > a.y { 1 } else { -1 };
                                    }
                                }
                            }
                            let on = grid[gy * w + gx];
                            if winding != 0 {
                                assert!(
                                    on,
                                    "{name} {c:?} {size} px: ({gx}, {gy}) inside, not inked"
                                );
                                inside_px += 1;
                            } else if on {
                                extra_px += 1;
                            }
                        }
                    }
                    checked += 1;
                }
            }
        }
        // Every glyph asked for was hinted and compared (the space too, as an empty outline).
        assert_eq!(checked, expected, "some glyphs were not hinted");
        assert!(inside_px > 20_000, "{inside_px} inside pixels");
        // Measured: 230 added to 28,814 (0.8%).
        assert!(
            extra_px * 50 < inside_px,
            "dropout control added {extra_px} pixels to {inside_px}"
        );
    }
}
