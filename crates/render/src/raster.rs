//! The canvas: a grid of palette indices, and the primitives that draw on it.
//!
//! Every primitive samples pixel centres: pixel `(px, py)` is inked when its centre
//! `(px + 0.5, py + 0.5)` lies inside the shape. Nothing is anti-aliased (the panel has no
//! grey), and every draw is clipped to a rectangle, so no element can reach a pixel outside
//! its box.

use esl_model::{Ink, Palette};

/// A rectangle in canvas pixels: it covers `x0 ≤ x < x1`, `y0 ≤ y < y1`. In JSON it is
/// written as templates write boxes, `{"x", "y", "w", "h"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge (inclusive).
    pub x0: i32,
    /// Top edge (inclusive).
    pub y0: i32,
    /// Right edge (exclusive).
    pub x1: i32,
    /// Bottom edge (exclusive).
    pub y1: i32,
}

impl serde::Serialize for Rect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Rect", 4)?;
        st.serialize_field("x", &self.x0)?;
        st.serialize_field("y", &self.y0)?;
        st.serialize_field("w", &self.width())?;
        st.serialize_field("h", &self.height())?;
        st.end()
    }
}

impl Rect {
    /// The rectangle at `(x, y)` of `w × h` pixels (saturating at the edges of `i32`).
    #[must_use]
    pub fn new(x: i32, y: i32, w: u32, h: u32) -> Rect {
        let w = i32::try_from(w).unwrap_or(i32::MAX);
        let h = i32::try_from(h).unwrap_or(i32::MAX);
        Rect {
            x0: x,
            y0: y,
            x1: x.saturating_add(w),
            y1: y.saturating_add(h),
        }
    }

    /// The part both rectangles cover (empty when they do not meet).
    #[must_use]
    pub fn intersect(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.max(o.x0),
            y0: self.y0.max(o.y0),
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
        }
    }

    /// Whether it covers no pixel.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    /// Width in pixels (0 when empty).
    #[must_use]
    pub fn width(self) -> i32 {
        self.x1.saturating_sub(self.x0).max(0)
    }

    /// Height in pixels (0 when empty).
    #[must_use]
    pub fn height(self) -> i32 {
        self.y1.saturating_sub(self.y0).max(0)
    }

    /// Whether it covers the pixel `(x, y)`.
    #[must_use]
    pub fn contains(self, x: i32, y: i32) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
}

/// A grid of palette indices at design size, with the palette that maps requested inks.
#[derive(Clone, Debug)]
pub(crate) struct Canvas {
    pub width: u32,
    pub height: u32,
    pub palette: Palette,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(width: u32, height: u32, palette: Palette, background: Ink) -> Canvas {
        let bg = palette.map(background) as u8;
        Canvas {
            width,
            height,
            palette,
            pixels: vec![bg; width as usize * height as usize],
        }
    }

    pub(crate) fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// Sets one pixel, if it lies inside `clip` and the canvas.
    #[inline]
    pub(crate) fn put(&mut self, x: i32, y: i32, ink: Ink, clip: Rect) {
        if clip.contains(x, y)
            && x >= 0
            && y >= 0
            && (x as u32) < self.width
            && (y as u32) < self.height
        {
            let i = y as usize * self.width as usize + x as usize;
            self.pixels[i] = self.palette.map(ink) as u8;
        }
    }

    /// Fills a rectangle.
    pub(crate) fn fill_rect(&mut self, r: Rect, ink: Ink, clip: Rect) {
        let r = r.intersect(clip).intersect(self.bounds());
        if r.is_empty() {
            return;
        }
        let v = self.palette.map(ink) as u8;
        for y in r.y0..r.y1 {
            let row = y as usize * self.width as usize;
            self.pixels[row + r.x0 as usize..row + r.x1 as usize].fill(v);
        }
    }

    /// Fills the pixels of `r` whose centre satisfies `inside(cx, cy)`, where `(cx, cy)` is
    /// the centre relative to the rectangle's top-left corner.
    fn fill_where(&mut self, r: Rect, ink: Ink, clip: Rect, inside: impl Fn(f32, f32) -> bool) {
        let area = r.intersect(clip).intersect(self.bounds());
        for y in area.y0..area.y1 {
            for x in area.x0..area.x1 {
                let cx = (x - r.x0) as f32 + 0.5;
                let cy = (y - r.y0) as f32 + 0.5;
                if inside(cx, cy) {
                    self.put(x, y, ink, clip);
                }
            }
        }
    }

    /// A rectangle with rounded corners: `fill` inside, an `outline` of `stroke` pixels
    /// drawn inside the edge.
    pub(crate) fn rounded_rect(
        &mut self,
        r: Rect,
        radius: u32,
        fill: Option<Ink>,
        outline: Option<(Ink, u32)>,
        clip: Rect,
    ) {
        let (w, h) = (r.width() as f32, r.height() as f32);
        let rad = (radius as f32).min(w / 2.0).min(h / 2.0);
        if let Some(ink) = fill {
            self.fill_where(r, ink, clip, |x, y| in_round_rect(x, y, w, h, rad));
        }
        if let Some((ink, stroke)) = outline {
            let s = stroke as f32;
            let inner_rad = (rad - s).max(0.0);
            self.fill_where(r, ink, clip, |x, y| {
                in_round_rect(x, y, w, h, rad)
                    && !in_round_rect(x - s, y - s, w - 2.0 * s, h - 2.0 * s, inner_rad)
            });
        }
    }

    /// An ellipse inscribed in `r`.
    pub(crate) fn ellipse(
        &mut self,
        r: Rect,
        fill: Option<Ink>,
        outline: Option<(Ink, u32)>,
        clip: Rect,
    ) {
        let (w, h) = (r.width() as f32, r.height() as f32);
        if let Some(ink) = fill {
            self.fill_where(r, ink, clip, |x, y| in_ellipse(x, y, w, h));
        }
        if let Some((ink, stroke)) = outline {
            let s = stroke as f32;
            self.fill_where(r, ink, clip, |x, y| {
                in_ellipse(x, y, w, h) && !in_ellipse(x - s, y - s, w - 2.0 * s, h - 2.0 * s)
            });
        }
    }

    /// A line of `width` pixels between the centres of two pixels, with square ends.
    pub(crate) fn line(
        &mut self,
        from: (i32, i32),
        to: (i32, i32),
        width: u32,
        ink: Ink,
        clip: Rect,
    ) {
        let w = width.max(1) as f32;
        let (ax, ay) = (from.0 as f32 + 0.5, from.1 as f32 + 0.5);
        let (bx, by) = (to.0 as f32 + 0.5, to.1 as f32 + 0.5);
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        let half = w / 2.0;
        if len == 0.0 {
            let r = Rect::new(
                from.0 - (width as i32 - 1) / 2,
                from.1 - (width as i32 - 1) / 2,
                width.max(1),
                width.max(1),
            );
            self.fill_rect(r, ink, clip);
            return;
        }
        let (ux, uy) = (dx / len, dy / len);
        // Bounding box of the stroked segment, extended by half the width at the ends.
        let ext = half + 1.0;
        let bb = Rect {
            x0: (ax.min(bx) - ext).floor() as i32,
            y0: (ay.min(by) - ext).floor() as i32,
            x1: (ax.max(bx) + ext).ceil() as i32,
            y1: (ay.max(by) + ext).ceil() as i32,
        };
        let area = bb.intersect(clip).intersect(self.bounds());
        for y in area.y0..area.y1 {
            for x in area.x0..area.x1 {
                let (px, py) = (x as f32 + 0.5 - ax, y as f32 + 0.5 - ay);
                let along = px * ux + py * uy;
                let across = px * -uy + py * ux;
                // Half-open on one side so a line of even width covers exactly `width` pixels.
                if along >= -half && along < len + half && across >= -half && across < half {
                    self.put(x, y, ink, clip);
                }
            }
        }
    }

    /// Rotates the canvas clockwise by `quarter_turns × 90°`.
    pub(crate) fn rotated(self, quarter_turns: u8) -> Canvas {
        let (w, h) = (self.width as usize, self.height as usize);
        let turns = quarter_turns % 4;
        if turns == 0 {
            return self;
        }
        let (nw, nh) = if turns % 2 == 1 { (h, w) } else { (w, h) };
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match turns {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, w - 1 - x),
                };
                out[ny * nw + nx] = self.pixels[y * w + x];
            }
        }
        Canvas {
            width: nw as u32,
            height: nh as u32,
            palette: self.palette,
            pixels: out,
        }
    }
}

fn in_round_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> bool {
    if x < 0.0 || y < 0.0 || x >= w || y >= h {
        return false;
    }
    if r <= 0.0 {
        return true;
    }
    let cx = x.clamp(r, w - r);
    let cy = y.clamp(r, h - r);
    let (dx, dy) = (x - cx, y - cy);
    dx * dx + dy * dy <= r * r
}

fn in_ellipse(x: f32, y: f32, w: f32, h: f32) -> bool {
    if w <= 0.0 || h <= 0.0 {
        return false;
    }
    let (rx, ry) = (w / 2.0, h / 2.0);
    let (dx, dy) = ((x - rx) / rx, (y - ry) / ry);
    dx * dx + dy * dy <= 1.0
}
