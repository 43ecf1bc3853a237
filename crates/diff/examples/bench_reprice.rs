//! Benchmark of the nightly job at scale: import + plan + render (no push) on a registry of
//! N labels, for a 1% price change and for runs where nothing changed. See `benches/README.md`.
//!
//! ```sh
//! cargo run --release -p esl-diff --example bench_reprice -- --labels 100000
//! cargo run --release -p esl-diff --example bench_reprice -- --labels 1000000 --labels-per-product 1
//! ```
//!
//! Options: `--labels N` (default 100000), `--labels-per-product K` (default 1: every label
//! its own product, so a 1% price change means N/100 distinct pictures; with K > 1 labels share
//! products across shops and models), `--threads T` (rendering threads; default one per
//! core), `--dir DIR` (where the registry is built; default a temporary folder, removed
//! afterwards), `--keep` (keep it).
//!
//! The registry is built in this process (products and bindings through the CSV imports);
//! every label is then marked acknowledged with its current fingerprint, as after a night in
//! which everything was pushed (written with SQL: a bench has no platform to push 1M labels
//! to). The measured phases run in a fresh child process, so its peak memory (VmHWM) is that
//! of the job alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use esl_diff::{
    CsvMode, NoObserver, ProductFile, Registry, RenderEnv, RepriceOptions, TemplateLibrary,
    TemplateSource,
};
use esl_model::{Model, Product, Screen};
use esl_render::Renderer;
use rayon::prelude::*;

const TEMPLATES: [(&str, &str); 3] = [
    (
        "shelf-2.13",
        include_str!("../../../templates/shelf-2.13.json"),
    ),
    (
        "shelf-2.6",
        include_str!("../../../templates/shelf-2.6.json"),
    ),
    (
        "shelf-4.2",
        include_str!("../../../templates/shelf-4.2.json"),
    ),
];

fn template_for(model: Model) -> &'static str {
    match model.screen() {
        Some(Screen::In2_6) => "shelf-2.6",
        Some(Screen::In4_2) => "shelf-4.2",
        _ => "shelf-2.13",
    }
}

fn env() -> RenderEnv {
    let mut lib = TemplateLibrary::new();
    for (name, json) in TEMPLATES {
        lib = lib.with_builtin(name, json.as_bytes().to_vec());
    }
    RenderEnv::new(Renderer::bundled(), lib)
}

struct Args {
    labels: usize,
    per_product: usize,
    threads: Option<usize>,
    dir: Option<PathBuf>,
    keep: bool,
    measure: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        labels: 100_000,
        per_product: 1,
        threads: None,
        dir: None,
        keep: false,
        measure: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--labels" => a.labels = value().parse().expect("--labels N"),
            "--labels-per-product" => {
                a.per_product = value().parse().expect("--labels-per-product K")
            }
            "--threads" => a.threads = Some(value().parse().expect("--threads T")),
            "--dir" => a.dir = Some(PathBuf::from(value())),
            "--keep" => a.keep = true,
            "--measure" => a.measure = Some(PathBuf::from(value())),
            other => panic!("unknown option {other}"),
        }
    }
    a.per_product = a.per_product.max(1);
    a
}

/// An EAN-13 with its check digit.
fn ean13(n: usize) -> String {
    let d12 = format!("690{:09}", n % 1_000_000_000);
    let sum: u32 = d12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 1 { 3 } else { 1 })
        .sum();
    format!("{d12}{}", (10 - sum % 10) % 10)
}

fn price(p: usize, bump: usize) -> String {
    format!("{}.{:02}", 1 + (p * 7 + bump) % 300, (p * 13 + bump) % 100)
}

fn product(p: usize) -> Product {
    Product::new()
        .with("id", format!("P{p}"))
        .with("name", format!("Product {p} Family Pack"))
        .with("price", price(p, 0))
        .with("spec", format!("{} g", 100 + p % 900))
        .with("unit", "pack")
        .with("brand", "Bench")
        .with("bar_code", ean13(p))
}

fn model_of(label: usize) -> Model {
    Model::ALL[label % Model::ALL.len()]
}

/// Whether a label uses the template with a logo (a copy of shelf-2.6 with an `image`
/// element whose `src` is `logo.png` beside the registry): every fourth SL126/SL126+ label,
/// 10% of all labels.
fn has_logo(label: usize) -> bool {
    matches!(model_of(label), Model::Sl126 | Model::Sl126Plus) && (label / 5) % 4 == 0
}

/// Writes `logo.png` (a disc of `rgb`) and `logo-2.6.json` into `dir`; returns the template.
fn write_logo_template(dir: &Path, rgb: [u8; 3]) -> PathBuf {
    let img = image::RgbaImage::from_fn(40, 40, |x, y| {
        let (dx, dy) = (x as i32 - 20, y as i32 - 20);
        if dx * dx + dy * dy < 300 {
            image::Rgba([rgb[0], rgb[1], rgb[2], 255])
        } else {
            image::Rgba([255, 255, 255, 0])
        }
    });
    img.save_with_format(dir.join("logo.png"), image::ImageFormat::Png)
        .expect("logo");
    let json = TEMPLATES[1].1.replacen(
        r#""elements": ["#,
        r#""elements": [{"type": "image", "box": {"x": 250, "y": 100, "w": 40, "h": 40}, "src": "logo.png"},"#,
        1,
    );
    let file = dir.join("logo-2.6.json");
    std::fs::write(&file, json).expect("logo template");
    std::fs::canonicalize(&file).expect("path")
}

fn product_of(label: usize, per_product: usize) -> usize {
    label / per_product
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` value 5).
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn build(dir: &Path, a: &Args) -> PathBuf {
    let db = dir.join("registry.db");
    let _ = std::fs::remove_file(&db);
    let env = env();
    let mut registry = Registry::open(&db).expect("registry");
    let products = a.labels.div_ceil(a.per_product);
    let t = Instant::now();
    let mut csv = String::from("id,name,price,spec,unit,brand,bar_code\n");
    for p in 0..products {
        let pr = product(p);
        let f = |k: &str| pr.text(k).ok().flatten().unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            f("id"),
            f("name"),
            f("price"),
            f("spec"),
            f("unit"),
            f("brand"),
            f("bar_code")
        ));
    }
    let r = registry
        .import_products(&ProductFile::detect(
            "catalogue.csv",
            csv.into_bytes(),
            CsvMode::Catalogue,
        ))
        .expect("catalogue");
    assert!(
        r.bad_rows.is_empty(),
        "{:?}",
        &r.bad_rows[..r.bad_rows.len().min(3)]
    );
    let t_products = t.elapsed();

    let t = Instant::now();
    let logo_template = write_logo_template(dir, [200, 20, 30]);
    let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
    for l in 0..a.labels {
        let m = model_of(l);
        let template = if has_logo(l) {
            logo_template.display().to_string()
        } else {
            template_for(m).to_owned()
        };
        csv.push_str(&format!(
            "E{l:08},S{:03},{},{template},P{}\n",
            l % 300,
            m.name(),
            product_of(l, a.per_product)
        ));
    }
    let r = registry
        .import_labels("labels.csv", csv.as_bytes(), None, &env.templates)
        .expect("labels");
    assert!(
        r.bad_rows.is_empty(),
        "{:?}",
        &r.bad_rows[..r.bad_rows.len().min(3)]
    );
    let t_labels = t.elapsed();
    drop(registry);

    // Every label acknowledged with its current scene fingerprint, as after a complete night.
    let t = Instant::now();
    let loaded: Vec<(Model, esl_diff::LoadedTemplate)> = Model::ALL
        .into_iter()
        .map(|m| {
            let t = env
                .templates
                .load(&TemplateSource::Builtin(template_for(m).to_owned()))
                .expect("template");
            (m, t)
        })
        .collect();
    let logo = env
        .templates
        .load(&TemplateSource::File(logo_template.clone()))
        .expect("logo template");
    let mut conn = rusqlite::Connection::open(&db).expect("sqlite");
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare(
                "UPDATE labels SET acked_fp = ?2, acked_image = zeroblob(16), acked_at = 0,
                 pending = 0 WHERE esl_id = ?1",
            )
            .expect("stmt");
        // Scene fingerprints, bound in parallel, in chunks to bound memory.
        for chunk in (0..a.labels).collect::<Vec<_>>().chunks(65_536) {
            let fps: Vec<(usize, [u8; 32])> = chunk
                .par_iter()
                .map(|&l| {
                    let pr = product(product_of(l, a.per_product));
                    let m = model_of(l);
                    let t = if has_logo(l) {
                        &logo
                    } else {
                        &loaded[Model::ALL.iter().position(|x| *x == m).unwrap_or(0)].1
                    };
                    let scene = env.renderer.bind(&t.template, &pr, m).expect("bind");
                    (l, scene.fingerprint().0)
                })
                .collect();
            for (l, fp) in fps {
                stmt.execute(rusqlite::params![format!("E{l:08}"), &fp[..]])
                    .expect("ack");
            }
        }
    }
    tx.commit().expect("commit");
    drop(conn);
    let t_ack = t.elapsed();
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "built {} labels over {products} products: products import {:.1} s, bindings import {:.1} s, \
         acknowledging {:.1} s; registry {:.0} MB; build peak RSS {} MB",
        a.labels,
        t_products.as_secs_f64(),
        t_labels.as_secs_f64(),
        t_ack.as_secs_f64(),
        size as f64 / 1e6,
        vm_hwm_kb() / 1024
    );
    db
}

fn price_file(a: &Args, change: bool) -> ProductFile {
    let products = a.labels.div_ceil(a.per_product);
    let mut csv = String::from("id,price\n");
    for p in (0..products).step_by(100) {
        csv.push_str(&format!("P{p},{}\n", price(p, if change { 1 } else { 0 })));
    }
    ProductFile::detect("prices.csv", csv.into_bytes(), CsvMode::Prices)
}

fn measure(db: &Path, a: &Args) {
    let phase = |title: &str, prices: Option<ProductFile>| {
        reset_hwm();
        let t = Instant::now();
        let env = env();
        let mut registry = Registry::open(db).expect("registry");
        let t_open = t.elapsed();
        // The import as `esl reprice --prices` does it (its own transaction), timed apart.
        let t = Instant::now();
        let rows = prices.as_ref().map_or(0, |p| {
            let r = registry.import_products(p).expect("import");
            assert!(r.bad_rows.is_empty());
            r.rows
        });
        let t_import = t.elapsed();
        let t = Instant::now();
        let opts = RepriceOptions {
            threads: a.threads,
            ..RepriceOptions::default()
        };
        let report = registry
            .reprice(&env, &opts, None, &mut NoObserver)
            .expect("reprice");
        let t_run = t.elapsed();
        assert_eq!(report.failed, 0, "{:?}", report.failures.first());
        let total = t_open + t_import + t_run;
        println!(
            "{title:<34} total {:>6.2} s (open {:.2} + import {:.2} of {rows} rows + plan/render {:.2})  \
             planned {:>6}  rendered {:>6}  pictures {:>6}  unchanged {:>8} of {:>8}  peak RSS {:>4} MB",
            total.as_secs_f64(),
            t_open.as_secs_f64(),
            t_import.as_secs_f64(),
            t_run.as_secs_f64(),
            report.planned,
            report.rendered,
            report.images,
            report.unchanged,
            report.considered,
            vm_hwm_kb() / 1024
        );
        report
    };
    phase("no change (no price file)", None);
    phase(
        "no change (1% rows, same prices)",
        Some(price_file(a, false)),
    );
    let r = phase("1% price change", Some(price_file(a, true)));
    // Without a push nothing is acknowledged: the changed labels stay pending.
    assert_eq!(r.pending, r.rendered);
    // Another picture behind the logo's `src`: exactly the labels of that template.
    let dir = db.parent().expect("registry folder");
    write_logo_template(dir, [20, 20, 20]);
    let logo_labels = (0..a.labels).filter(|&l| has_logo(l)).count() as u64;
    let r = phase("picture file changed (10%)", None);
    assert_eq!(r.rendered, r.pending);
    assert!(r.rendered >= logo_labels, "{} of {logo_labels}", r.rendered);
}

fn main() {
    let a = args();
    if let Some(db) = &a.measure {
        measure(db, &a);
        return;
    }
    let (dir, temporary) = match &a.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("esl-bench-reprice-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "bench_reprice: {} labels, {} label(s) per product, {} core(s), threads {}",
        a.labels,
        a.per_product,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        a.threads.map_or("default".to_owned(), |t| t.to_string())
    );
    let db = build(&dir, &a);
    let mut child = Command::new(std::env::current_exe().expect("exe"));
    child
        .args(["--labels", &a.labels.to_string()])
        .args(["--labels-per-product", &a.per_product.to_string()])
        .arg("--measure")
        .arg(&db);
    if let Some(t) = a.threads {
        child.args(["--threads", &t.to_string()]);
    }
    let status = child.status().expect("measure");
    if temporary && !a.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("registry kept in {}", db.display());
    }
    assert!(status.success(), "the measuring process failed");
}
