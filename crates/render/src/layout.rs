//! Container layout (format version 2): where the children of a `row`, `column` or `stack`
//! go, given their sizes. Pure integer arithmetic; the same inputs give the same boxes.

use crate::raster::Rect;
use crate::template::{Align, Justify, Padding, Size};

/// One child along a row or column: its size along the axis and across it (already
/// resolved to pixels for `Px` and `Fit`; `Fill` keeps its weight).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    /// Along the axis: `Px(n)` (fixed or natural) or `Fill(weight)`.
    pub main: Size,
    /// Across: pixels, or `None` to fill the container.
    pub cross: Option<i32>,
}

/// The box inside `padding`.
pub(crate) fn inner(r: Rect, p: &Padding) -> Rect {
    let px = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let x0 = r.x0.saturating_add(px(p.left));
    let y0 = r.y0.saturating_add(px(p.top));
    Rect {
        x0,
        y0,
        x1: r.x1.saturating_sub(px(p.right)).max(x0),
        y1: r.y1.saturating_sub(px(p.bottom)).max(y0),
    }
}

/// Shares `free` pixels by `weights`: floor shares, the remainder one pixel each to the
/// first children.
fn shares(free: i32, weights: &[u32]) -> Vec<i32> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    if free <= 0 || total == 0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<i32> = weights
        .iter()
        .map(|&w| (i64::from(free) * i64::from(w) / total) as i32)
        .collect();
    let mut left = free - out.iter().sum::<i32>();
    for (o, &w) in out.iter_mut().zip(weights) {
        if left == 0 {
            break;
        }
        if w > 0 {
            *o += 1;
            left -= 1;
        }
    }
    out
}

fn offset(room: i32, size: i32, align: Align) -> i32 {
    match align {
        Align::Start => 0,
        Align::Center => (room - size).div_euclid(2),
        Align::End => room - size,
    }
}

/// Boxes of the children of a row (`horizontal`) or column, in order.
pub(crate) fn line(
    inner: Rect,
    horizontal: bool,
    gap: u32,
    align: Align,
    justify: Justify,
    items: &[Item],
) -> Vec<Rect> {
    let (room_main, room_cross) = if horizontal {
        (inner.width(), inner.height())
    } else {
        (inner.height(), inner.width())
    };
    let gap = i32::try_from(gap).unwrap_or(i32::MAX);
    let gaps = gap.saturating_mul(items.len().saturating_sub(1) as i32);
    let fixed: i32 = items
        .iter()
        .map(|it| match it.main {
            Size::Px(v) => i32::try_from(v).unwrap_or(i32::MAX),
            _ => 0,
        })
        .fold(0i32, i32::saturating_add);
    let free = room_main.saturating_sub(fixed).saturating_sub(gaps);
    let weights: Vec<u32> = items
        .iter()
        .map(|it| match it.main {
            Size::Fill(w) => w,
            _ => 0,
        })
        .collect();
    let filled = shares(free, &weights);
    let has_fill = weights.iter().any(|&w| w > 0);
    // Room left along the axis goes where `justify` says, when nothing fills it.
    let spare = if has_fill { 0 } else { free.max(0) };
    let (mut pos, between) = match justify {
        Justify::Start => (0, vec![0; items.len()]),
        Justify::Center => (spare / 2, vec![0; items.len()]),
        Justify::End => (spare, vec![0; items.len()]),
        Justify::SpaceBetween => {
            let n = items.len().saturating_sub(1);
            let mut extra = vec![0; items.len()];
            if n > 0 {
                let each = shares(spare, &vec![1; n]);
                extra[1..].copy_from_slice(&each);
            }
            (0, extra)
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            pos = pos.saturating_add(gap).saturating_add(between[i]);
        }
        let main = match it.main {
            Size::Px(v) => i32::try_from(v).unwrap_or(i32::MAX),
            _ => filled[i],
        };
        let cross = it.cross.unwrap_or(room_cross);
        let cross_at = if it.cross.is_some() {
            offset(room_cross, cross, align)
        } else {
            0
        };
        let (w, h) = (main.max(0) as u32, cross.max(0) as u32);
        out.push(if horizontal {
            Rect::new(
                inner.x0.saturating_add(pos),
                inner.y0.saturating_add(cross_at),
                w,
                h,
            )
        } else {
            Rect::new(
                inner.x0.saturating_add(cross_at),
                inner.y0.saturating_add(pos),
                h,
                w,
            )
        });
        pos = pos.saturating_add(main);
    }
    out
}

/// The box of one child of a stack: `w`, `h` in pixels (`None`: fill), placed by `justify`
/// (horizontally) and `align` (vertically).
pub(crate) fn stacked(
    inner: Rect,
    w: Option<i32>,
    h: Option<i32>,
    align: Align,
    justify: Justify,
) -> Rect {
    let w = w.unwrap_or(inner.width());
    let h = h.unwrap_or(inner.height());
    let hx = match justify {
        Justify::Start | Justify::SpaceBetween => Align::Start,
        Justify::Center => Align::Center,
        Justify::End => Align::End,
    };
    Rect::new(
        inner.x0.saturating_add(offset(inner.width(), w, hx)),
        inner.y0.saturating_add(offset(inner.height(), h, align)),
        w.max(0) as u32,
        h.max(0) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: i32, y: i32, w: u32, h: u32) -> Rect {
        Rect::new(x, y, w, h)
    }

    #[test]
    fn fixed_fit_and_fill_share_a_row() {
        let items = [
            Item {
                main: Size::Px(20),
                cross: Some(10),
            },
            Item {
                main: Size::Fill(1),
                cross: None,
            },
            Item {
                main: Size::Fill(2),
                cross: Some(6),
            },
        ];
        let boxes = line(
            r(0, 0, 100, 20),
            true,
            5,
            Align::Center,
            Justify::Start,
            &items,
        );
        // 100 - 20 - 2 × 5 = 70 to share 1 : 2 → 24 (23 + the remainder pixel) and 46.
        assert_eq!(boxes, [r(0, 5, 20, 10), r(25, 0, 24, 20), r(54, 7, 46, 6)]);
    }

    #[test]
    fn justify_places_the_spare_room() {
        let items = [
            Item {
                main: Size::Px(10),
                cross: None,
            },
            Item {
                main: Size::Px(10),
                cross: None,
            },
            Item {
                main: Size::Px(10),
                cross: None,
            },
        ];
        let at = |j| {
            line(r(0, 0, 41, 5), true, 0, Align::Start, j, &items)
                .iter()
                .map(|b| b.x0)
                .collect::<Vec<_>>()
        };
        assert_eq!(at(Justify::Start), [0, 10, 20]);
        assert_eq!(at(Justify::Center), [5, 15, 25]);
        assert_eq!(at(Justify::End), [11, 21, 31]);
        assert_eq!(at(Justify::SpaceBetween), [0, 16, 31]);
    }

    #[test]
    fn a_column_stacks_downwards_and_overflow_is_kept() {
        let items = [
            Item {
                main: Size::Px(30),
                cross: None,
            },
            Item {
                main: Size::Px(30),
                cross: Some(8),
            },
        ];
        let boxes = line(
            r(2, 3, 10, 40),
            false,
            4,
            Align::End,
            Justify::Start,
            &items,
        );
        // The second child overflows the 40 px: it keeps its size and is clipped later.
        assert_eq!(boxes, [r(2, 3, 10, 30), r(4, 37, 8, 30)]);
    }

    #[test]
    fn padding_and_stacks() {
        let p = Padding {
            top: 1,
            right: 2,
            bottom: 3,
            left: 4,
        };
        assert_eq!(inner(r(0, 0, 20, 10), &p), r(4, 1, 14, 6));
        let b = stacked(
            r(0, 0, 20, 10),
            Some(6),
            Some(4),
            Align::End,
            Justify::Center,
        );
        assert_eq!(b, r(7, 6, 6, 4));
    }
}
