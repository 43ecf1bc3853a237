//! The batch's own cost: the throughput set through the label registry, as `esl reprice
//! --out DIR` runs it (plan from the registry, bind, fingerprint, rasterise once per distinct
//! scene, PNG, write, record), for the full design and the blank template (the floor). See
//! `benches/README.md`.
//!
//! ```sh
//! cargo run --release -p esl-benches --example batch -- --threads 1
//! ```
//!
//! Options: `--threads T` (rendering threads, default 1), `--runs R` (default 5; the median
//! is reported), `--products N` (default 1300; labels are N × 3 sizes), `--dir DIR` (default
//! `/dev/shm/esl-batch`: a tmpfs, for the registry and the pictures).
//!
//! Without a publisher nothing is acknowledged, so every run finds every label pending and
//! renders it again: each run is the same work. `dry run` is the plan alone (import, bind
//! and fingerprint every label, nothing rendered or written), as the issue's measure
//! subtracted it.

use std::path::PathBuf;
use std::time::Instant;

use esl_benches::{SIZES, design_json, products, root};
use esl_diff::{
    CsvMode, NoObserver, ProductFile, Registry, RenderEnv, RepriceOptions, TemplateLibrary,
};
use esl_render::Renderer;

struct Args {
    threads: usize,
    runs: usize,
    products: usize,
    dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        threads: 1,
        runs: 5,
        products: 1300,
        dir: PathBuf::from("/dev/shm/esl-batch"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => a.threads = value().parse().expect("--threads takes a number"),
            "--runs" => a.runs = value().parse().expect("--runs takes a number"),
            "--products" => a.products = value().parse().expect("--products takes a number"),
            "--dir" => a.dir = PathBuf::from(value()),
            other => panic!("unknown option {other}"),
        }
    }
    a.runs = a.runs.max(1);
    a
}

/// A CSV field, quoted.
fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let a = args();
    let _ = std::fs::remove_dir_all(&a.dir);
    let templates = a.dir.join("templates");
    std::fs::create_dir_all(&templates).expect("creating the folder");
    std::fs::copy(
        root().join("templates/gallery/product.png"),
        templates.join("product.png"),
    )
    .expect("copying the logo");
    for m in SIZES {
        std::fs::write(
            templates.join(format!("full-{}.json", m.name())),
            design_json(m),
        )
        .expect("writing a template");
        std::fs::write(
            templates.join(format!("floor-{}.json", m.name())),
            format!(
                r#"{{"version": 1, "name": "blank", "models": ["{0}"], "elements": []}}"#,
                m.name()
            ),
        )
        .expect("writing a template");
    }
    let set = products(a.products);
    let mut catalogue = String::from("id,name,spec,price,promote_price,bar_code,qr_code\n");
    for p in &set {
        let f = |k: &str| q(p.get(k).and_then(|v| v.as_str()).unwrap_or_default());
        catalogue.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            f("id"),
            f("name"),
            f("spec"),
            f("price"),
            f("promote_price"),
            f("bar_code"),
            f("qr_code")
        ));
    }
    let env = RenderEnv::new(
        Renderer::bundled(),
        TemplateLibrary::new().with_dir(&templates),
    );
    println!(
        "{} products × {} sizes = {} labels per kind, {} rendering thread(s), {} runs, in {}",
        set.len(),
        SIZES.len(),
        set.len() * SIZES.len(),
        a.threads,
        a.runs,
        a.dir.display()
    );
    println!(
        "{:<6} {:<8} {:>10} {:>10} {:>10} {:>10}",
        "kind", "run", "median/s", "min/s", "max/s", "µs/label"
    );
    for kind in ["full", "floor"] {
        let mut registry = Registry::open(&a.dir.join(format!("{kind}.db"))).expect("registry");
        let r = registry
            .import_products(&ProductFile::detect(
                "catalogue.csv",
                catalogue.clone().into_bytes(),
                CsvMode::Catalogue,
            ))
            .expect("import");
        assert!(r.bad_rows.is_empty(), "{:?}", r.bad_rows);
        let mut bindings = String::from("esl_id,shop_id,model,template,product_id\n");
        for m in SIZES {
            for p in &set {
                let id = p.get("id").and_then(|v| v.as_str()).unwrap_or_default();
                bindings.push_str(&format!(
                    "{}-{id},S1,{},{kind}-{},{id}\n",
                    m.name(),
                    m.name(),
                    m.name()
                ));
            }
        }
        let r = registry
            .import_labels("labels.csv", bindings.as_bytes(), None, &env.templates)
            .expect("import");
        assert!(r.bad_rows.is_empty(), "{:?}", r.bad_rows);
        let out = a.dir.join(format!("out-{kind}"));
        for dry in [true, false] {
            let options = RepriceOptions {
                out_dir: Some(out.clone()),
                threads: Some(a.threads),
                dry_run: dry,
                ..RepriceOptions::default()
            };
            // Warm-up: prepares the pictures and fills the caches.
            registry
                .reprice(&env, &options, None, &mut NoObserver)
                .expect("run");
            let mut rates = Vec::new();
            for _ in 0..a.runs {
                registry.mark_all_pending().expect("mark");
                let start = Instant::now();
                let report = registry
                    .reprice(&env, &options, None, &mut NoObserver)
                    .expect("run");
                let elapsed = start.elapsed().as_secs_f64();
                let labels = if dry {
                    report.to_render
                } else {
                    report.rendered
                };
                assert_eq!(labels as usize, set.len() * SIZES.len(), "{report:?}");
                rates.push(labels as f64 / elapsed);
            }
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            let med = median(rates);
            println!(
                "{kind:<6} {:<8} {med:>10.0} {min:>10.0} {max:>10.0} {:>10.1}",
                if dry { "dry run" } else { "--out" },
                1e6 / med
            );
        }
    }
}
