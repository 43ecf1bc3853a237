//! Text layout: font fallback, kerning, wrapping, shrink-to-fit, ellipsis; and drawing the
//! laid-out glyphs crisply on a 1-bit canvas.

use ab_glyph::{Font, GlyphId, point};
use esl_model::Ink;

use crate::fonts::{Face, FontBook};
use crate::raster::{Canvas, Rect};
use crate::template::{HAlign, VAlign};

/// A glyph placed on a line: `x` is the pen position from the line's start, in pixels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placed {
    pub face: usize,
    pub id: GlyphId,
    pub x: f32,
}

/// The font chain of an element, resolved to book indices.
#[derive(Clone, Debug)]
pub(crate) struct Chain(pub Vec<usize>);

/// One shaped character: the face and glyph chosen for it and its advance (with the kerning
/// against the previous character of the same face folded in).
#[derive(Clone, Copy, Debug)]
struct Shaped {
    ch: char,
    face: usize,
    id: GlyphId,
    advance: f32,
}

/// Characters no font of the chain has, in order of first appearance.
pub(crate) type Missing = Vec<char>;

/// Picks a face for every character and measures it.
fn shape(
    book: &FontBook,
    chain: &Chain,
    text: &str,
    size: f32,
    missing: &mut Missing,
) -> Vec<Shaped> {
    let primary = chain.0.first().copied().unwrap_or(0);
    let mut out: Vec<Shaped> = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let ch = if ch == '\t' { ' ' } else { ch };
        let found = chain
            .0
            .iter()
            .find_map(|&f| book.face(f).glyph(ch).map(|id| (f, id)));
        let (face, id) = match found {
            Some(x) => x,
            None => {
                if !ch.is_control() && !missing.contains(&ch) {
                    missing.push(ch);
                }
                if ch.is_control() {
                    continue;
                }
                (primary, GlyphId(0))
            }
        };
        let f = book.face(face);
        let mut advance = f.advance(id, size);
        if let Some(prev) = out.last_mut() {
            if prev.face == face {
                prev.advance += f.kern(prev.id, id, size);
            }
        }
        advance = advance.max(0.0);
        out.push(Shaped {
            ch,
            face,
            id,
            advance,
        });
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3100..=0x31FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF)
}

/// Characters that must not start a line (closing punctuation, CJK and Latin).
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '】'
            | '》'
            | '」'
            | '』'
            | '’'
            | '”'
            | ','
            | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '}'
            | '%'
            | '…'
    )
}

/// Whether a line may break between `a` and `b` (spaces are handled separately).
fn can_break_between(a: char, b: char) -> bool {
    if no_break_before(b) {
        return false;
    }
    is_cjk(a) || is_cjk(b) || a == '-' || a == '/' || a == '–'
}

/// A laid-out line: its glyphs and width in pixels.
#[derive(Clone, Debug, Default)]
pub(crate) struct Line {
    pub glyphs: Vec<Placed>,
    pub width: f32,
    pub text: String,
}

fn make_line(chars: &[Shaped]) -> Line {
    // Trim spaces at both ends of a wrapped line.
    let start = chars
        .iter()
        .position(|s| s.ch != ' ')
        .unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|s| s.ch != ' ')
        .map_or(start, |e| e + 1);
    let mut pen = 0.0;
    let mut line = Line::default();
    for (i, s) in chars[start..end].iter().enumerate() {
        line.glyphs.push(Placed {
            face: s.face,
            id: s.id,
            x: pen,
        });
        line.text.push(s.ch);
        // The kerning folded into the last glyph's advance does not count at line end.
        pen += if start + i + 1 == end {
            chars[start + i].advance.max(0.0)
        } else {
            s.advance
        };
    }
    line.width = pen;
    line
}

/// Greedy line breaking. With `split_words`, a word wider than the line is cut between
/// characters; without it such a word makes the layout fail (`None`).
fn wrap(shaped: &[Shaped], max_width: f32, split_words: bool) -> Option<Vec<Line>> {
    let mut lines = Vec::new();
    for para in shaped.split(|s| s.ch == '\n') {
        if para.is_empty() {
            lines.push(Line::default());
            continue;
        }
        let mut start = 0;
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
                if end > start {
                    let prev = para[end - 1];
                    if s.ch == ' ' || (prev.ch != ' ' && can_break_between(prev.ch, s.ch)) {
                        last_break = Some(end);
                    }
                }
                if s.ch != ' ' && width + s.advance > max_width + 0.01 && end > start {
                    break;
                }
                width += s.advance;
                end += 1;
            }
            if end >= para.len() {
                lines.push(make_line(&para[start..]));
                break;
            }
            let cut = match last_break {
                Some(b) if b > start => b,
                _ if split_words => end.max(start + 1),
                _ => return None,
            };
            lines.push(make_line(&para[start..cut]));
            start = cut;
        }
    }
    if lines.is_empty() {
        lines.push(Line::default());
    }
    Some(lines)
}

/// A text block laid out in a box.
#[derive(Clone, Debug)]
pub(crate) struct TextLayout {
    pub size: u32,
    pub lines: Vec<(Line, i32, i32)>, // line, x of its start, baseline y
    pub truncated: Option<String>,
    pub missing: Missing,
}

/// The parameters of a text box.
pub(crate) struct TextBox<'a> {
    pub bounds: Rect,
    pub chain: &'a Chain,
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

fn block_height(n: usize, size: u32, spacing: f32) -> i32 {
    (n.max(1) as i32 - 1) * pitch(size, spacing) + size as i32
}

/// Fits `text` in the box: the largest size from `size` down to `min_size` at which it
/// wraps into at most `max_lines` lines that fit the box; failing that, `min_size` with the
/// overflow cut and an ellipsis.
pub(crate) fn layout(book: &FontBook, tb: &TextBox<'_>, text: &str) -> TextLayout {
    let max_w = tb.bounds.width() as f32;
    let max_h = tb.bounds.height();
    let min = tb.min_size.clamp(1, tb.size.max(1));
    let mut missing = Missing::new();
    for size in (min..=tb.size.max(1)).rev() {
        let shaped = shape(book, tb.chain, text, size as f32, &mut missing);
        if let Some(lines) = wrap(&shaped, max_w, false) {
            if lines.len() <= tb.max_lines.max(1) as usize
                && block_height(lines.len(), size, tb.line_spacing) <= max_h
            {
                return place(book, tb, size, lines, None, missing);
            }
        }
    }
    // Does not fit at the smallest size: cut what does not fit and end with an ellipsis.
    let size = min;
    let shaped = shape(book, tb.chain, text, size as f32, &mut missing);
    let mut lines = wrap(&shaped, max_w, true).unwrap_or_default();
    let mut room = tb.max_lines.max(1) as usize;
    while room > 1 && block_height(room, size, tb.line_spacing) > max_h {
        room -= 1;
    }
    let overflow = lines.len() > room || lines.iter().any(|l| l.width > max_w + 0.01);
    lines.truncate(room);
    let mut truncated = None;
    if overflow {
        if let Some(last) = lines.pop() {
            let cut = ellipsize(book, tb.chain, &last.text, size, max_w, &mut missing);
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
    place(book, tb, size, lines, truncated, missing)
}

/// The longest prefix of `text` that fits with `…` after it.
fn ellipsize(
    book: &FontBook,
    chain: &Chain,
    text: &str,
    size: u32,
    max_w: f32,
    missing: &mut Missing,
) -> Line {
    let has_ellipsis = chain.0.iter().any(|&f| book.face(f).glyph('…').is_some());
    let mark = if has_ellipsis { "…" } else { "..." };
    let chars: Vec<char> = text.chars().collect();
    for keep in (0..=chars.len()).rev() {
        let mut candidate: String = chars[..keep].iter().collect();
        let trimmed = candidate.trim_end().len();
        candidate.truncate(trimmed);
        candidate.push_str(mark);
        let shaped = shape(book, chain, &candidate, size as f32, missing);
        let line = make_line(&shaped);
        if line.width <= max_w + 0.01 || keep == 0 {
            return line;
        }
    }
    Line::default()
}

fn place(
    book: &FontBook,
    tb: &TextBox<'_>,
    size: u32,
    lines: Vec<Line>,
    truncated: Option<String>,
    missing: Missing,
) -> TextLayout {
    let n = lines.len();
    let block = block_height(n, size, tb.line_spacing);
    let b = tb.bounds;
    let top = match tb.valign {
        VAlign::Top => b.y0,
        VAlign::Middle => b.y0 + (b.height() - block).div_euclid(2),
        VAlign::Bottom => b.y1 - block,
    };
    let primary = book.face(tb.chain.0.first().copied().unwrap_or(0));
    let baseline_in_em = (size as f32 * primary.baseline_ratio).round() as i32;
    let p = pitch(size, tb.line_spacing);
    let placed = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let w = line.width.round() as i32;
            let x = match tb.align {
                HAlign::Left => b.x0,
                HAlign::Center => b.x0 + (b.width() - w).div_euclid(2),
                HAlign::Right => b.x1 - w,
            };
            let baseline = top + i as i32 * p + baseline_in_em;
            (line, x, baseline)
        })
        .collect();
    TextLayout {
        size,
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

/// Draws one glyph with its origin (pen position on the baseline) at integer `(x, y)`.
pub(crate) fn draw_glyph(
    canvas: &mut Canvas,
    face: &Face,
    id: GlyphId,
    size: u32,
    (x, y): (i32, i32),
    ink: Ink,
    clip: Rect,
) {
    let glyph = id.with_scale_and_position(face.scale(size as f32), point(x as f32, y as f32));
    let Some(outlined) = face.font.outline_glyph(glyph) else {
        return;
    };
    let bounds = outlined.px_bounds();
    let (ox, oy) = (bounds.min.x as i32, bounds.min.y as i32);
    let w = (bounds.max.x - bounds.min.x).max(0.0) as usize;
    let h = (bounds.max.y - bounds.min.y).max(0.0) as usize;
    let mut cov = vec![0f32; w * h];
    outlined.draw(|gx, gy, c| {
        if let Some(v) = cov.get_mut(gy as usize * w + gx as usize) {
            *v = c;
        }
    });
    let at = |x: isize, y: isize| -> f32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0.0
        } else {
            cov[y as usize * w + x as usize]
        }
    };
    for gy in 0..h as isize {
        for gx in 0..w as isize {
            let c = at(gx, gy);
            if inked(
                c,
                at(gx - 1, gy),
                at(gx + 1, gy),
                at(gx, gy - 1),
                at(gx, gy + 1),
            ) {
                canvas.put(ox + gx as i32, oy + gy as i32, ink, clip);
            }
        }
    }
}

/// Thickness of a strike-through line for a font size.
pub(crate) fn strike_thickness(size: u32) -> i32 {
    ((size as f32 / 14.0).round() as i32).max(1)
}

/// The natural size of `text` at `size`, in whole pixels: the width of its widest line and
/// the height of the block, at most `max_lines` lines. With `wrap_width`, the text is broken
/// to fit that width (as `layout` would, without shrinking); otherwise only at line feeds.
pub(crate) fn natural(
    book: &FontBook,
    chain: &Chain,
    text: &str,
    (size, line_spacing, max_lines): (u32, f32, u32),
    wrap_width: Option<f32>,
    missing: &mut Missing,
) -> (i32, i32) {
    let size = size.max(1);
    let shaped = shape(book, chain, text, size as f32, missing);
    let lines = match wrap_width {
        Some(w) => wrap(&shaped, w, true).unwrap_or_default(),
        None => shaped.split(|s| s.ch == '\n').map(make_line).collect(),
    };
    let n = lines.len().clamp(1, max_lines.max(1) as usize);
    let width = lines
        .iter()
        .take(n)
        .map(|l| l.width)
        .fold(0.0f32, f32::max)
        .ceil() as i32;
    (width, block_height(n, size, line_spacing))
}

/// A single run of text at one size, unwrapped: used by prices.
pub(crate) fn run(
    book: &FontBook,
    chain: &Chain,
    text: &str,
    size: u32,
    missing: &mut Missing,
) -> Line {
    make_line(&shape(book, chain, text, size as f32, missing))
}

/// The ink extent of the digit `0` at `size`, in whole pixels: `(above, below)` the
/// baseline (round digits overshoot the baseline slightly), from the first face of the
/// chain that has it.
pub(crate) fn digit_extent(book: &FontBook, chain: &Chain, size: u32) -> (i32, i32) {
    for &f in &chain.0 {
        let face = book.face(f);
        if let Some(id) = face.glyph('0') {
            let glyph = id.with_scale_and_position(face.scale(size as f32), point(0.0, 0.0));
            if let Some(o) = face.font.outline_glyph(glyph) {
                let b = o.px_bounds();
                return ((-b.min.y).round() as i32, (b.max.y.round() as i32).max(0));
            }
        }
    }
    ((size as f32 * 0.72).round() as i32, 0)
}
