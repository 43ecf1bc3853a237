//! End-to-end throughput: the issue's label design over a generated set of 1,300 products ×
//! 3 sizes (3,900 labels), each label bound, fingerprinted, rasterised, encoded as an indexed
//! PNG and written to its own file; and the floor beside it, a blank template through the
//! same steps. See `benches/README.md`.
//!
//! ```sh
//! cargo run --release -p esl-benches --example throughput -- --threads 1
//! cargo run --release -p esl-benches --example throughput -- --threads 2 --runs 5
//! ```
//!
//! Options: `--threads T` (default 1), `--runs R` (timed runs, default 5; the median is
//! reported), `--products N` (default 1300), `--out DIR` (default `/dev/shm/esl-throughput`:
//! a tmpfs, so that the figures are the engine's and not the disk's), `--png C` (the PNG
//! compressor: `libdeflate:N`, `miniz:N` or `fdeflate`; default the library's), for A/B runs
//! in one binary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use esl_benches::{SIZES, blank, design, products};
use esl_model::{Model, Product};
use esl_render::{PngCompression, PngOptions, Renderer, Template};
use rayon::prelude::*;

struct Args {
    threads: usize,
    runs: usize,
    products: usize,
    out: PathBuf,
    png: PngOptions,
}

/// `libdeflate:N`, `miniz:N` or `fdeflate`.
fn compression(text: &str) -> PngCompression {
    let (name, level) = text.split_once(':').unwrap_or((text, "4"));
    let level: u8 = level.parse().expect("--png NAME:LEVEL takes a number");
    match name {
        "libdeflate" => PngCompression::Libdeflate(level),
        "miniz" => PngCompression::Miniz(level),
        "fdeflate" => PngCompression::Fdeflate,
        other => panic!("--png {other}: libdeflate:N, miniz:N or fdeflate"),
    }
}

fn args() -> Args {
    let mut a = Args {
        threads: 1,
        runs: 5,
        products: 1300,
        out: PathBuf::from("/dev/shm/esl-throughput"),
        png: PngOptions::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => a.threads = value().parse().expect("--threads takes a number"),
            "--runs" => a.runs = value().parse().expect("--runs takes a number"),
            "--products" => a.products = value().parse().expect("--products takes a number"),
            "--out" => a.out = PathBuf::from(value()),
            "--png" => a.png.compression = compression(&value()),
            other => panic!("unknown option {other}"),
        }
    }
    a.runs = a.runs.max(1);
    a
}

/// One label, as a batch does it: bind, fingerprint, rasterise, PNG, write.
fn label(
    renderer: &Renderer,
    t: &Template,
    p: &Product,
    m: Model,
    path: &Path,
    opts: PngOptions,
) -> usize {
    let scene = renderer
        .bind(t, p, m)
        .expect("the design binds every product");
    let fp = scene.fingerprint();
    std::hint::black_box(fp);
    let png = renderer
        .rasterise(&scene)
        .to_png_with(1, opts)
        .expect("PNG encodes");
    std::fs::write(path, &png).expect("writing the label");
    png.len()
}

/// Renders every product with `t` for `m`; the time and the bytes written.
fn batch(
    kind: &str,
    renderer: &Renderer,
    t: &Template,
    m: Model,
    set: &[Product],
    dir: &Path,
    opts: PngOptions,
) -> (Duration, usize) {
    let start = Instant::now();
    let bytes = set
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            label(
                renderer,
                t,
                p,
                m,
                &dir.join(format!("{kind}-{}-{i}.png", m.name())),
                opts,
            )
        })
        .sum();
    (start.elapsed(), bytes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let a = args();
    rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build_global()
        .expect("one global pool");
    std::fs::create_dir_all(&a.out).expect("creating the output folder");
    let renderer = Renderer::bundled();
    let set = products(a.products);
    println!(
        "{} products × {} sizes = {} labels, {} thread(s), {} runs, PNG {:?}, output in {}",
        set.len(),
        SIZES.len(),
        set.len() * SIZES.len(),
        a.threads,
        a.runs,
        a.png.compression,
        a.out.display()
    );
    println!(
        "{:<6} {:<10} {:>10} {:>10} {:>10} {:>12} {:>9}",
        "kind", "size", "median/s", "min/s", "max/s", "µs/label", "B/label"
    );
    for (kind, make) in [("full", design as fn(Model) -> Template), ("floor", blank)] {
        let templates: Vec<(Model, Template)> = SIZES.iter().map(|&m| (m, make(m))).collect();
        // Warm-up: every template's first label prepares its pictures.
        for (m, t) in &templates {
            batch(
                kind,
                &renderer,
                t,
                *m,
                &set[..set.len().min(50)],
                &a.out,
                a.png,
            );
        }
        let mut per_size: Vec<Vec<f64>> = vec![Vec::new(); SIZES.len()];
        let mut mixed = Vec::new();
        let mut bytes = vec![0usize; SIZES.len()];
        for _ in 0..a.runs {
            let mut total = Duration::ZERO;
            for (k, (m, t)) in templates.iter().enumerate() {
                let (d, b) = batch(kind, &renderer, t, *m, &set, &a.out, a.png);
                total += d;
                per_size[k].push(set.len() as f64 / d.as_secs_f64());
                bytes[k] = b;
            }
            mixed.push((set.len() * SIZES.len()) as f64 / total.as_secs_f64());
        }
        let line = |size: &str, rates: Vec<f64>, b: usize, n: usize| {
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            let med = median(rates);
            println!(
                "{kind:<6} {size:<10} {med:>10.0} {min:>10.0} {max:>10.0} {:>12.1} {:>9}",
                1e6 / med,
                b / n
            );
        };
        for (k, (m, _)) in templates.iter().enumerate() {
            line(m.name(), per_size[k].clone(), bytes[k], set.len());
        }
        line("mixed", mixed, bytes.iter().sum(), set.len() * SIZES.len());
    }
}
