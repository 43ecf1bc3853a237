//! The designer page in a real headless Chromium, driven over WebDriver.
//!
//! Each test starts its own `chromedriver` on a free port (killed on drop), serves the real
//! router on 127.0.0.1 port 0 in the test's runtime, opens a Chromium session with a fresh
//! profile, and closes the session even when the test fails. The tests run one at a time and
//! each leaves a screenshot in `<target dir>/browser-artifacts/<test>.png`.
//!
//! Without `chromedriver` or `chromium` the tests print a SKIP line and pass, unless
//! `ESL_BROWSER_TESTS=1`, which makes them fail (CI sets it). `ESL_CHROMEDRIVER` and
//! `ESL_CHROMIUM` name other binaries.
//!
//! WebDriver is spoken directly (a few JSON calls over the reqwest client the API tests use):
//! fantoccini 0.22 would add 31 crates, 13 of them second versions of crates already in the
//! workspace.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use esl_model::{Model, Product};
use esl_render::{Renderer, Template};
use std::sync::Arc;

use esl_diff::{Pusher, TemplateLibrary};
use esl_push::{Client as PushClient, RetryPolicy, Secret};
use esl_serve::{Config, DbConfig, Server};
use esl_sim::{Fault, Fixture, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

const TOKEN: &str = "browser-test-token-42";
/// How long a page may take to reach a state before the test gives up (a hang guard, not a
/// speed requirement: a render takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(20);
/// One browser at a time.
static SERIAL: Mutex<()> = Mutex::new(());

type Outcome = Result<(), String>;

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| repo().join("target"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The chromedriver and chromium binaries, or why the test cannot run.
fn browser_binaries() -> Result<(PathBuf, PathBuf), String> {
    let named = |var: &str| -> Result<Option<PathBuf>, String> {
        match std::env::var_os(var).map(PathBuf::from) {
            Some(p) if p.is_file() => Ok(Some(p)),
            Some(p) => Err(format!("{var}={} is not a file", p.display())),
            None => Ok(None),
        }
    };
    let driver = named("ESL_CHROMEDRIVER")?
        .or_else(|| on_path("chromedriver"))
        .ok_or("no chromedriver on PATH (Debian: apt-get install chromium-driver)")?;
    let chromium = named("ESL_CHROMIUM")?
        .or_else(|| on_path("chromium"))
        .or_else(|| on_path("chromium-browser"))
        .ok_or("no chromium on PATH (Debian: apt-get install chromium)")?;
    Ok((driver, chromium))
}

/// A chromedriver child process, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A WebDriver session: the client and the session's URL.
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    url: String,
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// One WebDriver command: its `value`, or the driver's error.
async fn command(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = http.request(method.clone(), url);
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))?;
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {}", v["value"]));
    }
    Ok(v["value"].clone())
}

impl Session {
    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        command(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.url),
            Some(body),
        )
        .await
    }

    async fn goto(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// Runs a script in the page (`arguments[0]`… are `args`) and returns its value.
    async fn js(&self, script: &str, args: Value) -> Result<Value, String> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs an asynchronous script: the last argument is the callback to call with the result.
    async fn js_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// The browser console's errors since the last call (chromedriver's log endpoint).
    async fn console_errors(&self) -> Result<Vec<String>, String> {
        let v = self.post("/se/log", json!({"type": "browser"})).await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect())
    }

    async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await?;
        v["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{css}: no element reference in {v}"))
    }

    /// Types `text` into the element as a user would (key events, input events).
    async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let id = self.find(css).await?;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    async fn click(&self, css: &str) -> Result<(), String> {
        let id = self.find(css).await?;
        self.post(&format!("/element/{id}/click"), json!({}))
            .await
            .map(drop)
    }

    /// The text of the open `alert`/`confirm`, then dismisses it (`accept`: accepts it).
    async fn answer_dialog(&self, accept: bool) -> Result<String, String> {
        let text = command(
            &self.http,
            reqwest::Method::GET,
            &format!("{}/alert/text", self.url),
            None,
        )
        .await?;
        let verb = if accept { "accept" } else { "dismiss" };
        self.post(&format!("/alert/{verb}"), json!({})).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let v = command(
            &self.http,
            reqwest::Method::GET,
            &format!("{}/screenshot", self.url),
            None,
        )
        .await?;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| format!("screenshot: {e}"))
    }

    async fn close(&self) -> Result<(), String> {
        command(&self.http, reqwest::Method::DELETE, &self.url, None)
            .await
            .map(drop)
    }

    /// Waits until `script` returns true (a hang guard of [`PATIENCE`]).
    async fn until(&self, what: &str, script: &str) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if self.js(script, json!([])).await? == json!(true) {
                return Ok(());
            }
            if start.elapsed() > PATIENCE {
                let page = self
                    .js(
                        "return document.body.dataset.state + ' | ' + document.body.innerText.slice(0, 600)",
                        json!([]),
                    )
                    .await
                    .unwrap_or_default();
                return Err(format!("waited {PATIENCE:?} for {what}; page: {page}"));
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// The number of renders the page has shown so far.
    async fn renders(&self) -> Result<u64, String> {
        let v = self
            .js(
                "return Number(document.body.dataset.renders || 0)",
                json!([]),
            )
            .await?;
        v.as_u64().ok_or_else(|| format!("renders: {v}"))
    }

    /// Waits for a render after `before` and for the page to be idle.
    async fn rendered_after(&self, before: u64) -> Result<(), String> {
        self.until(
            &format!("a render after #{before}"),
            &format!(
                "return Number(document.body.dataset.renders || 0) > {before} && document.body.dataset.state === 'idle'"
            ),
        )
        .await
    }

    /// The bytes of a preview image (its blob), as the page holds them.
    async fn image_bytes(&self, css: &str) -> Result<Vec<u8>, String> {
        let v = self
            .js_async(
                "const done = arguments[arguments.length - 1];
                 const img = document.querySelector(arguments[0]);
                 if (!img) { done('missing'); return; }
                 fetch(img.src).then((r) => r.arrayBuffer()).then((b) => {
                   let s = '';
                   for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
                   done(btoa(s));
                 }, (e) => done('error: ' + e));",
                json!([css]),
            )
            .await?;
        let s = v.as_str().unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("{css}: {s:.40}: {e}"))
    }

    /// Puts the caret (or a selection) of a textarea at the first occurrence of `needle`:
    /// `at_end` after it, otherwise over it.
    async fn select_text(&self, css: &str, needle: &str, at_end: bool) -> Result<(), String> {
        let found = self
            .js(
                "const t = document.querySelector(arguments[0]);
                 const i = t.value.indexOf(arguments[1]);
                 if (i < 0) return false;
                 t.focus();
                 const end = i + arguments[1].length;
                 if (arguments[2]) t.setSelectionRange(end, end); else t.setSelectionRange(i, end);
                 return true;",
                json!([css, needle, at_end]),
            )
            .await?;
        check!(found == json!(true), "{css}: no {needle:?} in the text");
        Ok(())
    }

    async fn text_of(&self, css: &str) -> Result<String, String> {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? (['TEXTAREA', 'INPUT', 'SELECT'].includes(e.tagName) ? e.value : e.textContent) : null;",
                json!([css]),
            )
            .await?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{css}: not found"))
    }
}

/// A templates folder for one test: the three shelf templates and the picture template with
/// its picture.
fn temp_templates(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esl-browser-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let t = repo().join("templates");
    for name in ["shelf-2.13.json", "shelf-2.6.json", "shelf-4.2.json"] {
        std::fs::copy(t.join(name), dir.join(name)).unwrap();
    }
    for name in ["picture-4.2.json", "product.png"] {
        std::fs::copy(t.join("gallery").join(name), dir.join(name)).unwrap();
    }
    dir
}

/// What a test gets: the browser session, the designer's URL with the token, the templates
/// folder.
struct Ctx {
    web: Session,
    base: String,
    templates: PathBuf,
    /// With a registry: the simulator the service pushes to.
    sim: Option<Arc<SimHandle>>,
}

impl Ctx {
    fn designer(&self, query: &str) -> String {
        format!("{}/?token={TOKEN}&{query}", self.base)
    }
}

/// Runs one browser test: chromedriver, the service, a session; then the screenshot and the
/// session's end whatever happened; then the test's failure, if any.
fn run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    run_with(test, false, body);
}

/// The ESLs the simulator knows in the registry test (shop [`SHOP`]).
const SIM_ESLS: [(&str, Model); 3] = [
    ("E1", Model::Sl121),
    ("E2", Model::Sl126),
    ("E3", Model::Sl142),
];
const SHOP: &str = "S1";
const APP: &str = "app-browser";
const SECRET: &str = "secret-browser";

fn sim_fixture() -> Fixture {
    Fixture::shop(
        SHOP,
        SIM_ESLS
            .iter()
            .map(|(esl, model)| ((*esl).to_owned(), *model)),
    )
}

/// As [`run`]; with `registry`, the service has a fresh registry (`--db`) in the templates
/// folder's parent and pushes to a simulator on 127.0.0.1.
fn run_with<F, Fut>(test: &str, registry: bool, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (driver_bin, chromium) = match browser_binaries() {
        Ok(b) => b,
        Err(why) => {
            assert!(
                std::env::var("ESL_BROWSER_TESTS").as_deref() != Ok("1"),
                "ESL_BROWSER_TESTS=1 but {why}"
            );
            eprintln!("SKIP browser test {test}: {why} (set ESL_BROWSER_TESTS=1 to fail instead)");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let port = free_port();
    let driver = Driver {
        child: Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_bin.display())),
        url: format!("http://127.0.0.1:{port}"),
    };
    let templates = temp_templates(test);
    let profile =
        std::env::temp_dir().join(format!("esl-browser-profile-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let http = client();

    let db_file = templates.with_extension("db");
    let _ = std::fs::remove_file(&db_file);

    let outcome: Outcome = rt.block_on(async {
        let sim = if registry {
            let sim = Simulator::start(SimConfig::new(APP, SECRET).with_fixture(sim_fixture()))
                .await
                .map_err(|e| e.to_string())?;
            Some(Arc::new(sim))
        } else {
            None
        };
        let db = match &sim {
            Some(sim) => {
                let client = PushClient::builder(APP, Secret::new(SECRET))
                    .base_url(sim.base_url())
                    .retry(RetryPolicy::never())
                    .build()
                    .map_err(|e| e.to_string())?;
                Some(DbConfig {
                    path: db_file.clone(),
                    library: TemplateLibrary::new().with_dir(&templates),
                    pusher: Some(Pusher::new(client, 4)),
                })
            }
            None => None,
        };
        let config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            templates: templates.clone(),
            token: Some(TOKEN.into()),
            cors: None,
            db,
        };
        let server = Server::bind(config, Renderer::bundled())
            .await
            .map_err(|e| e.to_string())?;
        let base = format!("http://{}", server.local_addr().map_err(|e| e.to_string())?);
        tokio::spawn(server.run());

        // The driver is up when /status says it is ready.
        let start = Instant::now();
        loop {
            let ready = command(
                &http,
                reqwest::Method::GET,
                &format!("{}/status", driver.url),
                None,
            )
            .await
            .is_ok_and(|v| v["ready"] == json!(true));
            if ready {
                break;
            }
            check!(
                start.elapsed() < PATIENCE,
                "chromedriver did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    "--window-size=1440,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let created = command(
            &http,
            reqwest::Method::POST,
            &format!("{}/session", driver.url),
            Some(caps),
        )
        .await?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {created}"))?;
        let web = Session {
            http: http.clone(),
            url: format!("{}/session/{id}", driver.url),
        };
        let ctx = Ctx {
            web: web.clone(),
            base,
            templates: templates.clone(),
            sim: sim.clone(),
        };
        // The body runs as its own task so that a panic in it still lets us close the browser.
        let result = tokio::spawn(body(ctx)).await;
        let shot = web.screenshot().await;
        let closed = web.close().await;
        if let Ok(png) = &shot {
            let dir = target_dir().join("browser-artifacts");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{test}.png")), png);
        }
        match result {
            Ok(outcome) => outcome?,
            Err(e) => return Err(format!("the test panicked: {e}")),
        }
        shot?;
        closed
    });
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    let _ = std::fs::remove_dir_all(&templates);
    for end in ["", "-wal", "-shm"] {
        let mut name = db_file.clone().into_os_string();
        name.push(end);
        let _ = std::fs::remove_file(name);
    }
    if let Err(e) = outcome {
        panic!("{test}: {e}");
    }
}

/// The library's PNG of a template file with a product, for comparing with the page's.
fn library_png(template: &Path, product_json: &str, model: Model) -> Vec<u8> {
    let t = Template::load(template).unwrap();
    let v: Value = serde_json::from_str(product_json).unwrap();
    let p = Product::from_value(v).unwrap();
    Renderer::bundled()
        .render(&t, &p, model)
        .unwrap()
        .image
        .to_png(1)
        .unwrap()
}

#[test]
fn edit_changes_the_preview() {
    run("edit_changes_the_preview", |c: Ctx| async move {
        let w = &c.web;
        w.goto(&c.designer("template=shelf-2.13&product=cola"))
            .await?;
        w.rendered_after(0).await?;
        // The token left the address bar and sits in this tab's storage.
        let url = w.js("return location.href", json!([])).await?;
        check!(
            !url.as_str().unwrap_or("").contains("token"),
            "token still in the URL: {url}"
        );
        let kept = w
            .js(
                "return sessionStorage.getItem('esl-designer-token')",
                json!([]),
            )
            .await?;
        check!(kept == json!(TOKEN), "sessionStorage holds {kept}");
        let cards = w
            .js(
                "return [...document.querySelectorAll('.model')].map((e) => e.dataset.model)",
                json!([]),
            )
            .await?;
        check!(cards == json!(["SL121"]), "cards {cards}");
        // Nothing refused by the page's CSP, no missing asset, no script error.
        let errors = w.console_errors().await?;
        check!(errors.is_empty(), "console errors: {errors:?}");

        let first = w.image_bytes(".model .one-img").await?;
        let product = w.text_of("#product").await?;
        let want = library_png(&c.templates.join("shelf-2.13.json"), &product, Model::Sl121);
        check!(
            first == want,
            "the preview is not the library's PNG ({} vs {} bytes)",
            first.len(),
            want.len()
        );

        // Type a new product name over the old one.
        let before = w.renders().await?;
        w.select_text("#product", "可口可乐/灌装", false).await?;
        w.type_into("#product", "Sparkling Water").await?;
        w.rendered_after(before).await?;
        let product = w.text_of("#product").await?;
        check!(
            product.contains("\"name\": \"Sparkling Water\""),
            "product now {product}"
        );
        let second = w.image_bytes(".model .one-img").await?;
        check!(second != first, "the preview did not change after the edit");
        let want = library_png(&c.templates.join("shelf-2.13.json"), &product, Model::Sl121);
        check!(
            second == want,
            "after the edit the preview is not the library's PNG"
        );
        // The zoomed view shows the same image.
        let zoomed = w.image_bytes(".model .zoom-img").await?;
        check!(zoomed == second, "zoomed and 1x differ");
        let errors = w.console_errors().await?;
        check!(errors.is_empty(), "console errors: {errors:?}");
        Ok(())
    });
}

#[test]
fn bad_key_shows_the_error_at_its_path() {
    run("bad_key_shows_the_error_at_its_path", |c: Ctx| async move {
        let w = &c.web;
        w.goto(&c.designer("template=shelf-2.13&product=cola"))
            .await?;
        w.rendered_after(0).await?;
        // Type an unknown key into the first element.
        w.select_text("#template", r#"{"type": "text", "id": "name","#, true)
            .await?;
        w.type_into("#template", r#" "bogus": 1,"#).await?;
        w.until(
            "the load error",
            "return document.body.dataset.state === 'error'",
        )
        .await?;
        let shown = w.text_of("#template-error").await?;
        check!(
            shown.contains("elements[0]"),
            "error without its path: {shown}"
        );
        check!(
            shown.contains("bogus"),
            "error does not name the key: {shown}"
        );
        let mark = w.text_of("#template-editor .backdrop mark.err").await?;
        check!(
            mark == r#""bogus""#,
            "highlighted {mark:?}, not the bad key"
        );
        let state = w.text_of("#template-state").await?;
        check!(state == "error", "template state {state}");
        // Clicking the error puts the caret on the key.
        w.click("#template-error").await?;
        let caret = w
            .js("const t = document.getElementById('template'); return t.value.slice(t.selectionStart, t.selectionStart + 7)", json!([]))
            .await?;
        check!(caret == json!(r#""bogus""#), "caret at {caret}");

        // A JSON syntax error is shown with its line and column, before any request.
        w.select_text("#template", r#""bogus": 1,"#, false).await?;
        w.type_into("#template", r#""bogus" 1,"#).await?;
        w.until(
            "the syntax error",
            "return document.getElementById('template-error').textContent.includes(\"expected ':'\")",
        )
        .await?;
        let shown = w.text_of("#template-error").await?;
        check!(
            shown.contains("line 7, column"),
            "syntax error without its place: {shown}"
        );

        // A misspelt value: the loader names the element, the page finds the value in it.
        w.select_text("#template", r#""bogus" 1,"#, false).await?;
        w.type_into("#template", r#""align": "middel","#).await?;
        w.until(
            "the bad value",
            "return document.getElementById('template-error').textContent.includes('middel')",
        )
        .await?;
        let shown = w.text_of("#template-error").await?;
        check!(
            shown.contains("elements[0]"),
            "error without its path: {shown}"
        );
        let mark = w.text_of("#template-editor .backdrop mark.err").await?;
        check!(
            mark == r#""middel""#,
            "highlighted {mark:?}, not the bad value"
        );
        Ok(())
    });
}

#[test]
fn save_writes_the_template_and_shows_refusals() {
    run(
        "save_writes_the_template_and_shows_refusals",
        |c: Ctx| async move {
            let w = &c.web;
            w.goto(&c.designer("template=shelf-2.13&product=promo"))
                .await?;
            w.rendered_after(0).await?;
            // Change the price's size, save under a new name.
            let before = w.renders().await?;
            w.select_text("#template", r#""size": 44"#, false).await?;
            w.type_into("#template", r#""size": 40"#).await?;
            w.rendered_after(before).await?;
            check!(
                w.text_of("#template-state").await? == "modified",
                "not marked modified"
            );
            w.js("document.getElementById('save-name').value = ''", json!([]))
                .await?;
            w.type_into("#save-name", "designer-copy").await?;
            w.click("#save").await?;
            w.until(
                "the save",
                "return document.body.dataset.saved === 'designer-copy'",
            )
            .await?;
            let file = c.templates.join("designer-copy.json");
            let saved =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            check!(
                saved == w.text_of("#template").await?,
                "saved file differs from the editor"
            );
            check!(saved.contains(r#""size": 40"#), "edit not saved");
            Template::load(&file).map_err(|e| e.to_string())?;
            let listed = w.js("return [...document.getElementById('template-pick').options].map((o) => o.value)", json!([])).await?;
            check!(
                listed
                    .as_array()
                    .is_some_and(|a| a.contains(&json!("designer-copy"))),
                "not listed: {listed}"
            );
            check!(
                w.text_of("#template-state").await? == "saved",
                "not marked saved"
            );

            // A template the loader refuses is not saved, and the error names its path.
            w.select_text("#template", r#""size": 40"#, false).await?;
            w.type_into("#template", r#""size": "big""#).await?;
            w.until(
                "the load error",
                "return document.body.dataset.state === 'error'",
            )
            .await?;
            w.click("#save").await?;
            w.until(
                "the refusal",
                "return document.getElementById('status').textContent.startsWith('Not saved')",
            )
            .await?;
            let shown = w.text_of("#template-error").await?;
            check!(
                shown.contains("elements[4]"),
                "refusal without its path: {shown}"
            );
            let kept = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            check!(kept == saved, "a refused template overwrote the saved one");

            // Picking another template asks before dropping the unsaved edit; "no" keeps it.
            let edited = w.text_of("#template").await?;
            w.click("#template-pick").await?;
            w.click("#template-pick option[value='shelf-4.2']").await?;
            let asked = w.answer_dialog(false).await?;
            check!(asked.contains("unsaved"), "asked {asked:?}");
            check!(
                w.text_of("#template").await? == edited,
                "the edit was dropped"
            );
            check!(
                w.text_of("#template-pick").await? == "designer-copy",
                "the pick moved"
            );
            // "Yes" loads the other one.
            w.click("#template-pick option[value='shelf-4.2']").await?;
            w.answer_dialog(true).await?;
            w.until("shelf-4.2 loaded", "return document.getElementById('save-name').value === 'shelf-4.2' && document.body.dataset.state === 'idle'").await?;
            let loaded = w.text_of("#template").await?;
            let stored = std::fs::read_to_string(c.templates.join("shelf-4.2.json"))
                .map_err(|e| e.to_string())?;
            check!(loaded == stored, "shelf-4.2 not loaded as stored");
            Ok(())
        },
    );
}

#[test]
fn boxes_find_their_json_and_dithering_edits_pictures() {
    run(
        "boxes_find_their_json_and_dithering_edits_pictures",
        |c: Ctx| async move {
            let w = &c.web;
            w.goto(&c.designer("template=picture-4.2&product=long-name"))
                .await?;
            w.rendered_after(0).await?;
            let cards = w
                .js(
                    "return [...document.querySelectorAll('.model')].map((e) => e.dataset.model)",
                    json!([]),
                )
                .await?;
            check!(
                cards == json!(["SL142", "SL142+"]),
                "one preview per model of the template: {cards}"
            );
            // The long name is cut: the warning names the text element, whose box is outlined.
            let warning = w.text_of("#warnings li").await?;
            check!(
                warning.contains("elements[0].children[1].children[0]"),
                "warning {warning}"
            );
            let warned = w.js("return [...document.querySelectorAll('.model .box.warned')].map((b) => b.dataset.path)", json!([])).await?;
            check!(
                warned.as_array().is_some_and(|a| !a.is_empty()
                    && a.iter().all(|p| p == "elements[0].children[1].children[0]")),
                "outlined boxes {warned}"
            );
            // Clicking the picture's box selects its JSON.
            w.click(".model .box[data-path='elements[0].children[0]']")
                .await?;
            let selected = w
            .js("const t = document.getElementById('template'); return t.value.slice(t.selectionStart, t.selectionEnd)", json!([]))
            .await?;
            check!(
                selected
                    .as_str()
                    .is_some_and(|s| s.starts_with(r#"{"type": "image""#) && s.ends_with('}')),
                "selected {selected}"
            );

            // The dithering select writes the algorithm into the element and re-renders.
            let first = w.image_bytes(".model .one-img").await?;
            let before = w.renders().await?;
            w.click(".picture-row .dither-pick").await?;
            w.click(".picture-row .dither-pick option[value='bayer4']")
                .await?;
            w.rendered_after(before).await?;
            let text = w.text_of("#template").await?;
            check!(
                text.contains(r#""fit": "contain", "dither": {"algorithm": "bayer4"}}"#),
                "template now {text}"
            );
            let second = w.image_bytes(".model .one-img").await?;
            check!(
                second != first,
                "the picture did not change with the dither"
            );
            Ok(())
        },
    );
}

/// A call of the test itself (not the page's) to the service, with the token: status and body.
async fn api_call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<String>,
) -> Result<(u16, Vec<u8>), String> {
    let mut req = http.request(method, &url).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    Ok((status, bytes.to_vec()))
}

async fn api_json(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<String>,
) -> Result<Value, String> {
    let (status, bytes) = api_call(http, method, url.clone(), body).await?;
    check!(
        status == 200,
        "{url}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).map_err(|e| format!("{url}: {e}"))
}

#[test]
fn labels_page_reprices_and_shows_the_shelf() {
    run_with(
        "labels_page_reprices_and_shows_the_shelf",
        true,
        |c: Ctx| async move {
            let w = &c.web;
            let sim = c.sim.clone().ok_or("no simulator")?;
            let http = client();
            let url = |path: &str| format!("{}{path}", c.base);
            let post = reqwest::Method::POST;

            // The registry, through the API: three products, three labels the simulator
            // knows.
            let report = api_json(
                &http,
                post.clone(),
                url("/v1/import/products"),
                Some("id,name,price,spec,unit,seq_num\nP1,Cola 330 ml,2.50,330 ml,can,6901234567892\nP2,Green tea,3.20,500 ml,bottle,6901234567885\nP3,Rice 5 kg,39.90,5 kg,bag,6901234567878\n".into()),
            )
            .await?;
            check!(report["created"] == 3, "products: {report}");
            let mut bindings = String::from("esl_id,shop_id,model,template,product_id\n");
            for ((esl, model), (template, product)) in SIM_ESLS.iter().zip([
                ("shelf-2.13", "P1"),
                ("shelf-2.6", "P2"),
                ("shelf-4.2", "P3"),
            ]) {
                bindings.push_str(&format!(
                    "{esl},{SHOP},{},{template},{product}\n",
                    model.name()
                ));
            }
            let report = api_json(
                &http,
                post.clone(),
                url("/v1/import/labels"),
                Some(bindings),
            )
            .await?;
            check!(report["created"] == 3, "labels: {report}");

            // Another client's run holds the registry (its first push waits 4 s): the page's
            // Reprice says a run is going on.
            sim.inject(Fault::Delay(Duration::from_millis(4000)), 1);
            let other = {
                let http = http.clone();
                let u = url("/v1/reprice");
                tokio::spawn(async move { api_call(&http, reqwest::Method::POST, u, None).await })
            };
            let start = Instant::now();
            loop {
                let st = api_json(&http, reqwest::Method::GET, url("/v1/reprice"), None).await?;
                if st["running"] == true {
                    break;
                }
                check!(
                    start.elapsed() < PATIENCE,
                    "the other run did not start: {st}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            w.goto(&format!("{}/?token={TOKEN}#labels", c.base)).await?;
            w.until(
                "three pending labels",
                "return document.querySelectorAll('#label-cards .label').length === 3",
            )
            .await?;
            w.click("#reprice").await?;
            w.until(
                "the refusal",
                "return document.getElementById('run').dataset.state === 'bad'",
            )
            .await?;
            let said = w.text_of("#run-state").await?;
            check!(said == "A run is going on", "run state {said:?}");
            let (status, body) = other.await.map_err(|e| e.to_string())??;
            let body = String::from_utf8_lossy(&body);
            check!(
                status == 200 && body.contains("event: done"),
                "other run: {status} {body}"
            );

            // New prices make the three pending again; a fourth label, unknown to the
            // simulator, is bound through the page's import box, next to a refused row.
            let report = api_json(
                &http,
                post.clone(),
                url("/v1/import/prices"),
                Some("id,price\nP1,2.29\nP2,2.99\nP3,35.90\n".into()),
            )
            .await?;
            check!(report["labels_marked"] == 3, "prices: {report}");
            w.js(
                "document.getElementById('import-text').value = arguments[0];
                 document.getElementById('import-kind').value = 'labels';",
                json!([format!(
                    "esl_id,shop_id,model,template,product_id\nZ9,{SHOP},SL121,shelf-2.13,P1\nX1,{SHOP},SL121,../outside.json,P1\n"
                )]),
            )
            .await?;
            w.click("#import-go").await?;
            w.until(
                "the import report",
                "return !!document.querySelector('#import-report [data-role=import-counts]')",
            )
            .await?;
            let counts = w
                .text_of("#import-report [data-role=import-counts]")
                .await?;
            check!(
                counts.contains("1 created") && counts.contains("1 bad row"),
                "import report {counts:?}"
            );
            let bad = w.text_of("#import-report [data-role=bad-row]").await?;
            check!(
                bad.starts_with("line 3") && bad.contains("outside"),
                "bad row {bad:?}"
            );

            // Four pending labels, each with its preview: the service's bytes.
            w.until(
                "four previews",
                "const imgs = [...document.querySelectorAll('#label-cards img[data-role=preview]')];
                 return document.querySelectorAll('#label-cards .label').length === 4
                   && imgs.length === 4 && imgs.every((i) => i.complete && i.naturalWidth > 0);",
            )
            .await?;
            let ids = w
                .js(
                    "return [...document.querySelectorAll('#label-cards .label')].map((e) => e.dataset.esl)",
                    json!([]),
                )
                .await?;
            check!(ids == json!(["E1", "E2", "E3", "Z9"]), "cards {ids}");
            let mut previews = Vec::new();
            for esl in ["E1", "E2", "E3", "Z9"] {
                let shown = w
                    .image_bytes(&format!(".label[data-esl={esl}] img[data-role=preview]"))
                    .await?;
                let (status, want) = api_call(
                    &http,
                    reqwest::Method::GET,
                    url(&format!("/v1/labels/{esl}/preview.png")),
                    None,
                )
                .await?;
                check!(
                    status == 200 && shown == want,
                    "{esl}: the page's preview is not the service's"
                );
                previews.push(want);
            }

            // A dry run plans and changes nothing.
            w.click("#reprice-dry").await?;
            w.click("#reprice").await?;
            w.until(
                "the dry run's end",
                "return document.getElementById('run').dataset.state === 'done'",
            )
            .await?;
            let said = w.text_of("#run-state").await?;
            let would = w
                .text_of("#run-summary dd[data-key='would render']")
                .await?;
            check!(
                said == "Dry run done" && would == "4",
                "dry run: {said:?}, would render {would:?}"
            );
            w.until(
                "the list after the dry run",
                "return document.querySelectorAll('#label-cards .label').length === 4",
            )
            .await?;
            w.click("#reprice-dry").await?;

            // Reprice from the page; its first push waits, so the run is seen going.
            sim.inject(Fault::Delay(Duration::from_millis(1500)), 1);
            w.click("#reprice").await?;
            w.until(
                "the run's progress",
                "const r = document.getElementById('run');
                 return r.dataset.state === 'busy' && document.getElementById('run-bar').max === 4
                   && document.getElementById('run-count').textContent.endsWith('/ 4');",
            )
            .await?;
            w.until(
                "the run's end",
                "return document.getElementById('run').dataset.state === 'done'",
            )
            .await?;
            let summary = w
                .js(
                    "return Object.fromEntries([...document.querySelectorAll('#run-summary dd')].map((d) => [d.dataset.key, d.textContent]))",
                    json!([]),
                )
                .await?;
            for (key, want) in [
                ("rendered", "4"),
                ("pushed", "3"),
                ("identical", "0"),
                ("failed", "1"),
                ("pending after", "1"),
            ] {
                check!(summary[key] == want, "summary {key}: {summary}");
            }
            let bar = w
                .js(
                    "const b = document.getElementById('run-bar'); return [b.value, b.max]",
                    json!([]),
                )
                .await?;
            check!(bar == json!([4, 4]), "progress bar {bar}");
            let failure = w.text_of("#run-failures li[data-esl=Z9]").await?;
            check!(failure.contains("5301"), "failure listed as {failure:?}");

            // The list refreshed: only the failed label is pending, marked with its reason.
            w.until(
                "the refreshed list",
                "const c = [...document.querySelectorAll('#label-cards .label')];
                 return c.length === 1 && c[0].dataset.esl === 'Z9' && c[0].classList.contains('failed');",
            )
            .await?;
            let reason = w.text_of(".label[data-esl=Z9] [data-role=failure]").await?;
            check!(
                reason.starts_with("Failed 20") && reason.contains("5301"),
                "reason {reason:?}"
            );
            w.click(".tabs [data-status=failed]").await?;
            w.until(
                "the failed tab",
                "const c = [...document.querySelectorAll('#label-cards .label')];
                 return c.length === 1 && c[0].dataset.esl === 'Z9' && document.getElementById('labels-count').textContent === '1 failed label';",
            )
            .await?;
            w.click(".tabs [data-status=all]").await?;
            w.until(
                "all labels",
                "return document.querySelectorAll('#label-cards .label').length === 4",
            )
            .await?;

            // The shelf: what each ESL shows now, next to what it should show.
            let hidden = w
                .js(
                    "return document.getElementById('shelf-toggle').hidden",
                    json!([]),
                )
                .await?;
            check!(hidden == json!(false), "no Shelf toggle with the simulator");
            w.click("#labels-shelf").await?;
            w.until(
                "the shelf compared",
                "const m = [...document.querySelectorAll('#label-cards .match')];
                 return m.length === 4 && m.every((x) => x.dataset.match !== 'loading');",
            )
            .await?;
            let marks = w
                .js(
                    "return Object.fromEntries([...document.querySelectorAll('#label-cards .label')].map((c) => [c.dataset.esl, c.querySelector('.match').dataset.match]))",
                    json!([]),
                )
                .await?;
            check!(
                marks == json!({"E1": "same", "E2": "same", "E3": "same", "Z9": "none"}),
                "marks {marks}"
            );
            for (i, (esl, _)) in SIM_ESLS.iter().enumerate() {
                let shown = w
                    .image_bytes(&format!(".label[data-esl={esl}] img[data-role=shelf]"))
                    .await?;
                let on_sim = sim
                    .last_image(esl)
                    .ok_or_else(|| format!("{esl}: nothing pushed"))?;
                check!(
                    shown == on_sim.bytes.as_ref() && shown == previews[i],
                    "{esl}: the shelf picture is not the pushed one or not the preview"
                );
            }
            let missing = w
                .text_of(".label[data-esl=Z9] [data-role=shelf-missing]")
                .await?;
            check!(
                missing.contains("unknown ESL"),
                "Z9 on the shelf: {missing:?}"
            );

            // A new price for P1: E1 should now show another picture than the one it shows.
            let report = api_json(
                &http,
                post.clone(),
                url("/v1/import/prices"),
                Some("id,price\nP1,1.99\n".into()),
            )
            .await?;
            // E1 and Z9 show P1.
            check!(report["labels_marked"] == 2, "prices: {report}");
            w.click("#labels-refresh").await?;
            w.until(
                "the shelf compared again",
                "const c = [...document.querySelectorAll('#label-cards .label')];
                 return c.length === 4 && !!c[0].querySelector('.pill.warn')
                   && c.every((x) => x.querySelector('.match') && x.querySelector('.match').dataset.match !== 'loading');",
            )
            .await?;
            let marks = w
                .js(
                    "return Object.fromEntries([...document.querySelectorAll('#label-cards .label')].map((c) => [c.dataset.esl, c.querySelector('.match').textContent]))",
                    json!([]),
                )
                .await?;
            let e1 = marks["E1"].as_str().unwrap_or_default();
            let differing: u64 = e1
                .strip_prefix("differs: ")
                .and_then(|n| n.strip_suffix(" px"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            check!(
                differing > 0
                    && marks["E2"] == "same pixels"
                    && marks["E3"] == "same pixels"
                    && marks["Z9"] == "nothing shown",
                "marks after the new price {marks}"
            );

            // The only console errors are the answers the page expected: the 409 and the
            // shelf's 404 for the label the simulator does not know.
            let errors = w.console_errors().await?;
            for e in &errors {
                check!(
                    (e.contains("/v1/reprice") && e.contains("409"))
                        || (e.contains("/v1/shelf/Z9/image.png") && e.contains("404")),
                    "console errors: {errors:?}"
                );
            }
            // Scroll back up for the screenshot.
            w.js(
                "document.getElementById('labels-main').scrollTop = 0",
                json!([]),
            )
            .await?;
            Ok(())
        },
    );
}

#[test]
fn labels_page_without_a_registry_says_how_to_start_one() {
    run("labels_page_without_a_registry", |c: Ctx| async move {
        let w = &c.web;
        w.goto(&format!("{}/?token={TOKEN}#labels", c.base)).await?;
        w.until(
            "the explanation",
            "return !document.getElementById('labels-off').hidden",
        )
        .await?;
        let text = w.text_of("#labels-off").await?;
        check!(text.contains("esl serve --db FILE"), "notice {text:?}");
        // The designer is one click away, and comes back as it was.
        w.click("#nav-designer").await?;
        w.until(
            "the designer",
            "return !document.getElementById('designer-view').hidden && document.getElementById('labels-view').hidden",
        )
        .await?;
        w.until(
            "the designer idle",
            "return document.body.dataset.state === 'idle'",
        )
        .await?;
        // The designer loaded while hidden: its editor shows the template with its lines.
        let editor = w
            .js(
                "const t = document.getElementById('template');
                 const g = document.querySelector('#template-editor .gutter');
                 return [t.value.split('\\n').length, g.childElementCount, t.clientHeight > 0];",
                json!([]),
            )
            .await?;
        check!(
            editor[0].as_u64().is_some_and(|n| n > 1)
                && editor[0] == editor[1]
                && editor[2] == true,
            "template editor [lines, gutter lines, visible]: {editor}"
        );
        let errors = w.console_errors().await?;
        for e in &errors {
            check!(
                e.contains("/v1/labels") && e.contains("404"),
                "console errors: {errors:?}"
            );
        }
        Ok(())
    });
}

#[test]
fn labels_page_pages_filters_by_shop_and_loads_previews_lazily() {
    run_with("labels_page_pages_and_filters", true, |c: Ctx| async move {
        let w = &c.web;
        let http = client();
        let url = |path: &str| format!("{}{path}", c.base);
        let report = api_json(
            &http,
            reqwest::Method::POST,
            url("/v1/import/products"),
            Some("id,name,price\nP1,Cola 330 ml,2.50\n".into()),
        )
        .await?;
        check!(report["created"] == 1, "products: {report}");
        // 130 labels: L000…L119 in shop S1, L120…L129 in shop S2.
        let mut bindings = String::from("esl_id,shop_id,model,template,product_id\n");
        for i in 0..130 {
            let shop = if i < 120 { "S1" } else { "S2" };
            bindings.push_str(&format!("L{i:03},{shop},SL121,shelf-2.13,P1\n"));
        }
        let report = api_json(
            &http,
            reqwest::Method::POST,
            url("/v1/import/labels"),
            Some(bindings),
        )
        .await?;
        check!(report["created"] == 130, "labels: {report}");

        w.goto(&format!("{}/?token={TOKEN}#labels", c.base)).await?;
        w.until(
            "the first page",
            "return document.querySelectorAll('#label-cards .label').length === 60
               && document.querySelectorAll('#label-cards img[data-role=preview]').length > 0",
        )
        .await?;
        let count = w.text_of("#labels-count").await?;
        check!(count == "60+ pending labels", "count {count:?}");
        // Only the cards near the visible part of the list have fetched their previews.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let loaded = w
            .js(
                "return document.querySelectorAll('#label-cards img[data-role=preview]').length",
                json!([]),
            )
            .await?;
        check!(
            loaded.as_u64().is_some_and(|n| n > 0 && n < 60),
            "previews loaded at first: {loaded} of 60"
        );
        w.js(
            "const m = document.getElementById('labels-main'); m.scrollTop = m.scrollHeight;",
            json!([]),
        )
        .await?;
        w.until(
            "the last card's preview after scrolling",
            "return !!document.querySelector('.label[data-esl=L059] img[data-role=preview]')",
        )
        .await?;

        // Pages: 60, 120, then the last 10 and no more button.
        w.click("#labels-more").await?;
        w.until(
            "the second page",
            "return document.querySelectorAll('#label-cards .label').length === 120",
        )
        .await?;
        w.click("#labels-more").await?;
        w.until(
            "the last page",
            "return document.querySelectorAll('#label-cards .label').length === 130
               && document.getElementById('labels-more').hidden",
        )
        .await?;
        let ids = w
            .js(
                "const c = [...document.querySelectorAll('#label-cards .label')].map((e) => e.dataset.esl);
                 return [c[0], c[59], c[60], c[129], new Set(c).size];",
                json!([]),
            )
            .await?;
        check!(
            ids == json!(["L000", "L059", "L060", "L129", 130]),
            "pages {ids}"
        );
        let count = w.text_of("#labels-count").await?;
        check!(count == "130 pending labels", "count {count:?}");

        // The shop filter.
        w.type_into("#labels-shop", "S2").await?;
        w.until(
            "shop S2's labels",
            "const c = [...document.querySelectorAll('#label-cards .label')];
             return c.length === 10 && c.every((e) => e.dataset.esl >= 'L120')
               && document.getElementById('labels-count').textContent === '10 pending labels in shop S2';",
        )
        .await?;

        // A file picked in the import box: its text in the box, its kind from its name.
        let file = c.templates.join("new-prices.csv");
        std::fs::write(&file, "id,price\nP1,2.75\n").map_err(|e| e.to_string())?;
        w.type_into("#import-file", &file.to_string_lossy()).await?;
        w.until(
            "the picked file in the box",
            "return document.getElementById('import-text').value === 'id,price\\nP1,2.75\\n'
               && document.getElementById('import-kind').value === 'prices'",
        )
        .await?;
        w.click("#import-go").await?;
        w.until(
            "the import report",
            "return !!document.querySelector('#import-report [data-role=import-counts]')",
        )
        .await?;
        let counts = w
            .text_of("#import-report [data-role=import-counts]")
            .await?;
        check!(
            counts.starts_with("1 row (price CSV): 0 created, 1 updated")
                && counts.ends_with("0 bad rows"),
            "import report {counts:?}"
        );
        // The list refreshed after the import (still shop S2's ten).
        w.until(
            "the list after the import",
            "const c = [...document.querySelectorAll('#label-cards .label')];
             return c.length === 10 && !!c[0].querySelector('img[data-role=preview]');",
        )
        .await?;

        let errors = w.console_errors().await?;
        check!(errors.is_empty(), "console errors: {errors:?}");
        Ok(())
    });
}
