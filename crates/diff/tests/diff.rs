//! The diff stage end to end: registry, imports, plan, render, push against the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use esl_diff::{
    Cause, CsvMode, DiffError, FolderPublisher, Location, NoObserver, Observer, Outcome,
    ProductFile, ProductFormat, Pusher, Registry, RenderEnv, RepriceOptions, RunReport, Stage,
    TemplateLibrary,
};
use esl_model::{Model, Screen};
use esl_push::ApiCode;
use esl_push::{Client, RetryPolicy, Secret};
use esl_render::RenderErrorKind;
use esl_render::Renderer;
use esl_sim::{Fault, FaultConfig, Fixture, SimConfig, SimHandle, Simulator};

const APP: &str = "diff-tests";
const SECRET: &str = "diff-tests-secret";
const SHOP: &str = "S1";

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

/// A fresh folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("esl-diff-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Ten products `P0`…`P9`.
fn catalogue() -> String {
    let mut csv = String::from("id,name,price,spec,unit,seq_num\n");
    for p in 0..10 {
        csv.push_str(&format!(
            "P{p},Product number {p},{}.{:02},{}00 g,pack,SEQ-{p}\n",
            p + 1,
            p * 7 % 100,
            p + 1
        ));
    }
    csv
}

/// `n` labels `E000`…: product `P{i % 10}`, model `ALL[(i / 10) % 5]`, so each product is on
/// several models.
fn bindings(n: usize) -> Vec<(String, Model, String)> {
    (0..n)
        .map(|i| {
            (
                format!("E{i:03}"),
                Model::ALL[(i / 10) % 5],
                format!("P{}", i % 10),
            )
        })
        .collect()
}

fn bindings_csv(labels: &[(String, Model, String)]) -> String {
    let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
    for (esl, model, product) in labels {
        csv.push_str(&format!(
            "{esl},{SHOP},{},{},{product}\n",
            model.name(),
            template_for(*model)
        ));
    }
    csv
}

fn fixture(labels: &[(String, Model, String)]) -> Fixture {
    Fixture::shop(
        SHOP,
        labels.iter().map(|(esl, model, _)| (esl.clone(), *model)),
    )
}

fn prices(name: &str, csv: &str) -> ProductFile {
    ProductFile::detect(name, csv.as_bytes().to_vec(), CsvMode::Prices)
}

/// A registry, the simulator and a pusher.
struct World {
    dir: PathBuf,
    registry: Registry,
    env: RenderEnv,
    sim: SimHandle,
    pusher: Pusher,
    runtime: tokio::runtime::Runtime,
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn pusher_for(url: &str, retry: RetryPolicy) -> Pusher {
    let client = Client::builder(APP, Secret::new(SECRET))
        .base_url(url)
        .retry(retry)
        .build()
        .unwrap();
    Pusher::new(client, 4)
}

/// `registered` labels in the registry; the simulator knows `on_platform` of them.
fn world_with(
    name: &str,
    registered: &[(String, Model, String)],
    on_platform: &[(String, Model, String)],
) -> World {
    let dir = temp_dir(name);
    let env = env();
    let mut registry = Registry::open(&dir.join("registry.db")).unwrap();
    let r = registry
        .import_products(&ProductFile::detect(
            "catalogue.csv",
            catalogue().into_bytes(),
            CsvMode::Catalogue,
        ))
        .unwrap();
    assert_eq!((r.created, r.bad_rows.len()), (10, 0), "{r:?}");
    let r = registry
        .import_labels(
            "labels.csv",
            bindings_csv(registered).as_bytes(),
            None,
            &env.templates,
        )
        .unwrap();
    assert_eq!(r.bad_rows, []);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(Simulator::start(
            SimConfig::new(APP, SECRET).with_fixture(fixture(on_platform)),
        ))
        .unwrap();
    let pusher = pusher_for(&sim.base_url(), fast_retries());
    World {
        dir,
        registry,
        env,
        sim,
        pusher,
        runtime,
    }
}

fn world(name: &str, n: usize) -> World {
    let labels = bindings(n);
    world_with(name, &labels, &labels)
}

impl Drop for World {
    fn drop(&mut self) {
        // Keep the folder of a failed test for a look; remove it otherwise.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Records every label's outcome.
#[derive(Default)]
struct Outcomes(BTreeMap<String, Outcome>);

impl Observer for Outcomes {
    fn settled(&mut self, esl_id: &str, outcome: &Outcome) {
        assert!(
            self.0.insert(esl_id.to_owned(), outcome.clone()).is_none(),
            "{esl_id} settled twice"
        );
    }
}

impl Outcomes {
    fn with(&self, wanted: &Outcome) -> BTreeSet<String> {
        self.0
            .iter()
            .filter(|(_, o)| *o == wanted)
            .map(|(e, _)| e.clone())
            .collect()
    }
}

impl World {
    fn run(&mut self, opts: &RepriceOptions) -> (RunReport, Outcomes) {
        let mut outcomes = Outcomes::default();
        let report = self
            .registry
            .reprice(&self.env, opts, Some(&self.pusher), &mut outcomes)
            .unwrap();
        (report, outcomes)
    }

    fn push_all(&mut self) -> RunReport {
        let (report, _) = self.run(&RepriceOptions::default());
        assert_eq!(report.failed, 0, "{report:#?}");
        assert_eq!(report.pending, 0);
        report
    }

    /// Every label shows, on the platform, exactly what its data renders to, and its stored
    /// acknowledgement is that picture's.
    fn assert_platform_matches_data(&mut self) {
        for label in self.registry.labels().unwrap() {
            let now = self
                .registry
                .current_image(&label.esl_id, &self.env)
                .unwrap();
            let shown = self
                .sim
                .last_image(&label.esl_id)
                .unwrap_or_else(|| panic!("{} shows nothing", label.esl_id));
            assert_eq!(*shown.bytes, *now.png, "{} shows stale data", label.esl_id);
            let acked = label.acked.unwrap();
            assert_eq!(acked.fingerprint, now.fingerprint, "{}", label.esl_id);
            assert_eq!(acked.image, now.image, "{}", label.esl_id);
            assert!(!label.pending, "{} still pending", label.esl_id);
        }
    }

    fn labels_of(&mut self, product: &str) -> BTreeSet<String> {
        self.registry
            .labels_of_product(product)
            .unwrap()
            .into_iter()
            .collect()
    }
}

#[test]
fn one_price_change_rerenders_exactly_the_labels_of_that_product() {
    let mut w = world("one-price", 40);
    let first = w.push_all();
    assert_eq!(
        (first.considered, first.rendered, first.pushed),
        (40, 40, 40)
    );
    // 10 products × 4 models: labels with equal fingerprints share one picture.
    assert_eq!(first.images, 40);
    w.assert_platform_matches_data();

    let opts = RepriceOptions {
        prices: Some(prices("p.csv", "id,price\nP3,9.99\n")),
        ..RepriceOptions::default()
    };
    let (report, outcomes) = w.run(&opts);
    let expected = w.labels_of("P3");
    assert_eq!(expected.len(), 4);
    assert_eq!(outcomes.with(&Outcome::Pushed), expected);
    assert_eq!(
        outcomes.0.len(),
        4,
        "only P3's labels were looked at: {report:#?}"
    );
    assert_eq!(report.planned, 4);
    assert_eq!(
        (report.rendered, report.pushed, report.unchanged),
        (4, 4, 36)
    );
    assert_eq!((report.failed, report.pending, report.bad_rows), (0, 0, 0));
    w.assert_platform_matches_data();

    // The same file again changes nothing.
    let (again, outcomes) = w.run(&opts);
    assert_eq!((again.planned, again.rendered, again.unchanged), (0, 0, 40));
    assert!(outcomes.0.is_empty());
}

#[test]
fn a_field_no_template_reads_rerenders_nothing() {
    let mut w = world("unread-field", 40);
    w.push_all();
    let fields: BTreeSet<String> = TEMPLATES
        .iter()
        .flat_map(|(n, j)| {
            esl_render::Template::from_json(j.as_bytes(), n, None)
                .unwrap()
                .fields_read()
        })
        .collect();
    assert!(!fields.contains("seq_num"), "{fields:?}");
    let opts = RepriceOptions {
        prices: Some(prices("p.csv", "product_id,seq_num\nP3,NEW-3\nP4,NEW-4\n")),
        ..RepriceOptions::default()
    };
    let (report, outcomes) = w.run(&opts);
    assert_eq!(report.import.as_ref().map(|i| i.updated), Some(2));
    // The products' labels were checked through the index, and found unchanged.
    assert_eq!(report.planned, 8);
    assert_eq!(outcomes.with(&Outcome::Unchanged).len(), 8);
    assert_eq!((report.rendered, report.images, report.pushed), (0, 0, 0));
    assert_eq!((report.unchanged, report.pending), (40, 0));
    assert_eq!(
        w.registry
            .product("P3")
            .unwrap()
            .unwrap()
            .text("seq_num")
            .unwrap()
            .as_deref(),
        Some("NEW-3")
    );
}

#[test]
fn editing_a_template_rerenders_its_labels() {
    let dir = temp_dir("template-edit-files");
    let file = dir.join("small.json");
    std::fs::write(&file, TEMPLATES[0].1).unwrap();
    // SL121 labels use the template file; the others the built-in templates.
    let labels = bindings(30);
    let mut w = world_with("template-edit", &[], &labels);
    let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
    for (esl, model, product) in &labels {
        let t = if *model == Model::Sl121 {
            file.display().to_string()
        } else {
            template_for(*model).to_owned()
        };
        csv.push_str(&format!("{esl},{SHOP},{},{t},{product}\n", model.name()));
    }
    let r = w
        .registry
        .import_labels("labels.csv", csv.as_bytes(), None, &w.env.templates)
        .unwrap();
    assert_eq!((r.created, r.bad_rows.len()), (30, 0), "{r:?}");
    w.push_all();
    let small: BTreeSet<String> = labels
        .iter()
        .filter(|(_, m, _)| *m == Model::Sl121)
        .map(|(e, ..)| e.clone())
        .collect();
    assert_eq!(small.len(), 10);

    // Reformatting the file changes its hash but not its scenes: its labels are bound
    // again and found unchanged; nothing is rendered.
    std::fs::write(&file, format!("{}\n\n", TEMPLATES[0].1)).unwrap();
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(outcomes.with(&Outcome::Unchanged), small);
    assert_eq!((report.planned, report.rendered, report.pushed), (10, 0, 0));

    // A real edit: the product name in a smaller font.
    let edited = TEMPLATES[0].1.replacen("\"size\": 15", "\"size\": 13", 1);
    assert_ne!(edited, TEMPLATES[0].1);
    std::fs::write(&file, edited).unwrap();
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(outcomes.with(&Outcome::Pushed), small);
    assert_eq!(
        (report.rendered, report.pushed, report.unchanged),
        (10, 10, 20)
    );
    w.assert_platform_matches_data();
    let _ = std::fs::remove_dir_all(dir);
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn one_and_two_threads_give_identical_bytes() {
    let mut w = world("threads", 40);
    let mut outs = Vec::new();
    for threads in [1, 2] {
        let out = w.dir.join(format!("out-{threads}"));
        let opts = RepriceOptions {
            out_dir: Some(out.clone()),
            threads: Some(threads),
            page_size: 16,
            ..RepriceOptions::default()
        };
        // No pusher: nothing is acknowledged, so both runs render every label.
        let report = w
            .registry
            .reprice(&w.env, &opts, None, &mut NoObserver)
            .unwrap();
        assert_eq!(
            (report.rendered, report.not_pushed, report.pending),
            (40, 40, 40)
        );
        assert!(
            w.registry
                .labels()
                .unwrap()
                .iter()
                .all(|l| l.acked.is_none())
        );
        outs.push(read_dir(&out));
    }
    assert_eq!(outs[0].len(), 40);
    assert!(
        outs[0] == outs[1],
        "1 and 2 threads rendered different bytes"
    );
}

#[test]
fn a_failed_push_stays_pending_and_is_retried() {
    let labels = bindings(20);
    let mut w = world_with("failed-push", &labels, &labels);
    w.pusher = pusher_for(&w.sim.base_url(), RetryPolicy::never());
    // Three permanent failures (HTTP 400), not retried.
    w.sim.inject(Fault::Http(400), 3);
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(
        (report.rendered, report.pushed, report.failed),
        (20, 17, 3),
        "{report:#?}"
    );
    assert_eq!(report.pending, 3);
    let failed: Vec<String> = outcomes
        .0
        .iter()
        .filter(|(_, o)| {
            matches!(
                o,
                Outcome::Failed {
                    stage: Stage::Push,
                    cause: Cause::Http { status: 400, .. },
                }
            )
        })
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(failed.len(), 3);
    for esl in &failed {
        let label = w.registry.label(esl).unwrap().unwrap();
        assert!(label.pending && label.acked.is_none(), "{label:?}");
        // The registry keeps why, for an operator.
        let note = label.failure.expect("a failed label records its failure");
        assert!(
            note.reason.starts_with("push: ") && note.reason.contains("400"),
            "{note:?}"
        );
    }
    let listed: Vec<String> = w
        .registry
        .failed_labels()
        .unwrap()
        .into_iter()
        .map(|l| l.esl_id)
        .collect();
    let mut expected = failed.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // The next run retries exactly those three.
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(report.planned, 3);
    assert_eq!(
        outcomes.with(&Outcome::Pushed),
        failed.iter().cloned().collect()
    );
    assert_eq!((report.pushed, report.failed, report.pending), (3, 0, 0));
    // Delivered: the failures are cleared.
    assert!(w.registry.failed_labels().unwrap().is_empty());
    for esl in &failed {
        assert_eq!(w.registry.label(esl).unwrap().unwrap().failure, None);
    }
    w.assert_platform_matches_data();

    // A label the platform does not know (5301, permanent) stays pending run after run.
    let r = w
        .registry
        .import_labels(
            "more.csv",
            format!("esl_id,shop_id,model,template,product_id\nZ999,{SHOP},SL121,shelf-2.13,P1\n")
                .as_bytes(),
            None,
            &w.env.templates,
        )
        .unwrap();
    assert_eq!(r.created, 1);
    for _ in 0..2 {
        let (report, outcomes) = w.run(&RepriceOptions::default());
        assert_eq!(
            (report.planned, report.failed, report.pending),
            (1, 1, 1),
            "{report:#?}"
        );
        // The cause is typed: an embedder can tell an unknown ESL from a lost connection.
        match &outcomes.0["Z999"] {
            Outcome::Failed {
                stage: Stage::Push,
                cause: cause @ Cause::Platform { code, .. },
            } => {
                assert_eq!(*code, ApiCode::InvalidEsl);
                assert!(cause.message().contains("5301"), "{cause}");
            }
            other => panic!("{other:?}"),
        }
        let json = serde_json::to_value(&report.failures[0]).unwrap();
        assert_eq!(json["cause"]["kind"], "platform");
        assert_eq!(json["cause"]["code"], 5301);
    }
    assert!(w.registry.label("Z999").unwrap().unwrap().acked.is_none());
}

#[test]
fn a_run_without_push_records_no_acknowledgement_and_dry_run_changes_nothing() {
    let mut w = world("no-push", 10);
    let out = w.dir.join("out");
    let dry = RepriceOptions {
        prices: Some(prices("p.csv", "id,price\nP1,0.50\n")),
        out_dir: Some(out.clone()),
        dry_run: true,
        ..RepriceOptions::default()
    };
    let report = w
        .registry
        .reprice(&w.env, &dry, None, &mut NoObserver)
        .unwrap();
    assert_eq!((report.to_render, report.rendered), (10, 0));
    assert_eq!(report.import.as_ref().map(|i| i.updated), Some(1));
    assert!(!out.exists(), "a dry run writes nothing");
    assert_eq!(
        w.registry
            .product("P1")
            .unwrap()
            .unwrap()
            .text("price")
            .unwrap()
            .as_deref(),
        Some("2.07")
    );

    let no_push = RepriceOptions {
        out_dir: Some(out.clone()),
        ..RepriceOptions::default()
    };
    let report = w
        .registry
        .reprice(&w.env, &no_push, None, &mut NoObserver)
        .unwrap();
    assert_eq!(
        (report.rendered, report.not_pushed, report.pending),
        (10, 10, 10)
    );
    assert_eq!(read_dir(&out).len(), 10);
    assert!(out.join("E000.png").is_file());
    assert_eq!(w.registry.stats().unwrap().acknowledged, 0);
    assert_eq!(w.sim.esls().iter().map(|e| e.push_count).sum::<u64>(), 0);
    // Pushing afterwards settles them.
    let report = w.push_all();
    assert_eq!(report.pushed, 10);
}

#[test]
fn imports_report_bad_rows_and_apply_the_rest() {
    let mut w = world("imports", 10);
    // Price CSV: a short row, a bad price, an unknown product, too many decimals.
    let r = w
        .registry
        .import_products(&prices(
            "p.csv",
            "id,price,promote_price\nP1,3.00,2.50\nP2,4.00\nP3,abc,\nP404,1.00,\nP5,1.005,\nP6,6.00,\n",
        ))
        .unwrap();
    let at: Vec<Location> = r.bad_rows.iter().map(|b| b.at).collect();
    assert_eq!(
        at,
        [
            Location::Line(3),
            Location::Line(4),
            Location::Line(5),
            Location::Line(6)
        ],
        "{r:#?}"
    );
    assert!(
        r.bad_rows[0].reason.contains("2 fields"),
        "{:?}",
        r.bad_rows[0]
    );
    assert!(r.bad_rows[1].reason.contains("abc"));
    assert!(r.bad_rows[2].reason.contains("P404"));
    assert!(r.bad_rows[3].reason.contains("two decimals"));
    assert_eq!(r.updated, 2);
    assert_eq!(
        w.registry
            .product("P6")
            .unwrap()
            .unwrap()
            .text("price")
            .unwrap()
            .as_deref(),
        Some("6.00")
    );
    assert_eq!(
        w.registry
            .product("P1")
            .unwrap()
            .unwrap()
            .text("promote_price")
            .unwrap()
            .as_deref(),
        Some("2.50")
    );

    // Seed 001 §6.1.1 verbatim (typographic quotes), as a product/create parameter.
    let seed = "{\"shop_id\": \"7948\", \"product_list\": \"[{\u{201c}name\u{201d}:\u{201d}\\\\u53ef\\\\u53e3\\\\u53ef\\\\u4e50\\\\/\\\\u704c\\\\u88c5\u{2033},\u{201d}id\u{201d}:\u{201d}1\u{2033},\u{201d}seq_num\u{201d}:\u{201d}cola58476\u{2033},\u{201d}bar_code\u{201d}:\u{201d}6958644000259\u{2033},\u{201d}unit\u{201d}:\u{201d}\\\\u7f50\u{2033},\u{201d}price\u{201d}:\u{201d}3.2\u{2033},\u{201d}member_price\u{201d}:\u{201d}3\u{2033},\u{201d}spec\u{201d}:\u{201d}250ml\u{2033},\u{201d}level\u{201d}:\u{201d}\u{201d},\u{201d}brand\u{201d}:\u{201d}\\\\u53ef\\\\u4e50\u{2033}}]\"}";
    let file = ProductFile::detect("create.json", seed.as_bytes().to_vec(), CsvMode::Catalogue);
    assert_eq!(file.format, ProductFormat::ProductList);
    let r = w.registry.import_products(&file).unwrap();
    assert_eq!((r.created, r.bad_rows.len()), (1, 0), "{r:#?}");
    assert!(r.notes.iter().any(|n| n.contains("typographic")));
    let cola = w.registry.product("1").unwrap().unwrap();
    assert_eq!(cola.text("name").unwrap().as_deref(), Some("可口可乐/灌装"));
    assert_eq!(cola.text("price").unwrap().as_deref(), Some("3.2"));

    // §6.2.1: an update with a numeric id; §6.1.3: the `,,,` sample is refused with its place.
    let r = w
        .registry
        .import_products(&ProductFile::detect(
            "update.json",
            br#"{"shop_id": 7948, "product_list": [{"id": 1, "price": "3.5"}, {"price": "1"}, {"id": 2, "price": "1"}]}"#.to_vec(),
            CsvMode::Catalogue,
        ))
        .unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(
        r.bad_rows.iter().map(|b| b.at).collect::<Vec<_>>(),
        [Location::Item(2), Location::Item(3)],
        "{r:#?}"
    );
    let broken = ProductFile::detect(
        "broken.json",
        br#"{"product_list": [{"name": "x",,, "id": "1"}]}"#.to_vec(),
        CsvMode::Catalogue,
    );
    let err = w.registry.import_products(&broken).unwrap_err();
    assert!(
        matches!(err, DiffError::Input { .. }) && err.to_string().contains("column"),
        "{err}"
    );

    // Koubei records, one per line, action_detail as a JSON string as seed 002 has it.
    let koubei = [
        r#"{"action_type":"insert_dish","entity":"shop","action_detail":"{\"outerDishId\":\"D1\",\"name\":\"回锅肉\",\"price\":3800,\"unit\":\"份\"}"}"#,
        r#"{"action_type":"modify_dish","entity":"shop","action_detail":{"outerDishId":"D1","price":"3650"}}"#,
        r#"{"action_type":"soldout_dish","entity":"shop","action_detail":{"outerDishId":"D1"}}"#,
        r#"{"action_type":"insert_table","entity":"shop","action_detail":{"tableId":"T1"}}"#,
        r#"{"action_type":"modify_dish","entity":"shop","action_detail":{"outerDishId":"D2","price":12.5}}"#,
        r#"{"action_type":"soldout_dish","entity":"shop","action_detail":{"outerDishId":"D9"}}"#,
        r#"{"action_type":"delete_dish","entity":"shop","action_detail":{"outerDishId":"P9"}}"#,
        "not json",
    ]
    .join("\n");
    let file = ProductFile::detect("dishes.jsonl", koubei.into_bytes(), CsvMode::Prices);
    assert_eq!(file.format, ProductFormat::Koubei);
    let r = w.registry.import_products(&file).unwrap();
    assert_eq!(
        (r.created, r.updated, r.deleted, r.skipped),
        (1, 2, 1, 1),
        "{r:#?}"
    );
    assert_eq!(
        r.bad_rows.iter().map(|b| b.at).collect::<Vec<_>>(),
        [Location::Line(5), Location::Line(6), Location::Line(8)],
        "{r:#?}"
    );
    let dish = w.registry.product("D1").unwrap().unwrap();
    assert_eq!(dish.text("price").unwrap().as_deref(), Some("36.50"));
    assert_eq!(dish.text("soldout").unwrap().as_deref(), Some("1"));
    assert!(w.registry.product("P9").unwrap().is_none());
    // P9's label now fails until it is re-bound.
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert!(
        matches!(
            outcomes.0["E009"],
            Outcome::Failed {
                stage: Stage::Product,
                ..
            }
        ),
        "{report:#?}"
    );

    // Label bindings: unknown model, a template that does not serve the model, an unknown
    // product, an unknown template.
    let r = w
        .registry
        .import_labels(
            "l.csv",
            b"esl_id,shop_id,model,template,product_id\nX1,S1,SL999,shelf-2.13,P1\nX2,S1,SL142,shelf-2.13,P1\nX3,S1,SL121,shelf-2.13,P404\nX4,S1,SL121,nope,P1\nX5,S1,sl121,shelf-2.13.json,P1\n",
            None,
            &w.env.templates,
        )
        .unwrap();
    assert_eq!(r.created, 1);
    let reasons: Vec<String> = r.bad_rows.iter().map(ToString::to_string).collect();
    assert!(
        reasons[0].starts_with("line 2") && reasons[0].contains("SL999"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("does not serve model SL142"),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("P404"), "{reasons:?}");
    assert!(reasons[3].contains("\"nope\" not found"), "{reasons:?}");
}

#[test]
fn the_schema_is_versioned() {
    let dir = temp_dir("schema");
    let path = dir.join("r.db");
    drop(Registry::open(&path).unwrap());
    let user_version = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), esl_diff::sqlite::SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    // Reopening keeps the data; a newer file is refused.
    let mut r = Registry::open(&path).unwrap();
    assert_eq!(r.stats().unwrap().labels, 0);
    drop(r);
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert!(matches!(
        Registry::open(&path),
        Err(DiffError::NewerSchema { found: 99, .. })
    ));
    let _ = std::fs::remove_dir_all(dir);
}

const CHILD_DB: &str = "ESL_DIFF_CRASH_CHILD_DB";
const CHILD_URL: &str = "ESL_DIFF_CRASH_CHILD_URL";

/// The child of `a_run_killed_mid_batch_then_repeated_loses_nothing`: does nothing unless
/// started by it.
#[test]
fn crash_child() {
    let (Ok(db), Ok(url)) = (std::env::var(CHILD_DB), std::env::var(CHILD_URL)) else {
        return;
    };
    let pusher = pusher_for(&url, fast_retries());
    let mut registry = Registry::open(Path::new(&db)).unwrap();
    // A short lease: the run that follows the kill waits for it to expire.
    let opts = RepriceOptions {
        page_size: 8,
        lease_ttl: Duration::from_secs(2),
        ..RepriceOptions::default()
    };
    registry
        .reprice(&env(), &opts, Some(&pusher), &mut NoObserver)
        .unwrap();
    eprintln!("crash child: finished (it should have been killed)");
}

fn accepted_pushes(sim: &SimHandle) -> u64 {
    sim.esls().iter().map(|e| e.push_count).sum()
}

#[test]
fn a_run_killed_mid_batch_then_repeated_loses_nothing() {
    let mut w = world("crash", 40);
    w.push_all();
    // Every product changes: all 40 labels need a new picture.
    let mut csv = String::from("id,price\n");
    for p in 0..10 {
        csv.push_str(&format!("P{p},{}.50\n", 20 + p));
    }
    let r = w.registry.import_products(&prices("p.csv", &csv)).unwrap();
    assert_eq!(r.labels_marked, 40);
    // A slow platform, so the kill lands in the middle of the batch.
    w.sim.set_faults(FaultConfig {
        delay_probability: 1.0,
        delay: Duration::from_millis(40),
        ..FaultConfig::default()
    });
    let before = accepted_pushes(&w.sim);
    let db = w.registry.path().to_path_buf();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DB, &db)
        .env(CHILD_URL, w.sim.base_url())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while accepted_pushes(&w.sim) < before + 12 {
        assert!(Instant::now() < deadline, "the child pushed nothing");
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let pushed_by_child = accepted_pushes(&w.sim) - before;
    assert!(
        pushed_by_child < 40,
        "killed too late: {pushed_by_child} pushes"
    );
    w.sim.set_faults(FaultConfig::default());

    // Some labels show the new price, some the old; the registry knows which were acked.
    let mut registry = Registry::open(&db).unwrap();
    let pending = registry.stats().unwrap().pending;
    assert!(pending > 0, "the kill came after the end of the batch");
    eprintln!("killed after {pushed_by_child} accepted pushes, {pending} labels pending");
    let (report, _) = {
        let mut outcomes = Outcomes::default();
        let report = registry
            .reprice(
                &w.env,
                &RepriceOptions::default(),
                Some(&w.pusher),
                &mut outcomes,
            )
            .unwrap();
        (report, outcomes)
    };
    assert_eq!((report.failed, report.pending), (0, 0), "{report:#?}");
    assert_eq!(report.planned, pending);
    // The killed run's lease blocked the next one only until it expired.
    assert!(report.lease_wait_ms <= 3_000, "{report:#?}");
    w.registry = registry;
    w.assert_platform_matches_data();
}

#[test]
fn labels_with_equal_pictures_are_rendered_once() {
    // 60 labels over 3 products and 1 model: 3 pictures.
    let labels: Vec<_> = (0..60)
        .map(|i| (format!("E{i:03}"), Model::Sl121, format!("P{}", i % 3)))
        .collect();
    let mut w = world_with("dedup", &labels, &labels);
    let report = w.push_all();
    assert_eq!((report.rendered, report.images, report.pushed), (60, 3, 60));
}

/// The ten labels of a template file whose `image` element shows `logo.png` beside it, plus
/// ten labels on a built-in template.
fn world_with_logo(name: &str) -> (World, PathBuf, BTreeSet<String>) {
    let labels = bindings(20);
    let mut w = world_with(name, &[], &labels);
    let dir = w.dir.join("templates");
    std::fs::create_dir_all(&dir).unwrap();
    write_logo(&dir.join("logo.png"), [200, 20, 30]);
    let with_logo = TEMPLATES[0].1.replacen(
        r#""elements": ["#,
        r#""elements": [{"type": "image", "box": {"x": 170, "y": 2, "w": 38, "h": 30}, "src": "logo.png"},"#,
        1,
    );
    let file = dir.join("logo-2.13.json");
    std::fs::write(&file, with_logo).unwrap();
    let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
    let mut logo_labels = BTreeSet::new();
    for (i, (esl, _, product)) in labels.iter().enumerate() {
        if i % 2 == 0 {
            csv.push_str(&format!(
                "{esl},{SHOP},SL121,{},{product}\n",
                file.display()
            ));
            logo_labels.insert(esl.clone());
        } else {
            csv.push_str(&format!("{esl},{SHOP},SL126,shelf-2.6,{product}\n"));
        }
    }
    let fixture_labels: Vec<_> = labels
        .iter()
        .enumerate()
        .map(|(i, (e, _, p))| {
            let m = if i % 2 == 0 {
                Model::Sl121
            } else {
                Model::Sl126
            };
            (e.clone(), m, p.clone())
        })
        .collect();
    w.sim = w
        .runtime
        .block_on(Simulator::start(
            SimConfig::new(APP, SECRET).with_fixture(fixture(&fixture_labels)),
        ))
        .unwrap();
    w.pusher = pusher_for(&w.sim.base_url(), fast_retries());
    let r = w
        .registry
        .import_labels("labels.csv", csv.as_bytes(), None, &w.env.templates)
        .unwrap();
    assert_eq!((r.created, r.bad_rows.len()), (20, 0), "{r:?}");
    (w, dir, logo_labels)
}

/// A 32 × 24 logo: a disc of `rgb` on white.
fn write_logo(path: &Path, rgb: [u8; 3]) {
    let img = image::RgbaImage::from_fn(32, 24, |x, y| {
        let (dx, dy) = (x as i32 - 16, y as i32 - 12);
        if dx * dx + dy * dy < 110 {
            image::Rgba([rgb[0], rgb[1], rgb[2], 255])
        } else {
            image::Rgba([255, 255, 255, 255])
        }
    });
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

#[test]
fn a_replaced_picture_file_repushes_exactly_its_labels() {
    let (mut w, dir, logo_labels) = world_with_logo("picture-change");
    let first = w.push_all();
    assert_eq!(first.pushed, 20);
    w.assert_platform_matches_data();

    // The same pixels in a re-encoded file: nothing to do.
    let same = image::open(dir.join("logo.png")).unwrap().to_rgba8();
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Paeth,
    )
    .write_image(same.as_raw(), 32, 24, image::ExtendedColorType::Rgba8)
    .unwrap();
    std::fs::write(dir.join("logo.png"), &bytes).unwrap();
    let (report, _) = w.run(&RepriceOptions::default());
    assert_eq!((report.planned, report.pushed), (0, 0), "{report:#?}");

    // Another picture behind the same `src`: exactly its template's labels are pushed.
    write_logo(&dir.join("logo.png"), [20, 20, 20]);
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(outcomes.with(&Outcome::Pushed), logo_labels, "{report:#?}");
    assert_eq!((report.planned, report.pushed, report.pending), (10, 10, 0));
    w.assert_platform_matches_data();
}

use image::ImageEncoder as _;

#[test]
fn a_font_no_label_draws_with_rebinds_but_renders_nothing() {
    let mut w = world("font-change", 20);
    w.push_all();
    // The same fonts, but a font no sample template names replaced: the environment's
    // stamp changes, every label is bound again, and no scene changed.
    let mut book = esl_render::FontBook::bundled();
    let fonts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fonts");
    book.add_file("pixel16", &fonts.join("NotoSans-Regular.ttf"))
        .unwrap();
    w.env = RenderEnv::new(
        Renderer::new(book, esl_render::RenderOptions::default()),
        w.env.templates.clone(),
    );
    let (report, outcomes) = w.run(&RepriceOptions::default());
    assert_eq!(report.planned, 20, "{report:#?}");
    assert_eq!(outcomes.with(&Outcome::Unchanged).len(), 20);
    assert_eq!((report.rendered, report.pushed), (0, 0));
}

#[test]
fn a_price_that_does_not_fit_fails_with_a_typed_cause() {
    let mut w = world("typed-render", 10);
    w.push_all();
    let (report, outcomes) = w.run(&RepriceOptions {
        prices: Some(prices("p.csv", "id,price\nP2,123456789.99\n")),
        ..RepriceOptions::default()
    });
    assert_eq!(report.failed, 1, "{report:#?}");
    match &outcomes.0["E002"] {
        Outcome::Failed {
            stage: Stage::Render,
            cause:
                Cause::Render {
                    error: RenderErrorKind::PriceOverflow,
                    element: Some(element),
                    ..
                },
        } => assert!(element.starts_with("elements["), "{element}"),
        other => panic!("{other:?}"),
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failures"][0]["cause"]["kind"], "render");
    assert_eq!(json["failures"][0]["cause"]["error"], "price_overflow");
}

#[test]
fn a_folder_of_pngs_is_a_publisher_too() {
    let mut w = world("folder", 10);
    let out = w.dir.join("published");
    let folder = FolderPublisher::new(&out);
    let report = w
        .registry
        .reprice(
            &w.env,
            &RepriceOptions::default(),
            Some(&folder),
            &mut NoObserver,
        )
        .unwrap();
    assert_eq!((report.pushed, report.pending), (10, 0), "{report:#?}");
    for label in w.registry.labels().unwrap() {
        let now = w.registry.current_image(&label.esl_id, &w.env).unwrap();
        let written = std::fs::read(folder.path(SHOP, &label.esl_id)).unwrap();
        assert_eq!(written, now.png, "{}", label.esl_id);
    }
    let again = w
        .registry
        .reprice(
            &w.env,
            &RepriceOptions::default(),
            Some(&folder),
            &mut NoObserver,
        )
        .unwrap();
    assert_eq!((again.planned, again.pushed), (0, 0));
}

/// A TCP proxy in front of the simulator that holds every chunk a client sends for `delay`
/// before passing it on. Returns its base URL and how many connections it has accepted.
fn delaying_proxy(
    runtime: &tokio::runtime::Runtime,
    target: std::net::SocketAddr,
    delay: Duration,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = std::sync::Arc::clone(&seen);
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    while let Some((at, bytes)) = rx.recv().await {
                        tokio::time::sleep_until((at + delay).into()).await;
                        if sw.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                });
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn overlapping_runs_lose_no_price() {
    // Two labels of one product (P1, on SL121 and SL126).
    let labels = vec![
        ("E1".to_owned(), Model::Sl121, "P1".to_owned()),
        ("E2".to_owned(), Model::Sl126, "P1".to_owned()),
    ];
    let mut w = world_with("overlap", &labels, &labels);
    w.push_all();
    let db = w.registry.path().to_path_buf();
    let (proxy, connections) = delaying_proxy(&w.runtime, w.sim.addr(), Duration::from_secs(2));
    let slow = pusher_for(&proxy, fast_retries());
    let direct = w.pusher.clone();
    let env_a = w.env.clone();
    let env_b = w.env.clone();
    // Run A imports 11.11 and pushes through the proxy, which holds its requests for 2 s.
    let db_a = db.clone();
    let a = std::thread::spawn(move || {
        let mut registry = Registry::open(&db_a).unwrap();
        registry
            .reprice(
                &env_a,
                &RepriceOptions {
                    prices: Some(prices("a.csv", "id,price\nP1,11.11\n")),
                    ..RepriceOptions::default()
                },
                Some(&slow),
                &mut NoObserver,
            )
            .unwrap()
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while connections.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "run A never pushed");
        std::thread::sleep(Duration::from_millis(5));
    }
    // While A's pushes are held, run B imports 22.22 and pushes directly.
    let db_b = db.clone();
    let b = std::thread::spawn(move || {
        let mut registry = Registry::open(&db_b).unwrap();
        registry
            .reprice(
                &env_b,
                &RepriceOptions {
                    prices: Some(prices("b.csv", "id,price\nP1,22.22\n")),
                    ..RepriceOptions::default()
                },
                Some(&direct),
                &mut NoObserver,
            )
            .unwrap()
    });
    let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!((ra.failed, rb.failed), (0, 0), "{ra:#?} {rb:#?}");
    // B waited for A's lease, then pushed the newer price over A's.
    assert!(rb.lease_wait_ms > 0, "{rb:#?}");
    assert_eq!(rb.pushed, 2, "{rb:#?}");
    // A quiet run finds nothing to do, and every label shows 22.22.
    let (quiet, _) = w.run(&RepriceOptions::default());
    assert_eq!(
        (quiet.planned, quiet.pushed, quiet.pending),
        (0, 0, 0),
        "{quiet:#?}"
    );
    assert_eq!(
        w.registry
            .product("P1")
            .unwrap()
            .unwrap()
            .text("price")
            .unwrap()
            .as_deref(),
        Some("22.22")
    );
    w.assert_platform_matches_data();
}

#[test]
fn a_busy_registry_is_refused_with_the_holder_named() {
    let mut w = world("busy", 4);
    // Another run holds the lease (taken through the store, as a run does).
    let mut other = Registry::open(w.registry.path()).unwrap();
    let mut store = esl_diff::SqliteStore::open(w.registry.path()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let taken = esl_diff::Store::lease(
        &mut store,
        "run",
        esl_diff::store::LeaseOp::Acquire {
            holder: "run-other",
            now_ms: now,
            expires_at_ms: now + 1_500,
        },
    )
    .unwrap();
    assert_eq!(taken, esl_diff::store::LeaseState::Ours);
    let err = other
        .reprice(
            &w.env,
            &RepriceOptions {
                lease_wait: Duration::ZERO,
                ..RepriceOptions::default()
            },
            None,
            &mut NoObserver,
        )
        .unwrap_err();
    assert!(
        matches!(&err, DiffError::Busy { holder, .. } if holder == "run-other"),
        "{err}"
    );
    // Waiting long enough, the lease expires (its holder never renews it) and the run goes on.
    let report = w.push_all();
    assert_eq!(report.pushed, 4);
    assert!(report.lease_wait_ms > 0, "{report:#?}");
}

#[test]
fn transient_faults_are_swept_within_the_run() {
    let labels = bindings(2000);
    let mut w = world_with("sweep", &labels, &labels);
    w.sim.set_faults(FaultConfig::transient(0.2, 7));
    let (report, _) = w.run(&RepriceOptions {
        page_size: 512,
        ..RepriceOptions::default()
    });
    w.sim.set_faults(FaultConfig::default());
    assert_eq!(
        (
            report.pushed,
            report.failed,
            report.deferred,
            report.pending
        ),
        (2000, 0, 0, 0),
        "{report:#?}"
    );
    // With 3 attempts per push, about 0.8% of the labels ran out of attempts and were
    // delivered by the sweep.
    assert!(report.sweep_rounds >= 1, "{report:#?}");
    w.assert_platform_matches_data();
}

#[test]
fn the_circuit_breaker_stops_pushing_when_the_platform_is_down() {
    let labels = bindings(200);
    let mut w = world_with("breaker", &labels, &labels);
    w.sim.set_faults(FaultConfig::transient(1.0, 3));
    let (report, _) = w.run(&RepriceOptions {
        breaker_threshold: 10,
        ..RepriceOptions::default()
    });
    let attempts = w.sim.count("/device/esl/pushImage");
    w.sim.set_faults(FaultConfig::default());
    assert!(report.circuit_open.is_some(), "{report:#?}");
    assert_eq!((report.pushed, report.pending), (0, 200), "{report:#?}");
    assert_eq!(report.deferred + report.failed, 200, "{report:#?}");
    // Far fewer than every label's attempts (200 × 3).
    assert!(attempts < 100, "{attempts} push attempts");
    // Once the platform is back, the next run delivers everything.
    let again = w.push_all();
    assert_eq!(again.pushed, 200);
    w.assert_platform_matches_data();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_usable_from_async_code() {
    let dir = temp_dir("async");
    let labels = bindings(20);
    let env = env();
    let mut registry = Registry::open(&dir.join("registry.db")).unwrap();
    registry
        .import_products(&ProductFile::detect(
            "catalogue.csv",
            catalogue().into_bytes(),
            CsvMode::Catalogue,
        ))
        .unwrap();
    registry
        .import_labels(
            "labels.csv",
            bindings_csv(&labels).as_bytes(),
            None,
            &env.templates,
        )
        .unwrap();
    let sim = Simulator::start(SimConfig::new(APP, SECRET).with_fixture(fixture(&labels)))
        .await
        .unwrap();
    let pusher = pusher_for(&sim.base_url(), fast_retries());
    // The async entry point, awaited on this runtime.
    let report = registry
        .reprice_async(
            &env,
            &RepriceOptions::default(),
            Some(&pusher),
            &mut NoObserver,
        )
        .await
        .unwrap();
    assert_eq!((report.pushed, report.pending), (20, 0), "{report:#?}");
    // The blocking one is safe here too: it drives its run on a thread of its own.
    registry
        .import_products(&prices("p.csv", "id,price\nP1,7.77\n"))
        .unwrap();
    let report = registry
        .reprice(
            &env,
            &RepriceOptions::default(),
            Some(&pusher),
            &mut NoObserver,
        )
        .unwrap();
    assert_eq!((report.pushed, report.pending), (2, 0), "{report:#?}");
    sim.shutdown().await;
    drop(registry);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_confined_library_resolves_only_names_inside_its_folders() {
    let root = temp_dir("confined");
    let dir = root.join("templates");
    std::fs::create_dir_all(&dir).unwrap();
    let json = template_for(Model::Sl121);
    std::fs::write(dir.join("mine.json"), json).unwrap();
    std::fs::write(root.join("outside.json"), json).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("outside.json"), dir.join("link.json")).unwrap();
    let open = TemplateLibrary::new().with_dir(&dir);
    let confined = open.clone().confined();
    let outside = root.join("outside.json");
    let outside = outside.to_str().unwrap();
    // The open library follows any path; the confined one only names in its folder.
    assert!(open.resolve(outside, None).is_ok());
    assert!(open.resolve("../outside.json", Some(&dir)).is_ok());
    for refused in [
        outside,
        "../outside.json",
        "templates/../outside.json",
        "..\\outside",
    ] {
        let err = confined.resolve(refused, Some(&dir)).unwrap_err();
        assert!(
            matches!(err, DiffError::TemplateNotFound { .. }),
            "{refused}: {err}"
        );
    }
    #[cfg(unix)]
    assert!(
        confined.resolve("link", None).is_err(),
        "a link out of the folder is not followed"
    );
    // A name with a dot in it ("shelf-2.13") is still a name: `.json` is tried after it.
    std::fs::write(dir.join("shelf-9.99.json"), json).unwrap();
    for (lib, name) in [
        (&open, "mine"),
        (&confined, "mine"),
        (&open, "shelf-9.99"),
        (&confined, "shelf-9.99"),
    ] {
        match lib.resolve(name, None).unwrap() {
            esl_diff::TemplateSource::File(p) => {
                assert!(p.ends_with(format!("templates/{name}.json")), "{p:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
