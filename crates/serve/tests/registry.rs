//! The registry routes of `esl serve --db` over real HTTP: a real SQLite registry, the
//! platform simulator on 127.0.0.1 as the platform, a reqwest client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use esl_diff::{Pusher, Registry, TemplateLibrary};
use esl_model::Model;
use esl_push::{Client, RetryPolicy, Secret};
use esl_render::{Renderer, Template};
use esl_serve::{Config, DbConfig, Server};
use esl_sim::{Fault, Fixture, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

const TOKEN: &str = "registry-test-token";
const APP: &str = "app-serve";
const SECRET: &str = "secret-serve";
const SHOP: &str = "S1";

fn repo_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// The labels of the tests: (esl, model, template, product).
const LABELS: [(&str, Model, &str, &str); 3] = [
    ("E1", Model::Sl121, "shelf-2.13", "P1"),
    ("E2", Model::Sl126, "shelf-2.6", "P2"),
    ("E3", Model::Sl142, "shelf-4.2", "P3"),
];

struct Running {
    base: String,
    client: reqwest::Client,
    dir: PathBuf,
    sim: Option<SimHandle>,
    rt: tokio::runtime::Runtime,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn fixture() -> Fixture {
    Fixture::shop(
        SHOP,
        LABELS
            .iter()
            .map(|(esl, model, ..)| ((*esl).to_owned(), *model)),
    )
}

/// A service over a fresh registry; with `platform`, runs push to a simulator.
fn start(tag: &str, db: bool, platform: bool) -> Running {
    start_with(tag, db, platform, None)
}

/// As [`start`]; `other_platform` is a base URL to push to instead of a simulator.
fn start_with(tag: &str, db: bool, platform: bool, other_platform: Option<String>) -> Running {
    let dir = std::env::temp_dir().join(format!("esl-serve-db-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for (_, _, name, _) in LABELS {
        std::fs::copy(
            repo_templates().join(format!("{name}.json")),
            templates.join(format!("{name}.json")),
        )
        .unwrap();
    }
    // A template outside the folder, which a bindings file must not reach.
    std::fs::copy(
        repo_templates().join("shelf-2.13.json"),
        dir.join("outside.json"),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = platform.then(|| {
        rt.block_on(Simulator::start(
            SimConfig::new(APP, SECRET).with_fixture(fixture()),
        ))
        .unwrap()
    });
    let base_url = sim.as_ref().map(SimHandle::base_url).or(other_platform);
    let pusher = base_url.map(|base_url| {
        let client = Client::builder(APP, Secret::new(SECRET))
            .base_url(base_url)
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        Pusher::new(client, 4)
    });
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        templates: templates.clone(),
        token: Some(TOKEN.into()),
        cors: None,
        db: db.then(|| DbConfig {
            path: dir.join("labels.db"),
            library: TemplateLibrary::new().with_dir(&templates),
            pusher,
        }),
    };
    let server = rt
        .block_on(Server::bind(config, Renderer::bundled()))
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    rt.spawn(server.run());
    Running {
        base,
        client: reqwest::Client::new(),
        dir,
        sim,
        rt,
    }
}

impl Running {
    fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        self.rt.block_on(req.bearer_auth(TOKEN).send()).unwrap()
    }

    fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.client.get(format!("{}{path}", self.base)))
    }

    fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.send(self.client.post(format!("{}{path}", self.base)).body(body))
    }

    fn json(&self, resp: reqwest::Response) -> Value {
        let bytes = self.rt.block_on(resp.bytes()).unwrap();
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
    }

    fn bytes(&self, resp: reqwest::Response) -> Vec<u8> {
        self.rt.block_on(resp.bytes()).unwrap().to_vec()
    }

    fn import_world(&self) {
        let resp = self.post(
            "/v1/import/products",
            "id,name,price,spec,unit,seq_num\nP1,Cola 330 ml,2.50,330 ml,can,6901234567892\nP2,Green tea,3.20,500 ml,bottle,6901234567885\nP3,Rice 5 kg,39.90,5 kg,bag,6901234567878\n",
        );
        assert_eq!(resp.status(), 200);
        let report = self.json(resp);
        assert_eq!(report["created"], 3, "{report}");
        assert_eq!(report["bad_rows"], json!([]), "{report}");

        let mut csv = String::from("esl_id,shop_id,model,template,product_id\n");
        for (esl, model, template, product) in LABELS {
            csv.push_str(&format!(
                "{esl},{SHOP},{},{template},{product}\n",
                model.name()
            ));
        }
        // Paths are refused: the outside file exists, but a bindings file sent over HTTP
        // names templates only by name.
        let outside = self.dir.join("outside.json");
        csv.push_str(&format!("X1,{SHOP},SL121,../outside.json,P1\n"));
        csv.push_str(&format!("X2,{SHOP},SL121,{},P1\n", outside.display()));
        let resp = self.post("/v1/import/labels", csv);
        assert_eq!(resp.status(), 200);
        let report = self.json(resp);
        assert_eq!(report["created"], 3, "{report}");
        let bad = report["bad_rows"].as_array().unwrap();
        assert_eq!(bad.len(), 2, "{report}");
        for b in bad {
            assert!(b.to_string().contains("outside"), "{b}");
        }
    }
}

/// Reads a server-sent-events stream to its end: `(event, data)` pairs. `on_event` is called
/// after each event.
fn read_events(
    s: &Running,
    resp: reqwest::Response,
    mut on_event: impl FnMut(&str, &Value),
) -> Vec<(String, Value)> {
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut resp = resp;
    let mut buf = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = s.rt.block_on(resp.chunk()).unwrap() {
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            if let Some(name) = name {
                let value: Value = serde_json::from_str(&data).unwrap();
                on_event(&name, &value);
                events.push((name, value));
            }
        }
    }
    events
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn imports_list_preview_and_a_pushed_run() {
    let s = start("run", true, true);
    s.import_world();

    // Listing: every label pending, none failed; filters and pages.
    let all = s.json(s.get("/v1/labels"));
    let ids: Vec<&str> = all["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["esl_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["E1", "E2", "E3"]);
    assert!(
        all["labels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["pending"] == true)
    );
    assert_eq!(
        s.json(s.get("/v1/labels?status=pending"))["labels"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.json(s.get("/v1/labels?status=failed"))["labels"],
        json!([])
    );
    assert_eq!(s.json(s.get("/v1/labels?shop=other"))["labels"], json!([]));
    let page = s.json(s.get("/v1/labels?limit=2"));
    assert_eq!(page["labels"].as_array().unwrap().len(), 2);
    assert_eq!(page["next"], "E2");
    let page = s.json(s.get("/v1/labels?limit=2&after=E2"));
    assert_eq!(page["labels"][0]["esl_id"], "E3");
    assert_eq!(page["next"], Value::Null);
    assert_eq!(s.get("/v1/labels?status=done").status(), 400);
    assert_eq!(s.get("/v1/labels?limit=0").status(), 400);

    // The preview is the library's picture of the label's product and template.
    let mut registry = Registry::open(&s.dir.join("labels.db")).unwrap();
    let mut previews = Vec::new();
    for (esl, model, template, product) in LABELS {
        let resp = s.get(&format!("/v1/labels/{esl}/preview.png"));
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/png");
        let got = s.bytes(resp);
        let t = Template::load(&s.dir.join("templates").join(format!("{template}.json"))).unwrap();
        let p = registry.product(product).unwrap().unwrap();
        let want = Renderer::bundled()
            .render(&t, &p, model)
            .unwrap()
            .image
            .to_png(1)
            .unwrap();
        assert_eq!(got, want, "{esl}");
        previews.push(got);
    }
    assert_eq!(s.get("/v1/labels/NOPE/preview.png").status(), 404);

    // A run: the first push waits, so the run is still going when a second one is asked.
    let sim = s.sim.as_ref().unwrap();
    sim.inject(Fault::Delay(Duration::from_millis(1500)), 1);
    let resp = s.post("/v1/reprice", "{}");
    let mut second = None;
    let events = read_events(&s, resp, |name, _| {
        if name == "planned" && second.is_none() {
            let r = s.post("/v1/reprice", "");
            let status = r.status();
            second = Some((status, s.json(r)));
            // Meanwhile the status says a run is going on.
            let st = s.json(s.get("/v1/reprice"));
            assert_eq!(st["running"], true, "{st}");
        }
    });
    let (status, body) = second.expect("a planned event");
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("already"),
        "{body}"
    );
    let n = names(&events);
    assert_eq!(n.first(), Some(&"planned"), "{n:?}");
    assert_eq!(n.last(), Some(&"done"), "{n:?}");
    assert!(n.contains(&"progress"), "{n:?}");
    let report = &events.last().unwrap().1;
    assert_eq!(report["pushed"], 3, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let progress = events.iter().rev().find(|(n, _)| n == "progress").unwrap();
    assert_eq!(progress.1["settled"], 3, "{:?}", progress);

    // What each ESL shows is the preview.
    for ((esl, ..), preview) in LABELS.iter().zip(&previews) {
        let shown = sim.last_image(esl).expect("pushed");
        assert_eq!(&shown.bytes[..], &preview[..], "{esl}");
    }
    // The service's shelf view reads the simulator's: the same pictures.
    let platform = s.json(s.get("/v1/platform"));
    assert_eq!(
        platform,
        json!({"base_url": sim.base_url(), "app_id": APP, "push": true, "simulator": true})
    );
    let shelf = s.json(s.get("/v1/shelf"));
    let shown: Vec<(&str, bool)> = shelf["esls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["esl_id"].as_str().unwrap(), e["request_seq"].is_u64()))
        .collect();
    assert_eq!(shown, [("E1", true), ("E2", true), ("E3", true)], "{shelf}");
    for ((esl, ..), preview) in LABELS.iter().zip(&previews) {
        let resp = s.get(&format!("/v1/shelf/{esl}/image.png"));
        assert_eq!(resp.status(), 200, "{esl}");
        assert_eq!(resp.headers()["content-type"], "image/png");
        assert_eq!(&s.bytes(resp)[..], &preview[..], "{esl}");
    }
    let resp = s.get("/v1/shelf/NOPE/image.png");
    assert_eq!(resp.status(), 404);
    let err = s.json(resp)["error"].as_str().unwrap().to_owned();
    assert!(err.contains("no ESL \"NOPE\""), "{err}");
    // An id with a slash stays one path segment on the way to the simulator.
    assert_eq!(s.get("/v1/shelf/E1%2Fx/image.png").status(), 404);

    let st = s.json(s.get("/v1/reprice"));
    assert_eq!(
        (st["running"].clone(), st["report"]["pushed"].clone()),
        (json!(false), json!(3))
    );
    assert_eq!(
        s.json(s.get("/v1/labels?status=pending"))["labels"],
        json!([])
    );

    // A label the platform does not know fails; the registry keeps why.
    let resp = s.post(
        "/v1/import/labels",
        format!("esl_id,shop_id,model,template,product_id\nZ9,{SHOP},SL121,shelf-2.13,P1\n"),
    );
    assert_eq!(s.json(resp)["created"], 1);
    let events = read_events(&s, s.post("/v1/reprice", ""), |_, _| {});
    let failed: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "failed")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["esl_id"], "Z9");
    assert!(
        failed[0]["reason"].as_str().unwrap().starts_with("push: "),
        "{failed:?}"
    );
    let listed = s.json(s.get("/v1/labels?status=failed"));
    assert_eq!(listed["labels"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["labels"][0]["esl_id"], "Z9");
    assert_eq!(listed["labels"][0]["pending"], true);
    assert!(
        listed["labels"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("5301"),
        "{listed}"
    );

    // The counters.
    let resp =
        s.rt.block_on(s.client.get(format!("{}/metrics", s.base)).send())
            .unwrap();
    let metrics = String::from_utf8(s.bytes(resp)).unwrap();
    for line in [
        "esl_pushes_total 3",
        "esl_reprice_runs_total 2",
        "esl_label_failures_total 1",
        "esl_imports_total 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[test]
fn without_a_platform_runs_render_and_push_nothing() {
    let s = start("noplatform", true, false);
    s.import_world();
    let resp = s.post("/v1/reprice", r#"{"push": true}"#);
    assert_eq!(resp.status(), 422);
    assert_eq!(s.json(resp)["path"], "push");
    assert_eq!(s.post("/v1/reprice", r#"{"dry-run": true}"#).status(), 400);
    // A dry run plans and changes nothing.
    let events = read_events(&s, s.post("/v1/reprice", r#"{"dry_run": true}"#), |_, _| {});
    let report = &events.last().unwrap().1;
    assert_eq!(
        (report["dry_run"].clone(), report["to_render"].clone()),
        (json!(true), json!(3)),
        "{report}"
    );
    let events = read_events(&s, s.post("/v1/reprice", ""), |_, _| {});
    let report = &events.last().unwrap().1;
    assert_eq!(names(&events).last(), Some(&"done"));
    assert_eq!(
        (
            report["rendered"].clone(),
            report["not_pushed"].clone(),
            report["pushed"].clone()
        ),
        (json!(3), json!(3), json!(0)),
        "{report}"
    );
    // No platform: nothing to show on the shelf.
    assert_eq!(
        s.json(s.get("/v1/platform")),
        json!({"base_url": null, "app_id": null, "push": false, "simulator": false})
    );
    let resp = s.get("/v1/shelf");
    assert_eq!(resp.status(), 404);
    assert!(
        s.json(resp)["error"]
            .as_str()
            .unwrap()
            .contains("no platform")
    );
    assert_eq!(s.get("/v1/shelf/E1/image.png").status(), 404);
    // Nothing acknowledged: still pending.
    assert_eq!(
        s.json(s.get("/v1/labels?status=pending"))["labels"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn without_a_registry_its_routes_answer_404_and_all_need_the_token() {
    let s = start("nodb", false, false);
    for (method, path) in [
        ("GET", "/v1/labels"),
        ("GET", "/v1/labels/E1/preview.png"),
        ("GET", "/v1/reprice"),
        ("POST", "/v1/reprice"),
        ("POST", "/v1/import/products"),
        ("POST", "/v1/import/prices"),
        ("POST", "/v1/import/labels"),
        ("GET", "/v1/platform"),
        ("GET", "/v1/shelf"),
        ("GET", "/v1/shelf/E1/image.png"),
    ] {
        let url = format!("{}{path}", s.base);
        let req = |c: &reqwest::Client| match method {
            "GET" => c.get(&url),
            _ => c.post(&url).body("id,price\nP1,1.00\n"),
        };
        let resp = s.send(req(&s.client));
        assert_eq!(resp.status(), 404, "{method} {path}");
        assert!(s.json(resp)["error"].as_str().unwrap().contains("--db"));
        let anonymous = s.rt.block_on(req(&s.client).send()).unwrap();
        assert_eq!(anonymous.status(), 401, "{method} {path} without the token");
    }
}

#[test]
fn a_platform_that_is_not_the_simulator_has_no_shelf() {
    // A real HTTP server that is not esl-sim: another esl-serve.
    let other = start("notsim-other", false, false);
    let s = start_with("notsim", true, false, Some(other.base.clone()));
    assert_eq!(
        s.json(s.get("/v1/platform")),
        json!({"base_url": other.base, "app_id": APP, "push": true, "simulator": false})
    );
    for path in ["/v1/shelf", "/v1/shelf/E1/image.png"] {
        let resp = s.get(path);
        assert_eq!(resp.status(), 404, "{path}");
        let err = s.json(resp)["error"].as_str().unwrap().to_owned();
        assert!(err.contains("not the simulator"), "{path}: {err}");
    }
}
