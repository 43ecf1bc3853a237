//! The run: sync, plan, check, render, push, acknowledge.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use esl_model::{Model, Product};
use esl_push::{Client, PushError, PushImage, Receipt};
use esl_render::{Renderer, Template};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinError, JoinSet};

use crate::error::DiffError;
use crate::fingerprint::{Fingerprint, ImageHash, Stamp, fingerprint, image_hash};
use crate::import::{ImportReport, ProductFile, next_seq, write_tx};
use crate::registry::{Registry, import_products_in};
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

    /// The renderer's part of every fingerprint.
    #[must_use]
    pub fn stamp(&self) -> Stamp {
        Stamp::of(&self.renderer)
    }
}

/// Pushes a run's images through the platform: an esl-push client, how many pushes may be in
/// flight at once, and the tokio runtime they run on.
///
/// The runtime must be a multi-thread runtime, and [`Registry::reprice`] must not be called
/// from inside it (it blocks on it): call it from a plain thread, or `spawn_blocking`.
#[derive(Clone, Debug)]
pub struct Pusher {
    client: Client,
    concurrency: usize,
    runtime: Handle,
}

impl Pusher {
    /// A pusher; `concurrency` is at least 1.
    #[must_use]
    pub fn new(client: Client, concurrency: usize, runtime: Handle) -> Pusher {
        Pusher {
            client,
            concurrency: concurrency.max(1),
            runtime,
        }
    }
}

/// Options of [`Registry::reprice`].
#[derive(Clone, Debug)]
pub struct RepriceOptions {
    /// A product file to import first, in its own transaction (a price file, a
    /// `product_list`, Koubei records).
    pub prices: Option<ProductFile>,
    /// Write every rendered label as `<out_dir>/<esl_id>.png` (characters other than
    /// letters, digits, `.`, `_` and `-` in the id become `_`).
    pub out_dir: Option<PathBuf>,
    /// Plan only: import, compare and count what would be rendered, then roll everything
    /// back. Nothing is rendered, written or pushed, and the registry is unchanged.
    pub dry_run: bool,
    /// Rendering threads (default: rayon's global pool, one per core).
    pub threads: Option<usize>,
    /// Labels per page of the plan (default 2048): the unit of rendering, of memory use, and
    /// of the commits of acknowledgements.
    pub page_size: usize,
    /// The clock for acknowledgement times, in Unix seconds.
    pub clock: fn() -> i64,
}

/// Seconds since the Unix epoch by the system clock.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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
        }
    }
}

/// The step at which a label failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Its template cannot be loaded or does not serve its model.
    Template,
    /// Its product is missing or unreadable.
    Product,
    /// Rendering failed (a missing field, a price too wide for its box, …).
    Render,
    /// The platform refused the image or could not be reached (after retries).
    Push,
}

/// What a run did with one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its fingerprint equals the acknowledged one: nothing to do.
    Unchanged,
    /// Dry run: it would be rendered.
    ToRender,
    /// Rendered, not pushed (no [`Pusher`]): it stays pending.
    Rendered,
    /// Rendered, pixel-identical to the acknowledged image: not pushed, settled.
    Identical,
    /// Rendered, pushed and acknowledged: settled.
    Pushed,
    /// Failed; it stays pending.
    Failed {
        /// Where.
        stage: Stage,
        /// Why.
        reason: String,
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
    pub reason: String,
}

/// Follows a run as it goes: for progress bars and logs. Called on the thread that runs
/// [`Registry::reprice`].
pub trait Observer {
    /// The plan is made: `labels` pending labels will be looked at.
    fn planned(&mut self, labels: u64) {
        let _ = labels;
    }
    /// A pending label is settled for this run.
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
/// `rendered = pushed + identical + not_pushed + push failures`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// Labels in the registry.
    pub considered: u64,
    /// Pending labels the plan looked at (the others cannot have changed).
    pub planned: u64,
    /// Labels whose fingerprint equals the acknowledged one.
    pub unchanged: u64,
    /// Labels rendered.
    pub rendered: u64,
    /// Distinct pictures rendered (labels with equal fingerprints share one).
    pub images: u64,
    /// Rendered labels pixel-identical to their acknowledged image: not pushed, settled.
    pub identical: u64,
    /// Labels pushed and acknowledged by the platform.
    pub pushed: u64,
    /// Rendered labels not pushed because the run had no pusher; they stay pending.
    pub not_pushed: u64,
    /// Labels that failed (template, product, render or push); they stay pending.
    pub failed: u64,
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
    /// Whether images were pushed.
    pub push: bool,
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

/// A rendered picture, shared by every label of its fingerprint.
#[derive(Clone)]
struct Picture {
    png: Arc<[u8]>,
    hash: ImageHash,
    warned: bool,
}

type Rendering = Result<Picture, String>;

fn render_one(
    renderer: &Renderer,
    template: &Template,
    product: &Product,
    model: Model,
) -> Rendering {
    let r = renderer
        .render(template, product, model)
        .map_err(|e| e.to_string())?;
    let png = r.image.to_png(1).map_err(|e| e.to_string())?;
    Ok(Picture {
        png: png.into(),
        hash: image_hash(&r.image),
        warned: !r.warnings.is_empty(),
    })
}

/// A pending label as the plan reads it.
struct Candidate {
    esl_id: String,
    shop_id: String,
    model: String,
    template_id: i64,
    product_id: String,
    pending: i64,
    acked_fp: Option<Fingerprint>,
    acked_image: Option<ImageHash>,
}

/// The ordering key of the plan (and of the `labels_pending` index).
type Cursor = (i64, String, String, String);

fn fetch_page(
    conn: &Connection,
    after: &Cursor,
    limit: usize,
) -> Result<Vec<Candidate>, DiffError> {
    let mut stmt = conn.prepare_cached(
        "SELECT esl_id, shop_id, model, template_id, product_id, pending, acked_fp, acked_image
         FROM labels
         WHERE pending <> 0 AND (template_id, model, product_id, esl_id) > (?1, ?2, ?3, ?4)
         ORDER BY template_id, model, product_id, esl_id
         LIMIT ?5",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after.0, after.1, after.2, after.3, limit], |r| {
        let fp: Option<Vec<u8>> = r.get(6)?;
        let img: Option<Vec<u8>> = r.get(7)?;
        Ok(Candidate {
            esl_id: r.get(0)?,
            shop_id: r.get(1)?,
            model: r.get(2)?,
            template_id: r.get(3)?,
            product_id: r.get(4)?,
            pending: r.get(5)?,
            acked_fp: fp.as_deref().and_then(Fingerprint::from_slice),
            acked_image: img.as_deref().and_then(ImageHash::from_slice),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<i64>, DiffError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn meta_set(conn: &Connection, key: &str, value: i64) -> Result<(), DiffError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

type TemplateMap = HashMap<i64, Result<Arc<LoadedTemplate>, String>>;

/// Compares the rendering environment and every template in use with what the registry saw
/// last; a difference marks the labels concerned pending. Returns the loaded templates.
fn sync(conn: &Connection, env: &RenderEnv) -> Result<(TemplateMap, Vec<String>), DiffError> {
    let seq = next_seq(conn)?;
    let stamp = env.stamp();
    let version = meta_get(conn, "render_version")?;
    let fonts = meta_get(conn, "font_fingerprint")?;
    let fonts_now = stamp.fonts as i64; // the u64's bit pattern
    if version.is_some()
        && (version != Some(i64::from(stamp.render_version)) || fonts != Some(fonts_now))
    {
        conn.execute("UPDATE labels SET pending = ?1", [seq])?;
    }
    meta_set(conn, "render_version", i64::from(stamp.render_version))?;
    meta_set(conn, "font_fingerprint", fonts_now)?;

    let mut stmt = conn.prepare(
        "SELECT id, source FROM templates t
         WHERE EXISTS (SELECT 1 FROM labels l WHERE l.template_id = t.id)",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut map = TemplateMap::new();
    let mut errors = Vec::new();
    for (id, key) in rows {
        let loaded = match TemplateSource::from_key(&key) {
            None => Err(format!("template key {key:?} is not understood")),
            Some(source) => env.templates.load(&source).map_err(|e| e.to_string()),
        };
        match loaded {
            Ok(t) => {
                crate::import::note_template(conn, seq, &key, t.content_hash)?;
                map.insert(id, Ok(Arc::new(t)));
            }
            Err(e) => {
                errors.push(e.clone());
                map.insert(id, Err(e));
            }
        }
    }
    Ok((map, errors))
}

/// An acknowledgement (or settlement) to commit.
enum Ack {
    /// The fingerprint equals the acknowledged one.
    Clear { esl_id: String, pending: i64 },
    /// The new picture equals the acknowledged one: the new fingerprint is acknowledged too.
    Identical {
        esl_id: String,
        fp: Fingerprint,
        pending: i64,
    },
    /// The platform acknowledged the new picture.
    Pushed {
        esl_id: String,
        fp: Fingerprint,
        image: ImageHash,
        pending: i64,
        at: i64,
    },
}

fn commit_acks(conn: &Connection, acks: &mut Vec<Ack>) -> Result<(), DiffError> {
    if acks.is_empty() {
        return Ok(());
    }
    write_tx(conn, |c| {
        // `pending` is cleared only if it still holds the change sequence the plan saw: a
        // change imported meanwhile keeps the label pending.
        let mut clear =
            c.prepare_cached("UPDATE labels SET pending = 0 WHERE esl_id = ?1 AND pending = ?2")?;
        let mut identical = c.prepare_cached(
            "UPDATE labels SET acked_fp = ?2,
                pending = CASE WHEN pending = ?3 THEN 0 ELSE pending END
             WHERE esl_id = ?1",
        )?;
        let mut pushed = c.prepare_cached(
            "UPDATE labels SET acked_fp = ?2, acked_image = ?3, acked_at = ?4,
                pending = CASE WHEN pending = ?5 THEN 0 ELSE pending END
             WHERE esl_id = ?1",
        )?;
        for ack in acks.drain(..) {
            match ack {
                Ack::Clear { esl_id, pending } => {
                    clear.execute(params![esl_id, pending])?;
                }
                Ack::Identical {
                    esl_id,
                    fp,
                    pending,
                } => {
                    identical.execute(params![esl_id, &fp.0[..], pending])?;
                }
                Ack::Pushed {
                    esl_id,
                    fp,
                    image,
                    pending,
                    at,
                } => {
                    pushed.execute(params![esl_id, &fp.0[..], &image.0[..], at, pending])?;
                }
            }
        }
        Ok(())
    })
}

/// A finished push.
struct Done {
    esl_id: String,
    fp: Fingerprint,
    image: ImageHash,
    pending: i64,
    result: Result<Receipt, PushError>,
}

/// Pushes in flight.
struct Queue<'p> {
    pusher: &'p Pusher,
    set: JoinSet<Done>,
    permits: Arc<Semaphore>,
    ids: HashMap<Id, String>,
}

type Joined = Result<Done, (String, String)>;

impl<'p> Queue<'p> {
    fn new(pusher: &'p Pusher) -> Queue<'p> {
        Queue {
            pusher,
            set: JoinSet::new(),
            permits: Arc::new(Semaphore::new(pusher.concurrency)),
            ids: HashMap::new(),
        }
    }

    fn spawn(&mut self, c: &Candidate, fp: Fingerprint, picture: &Picture) {
        let job = PushImage::new(
            c.shop_id.clone(),
            c.esl_id.clone(),
            Arc::clone(&picture.png),
        );
        let client = self.pusher.client.clone();
        let permits = Arc::clone(&self.permits);
        let (esl_id, image, pending) = (c.esl_id.clone(), picture.hash, c.pending);
        let handle = self.set.spawn_on(
            async move {
                // The semaphore is never closed, so acquiring cannot fail.
                let _permit = permits.acquire_owned().await;
                let result = client.push_image(&job).await;
                Done {
                    esl_id,
                    fp,
                    image,
                    pending,
                    result,
                }
            },
            &self.pusher.runtime,
        );
        self.ids.insert(handle.id(), c.esl_id.clone());
    }

    fn len(&self) -> usize {
        self.set.len()
    }

    fn joined(&mut self, r: Result<(Id, Done), JoinError>) -> Joined {
        match r {
            Ok((id, done)) => {
                self.ids.remove(&id);
                Ok(done)
            }
            Err(e) => {
                let esl_id = self.ids.remove(&e.id()).unwrap_or_default();
                Err((esl_id, format!("push task failed: {e}")))
            }
        }
    }

    /// A finished push, if one is ready.
    fn try_next(&mut self) -> Option<Joined> {
        let r = self.set.try_join_next_with_id()?;
        Some(self.joined(r))
    }

    /// The next push to finish, waiting for it; `None` when none is in flight.
    fn next(&mut self) -> Option<Joined> {
        let runtime = self.pusher.runtime.clone();
        let r = runtime.block_on(self.set.join_next_with_id())?;
        Some(self.joined(r))
    }
}

/// The counts, and the observer that hears of each label.
struct Tally<'o> {
    report: RunReport,
    observer: &'o mut dyn Observer,
}

impl Tally<'_> {
    fn fail(&mut self, esl_id: &str, stage: Stage, reason: String) {
        self.report.failed += 1;
        self.observer.settled(
            esl_id,
            &Outcome::Failed {
                stage,
                reason: reason.clone(),
            },
        );
        if self.report.failures.len() < MAX_LISTED_FAILURES {
            self.report.failures.push(LabelFailure {
                esl_id: esl_id.to_owned(),
                stage,
                reason,
            });
        } else {
            self.report.failures_omitted += 1;
        }
    }

    fn settle(&mut self, esl_id: &str, outcome: Outcome) {
        self.observer.settled(esl_id, &outcome);
    }
}

/// The output file of a label.
fn out_path(dir: &Path, esl_id: &str) -> PathBuf {
    let safe: String = esl_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    };
    dir.join(format!("{safe}.png"))
}

/// One run's state.
struct Run<'a, 'o> {
    conn: &'a Connection,
    env: &'a RenderEnv,
    opts: &'a RepriceOptions,
    pool: Option<rayon::ThreadPool>,
    stamp: Stamp,
    templates: TemplateMap,
    tally: Tally<'o>,
    acks: Vec<Ack>,
    queue: Option<Queue<'a>>,
    /// The pictures of the previous page, by fingerprint: labels with equal pictures are
    /// adjacent in the plan's order, and a group may straddle two pages.
    cache: HashMap<Fingerprint, Rendering>,
}

impl Run<'_, '_> {
    fn on_done(&mut self, joined: Joined) -> Result<(), DiffError> {
        match joined {
            Ok(Done {
                esl_id,
                fp,
                image,
                pending,
                result: Ok(_),
            }) => {
                self.tally.report.pushed += 1;
                self.tally.settle(&esl_id, Outcome::Pushed);
                self.acks.push(Ack::Pushed {
                    esl_id,
                    fp,
                    image,
                    pending,
                    at: (self.opts.clock)(),
                });
            }
            Ok(Done {
                esl_id,
                result: Err(e),
                ..
            }) => self.tally.fail(&esl_id, Stage::Push, e.to_string()),
            Err((esl_id, reason)) => self.tally.fail(&esl_id, Stage::Push, reason),
        }
        if self.acks.len() >= ACK_BATCH {
            commit_acks(self.conn, &mut self.acks)?;
        }
        Ok(())
    }

    fn render_all(&self, jobs: &[(Arc<LoadedTemplate>, &Product, Model)]) -> Vec<Rendering> {
        let renderer = &self.env.renderer;
        let work = || {
            jobs.par_iter()
                .map(|(t, p, m)| render_one(renderer, &t.template, p, *m))
                .collect()
        };
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    fn page(&mut self, page: &[Candidate]) -> Result<(), DiffError> {
        let mut products: HashMap<&str, Result<Product, String>> = HashMap::new();
        for c in page {
            if !products.contains_key(c.product_id.as_str()) {
                let loaded = match crate::import::load_product(self.conn, &c.product_id)? {
                    Some(p) => Ok(p),
                    None => Err(format!(
                        "product {:?} is not in the registry (deleted? re-bind the label)",
                        c.product_id
                    )),
                };
                products.insert(&c.product_id, loaded);
            }
        }

        // Check: fingerprints against the acknowledged ones.
        let mut changed: Vec<(usize, Fingerprint, Arc<LoadedTemplate>, Model)> = Vec::new();
        for (i, c) in page.iter().enumerate() {
            let template = match self.templates.get(&c.template_id) {
                Some(Ok(t)) => Arc::clone(t),
                Some(Err(reason)) => {
                    let reason = reason.clone();
                    self.tally.fail(&c.esl_id, Stage::Template, reason);
                    continue;
                }
                None => {
                    self.tally.fail(
                        &c.esl_id,
                        Stage::Template,
                        format!("template {} is not registered", c.template_id),
                    );
                    continue;
                }
            };
            let model = match c.model.parse::<Model>() {
                Ok(m) => m,
                Err(e) => {
                    self.tally.fail(&c.esl_id, Stage::Template, e.to_string());
                    continue;
                }
            };
            let product = match products.get(c.product_id.as_str()) {
                Some(Ok(p)) => p,
                Some(Err(reason)) => {
                    let reason = reason.clone();
                    self.tally.fail(&c.esl_id, Stage::Product, reason);
                    continue;
                }
                None => continue,
            };
            let fp = fingerprint(
                self.stamp,
                template.content_hash,
                &template.fields,
                model,
                product,
            );
            if Some(fp) == c.acked_fp {
                self.tally.report.unchanged += 1;
                self.tally.settle(&c.esl_id, Outcome::Unchanged);
                if !self.opts.dry_run {
                    self.acks.push(Ack::Clear {
                        esl_id: c.esl_id.clone(),
                        pending: c.pending,
                    });
                }
            } else {
                changed.push((i, fp, template, model));
            }
        }
        if self.opts.dry_run {
            for (i, ..) in &changed {
                self.tally.report.to_render += 1;
                self.tally.settle(&page[*i].esl_id, Outcome::ToRender);
            }
            return Ok(());
        }

        // Render: each distinct fingerprint once, in parallel; results in job order.
        let mut jobs: Vec<(Arc<LoadedTemplate>, &Product, Model)> = Vec::new();
        let mut job_fps: Vec<Fingerprint> = Vec::new();
        let mut seen: HashSet<Fingerprint> = HashSet::new();
        for (i, fp, template, model) in &changed {
            if self.cache.contains_key(fp) || !seen.insert(*fp) {
                continue;
            }
            if let Some(Ok(product)) = products.get(page[*i].product_id.as_str()) {
                jobs.push((Arc::clone(template), product, *model));
                job_fps.push(*fp);
            }
        }
        let results = self.render_all(&jobs);
        self.tally.report.images += jobs.len() as u64;
        let mut pictures: HashMap<Fingerprint, Rendering> =
            job_fps.into_iter().zip(results).collect();
        for (_, fp, ..) in &changed {
            if !pictures.contains_key(fp) {
                if let Some(r) = self.cache.get(fp) {
                    pictures.insert(*fp, r.clone());
                }
            }
        }

        // Settle or push each changed label.
        for (i, fp, ..) in &changed {
            let c = &page[*i];
            let picture = match pictures.get(fp) {
                Some(Ok(p)) => p,
                Some(Err(reason)) => {
                    let reason = reason.clone();
                    self.tally.fail(&c.esl_id, Stage::Render, reason);
                    continue;
                }
                None => continue,
            };
            self.tally.report.rendered += 1;
            if picture.warned {
                self.tally.report.warnings += 1;
            }
            if let Some(dir) = &self.opts.out_dir {
                let path = out_path(dir, &c.esl_id);
                std::fs::write(&path, &picture.png).map_err(|source| DiffError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            }
            if Some(picture.hash) == c.acked_image {
                self.tally.report.identical += 1;
                self.tally.settle(&c.esl_id, Outcome::Identical);
                self.acks.push(Ack::Identical {
                    esl_id: c.esl_id.clone(),
                    fp: *fp,
                    pending: c.pending,
                });
            } else if let Some(queue) = &mut self.queue {
                queue.spawn(c, *fp, picture);
            } else {
                self.tally.report.not_pushed += 1;
                self.tally.settle(&c.esl_id, Outcome::Rendered);
            }
        }
        self.cache = pictures;

        // Collect finished pushes; keep at most a page of pictures in flight.
        let limit = self.opts.page_size.max(1);
        while let Some(j) = self.next_done(limit) {
            self.on_done(j)?;
        }
        commit_acks(self.conn, &mut self.acks)
    }

    /// A finished push: one that is ready, or, while more than `wait_above` are in flight,
    /// the next to finish.
    fn next_done(&mut self, wait_above: usize) -> Option<Joined> {
        let queue = self.queue.as_mut()?;
        if let Some(j) = queue.try_next() {
            return Some(j);
        }
        if queue.len() > wait_above {
            queue.next()
        } else {
            None
        }
    }

    fn finish(&mut self) -> Result<(), DiffError> {
        while let Some(j) = self.next_done(0) {
            self.on_done(j)?;
        }
        if !self.opts.dry_run {
            commit_acks(self.conn, &mut self.acks)?;
        }
        Ok(())
    }
}

fn count(conn: &Connection, sql: &str) -> Result<u64, DiffError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn run_steps(
    conn: &Connection,
    env: &RenderEnv,
    opts: &RepriceOptions,
    pusher: Option<&Pusher>,
    observer: &mut dyn Observer,
) -> Result<RunReport, DiffError> {
    let start = Instant::now();
    let mut report = RunReport {
        dry_run: opts.dry_run,
        push: pusher.is_some() && !opts.dry_run,
        ..RunReport::default()
    };
    if let Some(file) = &opts.prices {
        let import = write_tx(conn, |c| import_products_in(c, file))?;
        report.bad_rows = import.bad_rows.len() as u64;
        report.import = Some(import);
    }
    let (templates, template_errors) = write_tx(conn, |c| sync(c, env))?;
    report.template_errors = template_errors;
    report.considered = count(conn, "SELECT count(*) FROM labels")?;
    report.planned = count(conn, "SELECT count(*) FROM labels WHERE pending <> 0")?;
    observer.planned(report.planned);
    if let Some(dir) = opts.out_dir.as_ref().filter(|_| !opts.dry_run) {
        std::fs::create_dir_all(dir).map_err(|source| DiffError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let pool = opts
        .threads
        .map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build())
        .transpose()?;
    let mut run = Run {
        conn,
        env,
        opts,
        pool,
        stamp: env.stamp(),
        templates,
        tally: Tally { report, observer },
        acks: Vec::new(),
        queue: pusher.filter(|_| !opts.dry_run).map(Queue::new),
        cache: HashMap::new(),
    };
    let page_size = opts.page_size.max(1);
    let mut cursor: Cursor = (i64::MIN, String::new(), String::new(), String::new());
    loop {
        let page = fetch_page(conn, &cursor, page_size)?;
        let Some(last) = page.last() else { break };
        cursor = (
            last.template_id,
            last.model.clone(),
            last.product_id.clone(),
            last.esl_id.clone(),
        );
        run.page(&page)?;
        if page.len() < page_size {
            break;
        }
    }
    run.finish()?;
    let mut report = run.tally.report;
    // Labels that were not pending cannot have changed.
    report.unchanged += report.considered.saturating_sub(report.planned);
    report.pending = count(conn, "SELECT count(*) FROM labels WHERE pending <> 0")?;
    report.elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

impl Registry {
    /// The whole job: imports [`RepriceOptions::prices`], notices edited templates and a new
    /// renderer, then checks every pending label's fingerprint, renders the changed ones (each
    /// distinct picture once, in parallel), and pushes those whose picture differs from the
    /// acknowledged one through `pusher`.
    ///
    /// What is recorded: a label is settled (no longer pending) when its fingerprint equals
    /// the acknowledged one, when its new picture is pixel-identical to the acknowledged one
    /// (the new fingerprint is then recorded as acknowledged), or when the platform
    /// acknowledged the pushed picture (fingerprint, pixel hash and time recorded). Without a
    /// pusher nothing is pushed, so rendered labels stay pending: only the platform
    /// acknowledges. Failures stay pending and are retried by the next run.
    ///
    /// # Errors
    /// [`DiffError::Input`] when the product file cannot be read at all; [`DiffError::Io`]
    /// when a preview cannot be written; [`DiffError::Db`]; [`DiffError::Threads`]. Labels that
    /// fail are reported, not errors. Everything committed before an error stays valid.
    ///
    /// # Panics
    /// If called from within an async context while pushing (see [`Pusher`]).
    pub fn reprice(
        &mut self,
        env: &RenderEnv,
        opts: &RepriceOptions,
        pusher: Option<&Pusher>,
        observer: &mut dyn Observer,
    ) -> Result<RunReport, DiffError> {
        let conn = &self.conn;
        if !opts.dry_run {
            return run_steps(conn, env, opts, pusher, observer);
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = run_steps(conn, env, opts, pusher, observer);
        conn.execute_batch("ROLLBACK")?;
        result
    }
}
