//! The service over real HTTP: a server on 127.0.0.1 port 0, a reqwest client.

use std::path::{Path, PathBuf};

use esl_model::{Model, Product};
use esl_render::{Renderer, Template};
use esl_serve::{Config, Server};
use serde_json::{Value, json};

const TOKEN: &str = "test-token-0123456789";

fn repo_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// A fresh templates folder with the repository's three shelf templates.
fn temp_templates(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esl-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["shelf-2.13", "shelf-2.6", "shelf-4.2"] {
        std::fs::copy(
            repo_templates().join(format!("{name}.json")),
            dir.join(format!("{name}.json")),
        )
        .unwrap();
    }
    dir
}

struct Running {
    base: String,
    client: reqwest::Client,
    _rt: tokio::runtime::Runtime,
    templates: PathBuf,
}

fn start(tag: &str) -> (Running, tokio::runtime::Runtime) {
    start_with(tag, None)
}

fn start_with(tag: &str, cors: Option<&str>) -> (Running, tokio::runtime::Runtime) {
    let templates = temp_templates(tag);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        templates: templates.clone(),
        token: Some(TOKEN.into()),
        cors: cors.map(str::to_owned),
        db: None,
    };
    let server = server_rt
        .block_on(Server::bind(config, Renderer::bundled()))
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    server_rt.spawn(server.run());
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (
        Running {
            base,
            client: client(),
            _rt: server_rt,
            templates,
        },
        client_rt,
    )
}

impl Running {
    /// Sends `req` with the service's bearer token and waits for the answer.
    fn authed(
        &self,
        rt: &tokio::runtime::Runtime,
        req: reqwest::RequestBuilder,
    ) -> reqwest::Response {
        rt.block_on(req.bearer_auth(TOKEN).send()).unwrap()
    }
}

/// The body of a response parsed as JSON (reqwest is built without its `json` feature).
fn json_of<T: serde::de::DeserializeOwned>(
    rt: &tokio::runtime::Runtime,
    resp: reqwest::Response,
) -> T {
    let bytes = rt.block_on(resp.bytes()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A plain-HTTP client; reqwest is built without a TLS provider, so install ring's once.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn product() -> Value {
    serde_json::from_slice(&std::fs::read(repo_templates().join("products/cola.json")).unwrap())
        .unwrap()
}

#[test]
fn render_bytes_equal_the_library() {
    let (s, rt) = start("bytes");
    for (name, model) in [("shelf-2.13", "SL121"), ("shelf-4.2", "SL142")] {
        let resp = s.authed(
            &rt,
            s.client
                .post(format!("{}/v1/render", s.base))
                .body(json!({"template": name, "product": product(), "model": model}).to_string()),
        );
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/png");
        let got = rt.block_on(resp.bytes()).unwrap();
        let template = Template::load(&s.templates.join(format!("{name}.json"))).unwrap();
        let p = Product::from_value(product()).unwrap();
        let want = Renderer::bundled()
            .render(&template, &p, model.parse::<Model>().unwrap())
            .unwrap()
            .image
            .to_png(1)
            .unwrap();
        assert_eq!(got.as_ref(), want.as_slice(), "{name} {model}");
    }
    // Inline template: same bytes as the library on the same JSON.
    let inline: Value =
        serde_json::from_slice(&std::fs::read(repo_templates().join("shelf-2.13.json")).unwrap())
            .unwrap();
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render", s.base))
            .body(json!({"template": inline, "product": product(), "model": "SL121"}).to_string()),
    );
    assert_eq!(resp.status(), 200);
    let got = rt.block_on(resp.bytes()).unwrap();
    let template =
        Template::from_json(&serde_json::to_vec(&inline).unwrap(), "inline", None).unwrap();
    let want = Renderer::bundled()
        .render(
            &template,
            &Product::from_value(product()).unwrap(),
            Model::Sl121,
        )
        .unwrap()
        .image
        .to_png(1)
        .unwrap();
    assert_eq!(got.as_ref(), want.as_slice());
}

#[test]
fn render_json_reports_boxes_and_errors_name_paths() {
    let (s, rt) = start("json");
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render?format=json", s.base))
            .body(
                json!({"template": "shelf-2.13", "product": product(), "model": "SL121"})
                    .to_string(),
            ),
    );
    assert_eq!(resp.status(), 200);
    let report: Value = json_of(&rt, resp);
    assert_eq!(report["width"], 212);
    let elements = report["elements"].as_array().unwrap();
    assert!(!elements.is_empty());
    assert!(
        elements[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("elements[")
    );
    assert!(elements[0]["box"]["w"].as_u64().is_some());

    // An inline template with a wrong type inside an element: 422 with the loader's JSON path
    // (it names the element) under `template`.
    let bad = json!({"version": 1, "models": ["SL121"], "elements": [
        {"type": "rect", "box": {"x": 0, "y": 0, "w": "wide", "h": 10}}]});
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render", s.base))
            .body(json!({"template": bad, "product": {}, "model": "SL121"}).to_string()),
    );
    assert_eq!(resp.status(), 422);
    let err: Value = json_of(&rt, resp);
    assert_eq!(err["path"], "template.elements[0]", "{err}");
    assert!(err["error"].as_str().unwrap().contains("\"wide\""), "{err}");

    // A product that is not an object.
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render", s.base))
            .body(json!({"template": "shelf-2.13", "product": [1], "model": "SL121"}).to_string()),
    );
    assert_eq!(resp.status(), 422);
    let err: Value = json_of(&rt, resp);
    assert_eq!(err["path"], "product");
}

#[test]
fn auth_is_required_on_v1_only() {
    let (s, rt) = start("auth");
    for token in [None, Some("wrong"), Some("test-token-012345678")] {
        let mut req = s.client.get(format!("{}/v1/models", s.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = rt.block_on(req.send()).unwrap();
        assert_eq!(resp.status(), 401, "{token:?}");
    }
    let resp = s.authed(&rt, s.client.get(format!("{}/v1/models", s.base)));
    assert_eq!(resp.status(), 200);
    let models: Value = json_of(&rt, resp);
    let names: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for m in Model::ALL {
        assert!(names.contains(&m.name()), "{names:?}");
    }
    for public in ["/healthz", "/metrics", "/v1/openapi.json"] {
        let resp = rt
            .block_on(s.client.get(format!("{}{public}", s.base)).send())
            .unwrap();
        assert_eq!(resp.status(), 200, "{public}");
    }
    // No CORS headers unless --cors.
    let resp = rt
        .block_on(
            s.client
                .get(format!("{}/healthz", s.base))
                .header("origin", "http://evil.example")
                .send(),
        )
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn bodies_over_16_mb_get_413() {
    let (s, rt) = start("limit");
    let big = vec![b' '; esl_serve::BODY_LIMIT + 1];
    for (method, path) in [("POST", "/v1/render"), ("PUT", "/v1/templates/big")] {
        let req = s
            .client
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .body(big.clone());
        let resp = s.authed(&rt, req);
        assert_eq!(resp.status(), 413, "{method} {path}");
    }
}

#[test]
fn escaping_names_and_picture_paths_are_refused() {
    let (s, rt) = start("escape");
    let outside = s.templates.parent().unwrap().join("escaped.json");
    let _ = std::fs::remove_file(&outside);
    for name in [
        "..",
        "%2e%2e",
        "..%2Fescaped",
        "a%2Fb",
        "a%5Cb",
        "%2Fetc%2Fpasswd",
        ".hidden",
    ] {
        for put in [false, true] {
            let url = format!("{}/v1/templates/{name}", s.base);
            let req = if put {
                s.client.put(url).body("{}")
            } else {
                s.client.get(url)
            };
            let resp = s.authed(&rt, req);
            let status = resp.status().as_u16();
            // ".." and "%2e%2e" may be resolved by the client into another route (404 there);
            // every request that reaches the handler must be refused with 400.
            assert!(status == 400 || status == 404, "{name} put={put}: {status}");
            if status == 404 {
                assert!(
                    name == ".." || name == "%2e%2e",
                    "{name} put={put} gave 404"
                );
            }
        }
    }
    assert!(!outside.exists());
    let resp = s.authed(
        &rt,
        s.client.post(format!("{}/v1/render", s.base)).body(
            json!({"template": "../shelf-2.13", "product": {}, "model": "SL121"}).to_string(),
        ),
    );
    assert_eq!(resp.status(), 400);

    for src in [
        "../outside.png",
        "/etc/passwd",
        "a\\..\\b.png",
        "pics/../../x.png",
    ] {
        let t = json!({"version": 1, "models": ["SL121"], "elements": [
            {"type": "image", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "src": src}]});
        let resp = s.authed(
            &rt,
            s.client
                .put(format!("{}/v1/templates/pic", s.base))
                .body(t.to_string()),
        );
        assert_eq!(resp.status(), 400, "{src}");
        let err: Value = json_of(&rt, resp);
        assert_eq!(err["path"], "elements[0].src", "{src}");
        // The same rule for an inline template of a render request (its pictures are read
        // from the templates folder).
        let resp = s.authed(
            &rt,
            s.client
                .post(format!("{}/v1/render", s.base))
                .body(json!({"template": t, "product": {}, "model": "SL121"}).to_string()),
        );
        assert_eq!(resp.status(), 400, "{src}");
        let err: Value = json_of(&rt, resp);
        assert_eq!(err["path"], "template.elements[0].src", "{src}");
    }
    assert!(!s.templates.join("pic.json").exists());
}

#[test]
fn render_report_names_each_warnings_element_and_panel_boxes() {
    let (s, rt) = start("warn");
    let long: Value = serde_json::from_slice(
        &std::fs::read(repo_templates().join("products/long-name.json")).unwrap(),
    )
    .unwrap();
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render?format=json", s.base))
            .body(json!({"template": "shelf-2.13", "product": long, "model": "SL121"}).to_string()),
    );
    assert_eq!(resp.status(), 200);
    let report: Value = json_of(&rt, resp);
    let messages = report["warnings"].as_array().unwrap();
    let details = report["warning_details"].as_array().unwrap();
    assert!(!details.is_empty(), "{report}");
    assert_eq!(messages.len(), details.len());
    let elements = report["elements"].as_array().unwrap();
    for (m, d) in messages.iter().zip(details) {
        assert_eq!(&d["message"], m);
        let path = d["element"].as_str().unwrap();
        assert!(
            elements.iter().any(|e| e["path"] == path),
            "{path} is not an element of the report"
        );
    }
    let truncated = details.iter().find(|d| d["kind"] == "truncated").unwrap();
    assert_eq!(
        truncated["element"], "elements[0]",
        "the name text: {report}"
    );
    // Not rotated: the panel box is the box.
    for e in elements {
        assert_eq!(e["panel_box"], e["box"], "{e}");
    }

    // A template turned 90°: boxes on the 104 × 212 canvas land on the 212 × 104 panel.
    let turned = json!({"version": 1, "models": ["SL121"], "rotation": 90, "elements": [
        {"type": "rect", "box": {"x": 0, "y": 0, "w": 10, "h": 20}, "fill": "black"}]});
    let resp = s.authed(
        &rt,
        s.client
            .post(format!("{}/v1/render?format=json", s.base))
            .body(json!({"template": turned, "product": {}, "model": "SL121"}).to_string()),
    );
    assert_eq!(resp.status(), 200);
    let report: Value = json_of(&rt, resp);
    let e = &report["elements"][0];
    assert_eq!(e["box"], json!({"x": 0, "y": 0, "w": 10, "h": 20}));
    assert_eq!(e["panel_box"], json!({"x": 192, "y": 0, "w": 20, "h": 10}));
}

#[test]
fn put_get_round_trip_and_validation() {
    let (s, rt) = start("put");
    let body = std::fs::read(repo_templates().join("shelf-2.13.json")).unwrap();
    let resp = s.authed(
        &rt,
        s.client
            .put(format!("{}/v1/templates/copy-2.13", s.base))
            .body(body.clone()),
    );
    assert_eq!(resp.status(), 204);
    let resp = s.authed(
        &rt,
        s.client.get(format!("{}/v1/templates/copy-2.13", s.base)),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(rt.block_on(resp.bytes()).unwrap().as_ref(), body.as_slice());
    let resp = s.authed(&rt, s.client.get(format!("{}/v1/templates", s.base)));
    let names: Vec<String> = json_of(&rt, resp);
    assert_eq!(names, ["copy-2.13", "shelf-2.13", "shelf-2.6", "shelf-4.2"]);
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&s.templates)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // An invalid template is refused with its JSON path and the stored one is kept.
    let bad = json!({"version": 1, "models": ["SL121"], "elements": [{"type": "nope"}]});
    let resp = s.authed(
        &rt,
        s.client
            .put(format!("{}/v1/templates/copy-2.13", s.base))
            .body(bad.to_string()),
    );
    assert_eq!(resp.status(), 422);
    let err: Value = json_of(&rt, resp);
    assert!(
        err["path"].as_str().unwrap().starts_with("elements[0]"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(s.templates.join("copy-2.13.json")).unwrap(),
        body
    );
    let resp = s.authed(
        &rt,
        s.client.get(format!("{}/v1/templates/missing", s.base)),
    );
    assert_eq!(resp.status(), 404);
}

#[test]
fn openapi_lists_every_route_and_declares_security() {
    let (s, rt) = start("spec");
    let resp = rt
        .block_on(s.client.get(format!("{}/v1/openapi.json", s.base)).send())
        .unwrap();
    let spec: Value = json_of(&rt, resp);
    let paths = spec["paths"].as_object().unwrap();
    let mut listed: Vec<String> = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            listed.push(format!("{} {path}", method.to_uppercase()));
            let public = matches!(path.as_str(), "/healthz" | "/metrics");
            let security = op.get("security").and_then(Value::as_array);
            if public {
                assert!(security.is_none(), "{method} {path} is public");
            } else {
                assert!(
                    security.is_some_and(|s| s.iter().any(|r| r.get("token").is_some())),
                    "{method} {path} declares no security"
                );
            }
        }
    }
    listed.sort();
    assert_eq!(
        listed,
        [
            "GET /healthz",
            "GET /metrics",
            "GET /v1/labels",
            "GET /v1/labels/{esl_id}/preview.png",
            "GET /v1/models",
            "GET /v1/platform",
            "GET /v1/reprice",
            "GET /v1/samples/products",
            "GET /v1/shelf",
            "GET /v1/shelf/{esl_id}/image.png",
            "GET /v1/templates",
            "GET /v1/templates/{name}",
            "POST /v1/import/labels",
            "POST /v1/import/prices",
            "POST /v1/import/products",
            "POST /v1/render",
            "POST /v1/reprice",
            "PUT /v1/templates/{name}",
        ]
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    // Every listed operation answers (not 404/405) on the real router.
    for op in &listed {
        let (method, path) = op.split_once(' ').unwrap();
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{name}", "shelf-2.13")
                .replace("{esl_id}", "E1")
        );
        let resp = rt
            .block_on(s.client.request(method.parse().unwrap(), url).send())
            .unwrap();
        let status = resp.status().as_u16();
        assert!(status == 200 || status == 401, "{op}: {status}");
    }
}

#[test]
fn metrics_count_renders_and_failures() {
    let (s, rt) = start("metrics");
    let send = |body: Value| {
        s.authed(
            &rt,
            s.client
                .post(format!("{}/v1/render", s.base))
                .body(body.to_string()),
        )
        .status()
    };
    assert_eq!(
        send(json!({"template": "shelf-2.13", "product": product(), "model": "SL121"})),
        200
    );
    assert_eq!(
        send(json!({"template": "shelf-2.13", "product": product(), "model": "SL999"})),
        422
    );
    let text = rt
        .block_on(
            rt.block_on(s.client.get(format!("{}/metrics", s.base)).send())
                .unwrap()
                .text(),
        )
        .unwrap();
    assert!(text.contains("esl_renders_total 1\n"), "{text}");
    assert!(text.contains("esl_render_failures_total 1\n"), "{text}");
    assert!(text.contains("esl_render_seconds_count 1\n"), "{text}");
    assert!(
        text.contains("esl_render_seconds_bucket{le=\"+Inf\"} 1\n"),
        "{text}"
    );
}

#[test]
fn cors_only_for_the_given_origin() {
    let (s, rt) = start_with("cors", Some("http://designer.example"));
    let resp = rt
        .block_on(
            s.client
                .request(reqwest::Method::OPTIONS, format!("{}/v1/render", s.base))
                .header("origin", "http://designer.example")
                .send(),
        )
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://designer.example"
    );
    assert!(
        resp.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    // The token is still needed for the real request.
    let resp = rt
        .block_on(s.client.get(format!("{}/v1/models", s.base)).send())
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://designer.example"
    );
}

#[test]
fn designer_page_is_public_and_samples_need_the_token() {
    let (s, rt) = start("page");
    for (path, kind) in [
        ("/", "text/html"),
        ("/designer.js", "text/javascript"),
        ("/labels.js", "text/javascript"),
        ("/designer.css", "text/css"),
        ("/fonts/cjk.ttf", "font/ttf"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let resp = rt
            .block_on(s.client.get(format!("{}{path}", s.base)).send())
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        assert!(
            h[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert_eq!(h[reqwest::header::REFERRER_POLICY], "no-referrer", "{path}");
        let csp = h[reqwest::header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
    }
    let page = rt
        .block_on(async {
            s.client
                .get(format!("{}/", s.base))
                .send()
                .await?
                .text()
                .await
        })
        .unwrap();
    assert!(page.contains("<script src=\"designer.js\""), "{page}");

    let url = format!("{}/v1/samples/products", s.base);
    let resp = rt.block_on(s.client.get(&url).send()).unwrap();
    assert_eq!(resp.status(), 401);
    let resp = s.authed(&rt, s.client.get(&url));
    assert_eq!(resp.status(), 200);
    let samples: Value = json_of(&rt, resp);
    let cola = samples
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "cola")
        .unwrap();
    let file = std::fs::read_to_string(repo_templates().join("products/cola.json")).unwrap();
    assert_eq!(cola["text"], file.as_str());
    assert_eq!(cola["product"], product());
}
