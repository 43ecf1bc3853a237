//! The registry routes of `esl serve --db`: imports, reprice runs with their progress as
//! server-sent events, the labels and their previews.
//!
//! The service holds two connections to the registry file: one for imports and reads, one
//! (with its own runtime, so a publisher's connections survive from one run to the next) for
//! runs. One run at a time per service; a run of another process (`esl reprice`) on the same
//! file takes turns through the registry's lease, and the service's run then reports
//! `waiting`. Imports may happen while a run goes on.

use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use esl_diff::{
    CsvMode, DiffError, ImportReport, LabelState, Observer, Outcome, ProductFile, ProductFormat,
    Publish, Pusher, Registry, RenderEnv, RepriceOptions, RunReport, TemplateLibrary,
};
use esl_render::Renderer;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::{AppState, Failure, ServeError};

/// The registry of `esl serve --db`.
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// The registry file (created if missing).
    pub path: PathBuf,
    /// Where label bindings find their templates: the service confines it to its folders
    /// and built-in templates ([`TemplateLibrary::confined`]), so a bindings file sent over
    /// HTTP cannot make the service read other files.
    pub library: TemplateLibrary,
    /// Pushes through the platform; without one, runs render but push nothing (the labels
    /// stay pending).
    pub pusher: Option<Pusher>,
}

/// The registry part of the service state.
pub(crate) struct Db {
    reads: Mutex<Registry>,
    runner: Mutex<Registry>,
    env: RenderEnv,
    pusher: Option<Pusher>,
    running: AtomicBool,
    status: Mutex<RunStatus>,
    /// The pusher's platform, for `/v1/platform` and the shelf view.
    pub(crate) platform: Option<crate::shelf::PlatformView>,
}

/// Locks a registry mutex. A panic while it was held cannot leave the registry half-written
/// (every unit of work is a transaction that rolls back when dropped), so a poisoned lock is
/// taken over.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Db {
    pub(crate) fn open(config: DbConfig, renderer: &Renderer) -> Result<Db, ServeError> {
        let open = || {
            Registry::open(&config.path).map_err(|source| ServeError::Registry {
                path: config.path.clone(),
                source,
            })
        };
        Ok(Db {
            reads: Mutex::new(open()?),
            runner: Mutex::new(open()?),
            env: RenderEnv::new(renderer.clone(), config.library.confined()),
            platform: config
                .pusher
                .as_ref()
                .map(|p| crate::shelf::PlatformView::new(p.client())),
            pusher: config.pusher,
            running: AtomicBool::new(false),
            status: Mutex::new(RunStatus::default()),
        })
    }
}

pub(crate) fn db(state: &AppState) -> Result<Arc<Db>, Failure> {
    state.inner.db.clone().ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            "this service has no label registry: start it with `esl serve --db FILE`",
            None,
        )
    })
}

fn diff_failure(e: &DiffError) -> Failure {
    let status = match e {
        DiffError::Input { .. }
        | DiffError::Template(_)
        | DiffError::TemplateNotFound { .. }
        | DiffError::Label { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        DiffError::Busy { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Failure::new(status, e.to_string(), None)
}

/// Runs registry work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None))?
}

/// Query of the product imports.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// `csv`, `product-list` (SUNMI `product_list` JSON) or `koubei`; by default from the
    /// content (JSON with `action_type` is Koubei, other JSON `product_list`, else CSV).
    pub format: Option<String>,
}

/// What an import did: rows created, updated, unchanged, deleted, skipped, labels marked,
/// and each bad row with its line and reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ImportAnswer(ImportReport);

const BODY_SOURCE: &str = "request body";

fn product_file(body: &Bytes, mode: CsvMode, q: &ImportQuery) -> Result<ProductFile, Failure> {
    let mut file = ProductFile::detect(BODY_SOURCE, body.to_vec(), mode);
    file.format = match q.format.as_deref() {
        None | Some("auto") => file.format,
        Some("csv") => ProductFormat::Csv(mode),
        Some("product-list") => ProductFormat::ProductList,
        Some("koubei") => ProductFormat::Koubei,
        Some(other) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                format!("format {other:?}: expected one of auto, csv, product-list, koubei"),
                None,
            ));
        }
    };
    Ok(file)
}

async fn import_products_as(
    state: AppState,
    q: ImportQuery,
    body: Bytes,
    mode: CsvMode,
) -> Result<axum::Json<ImportAnswer>, Failure> {
    let db = db(&state)?;
    let file = product_file(&body, mode, &q)?;
    let report = blocking(move || {
        lock(&db.reads)
            .import_products(&file)
            .map_err(|e| diff_failure(&e))
    })
    .await?;
    state.inner.metrics.imports.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(ImportAnswer(report)))
}

/// Imports products (a catalogue): CSV with `id` or `product_id` and any product fields,
/// SUNMI `product_list` JSON, or Koubei dish records. Bad rows are reported, the rest
/// applied, in one transaction; a product whose fields change marks its labels pending.
#[utoipa::path(post, path = "/import/products", tag = "registry",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV or JSON"),
    responses(
        (status = 200, description = "The import report", body = ImportAnswer),
        (status = 400, description = "Unknown format", body = crate::ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError),
        (status = 413, description = "Body over 16 MB"),
        (status = 422, description = "The body cannot be read at all", body = crate::ApiError)),
    security(("token" = [])))]
async fn import_products(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<axum::Json<ImportAnswer>, Failure> {
    import_products_as(state, q, body, CsvMode::Catalogue).await
}

/// Imports prices: CSV with `id`/`product_id` and fields such as `price`, `promote_price`,
/// `member_price` (known products only), or JSON as for products. The labels of changed
/// products are marked pending for the next run.
#[utoipa::path(post, path = "/import/prices", tag = "registry",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV or JSON"),
    responses(
        (status = 200, description = "The import report", body = ImportAnswer),
        (status = 400, description = "Unknown format", body = crate::ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError),
        (status = 413, description = "Body over 16 MB"),
        (status = 422, description = "The body cannot be read at all", body = crate::ApiError)),
    security(("token" = [])))]
async fn import_prices(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<axum::Json<ImportAnswer>, Failure> {
    import_products_as(state, q, body, CsvMode::Prices).await
}

/// Imports label bindings: CSV with `esl_id, shop_id, model, template, product_id`. The
/// template is a name in the templates folder or a built-in template (paths are refused).
/// A new or re-bound label is pending.
#[utoipa::path(post, path = "/import/labels", tag = "registry",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "The import report", body = ImportAnswer),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError),
        (status = 413, description = "Body over 16 MB"),
        (status = 422, description = "No usable header", body = crate::ApiError)),
    security(("token" = [])))]
async fn import_labels(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<axum::Json<ImportAnswer>, Failure> {
    let db = db(&state)?;
    let report = blocking(move || {
        lock(&db.reads)
            .import_labels(BODY_SOURCE, &body, None, &db.env.templates)
            .map_err(|e| diff_failure(&e))
    })
    .await?;
    state.inner.metrics.imports.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(ImportAnswer(report)))
}

/// Query of `GET /v1/labels`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LabelsQuery {
    /// `pending` (to be looked at by the next run), `failed` (the last try failed; such
    /// labels are pending too) or `all` (default).
    pub status: Option<String>,
    /// Only this shop's labels.
    pub shop: Option<String>,
    /// Labels after this `esl_id` (the `next` of the previous page).
    pub after: Option<String>,
    /// Labels per page: 1 to 10000, default 500.
    pub limit: Option<usize>,
}

/// One label of the registry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LabelInfo {
    /// The ESL.
    pub esl_id: String,
    /// Its shop.
    pub shop_id: String,
    /// Its model.
    pub model: String,
    /// Its template's source (`builtin:NAME` or the file).
    pub template: String,
    /// The product it shows.
    pub product_id: String,
    /// Whether the next run must look at it.
    pub pending: bool,
    /// When the platform last acknowledged a picture of it, Unix seconds.
    pub acked_at: Option<i64>,
    /// Why the last try failed (`"push: …"`), until a run settles it.
    pub failure: Option<String>,
    /// When it failed, Unix seconds.
    pub failed_at: Option<i64>,
}

impl From<LabelState> for LabelInfo {
    fn from(l: LabelState) -> LabelInfo {
        LabelInfo {
            esl_id: l.esl_id,
            shop_id: l.shop_id,
            model: l.model.name().to_owned(),
            template: l.template,
            product_id: l.product_id,
            pending: l.pending,
            acked_at: l.acked.map(|a| a.at),
            failed_at: l.failure.as_ref().map(|f| f.at),
            failure: l.failure.map(|f| f.reason),
        }
    }
}

/// A page of labels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LabelsPage {
    /// The labels, by `esl_id`.
    pub labels: Vec<LabelInfo>,
    /// The `after` of the next page, when there is one.
    pub next: Option<String>,
}

const DEFAULT_PAGE: usize = 500;
const MAX_PAGE: usize = 10_000;

/// The registry's labels, by `esl_id`, a page at a time.
#[utoipa::path(get, path = "/labels", tag = "registry",
    params(LabelsQuery),
    responses(
        (status = 200, body = LabelsPage),
        (status = 400, description = "Unknown status or a limit out of range", body = crate::ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError)),
    security(("token" = [])))]
async fn labels(
    State(state): State<AppState>,
    Query(q): Query<LabelsQuery>,
) -> Result<axum::Json<LabelsPage>, Failure> {
    let db = db(&state)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!("limit {limit}: between 1 and {MAX_PAGE}"),
            None,
        ));
    }
    let status = q.status.clone().unwrap_or_else(|| "all".to_owned());
    if !matches!(status.as_str(), "all" | "pending" | "failed") {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!("status {status:?}: expected pending, failed or all"),
            None,
        ));
    }
    let all = blocking(move || {
        let mut registry = lock(&db.reads);
        match status.as_str() {
            "pending" => registry.pending_labels(),
            "failed" => registry.failed_labels(),
            _ => registry.labels(),
        }
        .map_err(|e| diff_failure(&e))
    })
    .await?;
    let mut chosen = all
        .into_iter()
        .filter(|l| q.shop.as_ref().is_none_or(|s| &l.shop_id == s))
        .filter(|l| {
            q.after
                .as_ref()
                .is_none_or(|a| l.esl_id.as_str() > a.as_str())
        });
    let labels: Vec<LabelInfo> = chosen.by_ref().take(limit).map(LabelInfo::from).collect();
    let next = match chosen.next() {
        Some(_) => labels.last().map(|l| l.esl_id.clone()),
        None => None,
    };
    Ok(axum::Json(LabelsPage { labels, next }))
}

/// What a label shows with its current data: the indexed PNG a run would push.
#[utoipa::path(get, path = "/labels/{esl_id}/preview.png", tag = "registry",
    params(("esl_id" = String, Path, description = "The ESL")),
    responses(
        (status = 200, description = "The label as an indexed PNG", content_type = "image/png"),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry, or no such label", body = crate::ApiError),
        (status = 422, description = "The label cannot be rendered (missing product, template error, …)", body = crate::ApiError)),
    security(("token" = [])))]
async fn preview(
    State(state): State<AppState>,
    Path(esl_id): Path<String>,
) -> Result<Response, Failure> {
    let db = db(&state)?;
    let png = blocking(move || {
        let mut registry = lock(&db.reads);
        if registry
            .label(&esl_id)
            .map_err(|e| diff_failure(&e))?
            .is_none()
        {
            return Err(Failure::new(
                StatusCode::NOT_FOUND,
                format!("no label {esl_id:?} in the registry"),
                None,
            ));
        }
        registry
            .current_image(&esl_id, &db.env)
            .map(|c| c.png)
            .map_err(|e| diff_failure(&e))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Body of `POST /v1/reprice` (optional: `{}` or no body is a real run).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepriceRequest {
    /// Plan only: count what would be rendered; change nothing, push nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Push the rendered labels (default: when the service has a platform). `true` without
    /// a platform (`--app-id`, `ESL_SECRET`) is refused.
    pub push: Option<bool>,
}

/// The progress of the current or last run.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RunStatus {
    /// Whether a run is going on.
    pub running: bool,
    /// Pending labels the run looks at.
    pub planned: u64,
    /// Labels settled so far.
    pub settled: u64,
    /// Labels that failed so far.
    pub failed: u64,
    /// The last finished run's report.
    #[schema(value_type = Option<Object>)]
    pub report: Option<RunReport>,
    /// Why the last run stopped, if it stopped with an error.
    pub error: Option<String>,
}

/// Sends a run's progress as server-sent events, and keeps it in the service's status.
struct EventObserver {
    db: Arc<Db>,
    tx: mpsc::UnboundedSender<Event>,
    last_progress: Instant,
}

/// At most this many `progress` events a second.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl EventObserver {
    fn send(&self, name: &str, data: &impl Serialize) {
        // A closed stream (the client went away) does not stop the run.
        if let Ok(event) = Event::default().event(name).json_data(data) {
            let _ = self.tx.send(event);
        }
    }

    fn progress(&mut self) {
        self.last_progress = Instant::now();
        let s = lock(&self.db.status).clone();
        self.send(
            "progress",
            &serde_json::json!({"planned": s.planned, "settled": s.settled, "failed": s.failed}),
        );
    }
}

impl Observer for EventObserver {
    fn waiting(&mut self, holder: &str, expires_in: Duration) {
        self.send(
            "waiting",
            &serde_json::json!({"holder": holder, "expires_in_s": expires_in.as_secs_f64()}),
        );
    }

    fn planned(&mut self, labels: u64) {
        lock(&self.db.status).planned = labels;
        self.send("planned", &serde_json::json!({ "labels": labels }));
    }

    fn settled(&mut self, esl_id: &str, outcome: &Outcome) {
        {
            let mut s = lock(&self.db.status);
            s.settled += 1;
            if matches!(outcome, Outcome::Failed { .. }) {
                s.failed += 1;
            }
        }
        if let Outcome::Failed { stage, cause } = outcome {
            self.send(
                "failed",
                &serde_json::json!({"esl_id": esl_id, "reason": format!("{}: {cause}", stage.name())}),
            );
        }
        if self.last_progress.elapsed() >= PROGRESS_EVERY {
            self.progress();
        }
    }
}

/// The events of a run, as a stream for [`Sse`].
struct Events(mpsc::UnboundedReceiver<Event>);

impl futures_core::Stream for Events {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(Ok))
    }
}

/// Clears the service's `running` flag however the run ends.
struct RunSlot(Arc<Db>);

impl Drop for RunSlot {
    fn drop(&mut self) {
        lock(&self.0.status).running = false;
        self.0.running.store(false, Ordering::SeqCst);
    }
}

/// Starts a run: re-renders and pushes exactly the labels whose picture changed. Answers
/// server-sent events: `waiting` (another process's run holds the registry), `planned`
/// (`{"labels"}`), `progress` (`{"planned", "settled", "failed"}`, at most ten a second),
/// `failed` (`{"esl_id", "reason"}`, one per failed label), then `done` with the run report
/// or `error` with `{"error"}`. One run at a time: another request meanwhile gets 409. The
/// run goes on if the client goes away; `GET /v1/reprice` tells its progress.
#[utoipa::path(post, path = "/reprice", tag = "registry",
    request_body(content = Option<RepriceRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The run's progress as server-sent events", content_type = "text/event-stream"),
        (status = 400, description = "Malformed body", body = crate::ApiError),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError),
        (status = 409, description = "A run is already going on", body = crate::ApiError),
        (status = 422, description = "Push asked for without a platform", body = crate::ApiError)),
    security(("token" = [])))]
async fn reprice(State(state): State<AppState>, body: Bytes) -> Result<Response, Failure> {
    let db = db(&state)?;
    let request: RepriceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RepriceRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("request body: {e}"),
                Some("(body)".into()),
            )
        })?
    };
    let push = request.push.unwrap_or(db.pusher.is_some()) && !request.dry_run;
    if push && db.pusher.is_none() {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "push: this service has no platform (start it with --app-id and ESL_SECRET)",
            Some("push".into()),
        ));
    }
    if db
        .running
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "a reprice run is already going on; GET /v1/reprice tells its progress",
            None,
        ));
    }
    let slot = RunSlot(Arc::clone(&db));
    *lock(&db.status) = RunStatus {
        running: true,
        ..RunStatus::default()
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let metrics_state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut observer = EventObserver {
            db: Arc::clone(&db),
            tx,
            last_progress: Instant::now(),
        };
        let options = RepriceOptions {
            dry_run: request.dry_run,
            ..RepriceOptions::default()
        };
        let publisher = if push {
            db.pusher.as_ref().map(|p| p as &dyn Publish)
        } else {
            None
        };
        let result = lock(&db.runner).reprice(&db.env, &options, publisher, &mut observer);
        observer.progress();
        let metrics = &metrics_state.inner.metrics;
        metrics.runs.fetch_add(1, Ordering::Relaxed);
        let (name, data) = match result {
            Ok(report) => {
                metrics.pushes.fetch_add(report.pushed, Ordering::Relaxed);
                metrics
                    .label_failures
                    .fetch_add(report.failed, Ordering::Relaxed);
                let data = serde_json::to_value(&report).unwrap_or_default();
                lock(&db.status).report = Some(report);
                ("done", data)
            }
            Err(e) => {
                metrics.run_errors.fetch_add(1, Ordering::Relaxed);
                let error = e.to_string();
                lock(&db.status).error = Some(error.clone());
                ("error", serde_json::json!({ "error": error }))
            }
        };
        // The slot is free before the last event, so a client may start the next run as
        // soon as it reads it.
        drop(slot);
        observer.send(name, &data);
    });
    Ok(Sse::new(Events(rx))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The current or last run's progress and report.
#[utoipa::path(get, path = "/reprice", tag = "registry",
    responses(
        (status = 200, body = RunStatus),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError)),
    security(("token" = [])))]
async fn run_status(State(state): State<AppState>) -> Result<axum::Json<RunStatus>, Failure> {
    let db = db(&state)?;
    let status = lock(&db.status).clone();
    Ok(axum::Json(status))
}

/// The registry routes, to be nested under `/v1`.
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(import_products))
        .routes(routes!(import_prices))
        .routes(routes!(import_labels))
        .routes(routes!(labels))
        .routes(routes!(preview))
        .routes(routes!(reprice, run_status))
        .merge(crate::shelf::routes())
}
