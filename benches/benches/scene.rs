//! The two stages apart: `bind` (template + product → scene) and `rasterise` (scene →
//! panel), for every sample template × sample product × model; and a label with a logo
//! against the same label without it, the picture already prepared (as it is after a
//! template's first label).

use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use esl_model::{Model, Product};
use esl_render::{Renderer, Template, rasterise};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn samples() -> Vec<(String, Template)> {
    ["shelf-2.13", "shelf-2.6", "shelf-4.2"]
        .iter()
        .map(|n| {
            let t = Template::load(&root().join(format!("templates/{n}.json"))).unwrap();
            (n.to_string(), t)
        })
        .collect()
}

fn products() -> Vec<(String, Product)> {
    ["cola", "promo", "long-name", "minimal", "four-digit"]
        .iter()
        .map(|n| {
            let bytes = std::fs::read(root().join(format!("templates/products/{n}.json"))).unwrap();
            (n.to_string(), Product::from_json(&bytes).unwrap())
        })
        .collect()
}

fn bench_stages(c: &mut Criterion) {
    let renderer = Renderer::bundled();
    let mut bind = c.benchmark_group("bind");
    for (tn, t) in samples() {
        for (pn, p) in products() {
            for m in t.models() {
                let id = BenchmarkId::new(format!("{tn}/{}", m.name()), &pn);
                bind.bench_with_input(id, &(), |b, ()| {
                    b.iter(|| renderer.bind(&t, &p, m).unwrap())
                });
            }
        }
    }
    bind.finish();
    let mut raster = c.benchmark_group("rasterise");
    for (tn, t) in samples() {
        for (pn, p) in products() {
            for m in t.models() {
                let scene = renderer.bind(&t, &p, m).unwrap();
                let id = BenchmarkId::new(format!("{tn}/{}", m.name()), &pn);
                raster.bench_with_input(id, &scene, |b, s| b.iter(|| rasterise(s)));
            }
        }
    }
    raster.finish();
}

/// The SL142 sample with a 48 × 48 logo added (default dithering), against the sample as it
/// is.
fn bench_logo(c: &mut Criterion) {
    let renderer = Renderer::bundled();
    let product =
        Product::from_json(&std::fs::read(root().join("templates/products/promo.json")).unwrap())
            .unwrap();
    let plain = std::fs::read_to_string(root().join("templates/shelf-4.2.json")).unwrap();
    let logo = root().join("tests/cases/logo.png");
    let with_logo = plain.replacen(
        r#""elements": ["#,
        &format!(
            r#""elements": [{{"type": "image", "box": {{"x": 340, "y": 4, "w": 48, "h": 48}}, "src": {:?}}},"#,
            logo.display().to_string()
        ),
        1,
    );
    let plain = Template::from_json(plain.as_bytes(), "plain", None).unwrap();
    let with_logo = Template::from_json(with_logo.as_bytes(), "logo", None).unwrap();
    // Prepares the picture once, as the first label of a batch does.
    renderer.bind(&with_logo, &product, Model::Sl142).unwrap();
    let mut g = c.benchmark_group("logo");
    for (name, t) in [("without", &plain), ("with-prepared", &with_logo)] {
        g.bench_function(format!("bind+rasterise/{name}"), |b| {
            b.iter(|| rasterise(&renderer.bind(t, &product, Model::Sl142).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_stages, bench_logo);
criterion_main!(benches);
