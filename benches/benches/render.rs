//! One label rendered and PNG-encoded, per model, with the sample templates and the
//! promotion product (the busiest layout: badge, struck-through old price, red price).

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use esl_model::{Model, Product};
use esl_render::{Renderer, Template};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn bench_render(c: &mut Criterion) {
    let renderer = Renderer::bundled();
    let product =
        Product::from_json(&std::fs::read(root().join("templates/products/promo.json")).unwrap())
            .unwrap();
    let cases = [
        (Model::Sl121, "shelf-2.13.json"),
        (Model::Sl126, "shelf-2.6.json"),
        (Model::Sl126Plus, "shelf-2.6.json"),
        (Model::Sl142, "shelf-4.2.json"),
        (Model::Sl142Plus, "shelf-4.2.json"),
    ];
    let mut group = c.benchmark_group("render+png");
    for (model, file) in cases {
        let template = Template::load(&root().join("templates").join(file)).unwrap();
        group.bench_function(model.name(), |b| {
            b.iter(|| {
                let label = renderer.render(&template, &product, model).unwrap();
                label.image.to_png(1).unwrap()
            });
        });
    }
    group.finish();
    let template = Template::load(&root().join("templates/shelf-4.2.json")).unwrap();
    c.bench_function("render-only/SL142", |b| {
        b.iter(|| renderer.render(&template, &product, Model::Sl142).unwrap())
    });
    let label = renderer.render(&template, &product, Model::Sl142).unwrap();
    c.bench_function("png-only/SL142", |b| {
        b.iter(|| label.image.to_png(1).unwrap())
    });
}

/// The raster time of the codes alone: a label holding only the sample template's barcode
/// (EAN-13) or only its QR code, per model, at the sample templates' box sizes.
fn bench_codes(c: &mut Criterion) {
    let renderer = Renderer::bundled();
    let product = Product::new()
        .with("bar_code", "6958644000259")
        .with("qr_code", "https://esl.example/p/tea-1107");
    let barcodes = [
        (Model::Sl121, 116),
        (Model::Sl126, 128),
        (Model::Sl142, 236),
    ];
    let mut group = c.benchmark_group("codes");
    for (model, w) in barcodes {
        let t = Template::from_json(
            format!(
                r#"{{"version": 1, "models": ["{}"], "elements": [{{"type": "barcode", "box": {{"x": 0, "y": 0, "w": {w}, "h": 50}}, "symbology": "ean13", "field": "bar_code"}}]}}"#,
                model.name()
            )
            .as_bytes(),
            "bench",
            None,
        )
        .unwrap();
        group.bench_function(format!("ean13/{}", model.name()), |b| {
            b.iter(|| renderer.render(&t, &product, model).unwrap())
        });
    }
    for (model, side, level) in [(Model::Sl126, 68, "L"), (Model::Sl142, 90, "M")] {
        let t = Template::from_json(
            format!(
                r#"{{"version": 1, "models": ["{}"], "elements": [{{"type": "qrcode", "box": {{"x": 0, "y": 0, "w": {side}, "h": {side}}}, "field": "qr_code", "ec_level": "{level}"}}]}}"#,
                model.name()
            )
            .as_bytes(),
            "bench",
            None,
        )
        .unwrap();
        group.bench_function(format!("qr/{}", model.name()), |b| {
            b.iter(|| renderer.render(&t, &product, model).unwrap())
        });
        // The two halves: bind (the QR encoding) and drawing the modules.
        group.bench_function(format!("qr-bind/{}", model.name()), |b| {
            b.iter(|| renderer.bind(&t, &product, model).unwrap())
        });
        let scene = renderer.bind(&t, &product, model).unwrap();
        group.bench_function(format!("qr-raster/{}", model.name()), |b| {
            b.iter(|| renderer.rasterise(&scene))
        });
    }
    // The empty label: what the codes' figures include besides the codes.
    let empty =
        Template::from_json(br#"{"version": 1, "models": ["SL142"]}"#, "bench", None).unwrap();
    group.bench_function("empty/SL142", |b| {
        b.iter(|| renderer.render(&empty, &product, Model::Sl142).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_render, bench_codes);
criterion_main!(benches);
