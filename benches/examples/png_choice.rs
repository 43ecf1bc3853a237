//! Size against time of the PNG compressor and filter choices, on the throughput set (the
//! issue's design, 1,300 products × 3 sizes) and the gallery: every label rendered once,
//! then encoded with each option; the total bytes and the median time per label. The
//! reference line is the `png` crate as esl used it before its own writer (`Balanced`, no
//! filter, a new encoder per image).
//!
//! ```sh
//! cargo run --release -p esl-benches --example png_choice
//! ```

use std::time::Instant;

use esl_benches::{SIZES, design, products, root};
use esl_model::Product;
use esl_render::{PanelImage, PngCompression, PngFilter, PngOptions, Renderer, Template};

/// The former encoder: the png crate, `Balanced`, no filter.
fn png_crate(label: &PanelImage) -> Vec<u8> {
    let inks = label.palette().inks();
    let depth = if inks.len() <= 2 { 1 } else { 2 };
    let (w, h) = (label.width() as usize, label.height() as usize);
    let per = 8 / depth;
    let rb = w.div_ceil(per);
    let mut data = vec![0u8; rb * h];
    for (i, &v) in label.indices().iter().enumerate() {
        let (x, y) = (i % w, i / w);
        data[y * rb + x / per] |= v << (8 - depth * (x % per + 1));
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(if depth == 1 {
        png::BitDepth::One
    } else {
        png::BitDepth::Two
    });
    enc.set_palette(inks.iter().flat_map(|i| i.rgb()).collect::<Vec<u8>>());
    enc.set_compression(png::Compression::Balanced);
    enc.set_filter(png::Filter::NoFilter);
    let mut wr = enc.write_header().expect("header");
    wr.write_image_data(&data).expect("data");
    wr.finish().expect("finish");
    out
}

fn measure(name: &str, labels: &[PanelImage], f: &dyn Fn(&PanelImage) -> Vec<u8>) -> usize {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..3 {
        let start = Instant::now();
        bytes = labels.iter().map(|l| f(l).len()).sum();
        times.push(start.elapsed().as_secs_f64() * 1e6 / labels.len() as f64);
    }
    times.sort_by(f64::total_cmp);
    println!("{name:<24} {bytes:>10} {:>10.1}", times[1]);
    bytes
}

fn main() {
    let renderer = Renderer::bundled();
    let set = products(1300);
    let mut sets: Vec<(&str, Vec<PanelImage>)> = Vec::new();
    let mut throughput = Vec::new();
    for m in SIZES {
        let t = design(m);
        for p in &set {
            throughput.push(renderer.render(&t, p, m).expect("renders").image);
        }
    }
    sets.push(("throughput set", throughput));
    let gallery_dir = root().join("templates/gallery");
    let mut gallery = Vec::new();
    for entry in std::fs::read_dir(&gallery_dir).expect("the gallery") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let t = Template::load(&path).expect("a gallery template");
        for pe in std::fs::read_dir(gallery_dir.join("products")).expect("products") {
            let p = Product::from_json(&std::fs::read(pe.expect("entry").path()).expect("read"))
                .expect("a product");
            for m in t.models() {
                if let Ok(r) = renderer.render(&t, &p, m) {
                    gallery.push(r.image);
                }
            }
        }
    }
    sets.push(("gallery", gallery));
    for (name, labels) in &sets {
        println!("{name}: {} labels", labels.len());
        println!("{:<24} {:>10} {:>10}", "encoder", "bytes", "µs/label");
        let base = measure("png crate (before)", labels, &png_crate);
        let mut opts = Vec::new();
        for level in [1u8, 2, 3, 4, 5, 6, 8] {
            opts.push((
                format!("libdeflate {level} none"),
                PngCompression::Libdeflate(level),
                PngFilter::None,
            ));
        }
        for level in [1u8, 2, 3, 4, 6, 9] {
            opts.push((
                format!("miniz {level} none"),
                PngCompression::Miniz(level),
                PngFilter::None,
            ));
        }
        for level in [1u8, 3, 6] {
            opts.push((
                format!("miniz {level} auto"),
                PngCompression::Miniz(level),
                PngFilter::Auto,
            ));
            opts.push((
                format!("miniz {level} up"),
                PngCompression::Miniz(level),
                PngFilter::Up,
            ));
        }
        opts.push((
            "fdeflate none".into(),
            PngCompression::Fdeflate,
            PngFilter::None,
        ));
        opts.push((
            "fdeflate auto".into(),
            PngCompression::Fdeflate,
            PngFilter::Auto,
        ));
        for (n, compression, filter) in opts {
            let o = PngOptions {
                compression,
                filter,
            };
            let b = measure(&n, labels, &|l| l.to_png_with(1, o).expect("encodes"));
            println!(
                "{:<24} {:>+9.1}%",
                "",
                (b as f64 / base as f64 - 1.0) * 100.0
            );
        }
    }
}
