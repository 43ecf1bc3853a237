//! The run: lease, sync, plan (bind and compare scene fingerprints), rasterise, publish,
//! acknowledge, sweep.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esl_model::{Model, Product};
use esl_push::{ApiCode, PushError, TransportKind};
use esl_render::{Fingerprint, RenderError, RenderErrorKind, Renderer, Scene, rasterise};
use rayon::prelude::*;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use crate::error::DiffError;
use crate::fingerprint::{ImageHash, Stamp, image_hash};
use crate::import::{self, ImportReport, ProductFile};
use crate::publish::{Publish, PublishError, PublishJob, Published};
use crate::store::{
    Ack, AckResult, Candidate, Cursor, FailureNote, LeaseOp, LeaseState, Settlement, Store,
};
use crate::templates::{LoadedTemplate, TemplateLibrary, TemplateSource};

/// What rendering needs: the renderer (fonts, options) and where templates come from.
#[derive(Clone, Debug)]
pub struct RenderEnv {
    /// The renderer; one serves every rayon thread.
    pub renderer: Renderer,
    /// Where templates are found.
    pub templates: TemplateLibrary,
}

impl RenderEnv {
    /// An environment.
    #[must_use]
    pub fn new(renderer: Renderer, templates: TemplateLibrary) -> RenderEnv {
        RenderEnv {
            renderer,
            templates,
        }
    }

    /// The rendering environment's stamp (engine version, fonts): when it changes, every
    /// label is bound again at the next run.
    #[must_use]
    pub fn stamp(&self) -> Stamp {
        Stamp::of(&self.renderer)
    }
}

/// Options of a run ([`crate::Registry::reprice`]).
#[derive(Clone, Debug)]
pub struct RepriceOptions {
    /// A product file to import first, in its own transaction (a price file, a
    /// `product_list`, Koubei records).
    pub prices: Option<ProductFile>,
    /// Write every rendered label as `<out_dir>/<esl_id>.png` (characters other than
    /// letters, digits, `.`, `_` and `-` in the id become `_`).
    pub out_dir: Option<PathBuf>,
    /// Plan only: import, bind and count what would be rendered, then roll everything back.
    /// Nothing is rendered, written or pushed, and the registry is unchanged.
    pub dry_run: bool,
    /// Rendering threads (default: rayon's global pool, one per core).
    pub threads: Option<usize>,
    /// Labels per page of the plan (default 2048): the unit of rendering, of memory use, and
    /// of the commits of acknowledgements.
    pub page_size: usize,
    /// The clock for acknowledgement times, in Unix seconds.
    pub clock: fn() -> i64,
    /// How long the run lease lasts unless renewed (default 60 s). A run renews it every
    /// third of this while it works; a run that dies holds it at most this long. It must be
    /// longer than a push can stay in flight.
    pub lease_ttl: Duration,
    /// How long to wait for another run that holds the lease before giving up with
    /// [`DiffError::Busy`] (default 10 minutes; zero: do not wait).
    pub lease_wait: Duration,
    /// Pushes that failed on transient errors (after the client's own retries) are tried
    /// again, in rounds with growing pauses, until they are delivered, fail permanently, or
    /// this much time has passed since the run started (default 15 minutes). What is left is
    /// deferred: pending for the next run.
    pub push_deadline: Duration,
    /// The circuit breaker: after this many pushes in a row failed on transient errors
    /// (after the client's own retries), the platform is taken to be down and the run stops
    /// pushing (default 20). What is left stays pending for the next run.
    pub breaker_threshold: usize,
}

/// Seconds since the Unix epoch by the system clock.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch by the system clock: the lease's clock, which must be
/// comparable between processes.
fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Default for RepriceOptions {
    fn default() -> Self {
        RepriceOptions {
            prices: None,
            out_dir: None,
            dry_run: false,
            threads: None,
            page_size: 2048,
            clock: unix_now,
            lease_ttl: Duration::from_secs(60),
            lease_wait: Duration::from_secs(600),
            push_deadline: Duration::from_secs(900),
            breaker_threshold: 20,
        }
    }
}

/// The step at which a label failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Its template cannot be loaded, or its model is unknown.
    Template,
    /// Its product is missing or unreadable.
    Product,
    /// Binding or rendering failed (a missing field, a price too wide for its box, …).
    Render,
    /// The picture was not delivered.
    Push,
}

impl Stage {
    /// The stage's name, as in the report (`template`, `product`, `render`, `push`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Stage::Template => "template",
            Stage::Product => "product",
            Stage::Render => "render",
            Stage::Push => "push",
        }
    }
}

fn api_code<S: serde::Serializer>(code: &ApiCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(code.code())
}

fn transport_kind<S: serde::Serializer>(kind: &TransportKind, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(kind)
}

/// Why a label failed, for an embedder to act on: `match` on it.
///
/// In JSON it is an object with a `kind` (`template`, `model`, `product`, `render`,
/// `encode`, `platform`, `http`, `transport`, `rejected`, `output`, `overtaken`), the fields
/// of that kind (a platform error keeps its `code` as a number), and the `message`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// The label's template cannot be loaded.
    Template {
        /// Why.
        message: String,
    },
    /// The label's model is not known.
    Model {
        /// The model as the registry has it.
        model: String,
        /// Why.
        message: String,
    },
    /// The label's product is not in the registry, or unreadable.
    Product {
        /// The product.
        product_id: String,
        /// Why.
        message: String,
    },
    /// The label cannot be bound or rendered: a missing field, a price that does not fit
    /// its box (alert the merchandiser), …
    Render {
        /// The kind of render error.
        error: RenderErrorKind,
        /// The JSON path of the element, if the error is about one.
        element: Option<String>,
        /// The full message.
        message: String,
    },
    /// The picture cannot be encoded.
    Encode {
        /// Why.
        message: String,
    },
    /// The platform answered with an error code (5005: a picture it cannot show; 5301: an
    /// unknown ESL; …).
    Platform {
        /// The code.
        #[serde(serialize_with = "api_code")]
        code: ApiCode,
        /// The platform's message, with the endpoint.
        message: String,
    },
    /// The platform answered with an HTTP status other than 200.
    Http {
        /// The status.
        status: u16,
        /// The message, with the body.
        message: String,
    },
    /// The platform could not be reached or the connection broke (after retries).
    Transport {
        /// What kind of failure.
        #[serde(serialize_with = "transport_kind")]
        transport: TransportKind,
        /// The message.
        message: String,
    },
    /// The request was refused before it was sent (too large, invalid), or the reply was
    /// not understood.
    Rejected {
        /// Why.
        message: String,
    },
    /// A publisher's file could not be written.
    Output {
        /// Why.
        message: String,
    },
    /// Another run pushed the label while this run's push was in flight: what it shows is
    /// not known, so it is pending again with no acknowledged image.
    Overtaken {
        /// What happened.
        message: String,
    },
}

impl Cause {
    fn render(e: &RenderError) -> Cause {
        Cause::Render {
            error: e.kind(),
            element: e.element().map(str::to_owned),
            message: e.to_string(),
        }
    }

    fn push(e: &PushError) -> Cause {
        let message = e.to_string();
        match e {
            PushError::Api { code, .. } => Cause::Platform {
                code: *code,
                message,
            },
            PushError::Unauthorized { code, .. } => Cause::Platform {
                code: ApiCode::from_code(code.unwrap_or(5090)),
                message,
            },
            PushError::Http { status, .. } => Cause::Http {
                status: *status,
                message,
            },
            PushError::Transport { kind, .. } => Cause::Transport {
                transport: *kind,
                message,
            },
            PushError::GaveUp { last, .. } => match Cause::push(last) {
                Cause::Platform { code, .. } => Cause::Platform { code, message },
                Cause::Http { status, .. } => Cause::Http { status, message },
                Cause::Transport { transport, .. } => Cause::Transport { transport, message },
                _ => Cause::Rejected { message },
            },
            _ => Cause::Rejected { message },
        }
    }

    fn publish(e: &PublishError) -> Cause {
        match e {
            PublishError::Push(p) => Cause::push(p),
            other => Cause::Output {
                message: other.to_string(),
            },
        }
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Cause::Template { message }
            | Cause::Model { message, .. }
            | Cause::Product { message, .. }
            | Cause::Render { message, .. }
            | Cause::Encode { message }
            | Cause::Platform { message, .. }
            | Cause::Http { message, .. }
            | Cause::Transport { message, .. }
            | Cause::Rejected { message }
            | Cause::Output { message }
            | Cause::Overtaken { message } => message,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// What a run did with one label.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Its scene's fingerprint equals the acknowledged one: nothing to do.
    Unchanged,
    /// Dry run: it would be rendered.
    ToRender,
    /// Rendered, not published (the run had no publisher): it stays pending.
    Rendered,
    /// Rendered, pixel-identical to the acknowledged image: not pushed, settled.
    Identical,
    /// Rendered, delivered and acknowledged: settled.
    Pushed,
    /// Not delivered in this run: the push deadline passed or the circuit breaker opened
    /// while it was still to be pushed. It stays pending.
    Deferred {
        /// Why.
        reason: String,
    },
    /// Failed; it stays pending.
    Failed {
        /// Where.
        stage: Stage,
        /// Why.
        cause: Cause,
    },
}

/// A label that failed, for the report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LabelFailure {
    /// The ESL.
    pub esl_id: String,
    /// Where it failed.
    pub stage: Stage,
    /// Why.
    pub cause: Cause,
}

/// Follows a run as it goes: for progress bars and logs.
pub trait Observer: Send {
    /// Another run holds the registry's lease; this run waits for it.
    fn waiting(&mut self, holder: &str, expires_in: Duration) {
        let _ = (holder, expires_in);
    }
    /// The plan is made: `labels` pending labels will be looked at.
    fn planned(&mut self, labels: u64) {
        let _ = labels;
    }
    /// A pending label is settled for this run (once per label).
    fn settled(&mut self, esl_id: &str, outcome: &Outcome) {
        let _ = (esl_id, outcome);
    }
}

/// An [`Observer`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// The report of a run. The counts add up:
/// `considered = unchanged + rendered + to_render + failures before rendering`, and
/// `rendered = pushed + identical + not_pushed + overtaken + deferred + push failures`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// Labels in the registry.
    pub considered: u64,
    /// Pending labels the plan looked at (the others cannot have changed).
    pub planned: u64,
    /// Labels whose scene fingerprint equals the acknowledged one.
    pub unchanged: u64,
    /// Labels rendered.
    pub rendered: u64,
    /// Distinct pictures rendered (labels with equal scenes share one raster and one PNG).
    pub images: u64,
    /// Rendered labels pixel-identical to their acknowledged image: not pushed, settled.
    pub identical: u64,
    /// Labels delivered and acknowledged.
    pub pushed: u64,
    /// Rendered labels not published because the run had no publisher; they stay pending.
    pub not_pushed: u64,
    /// Labels that failed (template, product, render or push); they stay pending.
    pub failed: u64,
    /// Labels whose push was overtaken by another run; pending again.
    pub overtaken: u64,
    /// Labels not delivered because the push deadline passed or the circuit breaker opened;
    /// they stay pending.
    pub deferred: u64,
    /// Rounds of the end-of-run sweep of transient push failures.
    pub sweep_rounds: u32,
    /// Why the run stopped pushing early, when the circuit breaker opened.
    pub circuit_open: Option<String>,
    /// Dry run: labels that would be rendered.
    pub to_render: u64,
    /// Rendered labels with render warnings (text cut, missing glyphs).
    pub warnings: u64,
    /// Labels pending after the run.
    pub pending: u64,
    /// Bad rows of the imported product file.
    pub bad_rows: u64,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether pictures were published.
    pub push: bool,
    /// Time spent waiting for another run's lease, milliseconds.
    pub lease_wait_ms: u64,
    /// Wall time of the run, milliseconds.
    pub elapsed_ms: u64,
    /// The import of [`RepriceOptions::prices`].
    pub import: Option<ImportReport>,
    /// Templates that could not be loaded.
    pub template_errors: Vec<String>,
    /// The first failures (at most 1000).
    pub failures: Vec<LabelFailure>,
    /// Failures beyond those listed.
    pub failures_omitted: u64,
}

const MAX_LISTED_FAILURES: usize = 1000;
/// Acknowledgements are committed at least this often.
const ACK_BATCH: usize = 256;
/// The lease's name in the store.
const LEASE: &str = "run";

/// A file name made of an id: letters, digits, `.`, `_`, `-`; anything else becomes `_`,
/// and a leading `.` is escaped.
pub(crate) fn safe_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.starts_with('.') || safe.is_empty() {
        format!("_{safe}")
    } else {
        safe
    }
}

/// The output file of a label.
fn out_path(dir: &Path, esl_id: &str) -> PathBuf {
    dir.join(format!("{}.png", safe_name(esl_id)))
}

/// A rendered picture, shared by every label of its scene.
#[derive(Clone)]
struct Picture {
    png: Arc<[u8]>,
    hash: ImageHash,
}

type Rendering = Result<Picture, String>;

/// Runs `f` over `items` on the rendering threads, in parallel, and waits for the results
/// without blocking the async runtime; results are in the order of `items`.
async fn parallel<T, R, F>(
    pool: Option<&Arc<rayon::ThreadPool>>,
    items: Vec<T>,
    f: F,
) -> Result<Vec<R>, DiffError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let (tx, rx) = oneshot::channel();
    let work = move || {
        let out: Vec<R> = items.into_par_iter().map(f).collect();
        // The receiver is gone only if the run was dropped: nobody wants the results.
        let _ = tx.send(out);
    };
    match pool {
        Some(p) => p.spawn(work),
        None => rayon::spawn(work),
    }
    rx.await
        .map_err(|_| DiffError::Worker("the rendering threads stopped".to_owned()))
}

/// How a queued push ended.
enum Pushed {
    /// The publisher's answer.
    Done(Result<Published, PublishError>),
    /// Not started: the circuit breaker opened while it waited for its turn.
    Skipped,
}

/// A push in flight, and what to record when it is acknowledged.
#[derive(Clone)]
struct PushMeta {
    esl_id: String,
    shop_id: String,
    model: Model,
    fingerprint: Fingerprint,
    image: ImageHash,
    pending: i64,
    png: Arc<[u8]>,
}

/// Consecutive transient failures, and whether the breaker opened.
struct Breaker {
    threshold: usize,
    in_a_row: usize,
    open: Option<String>,
    /// Seen by queued pushes, which then do not start.
    tripped: Arc<std::sync::atomic::AtomicBool>,
}

impl Breaker {
    fn record(&mut self, transient_failure: bool) {
        if !transient_failure {
            self.in_a_row = 0;
            return;
        }
        self.in_a_row += 1;
        if self.in_a_row >= self.threshold.max(1) && self.open.is_none() {
            self.tripped
                .store(true, std::sync::atomic::Ordering::SeqCst);
            self.open = Some(format!(
                "the circuit breaker opened: {} pushes in a row failed on transient errors (the platform looks down); the run stopped pushing, and what is left stays pending for the next run",
                self.in_a_row
            ));
        }
    }
}

/// The run lease, held while the run changes labels.
struct Lease {
    holder: String,
    ttl: Duration,
    renewed: Instant,
}

impl Lease {
    async fn acquire(
        store: &mut dyn Store,
        holder: &str,
        opts: &RepriceOptions,
        observer: &mut dyn Observer,
    ) -> Result<(Lease, Duration), DiffError> {
        let start = Instant::now();
        let ttl_ms = i64::try_from(opts.lease_ttl.as_millis()).unwrap_or(i64::MAX);
        let mut told = None::<String>;
        loop {
            let now = unix_now_ms();
            let op = LeaseOp::Acquire {
                holder,
                now_ms: now,
                expires_at_ms: now.saturating_add(ttl_ms),
            };
            match store.lease(LEASE, op)? {
                LeaseState::Ours => {
                    return Ok((
                        Lease {
                            holder: holder.to_owned(),
                            ttl: opts.lease_ttl,
                            renewed: Instant::now(),
                        },
                        start.elapsed(),
                    ));
                }
                LeaseState::Held {
                    holder: other,
                    expires_at_ms,
                } => {
                    let expires_in =
                        Duration::from_millis(u64::try_from(expires_at_ms - now).unwrap_or(0));
                    let waited = start.elapsed();
                    if waited >= opts.lease_wait {
                        return Err(DiffError::Busy {
                            registry: store.describe(),
                            holder: other,
                            expires_in,
                            waited,
                        });
                    }
                    if told.as_deref() != Some(other.as_str()) {
                        observer.waiting(&other, expires_in);
                        told = Some(other);
                    }
                    let pause = Duration::from_millis(250)
                        .max(expires_in.min(Duration::from_secs(1)))
                        .min(opts.lease_wait - waited);
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// Renews the lease when a third of its time has passed.
    fn renew_if_due(&mut self, store: &mut dyn Store) -> Result<(), DiffError> {
        if self.renewed.elapsed() < self.ttl / 3 {
            return Ok(());
        }
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let op = LeaseOp::Renew {
            holder: &self.holder,
            expires_at_ms: unix_now_ms().saturating_add(ttl_ms),
        };
        match store.lease(LEASE, op)? {
            LeaseState::Ours => {
                self.renewed = Instant::now();
                Ok(())
            }
            LeaseState::Held { holder, .. } => Err(DiffError::LeaseLost {
                registry: store.describe(),
                holder,
            }),
        }
    }
}

/// One run's state.
struct Run<'a> {
    store: &'a mut dyn Store,
    env: &'a RenderEnv,
    opts: &'a RepriceOptions,
    run_id: String,
    pool: Option<Arc<rayon::ThreadPool>>,
    templates: BTreeMap<i64, Result<Arc<LoadedTemplate>, String>>,
    report: RunReport,
    observer: &'a mut dyn Observer,
    publisher: Option<&'a dyn Publish>,
    permits: Arc<Semaphore>,
    pushes: JoinSet<(PushMeta, Pushed)>,
    acks: Vec<(Ack, PushMeta)>,
    /// Transient push failures, for the sweep.
    sweep: Vec<PushMeta>,
    /// Failures not yet recorded in the store.
    failures: Vec<FailureNote>,
    breaker: Breaker,
    lease: Option<Lease>,
    started: Instant,
    /// The pictures of the previous page, by fingerprint: labels with equal scenes are
    /// adjacent in the plan's order, and a group may straddle two pages.
    cache: HashMap<Fingerprint, Rendering>,
}

impl Run<'_> {
    fn fail(&mut self, esl_id: &str, stage: Stage, cause: Cause) {
        self.report.failed += 1;
        self.listed(esl_id, stage, cause);
    }

    /// Tells the observer, lists the label among the report's failures and notes the
    /// failure for the registry.
    fn listed(&mut self, esl_id: &str, stage: Stage, cause: Cause) {
        self.failures.push(FailureNote {
            esl_id: esl_id.to_owned(),
            reason: format!("{}: {cause}", stage.name()),
            at: (self.opts.clock)(),
        });
        self.observer.settled(
            esl_id,
            &Outcome::Failed {
                stage,
                cause: cause.clone(),
            },
        );
        if self.report.failures.len() < MAX_LISTED_FAILURES {
            self.report.failures.push(LabelFailure {
                esl_id: esl_id.to_owned(),
                stage,
                cause,
            });
        } else {
            self.report.failures_omitted += 1;
        }
    }

    fn defer(&mut self, esl_id: &str, reason: String) {
        self.report.deferred += 1;
        self.observer.settled(esl_id, &Outcome::Deferred { reason });
    }

    /// Records the failures noted since the last call.
    fn flush_failures(&mut self) -> Result<(), DiffError> {
        let failures = std::mem::take(&mut self.failures);
        self.store.note_failures(&failures)
    }

    fn renew(&mut self) -> Result<(), DiffError> {
        match &mut self.lease {
            Some(lease) => lease.renew_if_due(self.store),
            None => Ok(()),
        }
    }

    /// Loads every template labels use, and records their content hashes: an edited
    /// template or picture file marks its labels pending.
    fn sync(&mut self) -> Result<(), DiffError> {
        self.store.environment(self.env.stamp())?;
        let mut hashes = Vec::new();
        for (id, key) in self.store.templates_in_use()? {
            let loaded = match TemplateSource::from_key(&key) {
                None => Err(format!("template key {key:?} is not understood")),
                Some(source) => self.env.templates.load(&source).map_err(|e| e.to_string()),
            };
            match loaded {
                Ok(t) => {
                    hashes.push((id, t.content_hash));
                    self.templates.insert(id, Ok(Arc::new(t)));
                }
                Err(e) => {
                    self.report.template_errors.push(e.clone());
                    self.templates.insert(id, Err(e));
                }
            }
        }
        self.store.note_templates(&hashes)?;
        Ok(())
    }

    async fn page(&mut self, page: &[Candidate]) -> Result<(), DiffError> {
        let mut ids: Vec<&str> = page.iter().map(|c| c.product_id.as_str()).collect();
        ids.dedup();
        let products: BTreeMap<String, Arc<Product>> = self
            .store
            .products(&ids)?
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();

        // Bind every candidate (in parallel): its scene is what it would show.
        let mut jobs: Vec<(usize, Arc<LoadedTemplate>, Arc<Product>, Model)> = Vec::new();
        for (i, c) in page.iter().enumerate() {
            let template = match self.templates.get(&c.template_id) {
                Some(Ok(t)) => Arc::clone(t),
                Some(Err(message)) => {
                    let message = message.clone();
                    self.fail(&c.esl_id, Stage::Template, Cause::Template { message });
                    continue;
                }
                None => {
                    let message = format!("template {} is not registered", c.template_id);
                    self.fail(&c.esl_id, Stage::Template, Cause::Template { message });
                    continue;
                }
            };
            let model = match c.model.parse::<Model>() {
                Ok(m) => m,
                Err(e) => {
                    let cause = Cause::Model {
                        model: c.model.clone(),
                        message: e.to_string(),
                    };
                    self.fail(&c.esl_id, Stage::Template, cause);
                    continue;
                }
            };
            let Some(product) = products.get(&c.product_id) else {
                let cause = Cause::Product {
                    product_id: c.product_id.clone(),
                    message: format!(
                        "product {:?} is not in the registry (deleted? re-bind the label)",
                        c.product_id
                    ),
                };
                self.fail(&c.esl_id, Stage::Product, cause);
                continue;
            };
            jobs.push((i, template, Arc::clone(product), model));
        }
        let renderer = self.env.renderer.clone();
        let bound = parallel(self.pool.as_ref(), jobs, move |(i, t, p, m)| {
            (i, m, renderer.bind(&t.template, &p, m))
        })
        .await?;

        // Compare fingerprints with the acknowledged ones.
        let mut settlements = Vec::new();
        let mut changed: Vec<(usize, Model, Fingerprint, bool)> = Vec::new();
        let mut to_draw: Vec<(Fingerprint, Scene)> = Vec::new();
        for (i, model, result) in bound {
            let c = &page[i];
            let scene = match result {
                Ok(s) => s,
                Err(e) => {
                    self.fail(&c.esl_id, Stage::Render, Cause::render(&e));
                    continue;
                }
            };
            let fp = scene.fingerprint();
            // A label with a stale intent may show anything: it is pushed whatever the
            // fingerprints say.
            let known = c.stale_intent.is_none();
            if known && Some(fp) == c.acked_fp {
                self.report.unchanged += 1;
                self.observer.settled(&c.esl_id, &Outcome::Unchanged);
                settlements.push(Settlement::Unchanged {
                    esl_id: c.esl_id.clone(),
                    pending: c.pending,
                });
                continue;
            }
            let warned = !scene.warnings().is_empty();
            if !self.cache.contains_key(&fp) && !to_draw.iter().any(|(f, _)| *f == fp) {
                to_draw.push((fp, scene));
            }
            changed.push((i, model, fp, warned));
        }
        if self.opts.dry_run {
            for (i, ..) in &changed {
                self.report.to_render += 1;
                self.observer.settled(&page[*i].esl_id, &Outcome::ToRender);
            }
            return Ok(());
        }

        // Rasterise each distinct scene once, in parallel; results in job order.
        self.report.images += to_draw.len() as u64;
        let drawn = parallel(self.pool.as_ref(), to_draw, |(fp, scene)| {
            let image = rasterise(&scene);
            let picture = image
                .to_png(1)
                .map_err(|e| e.to_string())
                .map(|png| Picture {
                    png: png.into(),
                    hash: image_hash(&image),
                });
            (fp, picture)
        })
        .await?;
        let mut pictures: HashMap<Fingerprint, Rendering> = drawn.into_iter().collect();
        for (_, _, fp, _) in &changed {
            if !pictures.contains_key(fp) {
                if let Some(r) = self.cache.get(fp) {
                    pictures.insert(*fp, r.clone());
                }
            }
        }

        // Settle or publish each changed label.
        let mut to_push = Vec::new();
        for (i, model, fp, warned) in changed {
            let c = &page[i];
            let picture = match pictures.get(&fp) {
                Some(Ok(p)) => p.clone(),
                Some(Err(message)) => {
                    let cause = Cause::Encode {
                        message: message.clone(),
                    };
                    self.fail(&c.esl_id, Stage::Render, cause);
                    continue;
                }
                None => continue,
            };
            self.report.rendered += 1;
            if warned {
                self.report.warnings += 1;
            }
            if let Some(dir) = &self.opts.out_dir {
                let path = out_path(dir, &c.esl_id);
                std::fs::write(&path, &picture.png).map_err(|source| DiffError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            }
            if c.stale_intent.is_none() && Some(picture.hash) == c.acked_image {
                self.report.identical += 1;
                self.observer.settled(&c.esl_id, &Outcome::Identical);
                settlements.push(Settlement::Identical {
                    esl_id: c.esl_id.clone(),
                    fingerprint: fp,
                    pending: c.pending,
                });
            } else if self.publisher.is_none() {
                self.report.not_pushed += 1;
                self.observer.settled(&c.esl_id, &Outcome::Rendered);
            } else if let Some(reason) = self.breaker.open.clone() {
                self.defer(&c.esl_id, reason);
            } else {
                settlements.push(Settlement::Intent {
                    esl_id: c.esl_id.clone(),
                    fingerprint: fp,
                });
                to_push.push(PushMeta {
                    esl_id: c.esl_id.clone(),
                    shop_id: c.shop_id.clone(),
                    model,
                    fingerprint: fp,
                    image: picture.hash,
                    pending: c.pending,
                    png: Arc::clone(&picture.png),
                });
            }
        }
        self.cache = pictures;
        // Intents are on record before any of these pushes leaves.
        self.store.settle(&self.run_id, &settlements)?;
        for meta in to_push {
            self.spawn(meta);
        }
        // Collect finished pushes; keep at most a page of pictures in flight.
        let limit = self.opts.page_size.max(1);
        while let Some(done) = self.next_done(limit).await? {
            self.on_done(done)?;
        }
        self.commit_acks()?;
        self.flush_failures()
    }

    fn spawn(&mut self, meta: PushMeta) {
        let Some(publisher) = self.publisher else {
            return;
        };
        let job = PublishJob {
            shop_id: meta.shop_id.clone(),
            esl_id: meta.esl_id.clone(),
            model: meta.model,
            png: Arc::clone(&meta.png),
        };
        let future = publisher.publish(job);
        let permits = Arc::clone(&self.permits);
        let tripped = Arc::clone(&self.breaker.tripped);
        self.pushes.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await;
            if tripped.load(std::sync::atomic::Ordering::SeqCst) {
                return (meta, Pushed::Skipped);
            }
            (meta, Pushed::Done(future.await))
        });
    }

    /// A finished push: one that is ready, or, while more than `wait_above` are in flight,
    /// the next to finish (renewing the lease while it waits).
    async fn next_done(
        &mut self,
        wait_above: usize,
    ) -> Result<Option<(PushMeta, Pushed)>, DiffError> {
        loop {
            if let Some(joined) = self.pushes.try_join_next() {
                return Ok(Some(Self::joined(joined)));
            }
            if self.pushes.len() <= wait_above {
                return Ok(None);
            }
            let tick = self
                .lease
                .as_ref()
                .map_or(Duration::from_secs(3600), |l| l.ttl / 4);
            match tokio::time::timeout(tick, self.pushes.join_next()).await {
                Ok(Some(joined)) => return Ok(Some(Self::joined(joined))),
                Ok(None) => return Ok(None),
                Err(_) => self.renew()?,
            }
        }
    }

    fn joined(joined: Result<(PushMeta, Pushed), tokio::task::JoinError>) -> (PushMeta, Pushed) {
        match joined {
            Ok(done) => done,
            // A push task cannot panic (the publisher's future returns its errors), and the
            // set is never aborted; should it happen anyway, the label is reported failed
            // under an empty id rather than lost silently.
            Err(e) => (
                PushMeta {
                    esl_id: String::new(),
                    shop_id: String::new(),
                    model: Model::Sl121,
                    fingerprint: Fingerprint([0; 32]),
                    image: ImageHash([0; 16]),
                    pending: 0,
                    png: Arc::from(&[][..]),
                },
                Pushed::Done(Err(PublishError::Io {
                    path: String::new(),
                    source: std::io::Error::other(format!("push task failed: {e}")),
                })),
            ),
        }
    }

    fn on_done(&mut self, (meta, pushed): (PushMeta, Pushed)) -> Result<(), DiffError> {
        let result = match pushed {
            Pushed::Done(r) => r,
            Pushed::Skipped => {
                let reason = self.breaker.open.clone().unwrap_or_default();
                self.defer(&meta.esl_id, reason);
                return Ok(());
            }
        };
        match result {
            Ok(_) => {
                self.breaker.record(false);
                let ack = Ack {
                    esl_id: meta.esl_id.clone(),
                    fingerprint: meta.fingerprint,
                    image: meta.image,
                    pending: meta.pending,
                    at: (self.opts.clock)(),
                };
                self.acks.push((ack, meta));
                if self.acks.len() >= ACK_BATCH {
                    self.commit_acks()?;
                }
            }
            Err(e) if e.is_transient() => {
                self.breaker.record(true);
                self.sweep.push(meta);
            }
            Err(e) => {
                self.breaker.record(false);
                self.fail(&meta.esl_id, Stage::Push, Cause::publish(&e));
            }
        }
        Ok(())
    }

    fn commit_acks(&mut self) -> Result<(), DiffError> {
        if self.acks.is_empty() {
            return Ok(());
        }
        let (acks, metas): (Vec<Ack>, Vec<PushMeta>) =
            std::mem::take(&mut self.acks).into_iter().unzip();
        let results = self.store.acknowledge(&self.run_id, &acks)?;
        for (meta, result) in metas.iter().zip(results) {
            match result {
                AckResult::Recorded => {
                    self.report.pushed += 1;
                    self.observer.settled(&meta.esl_id, &Outcome::Pushed);
                }
                AckResult::Overtaken => {
                    self.report.overtaken += 1;
                    let cause = Cause::Overtaken {
                        message: "another run pushed this label while this run's push was in flight; it is pending again".to_owned(),
                    };
                    // Counted as overtaken, not among the failed; listed with the failures.
                    self.listed(&meta.esl_id, Stage::Push, cause);
                }
            }
        }
        self.renew()
    }

    /// Waits for every push in flight, then tries transient failures again in rounds until
    /// they are delivered, fail permanently, or the deadline passes.
    async fn finish(&mut self) -> Result<(), DiffError> {
        while let Some(done) = self.next_done(0).await? {
            self.on_done(done)?;
        }
        self.commit_acks()?;
        let deadline = self.started + self.opts.push_deadline;
        let mut round = 0u32;
        while !self.sweep.is_empty() {
            if let Some(reason) = self.breaker.open.clone() {
                for meta in std::mem::take(&mut self.sweep) {
                    self.defer(&meta.esl_id, reason.clone());
                }
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                let reason = format!(
                    "the push deadline ({:?} after the run started) passed while it failed on transient errors; it stays pending for the next run",
                    self.opts.push_deadline
                );
                for meta in std::mem::take(&mut self.sweep) {
                    self.defer(&meta.esl_id, reason.clone());
                }
                break;
            }
            // Pauses of 0.5 s, 1 s, 2 s, … up to 30 s between rounds.
            let pause = Duration::from_millis(500u64.saturating_mul(1 << round.min(6)))
                .min(Duration::from_secs(30))
                .min(deadline - now);
            let mut slept = Duration::ZERO;
            while slept < pause {
                let step = (pause - slept).min(Duration::from_secs(5));
                tokio::time::sleep(step).await;
                slept += step;
                self.renew()?;
            }
            round += 1;
            self.report.sweep_rounds = round;
            for meta in std::mem::take(&mut self.sweep) {
                self.spawn(meta);
            }
            while let Some(done) = self.next_done(0).await? {
                self.on_done(done)?;
            }
            self.commit_acks()?;
        }
        self.flush_failures()
    }
}

/// A run id: unique enough that two runs never share one.
fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // The standard library's random hasher keys give per-process randomness without a
    // dependency.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("run-{}-{:016x}", std::process::id(), h.finish())
}

/// The whole job on a store: see [`crate::Registry::reprice_async`].
pub(crate) async fn reprice(
    store: &mut dyn Store,
    env: &RenderEnv,
    opts: &RepriceOptions,
    publisher: Option<&dyn Publish>,
    observer: &mut dyn Observer,
) -> Result<RunReport, DiffError> {
    if opts.dry_run {
        store.begin_dry_run()?;
        let result = steps(store, env, opts, None, observer).await;
        let ended = store.end_dry_run();
        let report = result?;
        ended?;
        return Ok(report);
    }
    steps(store, env, opts, publisher, observer).await
}

async fn steps(
    store: &mut dyn Store,
    env: &RenderEnv,
    opts: &RepriceOptions,
    publisher: Option<&dyn Publish>,
    observer: &mut dyn Observer,
) -> Result<RunReport, DiffError> {
    let started = Instant::now();
    let mut report = RunReport {
        dry_run: opts.dry_run,
        push: publisher.is_some() && !opts.dry_run,
        ..RunReport::default()
    };
    if let Some(file) = &opts.prices {
        let import = store.import(&mut |tx| import::import_products(tx, file))?;
        report.bad_rows = import.bad_rows.len() as u64;
        report.import = Some(import);
    }
    let run_id = new_run_id();
    let lease = if opts.dry_run {
        None
    } else {
        let (lease, waited) = Lease::acquire(store, &run_id, opts, observer).await?;
        report.lease_wait_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        Some(lease)
    };
    let pool = opts
        .threads
        .map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build())
        .transpose()?
        .map(Arc::new);
    let concurrency = publisher.map_or(1, |p| p.concurrency().max(1));
    let mut run = Run {
        store,
        env,
        opts,
        run_id,
        pool,
        templates: BTreeMap::new(),
        report,
        observer,
        publisher,
        permits: Arc::new(Semaphore::new(concurrency)),
        pushes: JoinSet::new(),
        acks: Vec::new(),
        sweep: Vec::new(),
        failures: Vec::new(),
        breaker: Breaker {
            threshold: opts.breaker_threshold,
            in_a_row: 0,
            open: None,
            tripped: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        },
        lease,
        started,
        cache: HashMap::new(),
    };
    let result = run_pages(&mut run).await;
    // The lease is given up whatever happened; a run that dies here holds it only until it
    // expires.
    if let Some(lease) = run.lease.take() {
        let released = run.store.lease(
            LEASE,
            LeaseOp::Release {
                holder: &lease.holder,
            },
        );
        result?;
        released?;
    } else {
        result?;
    }
    let mut report = run.report;
    report.circuit_open = run.breaker.open.take();
    // Labels that were not pending cannot have changed.
    report.unchanged += report.considered.saturating_sub(report.planned);
    report.pending = run.store.stats()?.pending;
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

async fn run_pages(run: &mut Run<'_>) -> Result<(), DiffError> {
    run.sync()?;
    let stats = run.store.stats()?;
    run.report.considered = stats.labels;
    run.report.planned = stats.pending;
    run.observer.planned(stats.pending);
    if let Some(dir) = run.opts.out_dir.as_ref().filter(|_| !run.opts.dry_run) {
        std::fs::create_dir_all(dir).map_err(|source| DiffError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let page_size = run.opts.page_size.max(1);
    let mut cursor: Cursor = (i64::MIN, String::new(), String::new(), String::new());
    loop {
        run.renew()?;
        let page = run.store.pending_page(&cursor, page_size)?;
        let Some(last) = page.last() else { break };
        cursor = (
            last.template_id,
            last.model.clone(),
            last.product_id.clone(),
            last.esl_id.clone(),
        );
        run.page(&page).await?;
        if page.len() < page_size {
            break;
        }
    }
    run.finish().await
}
