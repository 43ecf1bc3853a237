//! Palette quantisation: a 400 × 300 picture (the SL142 panel) to black/white/red with the
//! default algorithm, then every algorithm on both palettes.

use criterion::{Criterion, criterion_group, criterion_main};
use esl_model::Palette;
use esl_render::quantise::{self, Algorithm, Options};
use image::{Rgba, RgbaImage};

/// A photo-like RGB picture: sky and meadow gradients, a shaded red disc and a skin-toned
/// ellipse, fully opaque.
fn picture(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
        let lerp = |a: f32, b: f32, t: f32| (a + (b - a) * t.clamp(0.0, 1.0)) as u8;
        let mut c = if v < 0.55 {
            [
                lerp(92.0, 205.0, v / 0.55),
                lerp(146.0, 226.0, v / 0.55),
                lerp(214.0, 245.0, v / 0.55),
            ]
        } else {
            let t = (v - 0.55) / 0.45;
            [
                lerp(96.0, 28.0, t),
                lerp(168.0, 82.0, t),
                lerp(64.0, 30.0, t),
            ]
        };
        let (dx, dy) = ((u - 0.3) * w as f32 / h as f32, v - 0.66);
        let d = (dx * dx + dy * dy).sqrt() / 0.17;
        if d < 1.0 {
            c = [
                lerp(250.0, 150.0, d),
                lerp(90.0, 8.0, d),
                lerp(80.0, 14.0, d),
            ];
        }
        let (fx, fy) = ((u - 0.66) / 0.13, (v - 0.42) / 0.26);
        if fx * fx + fy * fy < 1.0 {
            let t = (fx + 1.0) / 2.0;
            c = [
                lerp(246.0, 176.0, t),
                lerp(210.0, 118.0, t),
                lerp(180.0, 86.0, t),
            ];
        }
        Rgba([c[0], c[1], c[2], 255])
    })
}

fn bench_dither(c: &mut Criterion) {
    let img = picture(400, 300);
    // Build the lazily made tables (blue-noise map, decision table) outside the timing.
    for a in Algorithm::ALL {
        let o = Options {
            algorithm: a,
            ..Options::default()
        };
        let _ = quantise::quantise(&img, Palette::BlackWhiteRed, &o);
    }
    c.bench_function("dither/400x300/bwr/default", |b| {
        b.iter(|| quantise::quantise(&img, Palette::BlackWhiteRed, &Options::default()))
    });
    for (pname, palette) in [("bwr", Palette::BlackWhiteRed), ("bw", Palette::BlackWhite)] {
        let mut group = c.benchmark_group(format!("dither/400x300/{pname}"));
        for a in Algorithm::ALL {
            let o = Options {
                algorithm: a,
                ..Options::default()
            };
            group.bench_function(a.name(), |b| {
                b.iter(|| quantise::quantise(&img, palette, &o))
            });
        }
        group.finish();
    }
    let tuned = Options {
        brightness: 0.05,
        contrast: 1.2,
        gamma: 1.1,
        ..Options::default()
    };
    c.bench_function("dither/400x300/bwr/default+controls", |b| {
        b.iter(|| quantise::quantise(&img, Palette::BlackWhiteRed, &tuned))
    });
    let big = picture(1600, 1200);
    c.bench_function("resize_to_fit/1600x1200->400x300", |b| {
        b.iter(|| quantise::resize_to_fit(&big, 400, 300, esl_render::template::Fit::Cover))
    });
}

criterion_group!(benches, bench_dither);
criterion_main!(benches);
