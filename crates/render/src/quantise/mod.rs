//! Palette quantisation: any RGB(A) picture to the inks of a panel, by threshold, error
//! diffusion or ordered dithering.
//!
//! The shape follows `image::imageops::{dither, index_colors}`: [`quantise`] takes an
//! image, a [`Palette`] and [`Options`] and returns one palette index per pixel (0 white,
//! 1 black, 2 red, as [`Ink`]).
//!
//! # How a pixel becomes ink
//!
//! 1. **Alpha** is composited on white, in linear light.
//! 2. **Tone**: [`Options::brightness`], [`Options::contrast`] and [`Options::gamma`]
//!    reshape the sRGB-encoded value, which is then decoded to linear light by table.
//! 3. **Gamut**: the panel can only mix white, black and red, so each colour is mapped
//!    to a mix of them that keeps its luminance. On black/white panels that is its
//!    luminance as a grey. On black/white/red panels, the [`RedPolicy`] decides by hue and
//!    saturation how much of a colour's excess of red over green and blue may be shown as
//!    red ink; the rest of its light is white ink. Greens, blues, yellows and skin tones
//!    become greys.
//! 4. **Ink**: the chosen [`Algorithm`] picks one ink per pixel. Error diffusion picks the
//!    ink nearest to the pixel plus the error it inherited, in a perceptual plane (OKLab
//!    lightness, and the red share as the one chroma the panel has), and hands the
//!    difference on in linear light, so areas keep their light: a flat grey of half the
//!    light (sRGB 188) becomes half black pixels, and sRGB 128 (a fifth of the light)
//!    about 78 %. Ordered dithering splits each pixel's mix by a threshold map, which keeps
//!    the mix exactly on average.
//!
//! Output is deterministic: one image is processed serially, the tables are computed by
//! plain IEEE arithmetic (no platform `libm`), and nothing depends on hashing or threads.
//!
//! ```
//! use esl_model::Palette;
//! use esl_render::quantise::{self, Algorithm, Options};
//!
//! // A horizontal grey ramp.
//! let img = image::RgbaImage::from_fn(64, 8, |x, _| {
//!     let v = (x * 4) as u8;
//!     image::Rgba([v, v, v, 255])
//! });
//! let inks = quantise::quantise(&img, Palette::BlackWhite, &Options::default());
//! assert_eq!(inks.len(), 64 * 8);
//! assert!(inks.iter().all(|&i| i <= 1));
//!
//! let bayer = Options { algorithm: "bayer8".parse()?, ..Options::default() };
//! assert_eq!(bayer.algorithm, Algorithm::Bayer8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use esl_model::{Ink, Palette};
use image::RgbaImage;

mod color;
mod diffuse;
mod ordered;
mod resize;

pub use resize::{fitted_size, resize_region, resize_to_fit};

use diffuse::Pick;

/// How pixels are mapped to inks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// Each pixel on its own: red where the red policy gives it at least a quarter red ink
    /// (and more red than white), otherwise black below [`Options::threshold`] and white
    /// above. Crisp, but flattens every tone to two or three.
    Threshold,
    /// Floyd–Steinberg error diffusion (4 neighbours).
    FloydSteinberg,
    /// Atkinson error diffusion: passes on only ¾ of the error, so it keeps contrast and
    /// clips highlights and shadows.
    Atkinson,
    /// Jarvis–Judice–Ninke error diffusion (12 neighbours over 3 rows): smooth, slower.
    JarvisJudiceNinke,
    /// Stucki error diffusion (12 neighbours over 3 rows): like JJN, a little sharper.
    Stucki,
    /// Burkes error diffusion (7 neighbours over 2 rows).
    Burkes,
    /// Sierra (three-row) error diffusion (10 neighbours): the default. Its perceptual
    /// error is within half a ΔE of the best kernel's, its three rows spread error
    /// evenly enough to avoid the regular hatching of Floyd–Steinberg in mid-tones and
    /// the speckle it leaves on fine black-on-white detail, and it costs little more than
    /// Floyd–Steinberg.
    #[default]
    Sierra,
    /// Sierra Lite error diffusion (3 neighbours): the fastest diffusion.
    SierraLite,
    /// Ordered dithering with the 2 × 2 Bayer matrix.
    Bayer2,
    /// Ordered dithering with the 4 × 4 Bayer matrix.
    Bayer4,
    /// Ordered dithering with the 8 × 8 Bayer matrix.
    Bayer8,
    /// Ordered dithering with a 64 × 64 blue-noise map (void-and-cluster): no pattern, no
    /// worms, and every pixel independent of its neighbours.
    BlueNoise,
}

impl Algorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::Threshold,
        Algorithm::FloydSteinberg,
        Algorithm::Atkinson,
        Algorithm::JarvisJudiceNinke,
        Algorithm::Stucki,
        Algorithm::Burkes,
        Algorithm::Sierra,
        Algorithm::SierraLite,
        Algorithm::Bayer2,
        Algorithm::Bayer4,
        Algorithm::Bayer8,
        Algorithm::BlueNoise,
    ];

    /// The name used in templates and on the command line, e.g. `floyd-steinberg`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Threshold => "threshold",
            Algorithm::FloydSteinberg => "floyd-steinberg",
            Algorithm::Atkinson => "atkinson",
            Algorithm::JarvisJudiceNinke => "jarvis-judice-ninke",
            Algorithm::Stucki => "stucki",
            Algorithm::Burkes => "burkes",
            Algorithm::Sierra => "sierra",
            Algorithm::SierraLite => "sierra-lite",
            Algorithm::Bayer2 => "bayer2",
            Algorithm::Bayer4 => "bayer4",
            Algorithm::Bayer8 => "bayer8",
            Algorithm::BlueNoise => "blue-noise",
        }
    }

    /// A short alternative name, if any: `fs`, `jjn`.
    #[must_use]
    pub const fn alias(self) -> Option<&'static str> {
        match self {
            Algorithm::FloydSteinberg => Some("fs"),
            Algorithm::JarvisJudiceNinke => Some("jjn"),
            _ => None,
        }
    }

    /// Whether the algorithm diffuses error to neighbours (and so reads
    /// [`Options::serpentine`]).
    #[must_use]
    pub const fn is_diffusion(self) -> bool {
        matches!(
            self,
            Algorithm::FloydSteinberg
                | Algorithm::Atkinson
                | Algorithm::JarvisJudiceNinke
                | Algorithm::Stucki
                | Algorithm::Burkes
                | Algorithm::Sierra
                | Algorithm::SierraLite
        )
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`Algorithm::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown dithering algorithm {name:?}; known: {}", known_names())]
pub struct UnknownAlgorithm {
    /// The name as given.
    pub name: String,
}

fn known_names() -> String {
    let mut names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
    names.extend(Algorithm::ALL.iter().filter_map(|a| a.alias()));
    names.join(", ")
}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses a name or alias, ignoring case, surrounding space, and `_` or space for `-`
    /// (`Floyd_Steinberg`, `FS` and `floyd-steinberg` are the same).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '_' | ' ' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == wanted || a.alias() == Some(wanted.as_str()))
            .ok_or_else(|| UnknownAlgorithm { name: s.to_owned() })
    }
}

/// Which colours may be drawn with red ink on black/white/red panels.
///
/// A colour's share of red ink is its *excess* of red over green and blue (in linear
/// light), scaled by a factor from 0 to 1 that this policy computes from the colour's HSV
/// hue and saturation (of its sRGB values, as image editors show them): 1 within
/// `hue_full` degrees of pure red (hue 0°, on both the orange and the magenta side) and
/// at a saturation of at least `saturation_full`, falling linearly to 0 at `hue_none`
/// degrees or at a saturation of `saturation_none`. What is not red ink is shown by black
/// and white at the colour's luminance.
///
/// The defaults let strong reds, crimsons and scarlets be red, and keep orange, yellow,
/// pink pastels and skin tones (hue ≈ 15–35°, saturation ≈ 0.2–0.6) in black and white,
/// so faces and fruit do not fill with red speckle. [`RedPolicy::OFF`] never uses red.
/// On black/white panels the policy has no effect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RedPolicy {
    /// Hue distance from red, in degrees, within which red is fully allowed (default 12).
    pub hue_full: f32,
    /// Hue distance from red, in degrees, from which red is not used (default 24). Set it
    /// to 0 to never use red.
    pub hue_none: f32,
    /// Saturation (0–1) from which red is fully allowed (default 0.7).
    pub saturation_full: f32,
    /// Saturation (0–1) up to which red is not used (default 0.45).
    pub saturation_none: f32,
}

impl RedPolicy {
    /// Never draw red: pictures stay black and white on every panel.
    pub const OFF: RedPolicy = RedPolicy {
        hue_full: 0.0,
        hue_none: 0.0,
        saturation_full: 1.0,
        saturation_none: 1.0,
    };

    /// The share (0–1) of a colour's excess red that may become red ink.
    #[must_use]
    pub fn factor(&self, rgb: [u8; 3]) -> f32 {
        let [r, g, b] = rgb;
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        // Quick answers first: greys, and (with the usual hue limits) colours whose
        // largest channel is not red, which are 60° or more from red.
        if max == min || self.hue_none <= 0.0 || (r != max && self.hue_none <= 60.0) {
            return 0.0;
        }
        let (max, chroma) = (f32::from(max), f32::from(max - min));
        if chroma <= self.saturation_none * max {
            return 0.0;
        }
        let fs = ramp(chroma / max, self.saturation_none, self.saturation_full);
        let [r, g, b] = rgb.map(f32::from);
        // HSV hue, as a distance from red in degrees (0–180).
        let distance = if max == r {
            (60.0 * (g - b) / chroma).abs()
        } else if max == g {
            60.0 * (2.0 + (b - r) / chroma)
        } else {
            360.0 - 60.0 * (4.0 + (r - g) / chroma)
        };
        fs * (1.0 - ramp(distance, self.hue_full, self.hue_none))
    }
}

/// 0 at or below `none`, 1 at or above `full`, linear between (`none < full`); a step at
/// `none` when `full ≤ none`.
fn ramp(v: f32, none: f32, full: f32) -> f32 {
    if v <= none {
        0.0
    } else if v >= full {
        1.0
    } else {
        (v - none) / (full - none)
    }
}

impl Default for RedPolicy {
    fn default() -> Self {
        RedPolicy {
            hue_full: 12.0,
            hue_none: 24.0,
            saturation_full: 0.7,
            saturation_none: 0.45,
        }
    }
}

/// How [`quantise`] maps a picture to inks.
///
/// The tone controls act on the sRGB-encoded value `v` (0–1) of each channel, in this
/// order: `v ← (v − ½)·contrast + ½ + brightness`, clamped to 0–1, then
/// `v ← v^(1/gamma)`. Out-of-range values are clamped to the documented ranges, and a
/// value that is not a number counts as the default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// The dithering algorithm (default [`Algorithm::Sierra`]).
    pub algorithm: Algorithm,
    /// Added to every channel, −1 to 1 (default 0): positive is lighter.
    pub brightness: f32,
    /// Slope around mid-grey, 0 to 10 (default 1): above 1 is punchier, below 1 flatter.
    pub contrast: f32,
    /// Mid-tone gamma, 0.1 to 10 (default 1): above 1 lightens mid-tones, below 1
    /// darkens them, leaving black and white alone.
    pub gamma: f32,
    /// Which colours may become red on black/white/red panels.
    pub red: RedPolicy,
    /// Error diffusion runs alternate rows right to left (default true), which breaks up
    /// the diagonal "worms" of one-way scanning.
    pub serpentine: bool,
    /// [`Algorithm::Threshold`] only: the sRGB-encoded luminance (0–255) below which a
    /// pixel becomes black (default 128).
    pub threshold: u8,
    /// Flat colours print solid (every algorithm but [`Algorithm::Threshold`], which
    /// is solid anyway): the tolerance, as an OKLab distance × 100 (0 to 50, default
    /// [`Options::DEFAULT_SOLID`]); 0 turns it off and dithers everything.
    ///
    /// A pixel prints as one ink, taking and passing on no error, when it lies in a flat
    /// area (at least 13 of the 25 pixels of its 5 × 5 neighbourhood are within 1 sRGB
    /// levels of it in every channel) whose colour is within this distance of an ink, or,
    /// on black/white/red panels, which the red policy lets be fully red and which is
    /// nearer (in OKLab) to red ink than to black and white. So a brand-red logo such as
    /// RGB(200, 20, 30) prints solid red, a near-white background solid white, while
    /// gradients, photos and mid-tone flats keep their dither. The anti-aliased edges
    /// between such areas print as the ink of the side they are more covered by, so a
    /// red logo on white has no black fringe (see `docs/dithering.md`).
    pub solid: f32,
    /// Error diffusion only: how strongly a blue-noise map modulates the choice of ink,
    /// 0 to 1 (default [`Options::DEFAULT_JITTER`]); 0 is the plain kernel. The error
    /// handed on is measured without it, so areas keep their light; it breaks up the
    /// lattices and worms fixed kernels form in flat tones.
    pub jitter: f32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            algorithm: Algorithm::default(),
            brightness: 0.0,
            contrast: 1.0,
            gamma: 1.0,
            red: RedPolicy::default(),
            serpentine: true,
            threshold: 128,
            solid: Options::DEFAULT_SOLID,
            jitter: Options::DEFAULT_JITTER,
        }
    }
}

impl Options {
    /// The default [`Options::solid`] tolerance: greys from sRGB 245 print white, pure
    /// black black, and any colour that close to red ink red.
    pub const DEFAULT_SOLID: f32 = 4.0;

    /// The default [`Options::jitter`].
    pub const DEFAULT_JITTER: f32 = 0.2;

    /// These options with every control inside its range (non-numbers become defaults).
    #[must_use]
    pub fn clamped(&self) -> Options {
        let fix = |v: f32, default: f32, lo: f32, hi: f32| {
            if v.is_nan() { default } else { v.clamp(lo, hi) }
        };
        let d = RedPolicy::default();
        Options {
            brightness: fix(self.brightness, 0.0, -1.0, 1.0),
            contrast: fix(self.contrast, 1.0, 0.0, 10.0),
            gamma: fix(self.gamma, 1.0, 0.1, 10.0),
            red: RedPolicy {
                hue_full: fix(self.red.hue_full, d.hue_full, 0.0, 180.0),
                hue_none: fix(self.red.hue_none, d.hue_none, 0.0, 180.0),
                saturation_full: fix(self.red.saturation_full, d.saturation_full, 0.0, 1.0),
                saturation_none: fix(self.red.saturation_none, d.saturation_none, 0.0, 1.0),
            },
            solid: fix(self.solid, Options::DEFAULT_SOLID, 0.0, 50.0),
            jitter: fix(self.jitter, Options::DEFAULT_JITTER, 0.0, 1.0),
            ..*self
        }
    }
}

/// Maps `img` to the inks of `palette`: one palette index per pixel, row by row
/// (`Ink as u8`: 0 white, 1 black, 2 red), `width × height` of them.
///
/// Red appears only when the palette has it. The result depends only on the arguments.
#[must_use]
pub fn quantise(img: &RgbaImage, palette: Palette, opts: &Options) -> Vec<u8> {
    let opts = opts.clamped();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = vec![Ink::White as u8; w * h];
    if w == 0 || h == 0 {
        return out;
    }
    let mapper = Mapper::new(img, palette, &opts);
    if palette.contains(Ink::Red) {
        run(&mapper, &Bwr(bwr_table()), &opts, w, h, &mut out);
    } else {
        run(&mapper, &Bw, &opts, w, h, &mut out);
    }
    out
}

/// A palette's inks as points in its linear-light coordinates, and how to pick one.
trait Inks<const N: usize>: Pick<N> {
    /// A target mix (white share, red share) in this palette's coordinates.
    fn coords(t: [f32; 2]) -> [f32; N];
    /// The ink for a luminance at or above the threshold, or below it, or red.
    fn threshold_pick(&self, t: [f32; 2], luminance: f32, level: f32) -> u8;
}

/// Black and white: one coordinate, the light (0 black, 1 white).
struct Bw;

/// Linear light at which OKLab lightness is ½ (`L = ∛Y` for greys): the perceptual
/// midpoint between black and white.
const GREY_MIDPOINT: f32 = 0.125;

impl Pick<1> for Bw {
    #[inline]
    fn pick(&self, v: [f32; 1]) -> (u8, [f32; 1]) {
        // Branch-free: the choice is as unpredictable as the dither itself.
        let white = v[0] >= GREY_MIDPOINT;
        (u8::from(!white), [f32::from(u8::from(white))])
    }
}

impl Inks<1> for Bw {
    fn coords(t: [f32; 2]) -> [f32; 1] {
        [t[0]]
    }
    fn threshold_pick(&self, _: [f32; 2], luminance: f32, level: f32) -> u8 {
        if luminance < level {
            Ink::Black as u8
        } else {
            Ink::White as u8
        }
    }
}

/// Black, white and red: two coordinates, the white share and the red share of the light
/// (white `(1, 0)`, black `(0, 0)`, red `(0, 1)`); a colour `(w, r)` is the linear RGB
/// `(w + r, w, w)`. The nearest ink comes from a table over that plane ([`bwr_table`]).
struct Bwr(&'static [u8]);

/// [`Algorithm::Threshold`] draws red where at least this share of a pixel's mix is red
/// ink (and more of it is red than white).
const THRESHOLD_RED_SHARE: f32 = 0.25;

/// The decision table covers `[-½, 1½]²` in steps of 1/64 (16 KiB, so it stays in the
/// L1 cache); values beyond take the nearest edge cell, which decides the same way.
const TABLE_MIN: f32 = -0.5;
const TABLE_STEPS_PER_UNIT: f32 = 64.0;
const TABLE_SIDE: usize = 128;

impl Bwr {
    #[inline]
    fn nearest(&self, v: [f32; 2]) -> u8 {
        let cell = |c: f32| {
            (((c - TABLE_MIN) * TABLE_STEPS_PER_UNIT) as i32).clamp(0, TABLE_SIDE as i32 - 1)
                as usize
        };
        self.0
            .get(cell(v[1]) * TABLE_SIDE + cell(v[0]))
            .copied()
            .unwrap_or(Ink::White as u8)
    }
}

/// The BWR decision table: for the centre of each cell of the `(white, red)` plane over
/// `[-½, 1½]²`, the nearest ink in a perceptual plane whose axes are OKLab lightness and the
/// red share. Built once.
///
/// Plain OKLab distance would be wrong here: in OKLab a single red pixel is nearer to a
/// mid-grey than black or white are, so greys would collect red dots whose error (less
/// red than none) no ink can ever pay back. Measuring the chroma axis by the red share
/// puts red as far from every grey as white is from black, so only colours that carry
/// red (or have inherited enough of it) round to red. The lightness axis keeps the
/// black/white split where the eye puts it (OKLab L = ½, 12.5 % of the light).
fn bwr_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let lightness = |w: f64, r: f64| color::oklab([w + r, w, w])[0];
        let inks = [
            (Ink::White as u8, [1.0, 0.0]),
            (Ink::Black as u8, [0.0, 0.0]),
            (Ink::Red as u8, [lightness(0.0, 1.0), 1.0]),
        ];
        let mut t = vec![0u8; TABLE_SIDE * TABLE_SIDE];
        for (i, cell) in t.iter_mut().enumerate() {
            let centre = |k: usize| {
                f64::from(TABLE_MIN) + (k as f64 + 0.5) / f64::from(TABLE_STEPS_PER_UNIT)
            };
            let (w, r) = (centre(i % TABLE_SIDE), centre(i / TABLE_SIDE));
            let p = [lightness(w, r), r];
            let d = |o: &[f64; 2]| {
                let (dl, dr) = (p[0] - o[0], p[1] - o[1]);
                dl * dl + dr * dr
            };
            let mut best = inks[0];
            for ink in &inks[1..] {
                if d(&ink.1) < d(&best.1) {
                    best = *ink;
                }
            }
            *cell = best.0;
        }
        t
    })
}

impl Pick<2> for Bwr {
    #[inline]
    fn pick(&self, v: [f32; 2]) -> (u8, [f32; 2]) {
        let ink = self.nearest(v);
        // The ink's coordinates without a branch or a second look-up.
        let white = f32::from(u8::from(ink == Ink::White as u8));
        let red = f32::from(u8::from(ink == Ink::Red as u8));
        (ink, [white, red])
    }
}

impl Inks<2> for Bwr {
    fn coords(t: [f32; 2]) -> [f32; 2] {
        t
    }
    fn threshold_pick(&self, t: [f32; 2], luminance: f32, level: f32) -> u8 {
        if t[1] >= THRESHOLD_RED_SHARE && t[1] >= t[0] {
            Ink::Red as u8
        } else if luminance < level {
            Ink::Black as u8
        } else {
            Ink::White as u8
        }
    }
}

/// Turns source pixels into target mixes `(white share, red share)` of linear light.
struct Mapper<'a> {
    img: &'a RgbaImage,
    tone: ToneTable,
    red: Option<RedPolicy>,
}

enum ToneTable {
    Plain(&'static [f32; 256]),
    Own(Box<[f32; 256]>),
}

/// [`Options::solid`]: how far (in sRGB levels, per channel: 1, so gentle gradients stay dithered) a neighbour may be from a
/// pixel and still count as the same flat colour, and how many of the 25 pixels of its
/// 5 × 5 neighbourhood (itself included) must be.
const FLAT_SPREAD: u8 = 1;
const FLAT_MAJORITY: usize = 13;

/// [`snap_edges`]: channels whose two flat colours differ by at least this many sRGB levels
/// place a pixel on the blend between them; in the others the pixel may stray this many
/// levels outside the two.
const EDGE_CHANNEL_SPAN: u8 = 24;
const EDGE_STRAY: u8 = 8;
/// [`snap_edges`]: how far apart (as a share of the blend, 0–1) the channels' blend
/// positions may be for the pixel to count as a blend of the two colours.
const EDGE_SPREAD: f32 = 0.05;
/// [`snap_edges`]: how far (0–1) a pixel must be blended from a solid red towards white,
/// with no white area in sight, to count as the red's rim rather than its shading.
const EDGE_CLEAR: f32 = 0.1;
/// [`snap_edges`]: how far (in pixels, along each axis) a pixel looks for the flat areas it
/// may be an edge of: a 7 × 7 neighbourhood reaches across a 3 × 3 blur on both sides.
const EDGE_REACH: usize = 3;

/// Anti-aliased edges between flat areas print as the nearer of the two areas' inks.
///
/// A pixel that is not itself flat, with a solid pixel in its 7 × 7 neighbourhood and
/// another pixel there of a different ink (solid, or of a colour near an ink: the pure
/// white inside a thin white ring is not flat by the majority rule), whose colour lies on
/// the blend between those two colours (in linear light or in sRGB values, as image
/// editors blend), prints the ink of the side it is more than half covered by (in light),
/// and takes and passes on no error. Without this, the pale pinks on the rim of a red logo
/// on white (too pale for the red policy) are dithered black and white, and the logo wears
/// a black fringe. A mask with no solid pixel is left alone.
fn snap_edges(mask: &mut [u8], near: &[u8], srgb: &[[u8; 3]], w: usize, h: usize) {
    if mask.iter().all(|&m| m == diffuse::NOT_SOLID) {
        return;
    }
    let decode = color::decode_table();
    let lin = |v: u8| decode[usize::from(v)];
    // Where pixel `c` lies on the blend from flat colour `a` to `b` (0 at `a`, 1 at `b`),
    // with how well the channels agree (the smaller of the two models' spreads).
    let blend = |c: [u8; 3], a: [u8; 3], b: [u8; 3]| -> Option<(f32, f32)> {
        let (mut lo_l, mut hi_l, mut sum_l) = (f32::INFINITY, f32::NEG_INFINITY, 0.0);
        let (mut lo_s, mut hi_s, mut sum_s) = (f32::INFINITY, f32::NEG_INFINITY, 0.0);
        let mut n = 0.0;
        for k in 0..3 {
            if a[k].abs_diff(b[k]) >= EDGE_CHANNEL_SPAN {
                let tl = (lin(c[k]) - lin(a[k])) / (lin(b[k]) - lin(a[k]));
                let ts = (f32::from(c[k]) - f32::from(a[k])) / (f32::from(b[k]) - f32::from(a[k]));
                (lo_l, hi_l, sum_l) = (lo_l.min(tl), hi_l.max(tl), sum_l + tl);
                (lo_s, hi_s, sum_s) = (lo_s.min(ts), hi_s.max(ts), sum_s + ts);
                n += 1.0;
            } else if c[k] < a[k].min(b[k]).saturating_sub(EDGE_STRAY)
                || c[k] > a[k].max(b[k]).saturating_add(EDGE_STRAY)
            {
                return None;
            }
        }
        // Not past either colour (a darker red beside a red is shading, not an edge).
        if n == 0.0 || lo_l < -0.02 || hi_l > 1.02 || lo_s < -0.02 || hi_s > 1.02 {
            return None;
        }
        let (spread_l, spread_s) = (hi_l - lo_l, hi_s - lo_s);
        // The position in light decides: a pixel half covered by black on white is
        // sRGB 188, not 128.
        let t = if spread_l <= spread_s {
            sum_l / n
        } else {
            sum_s / n
        };
        Some((t, spread_l.min(spread_s)))
    };
    let first_pass = mask.to_vec();
    let reach = solid_within_reach(&first_pass, w, h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if first_pass[i] != diffuse::NOT_SOLID || !reach[i] {
                continue;
            }
            let c = srgb[i];
            // The distinct near-ink colours around, and whether each is solid (a logo edge
            // has two or three).
            let mut flats: [([u8; 3], u8, bool); 8] = [([0; 3], 0, false); 8];
            let mut n = 0;
            let mut alike = 0;
            for yy in y.saturating_sub(EDGE_REACH)..(y + EDGE_REACH + 1).min(h) {
                for xx in x.saturating_sub(EDGE_REACH)..(x + EDGE_REACH + 1).min(w) {
                    let j = yy * w + xx;
                    if yy.abs_diff(y) <= 2 && xx.abs_diff(x) <= 2 {
                        alike +=
                            usize::from((0..3).all(|k| srgb[j][k].abs_diff(c[k]) <= FLAT_SPREAD));
                    }
                    let solid = first_pass[j] != diffuse::NOT_SOLID;
                    let ink = if solid { first_pass[j] } else { near[j] };
                    if ink == diffuse::NOT_SOLID {
                        continue;
                    }
                    if let Some(f) = flats[..n].iter_mut().find(|f| f.0 == srgb[j]) {
                        f.2 |= solid;
                    } else if n < flats.len() {
                        flats[n] = (srgb[j], ink, solid);
                        n += 1;
                    }
                }
            }
            // A flat area of its own (a mid-grey bar) keeps its dither.
            if alike >= FLAT_MAJORITY || n == 0 {
                continue;
            }
            let mut best: Option<(f32, u8)> = None;
            for (p, &(ca, ia, sa)) in flats[..n].iter().enumerate() {
                for &(cb, ib, sb) in &flats[p + 1..n] {
                    if ia == ib || !(sa || sb) {
                        continue;
                    }
                    if let Some((t, spread)) = blend(c, ca, cb) {
                        if spread <= EDGE_SPREAD && best.is_none_or(|(s, _)| spread < s) {
                            best = Some((spread, if t < 0.5 { ia } else { ib }));
                        }
                    }
                }
            }
            // The partner out of sight (a thin white ring inside a red disc never reaches
            // white): around a solid red, where the red policy would leave pale pinks to
            // black and white, a clear blend towards white prints red or white. (Darker reds
            // keep their dither: they are the shading of a photo as often as a logo's rim.)
            if best.is_none() {
                let reds = flats[..n].iter().filter(|f| f.2 && f.1 == Ink::Red as u8);
                for &(ca, ia, _) in reds {
                    if let Some((t, spread)) = blend(c, ca, [255; 3]) {
                        if t >= EDGE_CLEAR
                            && spread <= EDGE_SPREAD
                            && best.is_none_or(|(s, _)| spread < s)
                        {
                            best = Some((spread, if t < 0.5 { ia } else { Ink::White as u8 }));
                        }
                    }
                }
            }
            if let Some((_, ink)) = best {
                mask[i] = ink;
            }
        }
    }
}

/// For each pixel, whether a solid cell of `mask` lies within [`EDGE_REACH`] of it along
/// both axes (a separable box dilation, so pictures with few flat areas cost little).
fn solid_within_reach(mask: &[u8], w: usize, h: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    if w == 0 {
        return rows;
    }
    for (row, out) in mask.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        // Distance to the last solid cell to the left, then to the right.
        let mut since = usize::MAX;
        for (x, &m) in row.iter().enumerate() {
            since = if m != diffuse::NOT_SOLID {
                0
            } else {
                since.saturating_add(1)
            };
            out[x] = since <= EDGE_REACH;
        }
        since = usize::MAX;
        for (x, &m) in row.iter().enumerate().rev() {
            since = if m != diffuse::NOT_SOLID {
                0
            } else {
                since.saturating_add(1)
            };
            out[x] |= since <= EDGE_REACH;
        }
    }
    let mut near = vec![false; w * h];
    for x in 0..w {
        let mut since = usize::MAX;
        for y in 0..h {
            since = if rows[y * w + x] {
                0
            } else {
                since.saturating_add(1)
            };
            near[y * w + x] = since <= EDGE_REACH;
        }
        since = usize::MAX;
        for y in (0..h).rev() {
            since = if rows[y * w + x] {
                0
            } else {
                since.saturating_add(1)
            };
            near[y * w + x] |= since <= EDGE_REACH;
        }
    }
    near
}

/// Rec. 709 luminance weights of linear R, G, B.
const LUMA: [f32; 3] = [0.2126, 0.7152, 0.0722];

impl<'a> Mapper<'a> {
    fn new(img: &'a RgbaImage, palette: Palette, opts: &Options) -> Mapper<'a> {
        let tone = match color::tone_table(opts.brightness, opts.contrast, opts.gamma) {
            Some(t) => ToneTable::Own(Box::new(t)),
            None => ToneTable::Plain(color::decode_table()),
        };
        let red = (palette.contains(Ink::Red) && opts.red.hue_none > 0.0).then_some(opts.red);
        Mapper { img, tone, red }
    }

    /// The sRGB colour of a pixel composited on white (in linear light).
    #[inline]
    fn composite(px: [u8; 4]) -> [u8; 3] {
        match px[3] {
            255 => [px[0], px[1], px[2]],
            0 => [255; 3],
            a => {
                let d = color::decode_table();
                let a = f32::from(a) / 255.0;
                [px[0], px[1], px[2]].map(|c| color::encode(d[usize::from(c)] * a + (1.0 - a)))
            }
        }
    }

    /// Target mix and luminance of one pixel.
    #[inline]
    fn target(&self, px: [u8; 4]) -> ([f32; 2], f32) {
        let srgb = Self::composite(px);
        let tone: &[f32; 256] = match &self.tone {
            ToneTable::Plain(t) => t,
            ToneTable::Own(t) => t,
        };
        let [r, g, b] = srgb.map(|c| tone[usize::from(c)]);
        let y = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
        let Some(policy) = &self.red else {
            return ([y.clamp(0.0, 1.0), 0.0], y);
        };
        let f = policy.factor(srgb);
        if f == 0.0 {
            return ([y.clamp(0.0, 1.0), 0.0], y);
        }
        let red = (f * (r - g.max(b))).clamp(0.0, 1.0);
        // Keep the luminance: the red ink gives LUMA[0] per unit, white the rest.
        let white = (y - LUMA[0] * red).clamp(0.0, 1.0 - red);
        ([white, red], y)
    }

    /// The solid mask of [`Options::solid`]: one cell per pixel, an ink index where the
    /// pixel prints solid, [`diffuse::NOT_SOLID`] elsewhere; empty when `tolerance` is 0.
    fn solid_mask(&self, tolerance: f32) -> Vec<u8> {
        if tolerance <= 0.0 {
            return Vec::new();
        }
        let (w, h) = (self.img.width() as usize, self.img.height() as usize);
        let srgb: Vec<[u8; 3]> = self
            .img
            .as_raw()
            .chunks_exact(4)
            .map(|p| Self::composite([p[0], p[1], p[2], p[3]]))
            .collect();
        let tolerance = f64::from(tolerance) / 100.0;
        let mut mask = vec![diffuse::NOT_SOLID; w * h];
        // The ink each pixel's colour is within the tolerance of, flat or not (for
        // `snap_edges`).
        let mut near = vec![diffuse::NOT_SOLID; w * h];
        let mut last: Option<([u8; 3], (u8, bool))> = None;
        for (i, (cell, near)) in mask.iter_mut().zip(near.iter_mut()).enumerate() {
            let c = srgb[i];
            let (ink, close) = match last {
                Some((q, found)) if q == c => found,
                _ => {
                    let found = self.solid_ink(c, tolerance);
                    last = Some((c, found));
                    found
                }
            };
            if ink == diffuse::NOT_SOLID {
                continue;
            }
            if close {
                *near = ink;
            }
            let (x, y) = (i % w, i / w);
            let near = |q: [u8; 3]| (0..3).all(|k| q[k].abs_diff(c[k]) <= FLAT_SPREAD);
            let mut alike = 0;
            for yy in y.saturating_sub(2)..(y + 3).min(h) {
                for xx in x.saturating_sub(2)..(x + 3).min(w) {
                    alike += usize::from(near(srgb[yy * w + xx]));
                }
            }
            if alike >= FLAT_MAJORITY {
                *cell = ink;
            }
        }
        snap_edges(&mut mask, &near, &srgb, w, h);
        mask
    }

    /// The ink a flat area of sRGB colour `c` prints as, or [`diffuse::NOT_SOLID`]; and
    /// whether `c` is within `tolerance` of that ink (rather than red by the red policy).
    fn solid_ink(&self, c: [u8; 3], tolerance: f64) -> (u8, bool) {
        let tone: &[f32; 256] = match &self.tone {
            ToneTable::Plain(t) => t,
            ToneTable::Own(t) => t,
        };
        let lab = color::oklab(c.map(|v| f64::from(tone[usize::from(v)])));
        let mut inks = vec![(Ink::White, [1.0, 1.0, 1.0]), (Ink::Black, [0.0; 3])];
        let red_factor = self.red.map_or(0.0, |p| p.factor(c));
        if red_factor > 0.0 {
            inks.push((Ink::Red, [1.0, 0.0, 0.0]));
        }
        let dist = |rgb: [f64; 3]| {
            let o = color::oklab(rgb);
            (0..3).map(|k| (lab[k] - o[k]).powi(2)).sum::<f64>().sqrt()
        };
        let mut best = (Ink::White, f64::INFINITY);
        for (ink, rgb) in inks {
            let d = dist(rgb);
            if d < best.1 {
                best = (ink, d);
            }
        }
        if best.1 <= tolerance {
            (best.0 as u8, true)
        } else if best.0 == Ink::Red && red_factor >= 1.0 {
            (best.0 as u8, false)
        } else {
            (diffuse::NOT_SOLID, false)
        }
    }

    /// Maps row `y` into `out` through `f(mix, luminance)`. Runs of one colour (flat areas,
    /// margins) are mapped once.
    #[inline]
    fn map_row<T: Copy>(&self, y: usize, out: &mut [T], f: impl Fn([f32; 2], f32) -> T) {
        let w = self.img.width() as usize;
        let raw = self.img.as_raw();
        let row = raw.get(y * w * 4..(y + 1) * w * 4).unwrap_or_default();
        let mut last: Option<([u8; 4], T)> = None;
        for (o, p) in out.iter_mut().zip(row.chunks_exact(4)) {
            let px = [p[0], p[1], p[2], p[3]];
            *o = match last {
                Some((q, t)) if q == px => t,
                _ => {
                    let (mix, lum) = self.target(px);
                    let t = f(mix, lum);
                    last = Some((px, t));
                    t
                }
            };
        }
    }
}

fn run<P: Inks<N>, const N: usize>(
    mapper: &Mapper<'_>,
    inks: &P,
    opts: &Options,
    w: usize,
    h: usize,
    out: &mut [u8],
) {
    use diffuse::{
        Atkinson, Burkes, FloydSteinberg, JarvisJudiceNinke, SierraLite, Stucki, diffuse,
    };
    let rows = |y: usize, buf: &mut [[f32; N]]| mapper.map_row(y, buf, |t, _| P::coords(t));
    let s = opts.serpentine;
    let solid = if opts.algorithm == Algorithm::Threshold {
        Vec::new()
    } else {
        mapper.solid_mask(opts.solid)
    };
    let m = solid.as_slice();
    let md = diffuse::Mods {
        solid: m,
        jitter: opts.jitter,
    };
    match opts.algorithm {
        Algorithm::Threshold => {
            let level = color::decode_table()[usize::from(opts.threshold)];
            for (y, out_row) in out.chunks_exact_mut(w).take(h).enumerate() {
                mapper.map_row(y, out_row, |t, lum| inks.threshold_pick(t, lum, level));
            }
        }
        Algorithm::FloydSteinberg => diffuse::<FloydSteinberg, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::Atkinson => diffuse::<Atkinson, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::JarvisJudiceNinke => {
            diffuse::<JarvisJudiceNinke, P, N>(w, h, s, inks, rows, md, out);
        }
        Algorithm::Stucki => diffuse::<Stucki, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::Burkes => diffuse::<Burkes, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::Sierra => diffuse::<diffuse::Sierra, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::SierraLite => diffuse::<SierraLite, P, N>(w, h, s, inks, rows, md, out),
        Algorithm::Bayer2 => ordered_dither(mapper, ordered::bayer(1), m, w, h, out),
        Algorithm::Bayer4 => ordered_dither(mapper, ordered::bayer(2), m, w, h, out),
        Algorithm::Bayer8 => ordered_dither(mapper, ordered::bayer(3), m, w, h, out),
        Algorithm::BlueNoise => ordered_dither(mapper, ordered::blue_noise(), m, w, h, out),
    }
}

/// Ordered dithering of a mix: with the map's threshold `t` at a pixel, black when
/// `t < black share`, red when `t < black + red share`, else white. Inks are ordered dark
/// to light, so the black pixels (and black plus red) form the map's evenly spread
/// patterns, and every area shows its mix exactly on average. Cells of `solid` other
/// than [`diffuse::NOT_SOLID`] print their ink.
fn ordered_dither(
    mapper: &Mapper<'_>,
    map: &ordered::ThresholdMap,
    solid: &[u8],
    w: usize,
    h: usize,
    out: &mut [u8],
) {
    let mut mixes = vec![[0.0f32; 2]; w];
    for (y, out_row) in out.chunks_exact_mut(w).take(h).enumerate() {
        mapper.map_row(y, &mut mixes, |t, _| t);
        let thresholds = map.row(y);
        for ((o, &[white, red]), &t) in out_row
            .iter_mut()
            .zip(&mixes)
            .zip(thresholds.iter().cycle())
        {
            let black = 1.0 - white - red;
            // Branch-free: black is 1, red 2, white 0.
            let is_black = t < black;
            let is_red = !is_black & (t < black + red);
            *o = u8::from(is_black) | (u8::from(is_red) << 1);
        }
        if let Some(row) = solid.get(y * w..(y + 1) * w) {
            for (o, &ink) in out_row.iter_mut().zip(row) {
                if ink != diffuse::NOT_SOLID {
                    *o = ink;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>(), Ok(a));
            assert_eq!(a.to_string().to_uppercase().parse::<Algorithm>(), Ok(a));
        }
        assert_eq!("FS".parse(), Ok(Algorithm::FloydSteinberg));
        assert_eq!(
            " jarvis_judice_ninke ".parse(),
            Ok(Algorithm::JarvisJudiceNinke)
        );
        let err = "floyd".parse::<Algorithm>().unwrap_err().to_string();
        assert!(
            err.contains("floyd-steinberg") && err.contains("blue-noise"),
            "{err}"
        );
    }

    #[test]
    fn red_policy_keeps_skin_and_orange_out_of_red() {
        let p = RedPolicy::default();
        assert_eq!(p.factor([255, 0, 0]), 1.0);
        assert_eq!(p.factor([200, 10, 30]), 1.0); // crimson
        assert_eq!(p.factor([120, 0, 0]), 1.0); // dark red
        for skin in [
            [224, 172, 140],
            [141, 85, 36],
            [255, 219, 172],
            [198, 134, 66],
        ] {
            assert_eq!(p.factor(skin), 0.0, "{skin:?}");
        }
        assert_eq!(p.factor([255, 165, 0]), 0.0); // orange
        assert_eq!(p.factor([255, 255, 0]), 0.0); // yellow
        assert_eq!(p.factor([255, 192, 203]), 0.0); // pink
        assert_eq!(p.factor([128, 128, 128]), 0.0);
        assert_eq!(RedPolicy::OFF.factor([255, 0, 0]), 0.0);
    }

    #[test]
    fn bwr_table_splits_the_plane_sensibly() {
        let b = Bwr(bwr_table());
        assert_eq!(b.nearest([1.0, 0.0]), Ink::White as u8);
        assert_eq!(b.nearest([0.0, 0.0]), Ink::Black as u8);
        assert_eq!(b.nearest([0.0, 1.0]), Ink::Red as u8);
        assert_eq!(b.nearest([0.1, 0.0]), Ink::Black as u8);
        assert_eq!(b.nearest([0.15, 0.0]), Ink::White as u8);
        assert_eq!(b.nearest([5.0, -3.0]), Ink::White as u8);
    }

    #[test]
    fn empty_and_transparent_images() {
        let empty = RgbaImage::new(0, 5);
        assert!(quantise(&empty, Palette::BlackWhite, &Options::default()).is_empty());
        let clear = RgbaImage::new(7, 3);
        for a in Algorithm::ALL {
            let o = Options {
                algorithm: a,
                ..Options::default()
            };
            assert!(
                quantise(&clear, Palette::BlackWhiteRed, &o)
                    .iter()
                    .all(|&i| i == 0)
            );
        }
    }
}
