//! The registry: which label shows which product with which template on which model, and what
//! the platform last acknowledged for it, over a [`Store`].

use std::path::{Path, PathBuf};

use esl_model::{Model, Product};
use esl_render::Fingerprint;

use crate::error::DiffError;
use crate::fingerprint::{ImageHash, image_hash};
use crate::import::{self, CsvMode, ImportReport, ProductFile};
use crate::publish::Publish;
use crate::run::{self, Observer, RenderEnv, RepriceOptions, RunReport};
use crate::sqlite::SqliteStore;
use crate::store::{LabelFilter, LabelRow, RegistryStats, Store};
use crate::templates::{TemplateLibrary, TemplateSource};

/// The label registry. See [`crate::store`] for what any backend keeps, and
/// [`crate::sqlite`] for the SQLite file [`Registry::open`] uses.
///
/// One `Registry` is one connection; several processes may open the same file. Runs take
/// the registry's lease, so overlapping runs take turns; imports may happen at any time.
pub struct Registry {
    store: Box<dyn Store>,
    path: PathBuf,
    /// The runtime of the blocking [`Registry::reprice`], made on first use.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("store", &self.store.describe())
            .finish_non_exhaustive()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Shutting down in the background never blocks, so a registry may be dropped inside
        // async code too.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// What the platform last acknowledged for a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acknowledged {
    /// The fingerprint of the scene the image was rendered from.
    pub fingerprint: Fingerprint,
    /// The image's pixel hash.
    pub image: ImageHash,
    /// When the platform acknowledged it, Unix seconds.
    pub at: i64,
}

/// One label as the registry knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelState {
    /// The ESL.
    pub esl_id: String,
    /// Its shop.
    pub shop_id: String,
    /// Its model.
    pub model: Model,
    /// Its template's source key ([`TemplateSource::key`]).
    pub template: String,
    /// The product it shows.
    pub product_id: String,
    /// Whether the next run must look at it.
    pub pending: bool,
    /// The last acknowledged image, if any.
    pub acked: Option<Acknowledged>,
    /// Why the last run that tried it failed, if it has not been settled since.
    pub failure: Option<LabelFailureNote>,
}

/// A label's last failure, as the registry records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelFailureNote {
    /// The stage and the reason (`"push: …"`).
    pub reason: String,
    /// When, Unix seconds.
    pub at: i64,
}

/// A label's picture as its current data gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentImage {
    /// The label's scene fingerprint now.
    pub fingerprint: Fingerprint,
    /// The picture's pixel hash.
    pub image: ImageHash,
    /// The picture as the indexed PNG a run pushes.
    pub png: Vec<u8>,
}

fn state(row: LabelRow) -> Result<LabelState, DiffError> {
    let model = row.model.parse::<Model>().map_err(|e| DiffError::Label {
        esl_id: row.esl_id.clone(),
        reason: e.to_string(),
    })?;
    Ok(LabelState {
        esl_id: row.esl_id,
        shop_id: row.shop_id,
        model,
        template: row.template,
        product_id: row.product_id,
        pending: row.pending,
        acked: row.acked.map(|(fingerprint, image, at)| Acknowledged {
            fingerprint,
            image,
            at,
        }),
        failure: row
            .failure
            .map(|(reason, at)| LabelFailureNote { reason, at }),
    })
}

impl Registry {
    /// Opens (or creates) a registry file ([`SqliteStore`]) and brings its schema up to date.
    ///
    /// # Errors
    /// [`DiffError::Db`] when the file cannot be opened or is not a registry,
    /// [`DiffError::NewerSchema`] when a newer esl wrote it.
    pub fn open(path: &Path) -> Result<Registry, DiffError> {
        let store = SqliteStore::open(path)?;
        Ok(Registry {
            store: Box::new(store),
            path: path.to_path_buf(),
            runtime: None,
        })
    }

    /// A registry over another backend.
    #[must_use]
    pub fn with_store(store: Box<dyn Store>) -> Registry {
        Registry {
            path: PathBuf::from(store.describe()),
            store,
            runtime: None,
        }
    }

    /// The registry file (or, for another backend, its description).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the registry holds.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn stats(&mut self) -> Result<RegistryStats, DiffError> {
        self.store.stats()
    }

    /// One label.
    ///
    /// # Errors
    /// [`DiffError::Db`]; [`DiffError::Label`] for a stored model this build does not know.
    pub fn label(&mut self, esl_id: &str) -> Result<Option<LabelState>, DiffError> {
        self.store
            .labels(LabelFilter::Esl(esl_id))?
            .into_iter()
            .next()
            .map(state)
            .transpose()
    }

    /// Every label, by `esl_id`.
    ///
    /// # Errors
    /// As [`Registry::label`].
    pub fn labels(&mut self) -> Result<Vec<LabelState>, DiffError> {
        self.store
            .labels(LabelFilter::All)?
            .into_iter()
            .map(state)
            .collect()
    }

    /// The pending labels, by `esl_id`: what the next run will look at.
    ///
    /// # Errors
    /// As [`Registry::label`].
    pub fn pending_labels(&mut self) -> Result<Vec<LabelState>, DiffError> {
        self.store
            .labels(LabelFilter::Pending)?
            .into_iter()
            .map(state)
            .collect()
    }

    /// The labels whose last try failed (they are pending too), by `esl_id`.
    ///
    /// # Errors
    /// As [`Registry::label`].
    pub fn failed_labels(&mut self) -> Result<Vec<LabelState>, DiffError> {
        self.store
            .labels(LabelFilter::Failed)?
            .into_iter()
            .map(state)
            .collect()
    }

    /// The labels showing a product, by `esl_id`.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn labels_of_product(&mut self, product_id: &str) -> Result<Vec<String>, DiffError> {
        Ok(self
            .store
            .labels(LabelFilter::Product(product_id))?
            .into_iter()
            .map(|r| r.esl_id)
            .collect())
    }

    /// A product.
    ///
    /// # Errors
    /// [`DiffError::Db`]; [`DiffError::Input`] if the stored JSON is unreadable.
    pub fn product(&mut self, id: &str) -> Result<Option<Product>, DiffError> {
        Ok(self.store.products(&[id])?.remove(id))
    }

    /// Imports a product file in one transaction. A product whose fields change marks its
    /// labels pending. The rules, and the choices made where the seeds leave room, are in
    /// [`crate::import`].
    ///
    /// # Errors
    /// [`DiffError::Input`] when the file cannot be read at all (nothing is applied);
    /// [`DiffError::Db`]. Bad rows are not errors: they are in the report.
    pub fn import_products(&mut self, file: &ProductFile) -> Result<ImportReport, DiffError> {
        self.store
            .import(&mut |tx| import::import_products(tx, file))
    }

    /// Reads a product file ([`ProductFile::read`]; CSV as a catalogue) and imports it.
    ///
    /// # Errors
    /// As [`Registry::import_products`], and [`DiffError::Io`].
    pub fn import_products_file(&mut self, path: &Path) -> Result<ImportReport, DiffError> {
        self.import_products(&ProductFile::read(path, CsvMode::Catalogue)?)
    }

    /// Imports label bindings (CSV: `esl_id, shop_id, model, template, product_id`) in one
    /// transaction. `template` is resolved by `library` ([`TemplateLibrary::resolve`]),
    /// relative paths against `base_dir`. A new or re-bound label is pending.
    ///
    /// # Errors
    /// [`DiffError::Input`] when the file has no usable header; [`DiffError::Db`].
    pub fn import_labels(
        &mut self,
        source: &str,
        bytes: &[u8],
        base_dir: Option<&Path>,
        library: &TemplateLibrary,
    ) -> Result<ImportReport, DiffError> {
        self.store
            .import(&mut |tx| import::import_labels(tx, source, bytes, base_dir, library))
    }

    /// Reads a label-bindings file and imports it; template paths are relative to its folder.
    ///
    /// # Errors
    /// As [`Registry::import_labels`], and [`DiffError::Io`].
    pub fn import_labels_file(
        &mut self,
        path: &Path,
        library: &TemplateLibrary,
    ) -> Result<ImportReport, DiffError> {
        let bytes = std::fs::read(path).map_err(|source| DiffError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.import_labels(&path.display().to_string(), &bytes, path.parent(), library)
    }

    /// Marks every label pending, so the next run binds every label again (it still
    /// renders only the labels whose scene changed). Returns the number of labels.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn mark_all_pending(&mut self) -> Result<u64, DiffError> {
        self.store.mark_all_pending()
    }

    /// Renders a label from its current data, as a run would: its scene fingerprint and
    /// picture.
    ///
    /// # Errors
    /// [`DiffError::Label`] for an unknown label, a missing product or a render error;
    /// template errors; [`DiffError::Db`].
    pub fn current_image(
        &mut self,
        esl_id: &str,
        env: &RenderEnv,
    ) -> Result<CurrentImage, DiffError> {
        let label_error = |reason: String| DiffError::Label {
            esl_id: esl_id.to_owned(),
            reason,
        };
        let label = self
            .label(esl_id)?
            .ok_or_else(|| label_error("not in the registry".to_owned()))?;
        let source = TemplateSource::from_key(&label.template)
            .ok_or_else(|| label_error(format!("bad template key {:?}", label.template)))?;
        let template = env.templates.load(&source)?;
        let product = self.product(&label.product_id)?.ok_or_else(|| {
            label_error(format!(
                "product {} is not in the registry",
                label.product_id
            ))
        })?;
        let scene = env
            .renderer
            .bind(&template.template, &product, label.model)
            .map_err(|e| label_error(e.to_string()))?;
        let image = esl_render::rasterise(&scene);
        let png = image.to_png(1).map_err(|e| label_error(e.to_string()))?;
        Ok(CurrentImage {
            fingerprint: scene.fingerprint(),
            image: image_hash(&image),
            png,
        })
    }

    /// The whole job, from async code: imports [`RepriceOptions::prices`], takes the
    /// registry's lease (waiting for another run up to [`RepriceOptions::lease_wait`]),
    /// notices edited templates, pictures, fonts and a new engine, binds every pending label
    /// and compares its scene fingerprint with the acknowledged one, rasterises each changed
    /// scene once (in parallel, on the rendering threads, without blocking the runtime),
    /// publishes the pictures that differ from what the labels show, records the
    /// acknowledgements, and tries transient failures again until the push deadline.
    ///
    /// What is recorded: a label is settled when its fingerprint equals the acknowledged
    /// one, when its new picture is pixel-identical to the acknowledged one, or when the
    /// publisher delivered the picture and the acknowledgement matched the run's intent.
    /// Without a publisher nothing is pushed, so rendered labels stay pending. Failures stay
    /// pending and are retried by the next run. The runtime needs time and I/O enabled (as
    /// esl-push's client does).
    ///
    /// # Errors
    /// [`DiffError::Busy`] when another run holds the lease beyond the wait;
    /// [`DiffError::LeaseLost`]; [`DiffError::Input`] when the product file cannot be read at
    /// all; [`DiffError::Io`] when a preview cannot be written; [`DiffError::Db`];
    /// [`DiffError::Threads`]. Labels that fail are reported, not errors. Everything
    /// committed before an error stays valid.
    pub async fn reprice_async(
        &mut self,
        env: &RenderEnv,
        opts: &RepriceOptions,
        publisher: Option<&dyn Publish>,
        observer: &mut dyn Observer,
    ) -> Result<RunReport, DiffError> {
        run::reprice(self.store.as_mut(), env, opts, publisher, observer).await
    }

    /// [`Registry::reprice_async`], blocking the calling thread until the run is over.
    ///
    /// Safe to call from any thread, inside an async runtime too: the run is driven on a
    /// thread of its own, by a runtime the registry keeps for its blocking runs (so a
    /// publisher's connections survive from one run to the next). The calling thread is
    /// blocked meanwhile: from async code, prefer [`Registry::reprice_async`], or call this
    /// from `spawn_blocking`.
    ///
    /// # Errors
    /// As [`Registry::reprice_async`]; [`DiffError::Worker`] when the runtime cannot start.
    pub fn reprice(
        &mut self,
        env: &RenderEnv,
        opts: &RepriceOptions,
        publisher: Option<&dyn Publish>,
        observer: &mut dyn Observer,
    ) -> Result<RunReport, DiffError> {
        if self.runtime.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| DiffError::Worker(format!("cannot start the run's runtime: {e}")))?;
            self.runtime = Some(rt);
        }
        let Registry { store, runtime, .. } = self;
        let Some(runtime) = runtime.as_ref() else {
            return Err(DiffError::Worker("no runtime".to_owned()));
        };
        let store = store.as_mut();
        std::thread::scope(|s| {
            s.spawn(move || runtime.block_on(run::reprice(store, env, opts, publisher, observer)))
                .join()
                .unwrap_or_else(|_| Err(DiffError::Worker("the run's thread panicked".to_owned())))
        })
    }
}
