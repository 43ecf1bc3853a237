//! The stages of one label of the throughput design (`benches/lib.rs`), per size: bind,
//! fingerprint, rasterise and PNG of the whole label; and the parts alone: text (the text
//! and price elements), the EAN-13, the QR code (cached, and encoded afresh). Each iteration
//! takes the next of 20 generated products, so a figure is the mean over varied names and
//! prices. See `benches/README.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use esl_benches::{SIZES, design_json, products, root};
use esl_model::{Model, Product};
use esl_render::{Renderer, Template, rasterise};

/// The design of `m` with only the elements whose type is in `types`.
fn part(m: Model, types: &[&str]) -> Template {
    let mut v: serde_json::Value =
        serde_json::from_str(&design_json(m)).expect("the design is JSON");
    if let Some(elements) = v["elements"].as_array_mut() {
        elements.retain(|e| types.contains(&e["type"].as_str().unwrap_or_default()));
    }
    let base = root().join("templates/gallery");
    Template::from_json(v.to_string().as_bytes(), "part", Some(&base)).expect("the part loads")
}

fn bench_stages(c: &mut Criterion) {
    let renderer = Renderer::bundled();
    let set: Vec<Product> = products(20);
    let full_types = ["image", "text", "rect", "price", "barcode", "qrcode"];
    for m in SIZES {
        let name = m.name();
        let full = part(m, &full_types);
        let mut g = c.benchmark_group(format!("stage/{name}"));
        let mut i = 0usize;
        let mut next = || {
            i = (i + 1) % set.len();
            &set[i]
        };
        g.bench_function("bind", |b| b.iter(|| renderer.bind(&full, next(), m)));
        let scenes: Vec<_> = set
            .iter()
            .map(|p| renderer.bind(&full, p, m).expect("binds"))
            .collect();
        let mut k = 0usize;
        let mut scene = || {
            k = (k + 1) % scenes.len();
            &scenes[k]
        };
        g.bench_function("fingerprint", |b| b.iter(|| scene().fingerprint()));
        g.bench_function("rasterise", |b| b.iter(|| rasterise(scene())));
        let images: Vec<_> = scenes.iter().map(rasterise).collect();
        let mut j = 0usize;
        g.bench_function("png", |b| {
            b.iter(|| {
                j = (j + 1) % images.len();
                images[j].to_png(1)
            })
        });
        for (label, types) in [
            ("text", &["text", "price"][..]),
            ("barcode", &["barcode"][..]),
            ("qr", &["qrcode"][..]),
        ] {
            if label == "qr" && m == Model::Sl121 {
                continue; // the 2.13" design has no QR code
            }
            let t = part(m, types);
            g.bench_function(format!("{label}/bind+rasterise"), |b| {
                b.iter(|| rasterise(&renderer.bind(&t, next(), m).expect("binds")))
            });
        }
        if m != Model::Sl121 {
            // A value never seen before: the QR cache misses, so this is the encoding.
            let t = part(m, &["qrcode"]);
            let mut n = 0u64;
            g.bench_function("qr/bind-uncached", |b| {
                b.iter(|| {
                    n += 1;
                    let p = Product::new()
                        .with("id", "1")
                        .with("qr_code", format!("https://esl.example/p/sku-{n:08}"));
                    renderer.bind(&t, &p, m)
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench_stages);
criterion_main!(benches);
