//! `esl-diff` is the batch stage of esl: it knows which label shows which product, and
//! re-renders and pushes exactly the labels whose picture changed.
//!
//! # The pipeline
//!
//! ```text
//! price file / catalogue / product_list JSON / Koubei dish records
//!     ──Registry::import_products──▶ products (a changed product marks its labels pending)
//! label bindings CSV ──Registry::import_labels──▶ labels (esl_id, shop, model, template, product)
//!
//! Registry::reprice / reprice_async:
//!   lease    one run at a time changes labels (a stale lease expires)
//!   sync     fonts/engine, and every template in use by content (JSON and picture pixels)
//!   plan     pending labels only, in pages ordered by template, model, product
//!   bind     each candidate's Scene (rayon); its fingerprint equal to the acknowledged one?
//!            yes → unchanged, settled
//!   draw     each distinct changed scene rasterised once (rayon; identical bytes at any thread
//!            count); a picture pixel-identical to the acknowledged one is settled, not pushed
//!   publish  intents recorded, then the Publish sink (esl-push, or a folder); compare-and-set
//!            acknowledgements; transient failures swept until the deadline; a circuit breaker
//! ```
//!
//! The registry sits on a [`Store`] ([`store`] says what every backend keeps; [`sqlite`] is
//! the SQLite file). Every import is one transaction, acknowledgements are committed in small
//! batches, and the only state that says "done" is written after the platform's answer: a run
//! killed at any point (even `kill -9`) and run again ends with every label showing its data.
//! A run without a publisher renders (and can write previews) but records no
//! acknowledgement: its labels stay pending. Failures carry a typed [`Cause`].
//!
//! ```no_run
//! use esl_diff::{CsvMode, ProductFile, Registry, RenderEnv, RepriceOptions, TemplateLibrary};
//!
//! let mut registry = Registry::open("labels.db".as_ref())?;
//! let env = RenderEnv::new(esl_render::Renderer::bundled(), TemplateLibrary::new().with_dir("templates"));
//! registry.import_labels_file("bindings.csv".as_ref(), &env.templates)?;
//! let options = RepriceOptions {
//!     prices: Some(ProductFile::read("prices.csv".as_ref(), CsvMode::Prices)?),
//!     ..RepriceOptions::default()
//! };
//! let report = registry.reprice(&env, &options, None, &mut esl_diff::NoObserver)?;
//! println!("{} of {} labels re-rendered", report.rendered, report.considered);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(clippy::unwrap_used)]
#![warn(missing_docs, clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![forbid(unsafe_code)]

mod error;
pub mod fingerprint;
pub mod import;
mod publish;
mod registry;
mod run;
pub mod sqlite;
pub mod store;
mod templates;

pub use error::{BadRow, DiffError, Location};
pub use esl_render::Fingerprint;
pub use fingerprint::{ImageHash, Stamp};
pub use import::{CsvMode, ImportReport, ProductFile, ProductFormat};
pub use publish::{
    FolderPublisher, Publish, PublishError, PublishFuture, PublishJob, Published, Pusher,
};
pub use registry::{Acknowledged, CurrentImage, LabelFailureNote, LabelState, Registry};
pub use run::{
    Cause, LabelFailure, NoObserver, Observer, Outcome, RenderEnv, RepriceOptions, RunReport, Stage,
};
pub use sqlite::SqliteStore;
pub use store::{RegistryStats, Store};
pub use templates::{LoadedTemplate, TemplateLibrary, TemplateSource};
