//! `esl-serve`: the esl renderer as an HTTP service.
//!
//! [`router`] builds the whole service as an axum [`Router`] (mount it in your own server),
//! [`Server::bind`] + [`Server::run`] serve it on a socket. The API lives under `/v1` and
//! needs `Authorization: Bearer <token>`; `/healthz`, `/metrics`, the OpenAPI document at
//! `/v1/openapi.json` and the label designer page at `/` (which reads everything it shows
//! from `/v1` with the token) are public. See the crate README for the security rules and the
//! designer.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use esl_model::{Model, Product};
use esl_render::{Renderer, Template, TemplateError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod db;
mod designer;
mod shelf;

pub use db::{
    DbConfig, ImportAnswer, ImportQuery, LabelInfo, LabelsPage, LabelsQuery, RepriceRequest,
    RunStatus,
};
pub use designer::{SampleProduct, WarningDetail};
pub use shelf::{PlatformInfo, Shelf, ShelfEsl};

/// Largest request body accepted (bigger ones get 413).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// How the service is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// Folder of template JSON files (`<name>.json`).
    pub templates: PathBuf,
    /// The bearer token; `None` draws a random one.
    pub token: Option<String>,
    /// Allowed CORS origin; `None` sends no CORS headers.
    pub cors: Option<String>,
    /// The label registry of the `/v1/import`, `/v1/reprice` and `/v1/labels` routes;
    /// without one they answer 404.
    pub db: Option<DbConfig>,
}

/// Shared state of the service: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    renderer: Renderer,
    templates: PathBuf,
    token_digest: [u8; 32],
    cors: Option<HeaderValue>,
    metrics: Metrics,
    db: Option<Arc<db::Db>>,
}

#[derive(Default)]
struct Metrics {
    renders: AtomicU64,
    failures: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    imports: AtomicU64,
    runs: AtomicU64,
    run_errors: AtomicU64,
    pushes: AtomicU64,
    label_failures: AtomicU64,
}

impl Metrics {
    fn observe(&self, seconds: f64) {
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                n.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        // Saturating float→int cast: a latency never approaches u64::MAX microseconds.
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn exposition(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        // Writing to a String cannot fail.
        let _ = writeln!(
            s,
            "# HELP esl_renders_total Labels rendered by POST /v1/render.\n# TYPE esl_renders_total counter\nesl_renders_total {}",
            load(&self.renders)
        );
        let _ = writeln!(
            s,
            "# HELP esl_render_failures_total Render requests refused or failed.\n# TYPE esl_render_failures_total counter\nesl_render_failures_total {}",
            load(&self.failures)
        );
        let _ = writeln!(
            s,
            "# HELP esl_render_seconds Time to render one label (bind, rasterise, encode).\n# TYPE esl_render_seconds histogram"
        );
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(s, "esl_render_seconds_bucket{{le=\"{bound}\"}} {}", load(n));
        }
        let count = load(&self.count);
        let _ = writeln!(s, "esl_render_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            s,
            "esl_render_seconds_sum {}",
            load(&self.sum_micros) as f64 / 1e6
        );
        let _ = writeln!(s, "esl_render_seconds_count {count}");
        for (name, help, value) in [
            (
                "esl_imports_total",
                "Imports into the label registry.",
                &self.imports,
            ),
            (
                "esl_reprice_runs_total",
                "Reprice runs finished (with or without an error).",
                &self.runs,
            ),
            (
                "esl_reprice_run_errors_total",
                "Reprice runs stopped by an error.",
                &self.run_errors,
            ),
            (
                "esl_pushes_total",
                "Pictures pushed to labels and acknowledged by the platform.",
                &self.pushes,
            ),
            (
                "esl_label_failures_total",
                "Labels that failed in reprice runs (render or push).",
                &self.label_failures,
            ),
        ] {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                load(value)
            );
        }
        s
    }
}

impl AppState {
    /// State over a templates folder, a bearer token, an optional CORS origin and an
    /// optional label registry.
    ///
    /// # Errors
    /// When the CORS origin is not a valid header value, or the registry cannot be opened.
    pub fn new(
        renderer: Renderer,
        templates: PathBuf,
        token: &str,
        cors: Option<&str>,
        db: Option<DbConfig>,
    ) -> Result<AppState, ServeError> {
        let cors = cors
            .map(|o| {
                HeaderValue::from_str(o).map_err(|_| ServeError::Cors {
                    origin: o.to_owned(),
                })
            })
            .transpose()?;
        let db = db
            .map(|config| db::Db::open(config, &renderer).map(Arc::new))
            .transpose()?;
        Ok(AppState {
            inner: Arc::new(Inner {
                db,
                renderer,
                templates,
                token_digest: Sha256::digest(token.as_bytes()).into(),
                cors,
                metrics: Metrics::default(),
            }),
        })
    }
}

/// Errors of setting up the service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// `--cors` is not a header value.
    #[error("--cors {origin:?} is not a valid origin")]
    Cors {
        /// The origin given.
        origin: String,
    },
    /// The templates folder is missing.
    #[error("templates folder {0}: not a folder")]
    Templates(PathBuf),
    /// Cannot listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The registry file cannot be opened.
    #[error("label registry {}: {source}", path.display())]
    Registry {
        /// The file.
        path: PathBuf,
        /// Why.
        source: esl_diff::DiffError,
    },
    /// The server stopped with an I/O error.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// A JSON error body: what is wrong and, where known, the JSON path of the offending value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// What is wrong.
    pub error: String,
    /// JSON path in the request, e.g. `template.elements[2].box`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

struct Failure(StatusCode, ApiError);

impl Failure {
    fn new(status: StatusCode, error: impl Into<String>, path: Option<String>) -> Failure {
        Failure(
            status,
            ApiError {
                error: error.into(),
                path,
            },
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, axum::Json(self.1)).into_response()
    }
}

/// Checks a template name: letters, digits, `.`, `_`, `-`; no leading dot, no `..`, at most
/// 100 characters. So a name never leaves the templates folder (no `/`, `\`, absolute path).
fn check_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!(
                "template name {name:?} refused: only letters, digits, '.', '_' and '-', not starting with '.', no '..'"
            ),
            None,
        ))
    }
}

fn template_failure(e: &TemplateError, prefix: &str) -> Failure {
    let path = match e {
        TemplateError::Json { path, .. }
        | TemplateError::Invalid { path, .. }
        | TemplateError::Image { path, .. } => Some(if prefix.is_empty() {
            path.clone()
        } else {
            format!("{prefix}.{path}")
        }),
        _ => None,
    };
    let status = match e {
        TemplateError::Read { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Failure::new(status, e.to_string(), path)
}

/// Why a picture `src` is refused.
const SRC_RULE: &str = "a picture src must be a relative path inside the templates folder (no '..', no absolute path, no '\\')";

/// Every picture `src` of a template must be a relative path without `..`, so it stays in
/// the templates folder. Returns the JSON path of the first that is not.
fn escaping_src(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(src)) = map.get("src") {
                let p = Path::new(src);
                let bad = p.is_absolute()
                    || src.contains('\\')
                    || src.contains(':')
                    || p.components().any(|c| {
                        !matches!(
                            c,
                            std::path::Component::Normal(_) | std::path::Component::CurDir
                        )
                    });
                if bad {
                    return Some(format!("{path}.src"));
                }
            }
            map.iter().find_map(|(k, v)| {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                escaping_src(v, &child)
            })
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| escaping_src(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// Body of `POST /v1/render`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// A template name (from the templates folder) or a template object.
    #[schema(value_type = Object)]
    pub template: serde_json::Value,
    /// The product: an object of SUNMI product fields.
    #[schema(value_type = Object)]
    pub product: serde_json::Value,
    /// The ESL model, e.g. `SL121`.
    pub model: String,
}

/// Query of `POST /v1/render`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RenderQuery {
    /// `json` for the warnings and element boxes instead of the PNG.
    pub format: Option<String>,
}

/// `?format=json` answer of `POST /v1/render`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RenderReport {
    /// The model rendered for.
    pub model: String,
    /// Panel width in pixels.
    pub width: u32,
    /// Panel height in pixels.
    pub height: u32,
    /// Warnings (missing glyphs, text cut to fit, …), as messages.
    pub warnings: Vec<String>,
    /// The same warnings, in the same order, each with the JSON path of its element.
    pub warning_details: Vec<designer::WarningDetail>,
    /// Every element as resolved in the scene: path, id, box, clip, content, and
    /// `panel_box`, its box on the panel (after the template's rotation).
    #[schema(value_type = Vec<Object>)]
    pub elements: serde_json::Value,
}

/// Renders one label: PNG bytes identical to the library's `to_png(1)`.
#[utoipa::path(post, path = "/render", tag = "render",
    params(RenderQuery),
    request_body = RenderRequest,
    responses(
        (status = 200, description = "The label as an indexed PNG (or the JSON report)", content_type = "image/png"),
        (status = 400, description = "Malformed request or refused template name", body = ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 413, description = "Body over 16 MB"),
        (status = 422, description = "Invalid template, product or model", body = ApiError),
    ),
    security(("token" = [])))]
async fn render(
    State(state): State<AppState>,
    Query(q): Query<RenderQuery>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let metrics = state.inner.clone();
    let result = tokio::task::spawn_blocking(move || render_blocking(&state, q, &body)).await;
    let response = match result {
        Ok(Ok(r)) => {
            metrics.metrics.renders.fetch_add(1, Ordering::Relaxed);
            metrics.metrics.observe(started.elapsed().as_secs_f64());
            return r;
        }
        Ok(Err(f)) => f.into_response(),
        Err(e) => Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("render task failed: {e}"),
            None,
        )
        .into_response(),
    };
    metrics.metrics.failures.fetch_add(1, Ordering::Relaxed);
    response
}

fn render_blocking(state: &AppState, q: RenderQuery, body: &[u8]) -> Result<Response, Failure> {
    let json = match q.format.as_deref() {
        None | Some("png") => false,
        Some("json") => true,
        Some(other) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                format!("format {other:?}: expected png or json"),
                Some("?format".into()),
            ));
        }
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    let req: RenderRequest = parse_render_request(de)?;
    let model: Model = req.model.parse().map_err(|e| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("model {:?}: {e}", req.model),
            Some("model".into()),
        )
    })?;
    let template = match &req.template {
        serde_json::Value::String(name) => {
            check_name(name)?;
            let file = state.inner.templates.join(format!("{name}.json"));
            if !file.is_file() {
                return Err(Failure::new(
                    StatusCode::NOT_FOUND,
                    format!("no template named {name:?}"),
                    Some("template".into()),
                ));
            }
            Template::load(&file).map_err(|e| template_failure(&e, ""))?
        }
        serde_json::Value::Object(_) => {
            // Pictures of an inline template are read from the templates folder (the designer
            // previews templates before they are saved), under the same rule as a saved one.
            if let Some(path) = escaping_src(&req.template, "template") {
                return Err(Failure::new(StatusCode::BAD_REQUEST, SRC_RULE, Some(path)));
            }
            let bytes = serde_json::to_vec(&req.template).map_err(|e| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    e.to_string(),
                    Some("template".into()),
                )
            })?;
            Template::from_json(&bytes, "inline", Some(&state.inner.templates))
                .map_err(|e| template_failure(&e, "template"))?
        }
        _ => {
            return Err(Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template must be a name or a template object",
                Some("template".into()),
            ));
        }
    };
    let product = Product::from_value(req.product).map_err(|e| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
            Some("product".into()),
        )
    })?;
    let renderer = &state.inner.renderer;
    let scene = renderer
        .bind(&template, &product, model)
        .map_err(|e| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), None))?;
    if json {
        let (width, height) = model.size();
        let report = RenderReport {
            model: model.name().to_owned(),
            width,
            height,
            warnings: scene.warnings().iter().map(ToString::to_string).collect(),
            warning_details: scene
                .warnings()
                .iter()
                .map(designer::WarningDetail::of)
                .collect(),
            elements: designer::scene_elements(&scene).map_err(|e| {
                Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None)
            })?,
        };
        return Ok(axum::Json(report).into_response());
    }
    let image = esl_render::rasterise(&scene);
    let png = image
        .to_png(1)
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Parses the render request, naming the JSON path of a wrong value.
fn parse_render_request(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<RenderRequest, Failure> {
    <RenderRequest as serde::Deserialize>::deserialize(de).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("request body: {e}"),
            Some("(body)".into()),
        )
    })
}

/// One model of `GET /v1/models`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// Name, e.g. `SL121`.
    pub name: String,
    /// Panel width in pixels.
    pub width: u32,
    /// Panel height in pixels.
    pub height: u32,
    /// Ink names, e.g. `["black", "white", "red"]`.
    pub inks: Vec<String>,
}

/// The ESL models: built in and declared.
#[utoipa::path(get, path = "/models", tag = "models",
    responses((status = 200, body = Vec<ModelInfo>), (status = 401, description = "Missing or wrong bearer token")),
    security(("token" = [])))]
async fn models() -> axum::Json<Vec<ModelInfo>> {
    axum::Json(
        Model::known()
            .into_iter()
            .map(|m| {
                let (width, height) = m.size();
                ModelInfo {
                    name: m.name().to_owned(),
                    width,
                    height,
                    inks: m
                        .palette()
                        .inks()
                        .iter()
                        .map(|i| i.name().to_owned())
                        .collect(),
                }
            })
            .collect(),
    )
}

/// Names of the templates in the folder (file stems of `*.json`), sorted.
#[utoipa::path(get, path = "/templates", tag = "templates",
    responses((status = 200, body = Vec<String>), (status = 401, description = "Missing or wrong bearer token")),
    security(("token" = [])))]
async fn list_templates(State(state): State<AppState>) -> Result<axum::Json<Vec<String>>, Failure> {
    let dir = &state.inner.templates;
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("templates folder {}: {e}", dir.display()),
            None,
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".json")?.to_owned();
            (check_name(&stem).is_ok() && e.path().is_file()).then_some(stem)
        })
        .collect();
    names.sort();
    Ok(axum::Json(names))
}

/// One template's JSON, as stored.
#[utoipa::path(get, path = "/templates/{name}", tag = "templates",
    params(("name" = String, Path, description = "Template name (file stem)")),
    responses(
        (status = 200, description = "The template JSON", content_type = "application/json"),
        (status = 400, description = "Refused name", body = ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No such template", body = ApiError)),
    security(("token" = [])))]
async fn get_template(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<Response, Failure> {
    check_name(&name)?;
    let file = state.inner.templates.join(format!("{name}.json"));
    match std::fs::read(&file) {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("no template named {name:?}"),
            None,
        )),
        Err(e) => Err(Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reading template {name:?}: {e}"),
            None,
        )),
    }
}

/// Validates a template with the loader and saves it atomically (temp file + rename).
#[utoipa::path(put, path = "/templates/{name}", tag = "templates",
    params(("name" = String, Path, description = "Template name (file stem)")),
    request_body(content = Object, content_type = "application/json", description = "A template"),
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "Refused name or picture path", body = ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 413, description = "Body over 16 MB"),
        (status = 422, description = "Invalid template", body = ApiError)),
    security(("token" = [])))]
async fn put_template(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    body: Bytes,
) -> Result<StatusCode, Failure> {
    check_name(&name)?;
    tokio::task::spawn_blocking(move || save_template(&state.inner.templates, &name, &body))
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None))??;
    Ok(StatusCode::NO_CONTENT)
}

fn save_template(dir: &Path, name: &str, body: &[u8]) -> Result<(), Failure> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("template {name}: {e}"),
            Some("(top level)".into()),
        )
    })?;
    if let Some(path) = escaping_src(&value, "") {
        return Err(Failure::new(StatusCode::BAD_REQUEST, SRC_RULE, Some(path)));
    }
    Template::from_json(body, name, Some(dir)).map_err(|e| template_failure(&e, ""))?;
    let file = dir.join(format!("{name}.json"));
    let suffix: u64 = rand::random();
    let tmp = dir.join(format!(".{name}.json.{suffix:016x}.tmp"));
    let io = |e: std::io::Error| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("saving template {name:?}: {e}"),
            None,
        )
    };
    std::fs::write(&tmp, body).map_err(io)?;
    if let Err(e) = std::fs::rename(&tmp, &file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

/// Liveness: `ok`.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Prometheus text exposition: renders, failures, render latency histogram.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.inner.metrics.exposition(),
    )
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "esl", description = "Render electronic-shelf-label bitmaps."),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("token")
                    .build(),
            ),
        );
    }
}

/// The protected `/v1` routes and the public ones, with the OpenAPI document of all of them.
fn parts() -> (
    OpenApiRouter<AppState>,
    OpenApiRouter<AppState>,
    utoipa::openapi::OpenApi,
) {
    let v1 = OpenApiRouter::new()
        .routes(routes!(render))
        .routes(routes!(models))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template))
        .routes(routes!(designer::sample_products))
        .merge(db::routes());
    let public = OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics));
    let mut doc = ApiDoc::openapi();
    let mut v1_doc = v1.get_openapi().clone();
    v1_doc.paths.paths = std::mem::take(&mut v1_doc.paths.paths)
        .into_iter()
        .map(|(p, item)| (format!("/v1{p}"), item))
        .collect();
    doc.merge(v1_doc);
    doc.merge(public.get_openapi().clone());
    (v1, public, doc)
}

/// The OpenAPI document of the service.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().2
}

async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = given.is_some_and(|t| {
        let digest: [u8; 32] = Sha256::digest(t.trim().as_bytes()).into();
        bool::from(digest.ct_eq(&state.inner.token_digest))
    });
    if ok {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(ApiError {
                error: "missing or wrong bearer token (Authorization: Bearer <token>)".into(),
                path: None,
            }),
        )
            .into_response()
    }
}

async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = state.inner.cors.clone() else {
        return next.run(request).await;
    };
    let preflight = request.method() == axum::http::Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
    }
    response
}

/// The whole service as a router: `/v1/*` behind the bearer token, `/v1/openapi.json`,
/// `/healthz` and `/metrics` public, bodies limited to [`BODY_LIMIT`].
pub fn router(state: AppState) -> Router {
    let (v1, public, doc) = parts();
    let (v1, _) = v1.split_for_parts();
    let (public, _) = public.split_for_parts();
    let doc = Arc::new(doc);
    let v1 = v1.layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .nest("/v1", v1)
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(public)
        .merge(designer::pages())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state)
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    token: String,
}

/// A random token: 32 hex digits from the thread RNG.
#[must_use]
pub fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Server {
    /// Checks the config and listens on its address.
    ///
    /// # Errors
    /// A missing templates folder, a bad CORS origin, an address that cannot be bound.
    pub async fn bind(config: Config, renderer: Renderer) -> Result<Server, ServeError> {
        if !config.templates.is_dir() {
            return Err(ServeError::Templates(config.templates));
        }
        let token = config.token.clone().unwrap_or_else(random_token);
        let state = AppState::new(
            renderer,
            config.templates,
            &token,
            config.cors.as_deref(),
            config.db,
        )?;
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        Ok(Server {
            listener,
            app: router(state),
            token,
        })
    }

    /// The address listened on.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The token the API takes.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `http://ADDR/?token=TOKEN`, to print.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn url(&self) -> std::io::Result<String> {
        Ok(format!(
            "http://{}/?token={}",
            self.local_addr()?,
            self.token
        ))
    }

    /// Serves until the process ends.
    ///
    /// # Errors
    /// An I/O error of the listener.
    pub async fn run(self) -> Result<(), ServeError> {
        axum::serve(self.listener, self.app).await?;
        Ok(())
    }
}

/// Binds, prints the URL on stdout, and serves.
///
/// # Errors
/// As [`Server::bind`] and [`Server::run`].
pub async fn serve(config: Config, renderer: Renderer) -> Result<(), ServeError> {
    let server = Server::bind(config, renderer).await?;
    println!("esl serve listening on {}", server.url()?);
    server.run().await
}
