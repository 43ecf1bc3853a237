//! Error diffusion: each pixel takes the nearest ink, and what that leaves over (in linear
//! light) is handed on to pixels not yet visited, by a fixed kernel.

/// One weight of a kernel: `(dx, dy, weight)` relative to the current pixel, for a
/// left-to-right row; right-to-left rows mirror `dx`.
pub(crate) type Tap = (isize, usize, f32);

/// An error-diffusion kernel, as a type so that each one gets its own unrolled loop.
pub(crate) trait Kernel {
    /// The weights, already divided by the kernel's divisor.
    const TAPS: &'static [Tap];
}

macro_rules! kernel {
    ($(#[$doc:meta])* $name:ident, $div:expr, [$(($dx:expr, $dy:expr, $w:expr)),* $(,)?]) => {
        $(#[$doc])*
        pub(crate) struct $name;
        impl Kernel for $name {
            const TAPS: &'static [Tap] = &[$(($dx, $dy, $w as f32 / $div as f32)),*];
        }
    };
}

kernel!(
    /// Floyd–Steinberg (1976): `· 7 / 3 5 1`, ÷16.
    FloydSteinberg, 16, [(1, 0, 7), (-1, 1, 3), (0, 1, 5), (1, 1, 1)]
);
kernel!(
    /// Atkinson (Apple, 1980s): six taps of 1/8; a quarter of the error is dropped, which
    /// keeps detail and lets highlights and shadows clip.
    Atkinson, 8, [(1, 0, 1), (2, 0, 1), (-1, 1, 1), (0, 1, 1), (1, 1, 1), (0, 2, 1)]
);
kernel!(
    /// Jarvis, Judice and Ninke (1976): three rows, ÷48.
    JarvisJudiceNinke, 48, [
        (1, 0, 7), (2, 0, 5),
        (-2, 1, 3), (-1, 1, 5), (0, 1, 7), (1, 1, 5), (2, 1, 3),
        (-2, 2, 1), (-1, 2, 3), (0, 2, 5), (1, 2, 3), (2, 2, 1),
    ]
);
kernel!(
    /// Stucki (1981): three rows, ÷42.
    Stucki, 42, [
        (1, 0, 8), (2, 0, 4),
        (-2, 1, 2), (-1, 1, 4), (0, 1, 8), (1, 1, 4), (2, 1, 2),
        (-2, 2, 1), (-1, 2, 2), (0, 2, 4), (1, 2, 2), (2, 2, 1),
    ]
);
kernel!(
    /// Burkes (1988): Stucki's first two rows, ÷32.
    Burkes, 32, [
        (1, 0, 8), (2, 0, 4),
        (-2, 1, 2), (-1, 1, 4), (0, 1, 8), (1, 1, 4), (2, 1, 2),
    ]
);
kernel!(
    /// Sierra (Frankie Sierra, 1989), three rows, ÷32.
    Sierra, 32, [
        (1, 0, 5), (2, 0, 3),
        (-2, 1, 2), (-1, 1, 4), (0, 1, 5), (1, 1, 4), (2, 1, 2),
        (-1, 2, 2), (0, 2, 3), (1, 2, 2),
    ]
);
kernel!(
    /// Sierra Lite: `· 2 / 1 1`, ÷4.
    SierraLite, 4, [(1, 0, 2), (-1, 1, 1), (0, 1, 1)]
);

/// Chooses an ink for a pixel value (in the palette's linear coordinates).
pub(crate) trait Pick<const N: usize> {
    /// The ink's palette index and its value in the same coordinates.
    fn pick(&self, v: [f32; N]) -> (u8, [f32; N]);
}

/// How far outside `[0, 1]` a pixel plus its inherited error may go. Beyond this the
/// excess is dropped, so a hard edge does not smear error far into the next region.
const HEADROOM: f32 = 1.0;

/// What [`diffuse`] does beyond the kernel: the solid mask and the jitter amplitude.
#[derive(Clone, Copy)]
pub(crate) struct Mods<'a> {
    /// One cell per pixel, or empty: see [`diffuse`].
    pub(crate) solid: &'a [u8],
    /// The amplitude of the threshold modulation ([`Jitter`]).
    pub(crate) jitter: f32,
}

/// A cell of a solid mask ([`diffuse`]) that leaves the pixel to the dither.
pub(crate) const NOT_SOLID: u8 = u8::MAX;

/// Diffuses over a `width × height` image whose target values come one row at a time
/// from `row(y, out)`; writes one palette index per pixel to `out`.
///
/// `mods.solid`, when not empty, holds one cell per pixel: an ink index prints that ink as is,
/// and the pixel neither takes the error handed to it nor hands any on, so a flat area of
/// an ink stays that ink and its surroundings dither as if it were exact;
/// [`NOT_SOLID`] leaves the pixel to the dither.
pub(crate) fn diffuse<K: Kernel, P: Pick<N>, const N: usize>(
    width: usize,
    height: usize,
    serpentine: bool,
    picker: &P,
    mut row: impl FnMut(usize, &mut [[f32; N]]),
    mods: Mods<'_>,
    out: &mut [u8],
) {
    let Mods { solid, jitter } = mods;
    let noise = super::ordered::blue_noise();
    // Inherited error of this row and the two below, each padded by 2 on both sides so
    // taps past the edges land somewhere harmless (and are dropped).
    let stride = width + 2 * PAD;
    let mut below = [
        vec![[0.0f32; N]; stride],
        vec![[0.0f32; N]; stride],
        vec![[0.0f32; N]; stride],
    ];
    let mut target = vec![[0.0f32; N]; width];
    for (y, out_row) in out.chunks_exact_mut(width.max(1)).take(height).enumerate() {
        row(y, &mut target);
        let solid_row = solid.get(y * width..(y + 1) * width).unwrap_or_default();
        let jit = Jitter {
            noise: noise.row(y),
            amplitude: jitter,
        };
        if serpentine && y % 2 == 1 {
            diffuse_row::<K, P, N, true>(&target, &mut below, picker, solid_row, jit, out_row);
        } else {
            diffuse_row::<K, P, N, false>(&target, &mut below, picker, solid_row, jit, out_row);
        }
        below.rotate_left(1);
        below[2].fill([0.0; N]);
    }
}

const PAD: usize = 2;

/// Threshold modulation: the ink is chosen for the pixel's value plus
/// `amplitude · (noise − ½)` on its first coordinate (the light), with `noise` a row of
/// the blue-noise map, while the error handed on is measured from the value itself. This
/// keeps every area's light and breaks up the lattices and worms a fixed kernel settles
/// into on flat tones.
#[derive(Clone, Copy)]
struct Jitter<'a> {
    noise: &'a [f32],
    amplitude: f32,
}

/// One row, left to right or (`REVERSE`) right to left.
///
/// Error for the next two pixels of the same row is carried in locals rather than memory:
/// that is the chain every pixel waits on. Error for the two rows below is gathered in
/// two sliding windows of five cells (two behind the pixel, itself, two ahead, in scan
/// order); a cell is written to memory once, when the pixel two behind it has been done
/// and nothing more can reach it.
#[inline(always)]
fn diffuse_row<K: Kernel, P: Pick<N>, const N: usize, const REVERSE: bool>(
    target: &[[f32; N]],
    below: &mut [Vec<[f32; N]>; 3],
    picker: &P,
    solid_row: &[u8],
    jitter: Jitter<'_>,
    out_row: &mut [u8],
) {
    let [here, next, after] = below;
    let width = target.len().min(out_row.len());
    // Index in the padded row buffers of the pixel `k` steps ahead of scan step `i`.
    let cell = |i: usize, k: isize| -> usize {
        if REVERSE {
            (width - 1 - i + PAD).wrapping_add_signed(-k)
        } else {
            (i + PAD).wrapping_add_signed(k)
        }
    };
    let mut carry1 = [0.0f32; N];
    let mut carry2 = [0.0f32; N];
    let mut win1 = [[0.0f32; N]; 5];
    let mut win2 = [[0.0f32; N]; 5];
    for i in 0..width {
        let x = if REVERSE { width - 1 - i } else { i };
        let inherited = here.get(x + PAD).copied().unwrap_or([0.0; N]);
        let mut v = target[x];
        for c in 0..N {
            v[c] = (v[c] + inherited[c] + carry1[c]).clamp(-HEADROOM, 1.0 + HEADROOM);
        }
        carry1 = carry2;
        carry2 = [0.0; N];
        let mut d = [0.0f32; N];
        match solid_row.get(x) {
            Some(&ink) if ink != NOT_SOLID => out_row[x] = ink,
            _ => {
                let mut probe = v;
                if let Some(t) = jitter.noise.get(x % jitter.noise.len().max(1)) {
                    probe[0] += jitter.amplitude * (t - 0.5);
                }
                let (ink, value) = picker.pick(probe);
                out_row[x] = ink;
                for c in 0..N {
                    d[c] = v[c] - value[c];
                }
            }
        }
        for &(dx, dy, w) in K::TAPS {
            let slot = match (dy, dx) {
                (0, 1) => &mut carry1,
                (0, _) => &mut carry2,
                (1, _) => &mut win1[(dx + 2) as usize],
                _ => &mut win2[(dx + 2) as usize],
            };
            for c in 0..N {
                slot[c] += d[c] * w;
            }
        }
        // The cell two behind is complete.
        flush(next, cell(i, -2), win1[0]);
        flush(after, cell(i, -2), win2[0]);
        win1 = [win1[1], win1[2], win1[3], win1[4], [0.0; N]];
        win2 = [win2[1], win2[2], win2[3], win2[4], [0.0; N]];
    }
    if width > 0 {
        for k in 0..4 {
            let at = cell(width - 1, k as isize - 1);
            flush(next, at, win1[k]);
            flush(after, at, win2[k]);
        }
    }
}

#[inline(always)]
fn flush<const N: usize>(line: &mut [[f32; N]], at: usize, add: [f32; N]) {
    if let Some(cell) = line.get_mut(at) {
        for c in 0..N {
            cell[c] += add[c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(taps: &[Tap]) -> f32 {
        taps.iter().map(|t| t.2).sum()
    }

    #[test]
    fn kernels_pass_on_all_the_error_except_atkinson() {
        for (name, taps) in [
            ("fs", FloydSteinberg::TAPS),
            ("jjn", JarvisJudiceNinke::TAPS),
            ("stucki", Stucki::TAPS),
            ("burkes", Burkes::TAPS),
            ("sierra", Sierra::TAPS),
            ("sierra-lite", SierraLite::TAPS),
        ] {
            assert!((sum(taps) - 1.0).abs() < 1e-6, "{name}");
        }
        assert!((sum(Atkinson::TAPS) - 0.75).abs() < 1e-6);
        // Only forward taps: nothing goes to a pixel already decided.
        for taps in [JarvisJudiceNinke::TAPS, Atkinson::TAPS, Sierra::TAPS] {
            assert!(taps.iter().all(|&(dx, dy, _)| dy > 0 || dx > 0));
            assert!(taps.iter().all(|&(dx, dy, _)| dx.abs() <= 2 && dy <= 2));
        }
    }
}
