//! `esl import products`, `esl import labels`, `esl reprice` and `esl demo`: the diff stage
//! (esl-diff) on the command line.
//!
//! The secret key for `--push` is read from `ESL_SECRET`, never from the command line.
//!
//! What a run records: a label is acknowledged only by the platform. `esl reprice` without
//! `--push` imports the price file (committed), renders the labels whose fingerprint changed
//! (and writes them with `--out`), but records no acknowledgement: they stay pending and the
//! next run with `--push` renders and pushes them. Only a label whose new picture is
//! pixel-identical to its last acknowledged one, or whose fingerprint did not change, is
//! settled without a push. `--dry-run` changes nothing at all.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use esl_diff::{
    CsvMode, ImportReport, Observer, Outcome, ProductFile, ProductFormat, Publish, Pusher,
    Registry, RenderEnv, RepriceOptions, RunReport, TemplateLibrary,
};
use esl_model::{Model, Product};
use esl_push::{Client, Secret};
use esl_render::{Renderer, Template};
use esl_sim::{ApFixture, EslFixture, Fixture, ShopFixture, SimConfig, Simulator};
use indicatif::{ProgressBar, ProgressStyle};

use crate::samples;

/// The demo's product catalogue (48 products), also usable with `esl import products`.
const DEMO_CATALOGUE: &str = include_str!("../../../templates/demo/catalogue.csv");
/// The demo's price file: price changes, promotions, and two bad rows.
const DEMO_PRICES: &str = include_str!("../../../templates/demo/prices.csv");

/// `esl import …`: load products or label bindings into a registry.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import products: a catalogue CSV (`id` or `product_id`, then any product fields), the
    /// SUNMI `product_list` JSON, or Koubei dish records. A product whose fields change marks
    /// its labels for the next `esl reprice`.
    Products {
        /// The registry file (created if missing).
        #[arg(long)]
        db: PathBuf,
        /// How to read FILE; by default from its content (JSON with `action_type` is Koubei,
        /// other JSON is `product_list`, anything else CSV).
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Also write the import report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The file to import.
        file: PathBuf,
    },
    /// Import label bindings: CSV with esl_id, shop_id, model, template, product_id. The
    /// template is a file path (relative to the CSV's folder or the current one) or the name
    /// of a template in the templates folder (or built into esl).
    Labels {
        /// The registry file (created if missing).
        #[arg(long)]
        db: PathBuf,
        /// Where templates named by name are looked up.
        #[arg(long, default_value = "templates")]
        templates: PathBuf,
        /// Also write the import report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The CSV file.
        file: PathBuf,
    },
}

/// How to read a product file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// By content.
    Auto,
    /// CSV.
    Csv,
    /// SUNMI product/create, product/update `product_list` JSON.
    ProductList,
    /// Koubei dish action records (JSON array or one record per line).
    Koubei,
}

/// `esl reprice`: re-render and push exactly the labels whose picture changed.
#[derive(Debug, Args)]
pub struct RepriceArgs {
    /// The registry file.
    #[arg(long)]
    pub db: PathBuf,
    /// A price file to import first: CSV (`id`/`product_id` plus fields such as price,
    /// promote_price, member_price, name; known products only), `product_list` JSON, or
    /// Koubei records.
    #[arg(long)]
    pub prices: Option<PathBuf>,
    /// Write every rendered label as DIR/<esl_id>.png.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Push the rendered labels through the platform (secret from ESL_SECRET). Without it,
    /// nothing is acknowledged and rendered labels stay pending.
    #[arg(long)]
    pub push: bool,
    /// The platform (used with `--push`).
    #[command(flatten)]
    pub conn: crate::net::Connection,
    /// Also write the run report as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Plan only: count what would be rendered; change nothing, push nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Pushes in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Rendering threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where templates named by name are looked up.
    #[arg(long, default_value = "templates")]
    pub templates: PathBuf,
    /// When another run holds the registry, wait for it this many seconds, then give up.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wait: u64,
    /// How long this run's lease on the registry lasts unless renewed (a run that dies
    /// blocks others at most this long); it must be longer than a push can take.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lease_ttl: u64,
    /// Keep retrying pushes that failed on transient errors until this many seconds after
    /// the run started; what is still undelivered then stays pending for the next run.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub push_deadline: u64,
}

/// The template library of the command line: the templates folder, then the sample
/// templates built into esl.
pub(crate) fn library(dir: &Path) -> TemplateLibrary {
    let mut lib = TemplateLibrary::new().with_dir(dir);
    for (name, json) in samples::TEMPLATES {
        lib = lib.with_builtin(name, json.as_bytes().to_vec());
    }
    lib
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

fn print_import(report: &ImportReport) {
    println!(
        "{} ({}): {} row(s): {} created, {} updated, {} unchanged, {} deleted, {} skipped; {} label(s) marked; {} bad row(s)",
        report.source,
        report.format,
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.deleted,
        report.skipped,
        report.labels_marked,
        report.bad_rows.len()
    );
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    for bad in &report.bad_rows {
        eprintln!("bad row: {}: {bad}", report.source);
    }
}

/// Runs `esl import …`.
///
/// # Errors
/// A registry that cannot be opened, a file that cannot be read at all. Bad rows are
/// reported on stderr and in the report, and do not fail the command.
pub fn run_import(cmd: ImportCommand) -> Result<()> {
    match cmd {
        ImportCommand::Products {
            db,
            format,
            report,
            file,
        } => {
            let mut registry = open(&db)?;
            let mut input = ProductFile::read(&file, CsvMode::Catalogue)?;
            input.format = match format {
                FormatArg::Auto => input.format,
                FormatArg::Csv => ProductFormat::Csv(CsvMode::Catalogue),
                FormatArg::ProductList => ProductFormat::ProductList,
                FormatArg::Koubei => ProductFormat::Koubei,
            };
            let r = registry.import_products(&input)?;
            print_import(&r);
            if let Some(path) = report {
                write_json(&path, &r)?;
            }
        }
        ImportCommand::Labels {
            db,
            templates,
            report,
            file,
        } => {
            let mut registry = open(&db)?;
            let r = registry.import_labels_file(&file, &library(&templates))?;
            print_import(&r);
            if let Some(path) = report {
                write_json(&path, &r)?;
            }
        }
    }
    Ok(())
}

fn open(db: &Path) -> Result<Registry> {
    Registry::open(db).with_context(|| format!("opening registry {}", db.display()))
}

/// Progress of a run: a bar on a terminal, a line every few seconds otherwise; failures
/// (the first 20) as lines.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    failures: u64,
    last_line: Instant,
    label: &'static str,
}

const SHOWN_FAILURES: u64 = 20;

impl Progress {
    fn new(label: &'static str) -> Progress {
        Progress {
            bar: None,
            total: 0,
            done: 0,
            failures: 0,
            last_line: Instant::now(),
            label,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn planned(&mut self, labels: u64) {
        self.total = labels;
        if std::io::stderr().is_terminal() && labels > 0 {
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:40}] {pos}/{len} labels {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = ProgressBar::new(labels).with_style(style);
            bar.set_prefix(self.label);
            self.bar = Some(bar);
        } else {
            eprintln!("{}: {labels} pending label(s) to check", self.label);
        }
    }

    fn waiting(&mut self, holder: &str, expires_in: Duration) {
        self.line(&format!(
            "{}: waiting for run {holder}, which holds the registry (its lease expires in {:.0} s unless renewed)",
            self.label,
            expires_in.as_secs_f64()
        ));
    }

    fn settled(&mut self, esl_id: &str, outcome: &Outcome) {
        self.done += 1;
        if let Outcome::Failed { stage, cause } = outcome {
            self.failures += 1;
            if self.failures <= SHOWN_FAILURES {
                self.line(&format!("failed: ESL {esl_id} ({stage:?}): {cause}"));
            } else if self.failures == SHOWN_FAILURES + 1 {
                self.line("failed: … (more failures in the summary and the report)");
            }
        }
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(5) {
                    self.last_line = Instant::now();
                    eprintln!(
                        "{}: {}/{} labels settled",
                        self.label, self.done, self.total
                    );
                }
            }
        }
    }
}

fn print_summary(title: &str, r: &RunReport) {
    println!("{title}");
    println!("  labels considered   {:>9}", r.considered);
    println!("  unchanged           {:>9}", r.unchanged);
    if r.dry_run {
        println!("  would be rendered   {:>9}", r.to_render);
    } else {
        println!(
            "  rendered            {:>9}  ({} distinct picture(s))",
            r.rendered, r.images
        );
        println!("  pushed              {:>9}", r.pushed);
        println!(
            "  identical           {:>9}  (pixel-identical to what the label shows: not pushed)",
            r.identical
        );
        if !r.push {
            println!(
                "  not pushed          {:>9}  (no --push: they stay pending)",
                r.not_pushed
            );
        }
    }
    println!("  failed              {:>9}", r.failed);
    if r.overtaken > 0 {
        println!(
            "  overtaken           {:>9}  (another run pushed them meanwhile: pending again)",
            r.overtaken
        );
    }
    if r.deferred > 0 {
        println!(
            "  deferred            {:>9}  (not delivered in this run: pending)",
            r.deferred
        );
    }
    if r.sweep_rounds > 0 {
        println!(
            "  sweep rounds        {:>9}  (transient failures tried again)",
            r.sweep_rounds
        );
    }
    if r.lease_wait_ms > 0 {
        println!("  waited for another run {:>6} ms", r.lease_wait_ms);
    }
    println!("  bad rows            {:>9}", r.bad_rows);
    println!("  pending after       {:>9}", r.pending);
    println!("  time                {:>7} ms", r.elapsed_ms);
    for e in &r.template_errors {
        eprintln!("template error: {e}");
    }
    if let Some(why) = &r.circuit_open {
        eprintln!("stopped pushing: {why}");
    }
    if r.failures_omitted > 0 {
        eprintln!("… and {} more failure(s)", r.failures_omitted);
    }
}

/// Runs `esl reprice`.
///
/// # Errors
/// A registry or price file that cannot be read, a missing `ESL_SECRET` with `--push`, a
/// preview that cannot be written; and, after the summary and report are written, any label
/// that failed (it stays pending for the next run).
pub fn run_reprice(args: RepriceArgs) -> Result<()> {
    let mut registry = open(&args.db)?;
    let env = RenderEnv::new(Renderer::bundled(), library(&args.templates));
    let prices = args
        .prices
        .as_deref()
        .map(|p| ProductFile::read(p, CsvMode::Prices))
        .transpose()?;
    let options = RepriceOptions {
        prices,
        out_dir: args.out.clone(),
        dry_run: args.dry_run,
        threads: args.threads,
        lease_wait: Duration::from_secs(args.wait),
        lease_ttl: Duration::from_secs(args.lease_ttl.max(1)),
        push_deadline: Duration::from_secs(args.push_deadline),
        ..RepriceOptions::default()
    };
    let pusher = if args.push && !args.dry_run {
        Some(Pusher::new(args.conn.client()?, args.concurrency))
    } else {
        None
    };
    let mut progress = Progress::new("reprice");
    let publisher = pusher.as_ref().map(|p| p as &dyn Publish);
    let result = registry.reprice(&env, &options, publisher, &mut progress);
    progress.finish();
    let report = result?;
    if let Some(import) = &report.import {
        print_import(import);
    }
    print_summary(
        if args.dry_run {
            "dry run (nothing changed):"
        } else {
            "reprice:"
        },
        &report,
    );
    if let Some(path) = &args.report {
        write_json(path, &report)?;
    }
    let unsettled = report.failed + report.overtaken + report.deferred;
    if unsettled > 0 {
        bail!(
            "{unsettled} label(s) not delivered ({} failed, {} overtaken, {} deferred); they stay pending and the next run retries them",
            report.failed,
            report.overtaken,
            report.deferred
        );
    }
    Ok(())
}

/// The demo's shops and labels per shop.
const DEMO_SHOPS: [&str; 3] = ["1001", "1002", "1003"];
const DEMO_LABELS_PER_SHOP: usize = 1000;

/// The sample template serving a model.
fn template_for(model: Model) -> Result<&'static str> {
    for (name, json) in samples::TEMPLATES {
        let t = Template::from_json(json.as_bytes(), name, None)?;
        if t.supports(model) {
            return Ok(name.trim_end_matches(".json"));
        }
    }
    bail!("no sample template serves {model}")
}

/// The demo's label bindings (CSV) and the simulator's matching fixture.
fn demo_world(product_ids: &[String]) -> Result<(String, Fixture)> {
    let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
    let mut fixture = Fixture::default();
    let templates: Vec<(Model, &str)> = Model::ALL
        .into_iter()
        .map(|m| template_for(m).map(|t| (m, t)))
        .collect::<Result<_>>()?;
    for (s, shop) in DEMO_SHOPS.iter().enumerate() {
        let ap = format!("AP-{shop}");
        fixture.shops.push(ShopFixture {
            shop_id: (*shop).to_owned(),
            name: format!("Demo shop {shop}"),
        });
        fixture.aps.push(ApFixture {
            ap_id: ap.clone(),
            ap_sn: format!("SN-{ap}"),
            ap_name: format!("Gate {}", s + 1),
            model_name: "SLAP1".to_owned(),
            shop_id: (*shop).to_owned(),
            status: 1,
            software_version: "1.0.1".to_owned(),
        });
        for i in 0..DEMO_LABELS_PER_SHOP {
            let (model, template) = templates[i % templates.len()];
            let product = &product_ids[(i / templates.len() + s * 7) % product_ids.len()];
            let esl_id = format!("{shop}-{i:05}");
            csv.push_str(&format!(
                "{esl_id},{shop},{},{template},{product}\n",
                model.name()
            ));
            fixture.esls.push(EslFixture {
                esl_id: esl_id.clone(),
                esl_code: format!("C{shop}{i:04}"),
                esl_sn: format!("SN{shop}{i:05}"),
                model,
                shop_id: Some((*shop).to_owned()),
                ap_id: Some(ap.clone()),
                status: None,
                battery: 90,
                rssi: -40,
                software_version: "1.0.1".to_owned(),
            });
        }
    }
    Ok((csv, fixture))
}

/// `esl demo`: the whole job on built-in data. A temporary registry of 3 shops × 1000 labels
/// over every model and the sample templates, the platform simulator started in-process, a
/// first run that renders and pushes every label, then the sample price file imported and
/// exactly the changed labels re-rendered and pushed, with previews in `out`.
///
/// # Errors
/// Anything that stops the demo: the simulator cannot start, the registry cannot be
/// written, a label fails.
pub fn demo(out: &Path, scale: u32) -> Result<()> {
    let work = std::env::temp_dir().join(format!("esl-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let result = demo_in(&work, out, scale);
    // The registry is temporary; a failure to remove it is not worth failing the demo.
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn demo_in(work: &Path, out: &Path, scale: u32) -> Result<()> {
    let db = work.join("registry.db");
    let mut registry = open(&db)?;
    // Only built-in templates: the demo works from any directory.
    let mut lib = TemplateLibrary::new();
    for (name, json) in samples::TEMPLATES {
        lib = lib.with_builtin(name, json.as_bytes().to_vec());
    }
    let env = RenderEnv::new(Renderer::bundled(), lib);

    println!("esl demo: the nightly re-pricing job on built-in data");
    let catalogue = registry.import_products(&ProductFile::detect(
        "templates/demo/catalogue.csv",
        DEMO_CATALOGUE.as_bytes().to_vec(),
        CsvMode::Catalogue,
    ))?;
    print_import(&catalogue);
    // The sample products of templates/products, as the SUNMI product/create `product_list`.
    let mut sample_list = Vec::new();
    for (name, json) in samples::PRODUCTS {
        sample_list.push(
            serde_json::from_str::<serde_json::Value>(json)
                .with_context(|| format!("sample product {name}"))?,
        );
    }
    let sample_ids: Vec<String> = sample_list
        .iter()
        .filter_map(|p| p.get("id").and_then(|id| id.as_str()).map(str::to_owned))
        .collect();
    let list = serde_json::json!({ "product_list": sample_list });
    let samples_import = registry.import_products(&ProductFile::detect(
        "templates/products/*.json",
        serde_json::to_vec(&list)?,
        CsvMode::Catalogue,
    ))?;
    print_import(&samples_import);
    let product_ids: Vec<String> = sample_ids
        .into_iter()
        .chain((1001..1001 + catalogue.created).map(|i| i.to_string()))
        .collect();
    let (labels_csv, fixture) = demo_world(&product_ids)?;
    let labels = registry.import_labels(
        "demo label bindings",
        labels_csv.as_bytes(),
        None,
        &env.templates,
    )?;
    print_import(&labels);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (app_id, secret) = ("esl-demo", "demo-secret-not-for-production");
    let sim = runtime
        .block_on(Simulator::start(
            SimConfig::new(app_id, secret).with_fixture(fixture),
        ))
        .context("starting the platform simulator")?;
    println!("platform simulator on {}", sim.base_url());
    let client = Client::builder(app_id, Secret::new(secret))
        .base_url(sim.base_url())
        .build()?;
    let pusher = Pusher::new(client, 16);

    let run = |registry: &mut Registry,
               title: &'static str,
               options: RepriceOptions|
     -> Result<RunReport> {
        let mut progress = Progress::new(title);
        let report = registry.reprice(&env, &options, Some(&pusher), &mut progress);
        progress.finish();
        let report = report?;
        if let Some(import) = &report.import {
            print_import(import);
        }
        print_summary(&format!("{title}:"), &report);
        Ok(report)
    };

    let first = run(
        &mut registry,
        "1. first run (every label is new)",
        RepriceOptions::default(),
    )?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let second = run(
        &mut registry,
        "2. price file templates/demo/prices.csv",
        RepriceOptions {
            prices: Some(ProductFile::detect(
                "templates/demo/prices.csv",
                DEMO_PRICES.as_bytes().to_vec(),
                CsvMode::Prices,
            )),
            out_dir: Some(out.to_path_buf()),
            ..RepriceOptions::default()
        },
    )?;
    let third = run(
        &mut registry,
        "3. again, nothing changed",
        RepriceOptions::default(),
    )?;

    // What the platform shows now must be what the data says, for every label.
    let mut checked = 0usize;
    let mut expected: HashMap<(String, Model, String), Vec<u8>> = HashMap::new();
    for label in registry.labels()? {
        let key = (
            label.template.clone(),
            label.model,
            label.product_id.clone(),
        );
        if !expected.contains_key(&key) {
            let png = registry.current_image(&label.esl_id, &env)?.png;
            expected.insert(key.clone(), png);
        }
        let shown = sim
            .last_image(&label.esl_id)
            .with_context(|| format!("the simulator has no image for ESL {}", label.esl_id))?;
        if expected.get(&key).is_none_or(|png| **png != *shown.bytes) {
            bail!("ESL {} does not show its current data", label.esl_id);
        }
        checked += 1;
    }
    println!(
        "checked: all {checked} labels in the simulator show exactly their current data; \
         {} re-rendered label(s) written to {}",
        second.rendered,
        out.display()
    );
    if scale > 1 {
        write_previews(&mut registry, &env, out, scale)?;
    }
    write_samples(&env.renderer, &out.join("samples"))?;
    runtime.block_on(sim.shutdown());
    let failed = [&first, &second, &third]
        .iter()
        .map(|r| r.failed + r.overtaken + r.deferred)
        .sum::<u64>();
    if failed > 0 {
        bail!("{failed} label(s) failed");
    }
    Ok(())
}

/// Every sample template × sample product × model the template serves, written to
/// `dir/<template>__<product>__<model>.png`, one path printed per label.
fn write_samples(renderer: &Renderer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for (tname, tjson) in samples::TEMPLATES {
        let template = esl_render::Template::from_json(tjson.as_bytes(), tname, None)?;
        for model in template.models() {
            for (pname, pjson) in samples::PRODUCTS {
                let product = Product::from_json(pjson.as_bytes())
                    .with_context(|| format!("sample product {pname}"))?;
                let label = renderer
                    .render(&template, &product, model)
                    .with_context(|| format!("{tname} × {pname} × {model}"))?;
                let case = format!(
                    "{}__{}__{}",
                    tname.trim_end_matches(".json"),
                    pname.trim_end_matches(".json"),
                    esl_render::golden::model_slug(model)
                );
                let path = dir.join(format!("{case}.png"));
                std::fs::write(&path, label.image.to_png(1)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("{}", path.display());
                written += 1;
            }
        }
    }
    println!(
        "samples: {written} labels (every sample template × product × model) written to {}",
        dir.display()
    );
    Ok(())
}

/// One enlarged preview per model of the labels the price file changed.
fn write_previews(registry: &mut Registry, env: &RenderEnv, out: &Path, scale: u32) -> Result<()> {
    let renderer = &env.renderer;
    let labels = registry.labels()?;
    for model in Model::ALL {
        // Labels of the two products the price file put on promotion.
        let Some(label) = labels
            .iter()
            .find(|l| l.model == model && matches!(l.product_id.as_str(), "1006" | "1048"))
        else {
            continue;
        };
        let product: Product = registry
            .product(&label.product_id)?
            .with_context(|| format!("product {}", label.product_id))?;
        let source = esl_diff::TemplateSource::from_key(&label.template)
            .with_context(|| format!("template {}", label.template))?;
        let template = env.templates.load(&source)?;
        let image = renderer.render(&template.template, &product, model)?.image;
        let path = out.join(format!("{}@{scale}x.png", label.esl_id));
        std::fs::write(&path, image.to_png(scale)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("preview: {}", path.display());
    }
    Ok(())
}
