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

criterion_group!(benches, bench_render);
criterion_main!(benches);
