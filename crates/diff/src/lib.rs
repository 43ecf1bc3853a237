//! `esl-diff` is the batch stage of esl: it knows which label shows which product, and
//! re-renders and pushes exactly the labels whose picture changed.
//!
//! # The pipeline
//!
//! ```text
//! price file / catalogue / product_list JSON / Koubei dish records
//!     ──Registry::import_products──▶ products (a changed product marks its labels pending,
//!                                     found through the product → labels index)
//! label bindings CSV ──Registry::import_labels──▶ labels (esl_id, shop, model, template, product)
//!
//! Registry::reprice:
//!   sync     template files and fonts/engine version compared with what the registry saw last;
//!            a change marks the labels concerned pending
//!   plan     pending labels only (a partial index), in pages ordered by template, model, product
//!   check    fingerprint (template, model, the fields the template reads, fonts, engine) equal
//!            to the last acknowledged one?  yes → unchanged, settled
//!   render   the distinct fingerprints of a page, in parallel with rayon (identical bytes at any
//!            thread count); a picture pixel-identical to the acknowledged one is not pushed
//!   push     esl-push, bounded concurrency; the new fingerprint is stored only when the
//!            platform acknowledged the image; a failure leaves the label pending
//! ```
//!
//! The registry is one SQLite file ([`Registry`]; schema in [`schema`]). Every import is one
//! transaction, acknowledgements are committed in small batches, and the only state that says
//! "done" is written after the platform's answer: a run killed at any point (even `kill -9`)
//! and run again ends with every label showing its data. A run without a [`Pusher`] renders
//! (and can write previews) but records no acknowledgement: its labels stay pending.
//!
//! The fingerprint is defined in [`fingerprint`].
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
pub use registry::{Acknowledged, CurrentImage, LabelState, Registry};
pub use run::{
    Cause, LabelFailure, NoObserver, Observer, Outcome, RenderEnv, RepriceOptions, RunReport, Stage,
};
pub use sqlite::SqliteStore;
pub use store::{RegistryStats, Store};
pub use templates::{LoadedTemplate, TemplateLibrary, TemplateSource};
