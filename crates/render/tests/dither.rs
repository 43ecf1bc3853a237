//! Quality of the quantiser, measured on pictures the tests draw themselves.
//!
//! The perceptual error of a dithered picture: the eye averages light, so both pictures
//! are blurred in linear light (a Gaussian of σ = 1.5 px), encoded back to sRGB, and
//! compared pixel by pixel in CIELAB (D65) with **ΔE76** (plain Euclidean distance); the
//! error is the mean over the picture.
//!
//! `cargo test -p esl-render --test dither -- --ignored --nocapture report` prints the
//! table of every algorithm; `… -- --ignored gallery` rewrites `docs/dithering/*.png` and
//! prints the table of `docs/dithering.md`.

use esl_model::{Ink, Palette};
use esl_render::quantise::{self, Algorithm, Options, RedPolicy};
use image::{Rgba, RgbaImage};

// ---------------------------------------------------------------------------------------
// Test pictures

fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(l: f64) -> f64 {
    let l = l.clamp(0.0, 1.0);
    if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

fn to_byte(v: f64) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn mix(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}

fn hex(rgb: [u8; 3]) -> [f64; 3] {
    rgb.map(|c| srgb_to_linear(f64::from(c) / 255.0))
}

/// A photo-like scene, `w × h`: a sky gradient, a green meadow, a shaded red apple, a
/// face in skin tones, a dark tree trunk, a grey step wedge and a white sign with black
/// bars. Edges are anti-aliased by 4 × 4 supersampling in linear light.
fn scene(w: u32, h: u32) -> RgbaImage {
    let (wf, hf) = (f64::from(w), f64::from(h));
    // Colour at a point in unit coordinates (u right, v down), in linear light.
    let at = |u: f64, v: f64| -> [f64; 3] {
        let horizon = 0.55;
        let mut c = if v < horizon {
            mix(hex([92, 146, 214]), hex([205, 226, 245]), v / horizon)
        } else {
            mix(
                hex([96, 168, 64]),
                hex([28, 82, 30]),
                (v - horizon) / (1.0 - horizon),
            )
        };
        // Tree trunk.
        if (0.04..0.12).contains(&u) && v > 0.25 {
            c = mix(hex([92, 60, 36]), hex([48, 30, 18]), (u - 0.04) / 0.08);
        }
        // Red apple with a highlight.
        let (ax, ay, ar) = (0.30, 0.66, 0.17 * hf / wf);
        let du = (u - ax) / ar;
        let dv = (v - ay) / (0.17);
        let d = (du * du + dv * dv).sqrt();
        if d < 1.0 {
            let light = ((du + 0.35).powi(2) + (dv + 0.4).powi(2)).sqrt();
            c = mix(hex([250, 90, 80]), hex([150, 8, 14]), light / 1.2);
            if light < 0.18 {
                c = mix(hex([255, 225, 220]), c, light / 0.18);
            }
        }
        // Face: an ellipse in skin tones, lit from the left.
        let (fx, fy) = (0.66, 0.42);
        let du = (u - fx) / 0.13;
        let dv = (v - fy) / 0.26;
        if du * du + dv * dv < 1.0 {
            c = mix(hex([246, 210, 180]), hex([176, 118, 86]), (du + 1.0) / 2.0);
            // Eyes and mouth.
            let eye = |ex: f64| ((u - ex) / 0.018).powi(2) + ((v - 0.36) / 0.03).powi(2) < 1.0;
            if eye(0.62) || eye(0.70) {
                c = hex([40, 30, 30]);
            }
            if (0.62..0.70).contains(&u) && (0.50..0.53).contains(&v) {
                c = hex([170, 60, 70]);
            }
        }
        // Grey step wedge along the bottom.
        if v > 0.9 && u > 0.45 {
            let step = ((u - 0.45) / 0.55 * 8.0).floor().min(7.0);
            let g = step / 7.0;
            c = [srgb_to_linear(g); 3];
        }
        // A white sign with black bars (text-like detail).
        if (0.84..0.98).contains(&u) && (0.06..0.30).contains(&v) {
            c = [1.0; 3];
            let row = ((v - 0.06) / 0.04).floor() as i32;
            if row % 2 == 1 && (0.86..0.96).contains(&u) {
                c = [0.0; 3];
            }
        }
        c
    };
    RgbaImage::from_fn(w, h, |x, y| {
        let mut acc = [0.0; 3];
        for sy in 0..4 {
            for sx in 0..4 {
                let u = (f64::from(x) + (f64::from(sx) + 0.5) / 4.0) / wf;
                let v = (f64::from(y) + (f64::from(sy) + 0.5) / 4.0) / hf;
                let c = at(u, v);
                for i in 0..3 {
                    acc[i] += c[i] / 16.0;
                }
            }
        }
        let [r, g, b] = acc.map(|l| to_byte(linear_to_srgb(l)));
        Rgba([r, g, b, 255])
    })
}

/// A horizontal grey ramp from black to white, even in sRGB.
fn ramp(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, _| {
        let v = to_byte(f64::from(x) / f64::from(w - 1));
        Rgba([v, v, v, 255])
    })
}

fn flat(rgb: [u8; 3]) -> RgbaImage {
    RgbaImage::from_pixel(128, 96, Rgba([rgb[0], rgb[1], rgb[2], 255]))
}

// ---------------------------------------------------------------------------------------
// The perceptual error

/// Linear-light RGB planes of a picture.
fn linear_planes(pixels: impl Iterator<Item = [u8; 3]>) -> [Vec<f64>; 3] {
    let mut planes = [Vec::new(), Vec::new(), Vec::new()];
    for p in pixels {
        for c in 0..3 {
            planes[c].push(srgb_to_linear(f64::from(p[c]) / 255.0));
        }
    }
    planes
}

/// Separable Gaussian blur (σ = 1.5, radius 5), edges extended.
fn blur(plane: &[f64], w: usize, h: usize) -> Vec<f64> {
    const SIGMA: f64 = 1.5;
    const R: isize = 5;
    let mut k: Vec<f64> = (-R..=R)
        .map(|i| (-((i * i) as f64) / (2.0 * SIGMA * SIGMA)).exp())
        .collect();
    let total: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    let clampi = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut tmp = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            tmp[y * w + x] = (-R..=R)
                .map(|i| k[(i + R) as usize] * plane[y * w + clampi(x as isize + i, w)])
                .sum();
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = (-R..=R)
                .map(|i| k[(i + R) as usize] * tmp[clampi(y as isize + i, h) * w + x])
                .sum();
        }
    }
    out
}

/// CIELAB (D65) of a linear-light colour, via its sRGB encoding as the metric asks.
fn lab(lin: [f64; 3]) -> [f64; 3] {
    // Re-encode to sRGB and decode again: the blurred picture "as displayed".
    let [r, g, b] = lin.map(|l| srgb_to_linear(linear_to_srgb(l)));
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
    let z = 0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.950_47), f(y), f(z / 1.088_83));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Mean ΔE76 between a picture and its inks, both blurred in linear light.
fn perceptual_error(img: &RgbaImage, inks: &[u8]) -> f64 {
    perceptual_error_where(img, inks, |_, _| true)
}

/// [`perceptual_error`]'s sum over the pixels where `keep(x, y)`, divided by all pixels: that
/// region's share of the mean.
fn perceptual_error_where(
    img: &RgbaImage,
    inks: &[u8],
    keep: impl Fn(usize, usize) -> bool,
) -> f64 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    assert_eq!(inks.len(), w * h);
    let a = linear_planes(img.pixels().map(|p| [p[0], p[1], p[2]]));
    let b = linear_planes(
        inks.iter()
            .map(|&i| Ink::from_index(i).expect("a palette index").rgb()),
    );
    let a = a.map(|p| blur(&p, w, h));
    let b = b.map(|p| blur(&p, w, h));
    let mut total = 0.0;
    for i in 0..w * h {
        let la = lab([a[0][i], a[1][i], a[2][i]]);
        let lb = lab([b[0][i], b[1][i], b[2][i]]);
        let d: f64 = (0..3).map(|c| (la[c] - lb[c]).powi(2)).sum();
        if keep(i % w, i / w) {
            total += d.sqrt();
        }
    }
    total / (w * h) as f64
}

// ---------------------------------------------------------------------------------------
// Textbook Floyd–Steinberg, for comparison

/// Textbook Floyd–Steinberg, left to right on every row: each pixel's RGB (plus inherited
/// error) takes the palette colour nearest in RGB, and the difference goes on per channel.
/// `linear` chooses whether values and error are linear light or sRGB-encoded values.
fn textbook_fs(img: &RgbaImage, palette: Palette, linear: bool) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let conv = |c: u8| {
        let v = f64::from(c) / 255.0;
        if linear { srgb_to_linear(v) } else { v }
    };
    let mut buf: Vec<[f64; 3]> = img
        .pixels()
        .map(|p| [conv(p[0]), conv(p[1]), conv(p[2])])
        .collect();
    let inks: Vec<(u8, [f64; 3])> = palette
        .inks()
        .iter()
        .map(|&i| (i as u8, i.rgb().map(|c| f64::from(c) / 255.0)))
        .collect();
    let mut out = vec![0; w * h];
    for y in 0..h {
        for x in 0..w {
            let v = buf[y * w + x];
            let dist = |c: &[f64; 3]| (0..3).map(|i| (v[i] - c[i]).powi(2)).sum::<f64>();
            let (ink, value) = inks
                .iter()
                .copied()
                .min_by(|a, b| dist(&a.1).total_cmp(&dist(&b.1)))
                .expect("a palette has inks");
            out[y * w + x] = ink;
            let e = [0, 1, 2].map(|i| v[i] - value[i]);
            let mut push = |dx: isize, dy: usize, wt: f64| {
                let xx = x as isize + dx;
                if xx >= 0 && (xx as usize) < w && y + dy < h {
                    let cell = &mut buf[(y + dy) * w + xx as usize];
                    for i in 0..3 {
                        cell[i] += e[i] * wt;
                    }
                }
            };
            push(1, 0, 7.0 / 16.0);
            push(-1, 1, 3.0 / 16.0);
            push(0, 1, 5.0 / 16.0);
            push(1, 1, 1.0 / 16.0);
        }
    }
    out
}

fn with(algorithm: Algorithm) -> Options {
    Options {
        algorithm,
        ..Options::default()
    }
}

fn black_share(inks: &[u8]) -> f64 {
    inks.iter().filter(|&&i| i == Ink::Black as u8).count() as f64 / inks.len() as f64
}

// ---------------------------------------------------------------------------------------
// Tests

/// On the scene much of every algorithm's error is the colour no ink mix can show (greens,
/// blues and skin become greys), so "a clear margin" is asked as at least 20 % less error
/// *and* 5 ΔE less; on the grey ramp diffusion must at least halve the error.
#[test]
fn every_diffusion_beats_threshold_clearly() {
    for (name, img, ratio) in [("scene", scene(128, 96), 0.8), ("ramp", ramp(128, 32), 0.5)] {
        for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
            let base = perceptual_error(
                &img,
                &quantise::quantise(&img, palette, &with(Algorithm::Threshold)),
            );
            for a in Algorithm::ALL.into_iter().filter(|a| a.is_diffusion()) {
                let e = perceptual_error(&img, &quantise::quantise(&img, palette, &with(a)));
                assert!(
                    e < ratio * base && e < base - 5.0,
                    "{name} {palette:?}: {a} has error {e:.2}, threshold {base:.2}"
                );
            }
        }
    }
}

/// The default against textbook Floyd–Steinberg: no worse than one carrying its error in
/// linear light, and far better than one in sRGB values (which makes mid-greys too light):
/// under half its error on the ramp, and at least 3 ΔE less on the scene (where the
/// colours no ink mix can show dominate both).
#[test]
fn default_matches_linear_floyd_steinberg_and_beats_srgb_floyd_steinberg() {
    for (name, img) in [("scene", scene(128, 96)), ("ramp", ramp(128, 32))] {
        for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
            let ours = perceptual_error(
                &img,
                &quantise::quantise(&img, palette, &Options::default()),
            );
            let linear = perceptual_error(&img, &textbook_fs(&img, palette, true));
            let srgb = perceptual_error(&img, &textbook_fs(&img, palette, false));
            assert!(
                ours <= linear,
                "{name} {palette:?}: default {ours:.2} vs linear-light FS {linear:.2}"
            );
            let far_better = if name == "ramp" {
                ours < 0.5 * srgb
            } else {
                ours < srgb - 3.0
            };
            assert!(
                far_better,
                "{name} {palette:?}: default {ours:.2} vs sRGB FS {srgb:.2}"
            );
        }
    }
}

/// Error diffusion keeps an area's light: only error pushed off the right and bottom edges
/// is lost, under one pixel per row or column of 128 × 96, so the share of black pixels
/// stays within about 1 % of the exact value. Asserted: ±1.5 % for sRGB 128 (exact:
/// 1 − 0.2158 = 78.4 %) and the issue's ±2 % for sRGB 188 (exact: 1 − 0.5029 = 49.7 %).
/// Ordered maps can only show as many levels as they have cells, so a Bayer map of n × n
/// may also be off by up to one level, 1/n². Atkinson drops a quarter of the error by
/// design and is left out.
#[test]
fn flat_greys_keep_their_light() {
    let exact = |v: u8| 1.0 - srgb_to_linear(f64::from(v) / 255.0);
    for (grey, tol) in [(188u8, 0.02), (128, 0.015)] {
        for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
            for a in Algorithm::ALL
                .into_iter()
                .filter(|&a| a != Algorithm::Threshold && a != Algorithm::Atkinson)
            {
                let tol = match a {
                    Algorithm::Bayer2 => 1.0 / 4.0,
                    Algorithm::Bayer4 => 1.0 / 16.0,
                    Algorithm::Bayer8 => 1.0 / 64.0 + 0.005,
                    _ => tol,
                };
                let inks = quantise::quantise(&flat([grey; 3]), palette, &with(a));
                assert!(
                    inks.iter().all(|&i| i != Ink::Red as u8),
                    "{a}: red in grey"
                );
                let share = black_share(&inks);
                assert!(
                    (share - exact(grey)).abs() <= tol,
                    "sRGB {grey} with {a} on {palette:?}: {:.1} % black, expected {:.1} %",
                    share * 100.0,
                    exact(grey) * 100.0
                );
            }
        }
    }
}

/// The numbers of the issue for the default algorithm, printed by `report`.
#[test]
fn default_flat_greys() {
    for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
        let s188 = black_share(&quantise::quantise(
            &flat([188; 3]),
            palette,
            &Options::default(),
        ));
        let s128 = black_share(&quantise::quantise(
            &flat([128; 3]),
            palette,
            &Options::default(),
        ));
        assert!((s188 - 0.5).abs() <= 0.02, "{s188}");
        assert!((s128 - 0.784).abs() <= 0.015, "{s128}");
    }
}

#[test]
fn pure_red_is_red_on_bwr_and_dithered_on_bw() {
    let red = flat([255, 0, 0]);
    for a in Algorithm::ALL {
        let bwr = quantise::quantise(&red, Palette::BlackWhiteRed, &with(a));
        assert!(bwr.iter().all(|&i| i == Ink::Red as u8), "{a}");
    }
    // On black/white, red has the light of sRGB ≈ 127: about 79 % black.
    let expected = 1.0 - 0.2126;
    for a in Algorithm::ALL
        .into_iter()
        .filter(|a| a.is_diffusion() && *a != Algorithm::Atkinson)
    {
        let bw = quantise::quantise(&red, Palette::BlackWhite, &with(a));
        assert!(bw.iter().all(|&i| i <= 1));
        let share = black_share(&bw);
        assert!((share - expected).abs() < 0.015, "{a}: {share}");
    }
    // With red turned off, a BWR panel dithers it like a BW one.
    let off = Options {
        red: RedPolicy::OFF,
        ..Options::default()
    };
    assert_eq!(
        quantise::quantise(&red, Palette::BlackWhiteRed, &off),
        quantise::quantise(&red, Palette::BlackWhite, &off)
    );
}

#[test]
fn skin_and_green_get_no_red() {
    let img = scene(128, 96);
    let inks = quantise::quantise(&img, Palette::BlackWhiteRed, &Options::default());
    let red_in = |x0: f64, x1: f64, y0: f64, y1: f64| {
        let mut n = 0;
        for y in (y0 * 96.0) as usize..(y1 * 96.0) as usize {
            for x in (x0 * 128.0) as usize..(x1 * 128.0) as usize {
                n += usize::from(inks[y * 128 + x] == Ink::Red as u8);
            }
        }
        n
    };
    assert_eq!(red_in(0.58, 0.74, 0.25, 0.45), 0, "red on the face");
    assert_eq!(red_in(0.5, 1.0, 0.6, 0.88), 0, "red in the meadow");
    assert!(
        red_in(0.24, 0.36, 0.6, 0.75) > 100,
        "the apple should be red"
    );
}

#[test]
fn output_is_deterministic() {
    let img = scene(128, 96);
    for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
        for a in Algorithm::ALL {
            let o = with(a);
            assert_eq!(
                quantise::quantise(&img, palette, &o),
                quantise::quantise(&img, palette, &o),
                "{a}"
            );
        }
    }
}

/// Not a test: prints the perceptual error of every algorithm.
#[test]
#[ignore = "prints a report"]
fn report() {
    for grey in [188u8, 128] {
        for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
            let inks = quantise::quantise(&flat([grey; 3]), palette, &Options::default());
            println!(
                "flat sRGB {grey} on {palette:?}: {:.2} % black",
                100.0 * black_share(&inks)
            );
        }
    }
    let pics = [("scene", scene(128, 96)), ("ramp", ramp(128, 32))];
    for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
        println!("{palette:?}");
        for a in Algorithm::ALL {
            let row: Vec<String> = pics
                .iter()
                .map(|(n, img)| {
                    let e = perceptual_error(img, &quantise::quantise(img, palette, &with(a)));
                    format!("{n} {e:6.2}")
                })
                .collect();
            println!("  {:<22} {}", a.name(), row.join("  "));
        }
        for (label, lin) in [("textbook FS linear", true), ("textbook FS sRGB", false)] {
            let row: Vec<String> = pics
                .iter()
                .map(|(n, img)| {
                    format!(
                        "{n} {:6.2}",
                        perceptual_error(img, &textbook_fs(img, palette, lin))
                    )
                })
                .collect();
            println!("  {:<22} {}", label, row.join("  "));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The gallery of docs/dithering.md

/// Writes `inks` (`w` wide) as an indexed PNG scaled `scale` times, palette white, black,
/// red.
fn write_indexed(path: &std::path::Path, inks: &[u8], w: usize, scale: usize) {
    let h = inks.len() / w;
    let (sw, sh) = (w * scale, h * scale);
    let row_bytes = sw.div_ceil(4);
    let mut data = vec![0u8; row_bytes * sh];
    for y in 0..sh {
        for x in 0..sw {
            let v = inks[(y / scale) * w + x / scale];
            data[y * row_bytes + x / 4] |= v << (6 - 2 * (x % 4));
        }
    }
    let file = std::fs::File::create(path).expect("create gallery file");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), sw as u32, sh as u32);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Two);
    enc.set_palette(vec![255, 255, 255, 0, 0, 0, 255, 0, 0]);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().expect("PNG header");
    writer.write_image_data(&data).expect("PNG data");
}

/// Rewrites the pictures of `docs/dithering.md` and prints its tables:
/// `cargo test -p esl-render --test dither -- --ignored gallery --nocapture`.
#[test]
#[ignore = "writes docs/dithering/*.png"]
fn gallery() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/dithering");
    std::fs::create_dir_all(&dir).expect("create docs/dithering");
    let (w, h) = (128u32, 96u32);
    let img = scene(w, h);
    let ramp_img = ramp(128, 32);
    let scale = 3;
    image::imageops::resize(
        &img,
        w * scale,
        h * scale,
        image::imageops::FilterType::Nearest,
    )
    .save(dir.join("original.png"))
    .expect("write original");
    println!(
        "| algorithm | picture (SL142, black/white/red) | ΔE scene BWR | ΔE scene BW | ΔE ramp BW |"
    );
    println!("|---|---|---|---|---|");
    for a in Algorithm::ALL {
        let o = with(a);
        let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &o);
        let bw = quantise::quantise(&img, Palette::BlackWhite, &o);
        let ramp_bw = quantise::quantise(&ramp_img, Palette::BlackWhite, &o);
        write_indexed(
            &dir.join(format!("{}.png", a.name())),
            &bwr,
            w as usize,
            scale as usize,
        );
        println!(
            "| `{}` | ![{}](dithering/{}.png) | {:.2} | {:.2} | {:.2} |",
            a.name(),
            a.name(),
            a.name(),
            perceptual_error(&img, &bwr),
            perceptual_error(&img, &bw),
            perceptual_error(&ramp_img, &ramp_bw),
        );
    }
    for (label, lin) in [("textbook-fs-linear", true), ("textbook-fs-srgb", false)] {
        let bwr = textbook_fs(&img, Palette::BlackWhiteRed, lin);
        let bw = textbook_fs(&img, Palette::BlackWhite, lin);
        let ramp_bw = textbook_fs(&ramp_img, Palette::BlackWhite, lin);
        write_indexed(
            &dir.join(format!("{label}.png")),
            &bwr,
            w as usize,
            scale as usize,
        );
        println!(
            "| {label} | ![{label}](dithering/{label}.png) | {:.2} | {:.2} | {:.2} |",
            perceptual_error(&img, &bwr),
            perceptual_error(&img, &bw),
            perceptual_error(&ramp_img, &ramp_bw),
        );
    }
    let bw_default = quantise::quantise(&img, Palette::BlackWhite, &Options::default());
    write_indexed(
        &dir.join("default-bw.png"),
        &bw_default,
        w as usize,
        scale as usize,
    );
    let ramp_default = quantise::quantise(&ramp_img, Palette::BlackWhite, &Options::default());
    write_indexed(
        &dir.join("ramp-default.png"),
        &ramp_default,
        128,
        scale as usize,
    );
    let ramp_srgb = textbook_fs(&ramp_img, Palette::BlackWhite, false);
    write_indexed(
        &dir.join("ramp-textbook-fs-srgb.png"),
        &ramp_srgb,
        128,
        scale as usize,
    );
    // The logo: original, default, `solid` off, textbook FS.
    let logo_img = logo(w, h);
    image::imageops::resize(
        &logo_img,
        w * scale,
        h * scale,
        image::imageops::FilterType::Nearest,
    )
    .save(dir.join("logo-original.png"))
    .expect("write logo original");
    let solid_off = Options {
        solid: 0.0,
        ..Options::default()
    };
    for (name, inks) in [
        (
            "logo-default",
            quantise::quantise(&logo_img, Palette::BlackWhiteRed, &Options::default()),
        ),
        (
            "logo-solid-off",
            quantise::quantise(&logo_img, Palette::BlackWhiteRed, &solid_off),
        ),
        (
            "logo-textbook-fs-linear",
            textbook_fs(&logo_img, Palette::BlackWhiteRed, true),
        ),
        (
            "logo-default-bw",
            quantise::quantise(&logo_img, Palette::BlackWhite, &Options::default()),
        ),
    ] {
        write_indexed(
            &dir.join(format!("{name}.png")),
            &inks,
            w as usize,
            scale as usize,
        );
        println!("{name}: ΔE {:.2}", perceptual_error(&logo_img, &inks));
    }
    // Flat sRGB 112 and 184 greys, plain kernel against the default's jitter.
    for grey in [112u8, 184] {
        let fill = RgbaImage::from_pixel(64, 32, Rgba([grey, grey, grey, 255]));
        for (name, o) in [
            (
                "plain",
                Options {
                    jitter: 0.0,
                    ..Options::default()
                },
            ),
            ("default", Options::default()),
        ] {
            let inks = quantise::quantise(&fill, Palette::BlackWhite, &o);
            write_indexed(&dir.join(format!("flat-{grey}-{name}.png")), &inks, 64, 4);
        }
    }
    println!();
    println!("| picture | palette | default | textbook FS, linear light |");
    println!("|---|---|---|---|");
    for (name, palette, ours, fs) in versus_textbook() {
        println!("| {name} | {palette:?} | {ours:.2} | {fs:.2} |");
    }
    // The controls, each on the default algorithm.
    let controls: [(&str, Options); 8] = [
        (
            "brightness-minus",
            Options {
                brightness: -0.15,
                ..Options::default()
            },
        ),
        (
            "brightness-plus",
            Options {
                brightness: 0.15,
                ..Options::default()
            },
        ),
        (
            "contrast-low",
            Options {
                contrast: 0.7,
                ..Options::default()
            },
        ),
        (
            "contrast-high",
            Options {
                contrast: 1.4,
                ..Options::default()
            },
        ),
        (
            "gamma-low",
            Options {
                gamma: 0.7,
                ..Options::default()
            },
        ),
        (
            "gamma-high",
            Options {
                gamma: 1.5,
                ..Options::default()
            },
        ),
        (
            "red-off",
            Options {
                red: RedPolicy::OFF,
                ..Options::default()
            },
        ),
        (
            "red-wide",
            Options {
                red: RedPolicy {
                    hue_full: 25.0,
                    hue_none: 45.0,
                    saturation_full: 0.4,
                    saturation_none: 0.15,
                },
                ..Options::default()
            },
        ),
    ];
    println!();
    println!("| control | picture | ΔE scene BWR |");
    println!("|---|---|---|");
    for (name, o) in controls {
        let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &o);
        write_indexed(
            &dir.join(format!("{name}.png")),
            &bwr,
            w as usize,
            scale as usize,
        );
        println!(
            "| {name} | ![{name}](dithering/{name}.png) | {:.2} |",
            perceptual_error(&img, &bwr)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Image elements in templates

fn png_base64(img: &RgbaImage) -> String {
    use base64::Engine as _;
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .expect("encode PNG");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn render_with(
    image_keys: &str,
    picture: &RgbaImage,
    model: esl_model::Model,
) -> esl_render::PanelImage {
    let json = format!(
        r#"{{"version": 1, "models": ["SL142", "SL126+"], "elements": [
            {{"type": "text", "box": {{"x": 4, "y": 4, "w": 300, "h": 40}}, "text": "Apple 1 kg", "size": 32}},
            {{"type": "image", "box": {{"x": 40, "y": 60, "w": 256, "h": 192}},
              "data": "data:image/png;base64,{}" {image_keys}}}]}}"#,
        png_base64(picture)
    );
    let t = esl_render::Template::from_json(json.as_bytes(), "t", None).expect("template loads");
    esl_render::Renderer::bundled()
        .render(&t, &esl_model::Product::new(), model)
        .expect("renders")
        .image
}

#[test]
fn image_elements_are_dithered_and_text_stays_crisp() {
    use esl_model::Model;
    let pic = scene(128, 96);
    let label = render_with("", &pic, Model::Sl142);
    let (w, _) = Model::Sl142.size();
    let count = |x0: u32, y0: u32, x1: u32, y1: u32, ink: Ink| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| label.ink(x, y) == Some(ink))
            .count()
    };
    // The picture is dithered: every ink, and in the sky (lighter than mid-grey) a mix.
    assert!(count(40, 60, 296, 252, Ink::Red) > 200);
    let sky = (
        count(60, 70, 140, 100, Ink::Black),
        count(60, 70, 140, 100, Ink::White),
    );
    assert!(sky.0 > 300 && sky.1 > 300, "{sky:?}");
    // Nothing outside the box.
    assert_eq!(
        count(0, 60, 40, 300, Ink::Black) + count(296, 60, w, 300, Ink::Black),
        0
    );
    // The text is drawn exactly as without the picture.
    let json = r#"{"version": 1, "models": ["SL142"], "elements": [
        {"type": "text", "box": {"x": 4, "y": 4, "w": 300, "h": 40}, "text": "Apple 1 kg", "size": 32}]}"#;
    let t = esl_render::Template::from_json(json.as_bytes(), "t", None).expect("loads");
    let text_only = esl_render::Renderer::bundled()
        .render(&t, &esl_model::Product::new(), Model::Sl142)
        .expect("renders")
        .image;
    for y in 0..50 {
        for x in 0..w {
            assert_eq!(label.ink(x, y), text_only.ink(x, y), "({x}, {y})");
        }
    }
    // Black/white models get no red, and the same picture is dithered deterministically.
    let bw = render_with("", &pic, Model::Sl126Plus);
    assert_eq!(bw.ink_counts()[2], 0);
    assert_eq!(render_with("", &pic, Model::Sl142), label);
}

#[test]
fn threshold_alone_keeps_the_plain_threshold() {
    use esl_model::Model;
    // A flat grey darker than the level: all black with the plain threshold, dithered
    // otherwise.
    let grey = RgbaImage::from_pixel(32, 24, Rgba([100, 100, 100, 255]));
    let plain = render_with(r#", "threshold": 128"#, &grey, Model::Sl142);
    let box_black = |img: &esl_render::PanelImage| {
        (60..252)
            .flat_map(|y| (40..296).map(move |x| (x, y)))
            .filter(|&(x, y)| img.ink(x, y) == Some(Ink::Black))
            .count()
    };
    assert_eq!(box_black(&plain), 256 * 192);
    let dithered = render_with("", &grey, Model::Sl142);
    let share = box_black(&dithered) as f64 / (256.0 * 192.0);
    assert!(
        (share - (1.0 - srgb_to_linear(100.0 / 255.0))).abs() < 0.02,
        "{share}"
    );
    // `threshold` is the level of the threshold algorithm too.
    let level = render_with(
        r#", "threshold": 90, "dither": {"algorithm": "threshold"}"#,
        &grey,
        Model::Sl142,
    );
    assert_eq!(box_black(&level), 0);
    // Controls reach the quantiser: much brighter means much less black.
    let bright = render_with(r#", "dither": {"brightness": 0.5}"#, &grey, Model::Sl142);
    assert!(box_black(&bright) < box_black(&dithered) / 2);
}

#[test]
fn dither_settings_are_checked_when_loading() {
    let load = |keys: &str| {
        let json = format!(
            r#"{{"version": 1, "models": ["SL142"], "elements": [
                {{"type": "image", "box": {{"x": 0, "y": 0, "w": 8, "h": 8}},
                  "data": "{}", "dither": {keys}}}]}}"#,
            png_base64(&flat([1, 2, 3]))
        );
        esl_render::Template::from_json(json.as_bytes(), "t", None).map(|_| ())
    };
    assert!(load(r#"{"algorithm": "JJN", "gamma": 2.2, "red": {"hue_none": 0}}"#).is_ok());
    let err = load(r#"{"algorithm": "floyd"}"#).unwrap_err().to_string();
    assert!(
        err.contains("elements[0]") && err.contains("floyd-steinberg"),
        "{err}"
    );
    let err = load(r#"{"brightness": 2}"#).unwrap_err().to_string();
    assert!(
        err.contains("dither.brightness 2 is outside -1 to 1"),
        "{err}"
    );
    let err = load(r#"{"red": {"saturation_full": 1.5}}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("saturation limit") && err.contains("outside 0 to 1"),
        "{err}"
    );
    assert!(load(r#"{"solid": 0, "jitter": 0}"#).is_ok());
    let err = load(r#"{"solid": 51}"#).unwrap_err().to_string();
    assert!(err.contains("dither.solid 51 is outside 0 to 50"), "{err}");
    let err = load(r#"{"jitter": -0.5}"#).unwrap_err().to_string();
    assert!(
        err.contains("dither.jitter -0.5 is outside 0 to 1"),
        "{err}"
    );
    let err = load(r#"{"speed": 1}"#).unwrap_err().to_string();
    assert!(err.contains("speed"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Logos: flat brand colours print solid

/// A logo-like picture, `w × h`, on white: a brand-red disc RGB(200, 20, 30) with a white
/// star-like cut-out, dark grey bars RGB(60, 60, 60) one and two pixels thick, a black
/// wordmark block, a pale grey tag RGB(250, 250, 250) and a flat mid-grey RGB(150, 150,
/// 150) bar. Edges are anti-aliased by 4 × 4 supersampling in linear light and softened
/// by a 3 × 3 box blur, as a scanned or resized logo would be.
fn logo(w: u32, h: u32) -> RgbaImage {
    logo_in(w, h, BRAND_RED)
}

/// The logo's brand red.
const BRAND_RED: [u8; 3] = [200, 20, 30];

/// The logo's disc in a `w × h` picture: centre and radius in pixels, and the white ring
/// inside it as radii.
fn logo_disc(w: f64, h: f64) -> ((f64, f64), f64, std::ops::Range<f64>) {
    let r = 0.36 * h;
    ((0.3 * w, 0.5 * h), r, 0.42 * r..0.55 * r)
}

/// [`logo`] with its disc in `red`: in the panel's red ink it is the print a designer
/// means, which the flat colours of [`Options::solid`] aim at.
fn logo_in(w: u32, h: u32, red: [u8; 3]) -> RgbaImage {
    let (wf, hf) = (f64::from(w), f64::from(h));
    let at = |u: f64, v: f64| -> [f64; 3] {
        let (px, py) = (u * wf, v * hf);
        let ((cx, cy), disc, ring) = logo_disc(wf, hf);
        let (dx, dy) = (px - cx, py - cy);
        let r = (dx * dx + dy * dy).sqrt();
        if r < disc {
            // A white ring inside the disc.
            if ring.contains(&r) {
                return [1.0; 3];
            }
            return hex(red);
        }
        let x = px / wf;
        if (0.6..0.95).contains(&x) {
            // Bars: 1 px at y 20, 2 px at y 30.
            if (20.0..21.0).contains(&py) || (30.0..32.0).contains(&py) {
                return hex([60, 60, 60]);
            }
            if (40.0..56.0).contains(&py) && x < 0.8 {
                return [0.0; 3];
            }
            if (60.0..70.0).contains(&py) {
                return hex([150, 150, 150]);
            }
            if (74.0..88.0).contains(&py) {
                return hex([250, 250, 250]);
            }
        }
        [1.0; 3]
    };
    let sharp: Vec<[f64; 3]> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let mut acc = [0.0; 3];
            for sy in 0..4 {
                for sx in 0..4 {
                    let u = (f64::from(x) + (f64::from(sx) + 0.5) / 4.0) / wf;
                    let v = (f64::from(y) + (f64::from(sy) + 0.5) / 4.0) / hf;
                    let c = at(u, v);
                    for i in 0..3 {
                        acc[i] += c[i] / 16.0;
                    }
                }
            }
            acc
        })
        .collect();
    let (wu, hu) = (w as usize, h as usize);
    RgbaImage::from_fn(w, h, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let mut acc = [0.0; 3];
        let mut n = 0.0;
        for yy in y.saturating_sub(1)..(y + 2).min(hu) {
            for xx in x.saturating_sub(1)..(x + 2).min(wu) {
                let c = sharp[yy * wu + xx];
                for i in 0..3 {
                    acc[i] += c[i];
                }
                n += 1.0;
            }
        }
        // Keep flat areas exact: the blur only softens edges.
        let centre = sharp[y * wu + x];
        let c = if (0..3).all(|i| (acc[i] / n - centre[i]).abs() < 1e-9) {
            centre
        } else {
            acc.map(|v| v / n)
        };
        let [r, g, b] = c.map(|l| to_byte(linear_to_srgb(l)));
        Rgba([r, g, b, 255])
    })
}

/// The inks inside a box of a 128-wide picture, as counts per ink.
fn inks_in(inks: &[u8], w: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> [usize; 3] {
    let mut n = [0; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            n[usize::from(inks[y * w + x])] += 1;
        }
    }
    n
}

/// Black pixels within `margin` of the logo's disc ([`logo_disc`]).
fn black_around_disc(inks: &[u8], w: usize, h: usize, margin: f64) -> usize {
    let ((cx, cy), r, _) = logo_disc(w as f64, h as f64);
    let r = r + margin;
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            dx * dx + dy * dy < r * r && inks[y * w + x] == Ink::Black as u8
        })
        .count()
}

#[test]
fn logo_edges_print_without_a_black_fringe() {
    let img = logo(128, 96);
    // Before edges were snapped every algorithm left 360–570 black pixels on the disc's
    // anti-aliased rims (pale pinks the red policy gives to black and white); with `solid`
    // off the dithered disc itself holds about 1,600.
    for a in Algorithm::ALL
        .into_iter()
        .filter(|&a| a != Algorithm::Threshold)
    {
        let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &with(a));
        let black = black_around_disc(&bwr, 128, 96, 3.0);
        let most = if a.is_diffusion() { 3 } else { 15 };
        assert!(
            black <= most,
            "{a}: {black} black pixels on the disc's rims"
        );
    }
    let off = Options {
        solid: 0.0,
        ..Options::default()
    };
    let dithered = quantise::quantise(&img, Palette::BlackWhiteRed, &off);
    assert!(black_around_disc(&dithered, 128, 96, 3.0) > 1000);
    // Most image editors blend edges in sRGB values rather than light: the same holds.
    let (w, h) = (128u32, 96u32);
    let srgb_edges = RgbaImage::from_fn(w, h, |x, y| {
        let ((cx, cy), r, _) = logo_disc(f64::from(w), f64::from(h));
        let mut inside = 0.0;
        for s in 0..16 {
            let (dx, dy) = (
                f64::from(x) + (f64::from(s % 4) + 0.5) / 4.0 - cx,
                f64::from(y) + (f64::from(s / 4) + 0.5) / 4.0 - cy,
            );
            inside += f64::from(u8::from(dx * dx + dy * dy < r * r)) / 16.0;
        }
        let [r, g, b] = BRAND_RED.map(|c| to_byte(f64::from(c) / 255.0 * inside + 1.0 - inside));
        Rgba([r, g, b, 255])
    });
    for a in [
        Algorithm::Sierra,
        Algorithm::FloydSteinberg,
        Algorithm::BlueNoise,
    ] {
        let bwr = quantise::quantise(&srgb_edges, Palette::BlackWhiteRed, &with(a));
        let black = black_around_disc(&bwr, 128, 96, 3.0);
        assert!(
            black <= 3,
            "{a}, edges blended in sRGB: {black} black pixels"
        );
    }
}

/// Measured against the print a designer means (the logo in the panel's red), the default
/// is far closer than textbook Floyd–Steinberg, which peppers the red with black; so is it
/// with `solid` off, the edges blurred (before edges were snapped: 3.80 against 6.44).
#[test]
fn logo_prints_closer_to_its_design_than_textbook_floyd_steinberg() {
    let (ours, off, fs) = logo_against_its_print();
    assert!(ours * 2.0 < fs, "default {ours:.2}, textbook FS {fs:.2}");
    assert!(ours < off, "default {ours:.2}, solid 0 {off:.2}");
}

/// A gradient beside a flat white area is not an edge: its pixels next to the white keep
/// their dither.
#[test]
fn gradients_beside_flat_areas_keep_their_dither() {
    let (w, h) = (64u32, 64u32);
    // White on the left, then greys from sRGB 230 down to 40 (a photo's soft margin).
    let img = RgbaImage::from_fn(w, h, |x, _| {
        let v = if x < 24 {
            255
        } else {
            (230 - (x - 24) * 190 / 39) as u8
        };
        Rgba([v, v, v, 255])
    });
    let off = Options {
        solid: 0.0,
        ..Options::default()
    };
    for palette in [Palette::BlackWhiteRed, Palette::BlackWhite] {
        let on = quantise::quantise(&img, palette, &Options::default());
        let plain = quantise::quantise(&img, palette, &off);
        let (a, b) = (
            inks_in(&on, 64, 24, 0, 40, 64),
            inks_in(&plain, 64, 24, 0, 40, 64),
        );
        // The same share of black, within a few pixels, in the 16 columns beside the white.
        assert!(
            a[1] > 100 && a[1].abs_diff(b[1]) <= 24,
            "{palette:?}: {a:?} against {b:?}"
        );
    }
}

#[test]
fn flat_brand_colours_print_solid_in_every_algorithm() {
    let img = logo(128, 96);
    for a in Algorithm::ALL {
        let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &with(a));
        // The disc's inner part (radius 0.36 × 96 ≈ 34.6 px at (38.4, 48)) is red.
        assert_eq!(
            inks_in(&bwr, 128, 30, 42, 35, 54),
            [0, 0, 60],
            "{a}: inside of the disc"
        );
        // The pale tag is white, the wordmark black.
        assert_eq!(inks_in(&bwr, 128, 80, 76, 120, 86)[1], 0, "{a}: pale tag");
        assert_eq!(
            inks_in(&bwr, 128, 79, 42, 100, 54),
            [0, 21 * 12, 0],
            "{a}: wordmark"
        );
    }
    // The mid-grey bar keeps its dither, and so do photos and gradients.
    for a in Algorithm::ALL.into_iter().filter(|a| a.is_diffusion()) {
        let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &with(a));
        let bar = inks_in(&bwr, 128, 80, 62, 120, 68);
        assert!(bar[0] > 40 && bar[1] > 40, "{a}: mid-grey bar {bar:?}");
        let sc = scene(128, 96);
        let solid_off = Options {
            solid: 0.0,
            ..with(a)
        };
        let apple_on = quantise::quantise(&sc, Palette::BlackWhiteRed, &with(a));
        let apple_off = quantise::quantise(&sc, Palette::BlackWhiteRed, &solid_off);
        let (on, off) = (
            inks_in(&apple_on, 128, 28, 55, 48, 75),
            inks_in(&apple_off, 128, 28, 55, 48, 75),
        );
        // Still a mix of red and black, in about the same proportions.
        assert!(on[1] > 50 && on[2] > 50, "{a}: apple {on:?}");
        assert!(
            on[1].abs_diff(off[1]) * 10 <= off[1] && on[2].abs_diff(off[2]) * 10 <= off[2],
            "{a}: apple {on:?} with solid, {off:?} without"
        );
    }
    // With the control at 0 the disc is dithered red and black, as its light asks.
    let off = Options {
        solid: 0.0,
        ..Options::default()
    };
    let bwr = quantise::quantise(&img, Palette::BlackWhiteRed, &off);
    let disc = inks_in(&bwr, 128, 30, 42, 35, 54);
    assert!(disc[1] > 12 && disc[2] > 24, "{disc:?}");
    // Black/white panels: the disc has no ink near it, so it is dithered.
    let bw = quantise::quantise(&img, Palette::BlackWhite, &Options::default());
    let disc = inks_in(&bw, 128, 30, 42, 35, 54);
    assert!(disc[0] > 3 && disc[1] > 24, "BW disc {disc:?}");
}

// ---------------------------------------------------------------------------------------
// No regular pattern in flat colours

/// The peak of the power spectrum of a 64 × 64 window of an ink mask (1 where the pixel
/// has `ink`), over the mean power of all non-zero frequencies: about ln(4095) ≈ 8 for
/// noise, far more when the ink forms a lattice or rows of worms (energy at a few
/// frequencies). 0 for a mask with no variation.
fn spectral_peak(inks: &[u8], w: usize, x0: usize, y0: usize, ink: u8) -> f64 {
    const N: usize = 64;
    let mut m = vec![0.0f64; N * N];
    for y in 0..N {
        for x in 0..N {
            m[y * N + x] = f64::from(u8::from(inks[(y0 + y) * w + x0 + x] == ink));
        }
    }
    let mean = m.iter().sum::<f64>() / (N * N) as f64;
    m.iter_mut().for_each(|v| *v -= mean);
    let tw: Vec<(f64, f64)> = (0..N)
        .map(|k| {
            let a = -2.0 * std::f64::consts::PI * k as f64 / N as f64;
            (a.cos(), a.sin())
        })
        .collect();
    // Rows, then columns (a separable DFT).
    let mut rows = vec![(0.0f64, 0.0f64); N * N];
    for y in 0..N {
        for k in 0..N {
            let (mut re, mut im) = (0.0, 0.0);
            for x in 0..N {
                let (c, s) = tw[(k * x) % N];
                re += m[y * N + x] * c;
                im += m[y * N + x] * s;
            }
            rows[y * N + k] = (re, im);
        }
    }
    let mut power = Vec::with_capacity(N * N);
    for k in 0..N {
        for l in 0..N {
            let (mut re, mut im) = (0.0, 0.0);
            for y in 0..N {
                let (c, s) = tw[(l * y) % N];
                let (a, b) = rows[y * N + k];
                re += a * c - b * s;
                im += a * s + b * c;
            }
            if k != 0 || l != 0 {
                power.push(re * re + im * im);
            }
        }
    }
    let total: f64 = power.iter().sum();
    if total < 1e-9 {
        return 0.0;
    }
    let peak = power.iter().copied().fold(0.0, f64::max);
    peak / (total / power.len() as f64)
}

/// Flat colours of the pattern test: every sRGB grey 0–255 in steps of 8 (and 255), reds
/// and dark reds.
fn pattern_fills() -> Vec<[u8; 3]> {
    let mut fills: Vec<[u8; 3]> = (0..=255u8).step_by(8).map(|g| [g; 3]).collect();
    fills.push([255; 3]);
    fills.extend([
        [255, 0, 0],
        [230, 30, 30],
        [200, 20, 30],
        [160, 0, 0],
        [128, 0, 0],
        [100, 10, 10],
        [70, 0, 0],
        [255, 90, 90],
    ]);
    fills
}

/// The worst spectral peak of a fill's ink masks (black, and red on BWR) in a window away
/// from the edges, where the diffusion has settled.
fn worst_peak(opts: &Options, palette: Palette, rgb: [u8; 3]) -> f64 {
    let img = RgbaImage::from_pixel(128, 128, Rgba([rgb[0], rgb[1], rgb[2], 255]));
    let inks = quantise::quantise(&img, palette, opts);
    let mut worst: f64 = 0.0;
    for ink in [Ink::White, Ink::Black, Ink::Red] {
        if palette.contains(ink) {
            worst = worst.max(spectral_peak(&inks, 128, 40, 40, ink as u8));
        }
    }
    worst
}

#[test]
#[ignore = "prints a report"]
fn jitter_report() {
    for jitter in [0.0, 0.1, 0.15, 0.2] {
        for a in [Algorithm::Sierra, Algorithm::FloydSteinberg] {
            let mut worst: f64 = 0.0;
            let mut at = [0u8; 3];
            for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
                for rgb in pattern_fills() {
                    let o = Options { jitter, ..with(a) };
                    let base = worst_peak(&with(Algorithm::BlueNoise), palette, rgb).max(8.0);
                    let r = worst_peak(&o, palette, rgb) / base;
                    if r > worst {
                        worst = r;
                        at = rgb;
                    }
                }
            }
            let img = scene(128, 96);
            let rp = ramp(128, 32);
            let o = Options { jitter, ..with(a) };
            let e: Vec<String> = [Palette::BlackWhite, Palette::BlackWhiteRed]
                .iter()
                .map(|&p| {
                    format!(
                        "scene {:.2} ramp {:.2}",
                        perceptual_error(&img, &quantise::quantise(&img, p, &o)),
                        perceptual_error(&rp, &quantise::quantise(&rp, p, &o))
                    )
                })
                .collect();
            println!(
                "jitter {jitter} {a}: worst peak/blue {worst:.2} at {at:?}; {}",
                e.join(" | ")
            );
        }
    }
}

#[test]
#[ignore = "prints a report"]
fn pattern_report() {
    for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
        for rgb in pattern_fills() {
            let row: Vec<String> = [
                Algorithm::Sierra,
                Algorithm::FloydSteinberg,
                Algorithm::BlueNoise,
            ]
            .iter()
            .map(|&a| format!("{a} {:7.1}", worst_peak(&with(a), palette, rgb)))
            .collect();
            println!("{palette:?} {rgb:?}: {}", row.join("  "));
        }
    }
}

/// Every flat fill of [`pattern_fills`], on both palettes: the default's ink masks show no
/// spectral peak above twice what the blue-noise map shows on the same fill (with a floor
/// of 8, about the peak of white noise). The plain kernels fail this: Sierra without
/// jitter forms rows at sRGB 112 (4.1 times blue noise), Floyd–Steinberg lattices at
/// sRGB 48 and 184 (8.9 times).
#[test]
fn flat_fills_show_no_regular_pattern() {
    let mut failures = Vec::new();
    for palette in [Palette::BlackWhite, Palette::BlackWhiteRed] {
        for rgb in pattern_fills() {
            let base = worst_peak(&with(Algorithm::BlueNoise), palette, rgb).max(8.0);
            let ours = worst_peak(&Options::default(), palette, rgb);
            if ours > 2.0 * base {
                failures.push(format!(
                    "{palette:?} {rgb:?}: peak {ours:.1}, blue noise {base:.1}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The measure finds a pattern where there is one: Floyd–Steinberg with no jitter.
    let plain = Options {
        jitter: 0.0,
        ..with(Algorithm::FloydSteinberg)
    };
    let base = worst_peak(&with(Algorithm::BlueNoise), Palette::BlackWhite, [184; 3]);
    assert!(worst_peak(&plain, Palette::BlackWhite, [184; 3]) > 4.0 * base.max(8.0));
}

/// The perceptual error of the default and of textbook linear-light Floyd–Steinberg on
/// the logo, the scene and the ramp, per palette: `(default, textbook)`.
fn versus_textbook() -> Vec<(&'static str, Palette, f64, f64)> {
    let pics = [
        ("logo", logo(128, 96)),
        ("photo", scene(128, 96)),
        ("ramp", ramp(128, 32)),
    ];
    let mut rows = Vec::new();
    for (name, img) in &pics {
        for palette in [Palette::BlackWhiteRed, Palette::BlackWhite] {
            let ours =
                perceptual_error(img, &quantise::quantise(img, palette, &Options::default()));
            let fs = perceptual_error(img, &textbook_fs(img, palette, true));
            rows.push((*name, palette, ours, fs));
        }
    }
    rows
}

#[test]
#[ignore = "prints a report"]
fn versus_textbook_report() {
    println!("| picture | palette | default | textbook FS, linear light |");
    println!("|---|---|---|---|");
    for (name, palette, ours, fs) in versus_textbook() {
        println!("| {name} | {palette:?} | {ours:.2} | {fs:.2} |");
    }
    let img = logo(128, 96);
    let off = Options {
        solid: 0.0,
        ..Options::default()
    };
    for palette in [Palette::BlackWhiteRed, Palette::BlackWhite] {
        println!(
            "logo {palette:?} with solid 0: {:.2}",
            perceptual_error(&img, &quantise::quantise(&img, palette, &off))
        );
    }
    // What a solid red disc costs by this measure on its own: the error of the disc's
    // inside (3 px in from its rim, the white ring excluded) in a picture whose inside is
    // solid red, as a share of the whole picture's mean.
    let ((cx, cy), r, ring) = logo_disc(128.0, 96.0);
    let inside = |x: usize, y: usize| {
        let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
        let d = (dx * dx + dy * dy).sqrt();
        d < r - 3.0 && !(ring.start - 3.0..ring.end + 3.0).contains(&d)
    };
    let solid = quantise::quantise(&img, Palette::BlackWhiteRed, &Options::default());
    println!(
        "logo BWR, the solid disc's inside alone: {:.2}",
        perceptual_error_where(&img, &solid, inside)
    );
    let (ours, off, fs) = logo_against_its_print();
    println!(
        "logo against its print in red ink, BWR: default {ours:.2}, solid 0 {off:.2}, textbook FS {fs:.2}"
    );
}

/// The perceptual error on black/white/red of the default, of `solid: 0` and of textbook
/// linear-light Floyd–Steinberg, each dithering [`logo`] but measured against the logo
/// drawn with the panel's red ink in place of its brand red: the print a designer means.
fn logo_against_its_print() -> (f64, f64, f64) {
    let img = logo(128, 96);
    let print = logo_in(128, 96, Ink::Red.rgb());
    let off = Options {
        solid: 0.0,
        ..Options::default()
    };
    let bwr = Palette::BlackWhiteRed;
    (
        perceptual_error(&print, &quantise::quantise(&img, bwr, &Options::default())),
        perceptual_error(&print, &quantise::quantise(&img, bwr, &off)),
        perceptual_error(&print, &textbook_fs(&img, bwr, true)),
    )
}
