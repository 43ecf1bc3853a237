//! The registry's storage interface: what the diff stage needs of a database, as units of
//! work.
//!
//! Every method of [`Store`] is one transaction (an import is one transaction around the
//! caller's [`ImportTx`] calls), so a backend never lets a transaction cross the interface.
//! [`SqliteStore`](crate::SqliteStore) is the one backend today; a PostgreSQL backend is one
//! more implementation of these two traits.
//!
//! # The rules a backend keeps
//!
//! * **Pending.** `pending` is 0 for a settled label; otherwise the *change sequence* of the
//!   write that marked it (a counter, one value per marking transaction). A settlement or an
//!   acknowledgement clears it only if it still holds the value the run planned with; a
//!   change made meanwhile keeps the label pending.
//! * **Intents.** Before a run pushes a label it records an intent: its run id and the
//!   fingerprint it is about to push ([`Store::settle`]). An acknowledgement is recorded only
//!   if the intent is still that run's and that fingerprint's (compare-and-set,
//!   [`Store::acknowledge`]); otherwise the push was *overtaken* by another run, what the
//!   label shows is unknown, and the label is marked pending with no acknowledged image, so
//!   the next run pushes it again.
//! * **The lease.** One run at a time may change labels' state ([`Store::lease`]): a row
//!   `(name, holder, expires_at)` taken when free or expired, renewed by its holder, released
//!   at the end. A run killed while holding it blocks others only until it expires.

use std::collections::BTreeMap;

use esl_model::Product;

use crate::error::DiffError;
use crate::fingerprint::{ImageHash, Stamp};
use crate::import::ImportReport;
use esl_render::Fingerprint;

/// A template's id in the store.
pub type TemplateId = i64;

/// The plan's order (and cursor): template, model, product, ESL.
pub type Cursor = (TemplateId, String, String, String);

/// A pending label, as the plan reads it.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The ESL.
    pub esl_id: String,
    /// Its shop.
    pub shop_id: String,
    /// Its model's name.
    pub model: String,
    /// Its template.
    pub template_id: TemplateId,
    /// The product it shows.
    pub product_id: String,
    /// The change sequence that marked it.
    pub pending: i64,
    /// The fingerprint of the last acknowledged image.
    pub acked_fp: Option<Fingerprint>,
    /// The pixel hash of the last acknowledged image.
    pub acked_image: Option<ImageHash>,
    /// A run's intent to push it that was never acknowledged (that run died, or was
    /// overtaken): what the label shows is unknown.
    pub stale_intent: Option<String>,
}

/// A label's state change that needs no push, or an intent to push.
#[derive(Clone, Debug)]
pub enum Settlement {
    /// The fingerprint equals the acknowledged one: clear `pending` if it is still `pending`.
    Unchanged {
        /// The ESL.
        esl_id: String,
        /// The change sequence the plan saw.
        pending: i64,
    },
    /// The new picture is pixel-identical to the acknowledged one: record `fingerprint` as
    /// acknowledged too and clear `pending` if it is still `pending`.
    Identical {
        /// The ESL.
        esl_id: String,
        /// The new fingerprint.
        fingerprint: Fingerprint,
        /// The change sequence the plan saw.
        pending: i64,
    },
    /// The run is about to push `fingerprint` to the label.
    Intent {
        /// The ESL.
        esl_id: String,
        /// What will be pushed.
        fingerprint: Fingerprint,
    },
}

/// An acknowledgement of the platform, to record.
#[derive(Clone, Debug)]
pub struct Ack {
    /// The ESL.
    pub esl_id: String,
    /// The fingerprint pushed (as in the run's intent).
    pub fingerprint: Fingerprint,
    /// The pixel hash of the picture pushed.
    pub image: ImageHash,
    /// The change sequence the plan saw.
    pub pending: i64,
    /// When the platform acknowledged it, Unix seconds.
    pub at: i64,
}

/// What recording an acknowledgement did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckResult {
    /// Recorded.
    Recorded,
    /// The intent was no longer this run's and this fingerprint's: another run pushed the
    /// label meanwhile. The label is pending again, with no acknowledged image.
    Overtaken,
}

/// An operation on the run lease.
#[derive(Clone, Copy, Debug)]
pub enum LeaseOp<'a> {
    /// Take it if it is free, expired, or already ours; valid until `expires_at`.
    Acquire {
        /// Our holder id.
        holder: &'a str,
        /// Now, milliseconds since the Unix epoch.
        now_ms: i64,
        /// The new expiry, milliseconds since the Unix epoch.
        expires_at_ms: i64,
    },
    /// Extend it, if it is still ours.
    Renew {
        /// Our holder id.
        holder: &'a str,
        /// The new expiry.
        expires_at_ms: i64,
    },
    /// Give it up, if it is ours.
    Release {
        /// Our holder id.
        holder: &'a str,
    },
}

/// The answer of a lease operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseState {
    /// We hold it (acquired, renewed) or released it.
    Ours,
    /// Someone else holds it until `expires_at_ms`.
    Held {
        /// Their holder id.
        holder: String,
        /// When it expires unless renewed.
        expires_at_ms: i64,
    },
}

/// One label's binding, as an import gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The ESL.
    pub esl_id: String,
    /// Its shop.
    pub shop_id: String,
    /// Its model's name.
    pub model: String,
    /// Its template.
    pub template_id: TemplateId,
    /// The product it shows.
    pub product_id: String,
}

/// What a write of an import changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// A new row.
    Created,
    /// A changed row.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// What an import may do, inside its one transaction. Writes that change what a label shows
/// mark the labels concerned pending.
pub trait ImportTx {
    /// A product.
    ///
    /// # Errors
    /// [`DiffError::Db`]; [`DiffError::Input`] for an unreadable stored product.
    fn product(&mut self, id: &str) -> Result<Option<Product>, DiffError>;

    /// Stores a product (new or changed) and marks its labels pending; returns how many.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn put_product(&mut self, id: &str, product: &Product) -> Result<u64, DiffError>;

    /// Deletes a product and marks its labels pending (they fail until re-bound); `None` when
    /// there was no such product.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn delete_product(&mut self, id: &str) -> Result<Option<u64>, DiffError>;

    /// The id of a template by its source key, registering it with its content hash; a known
    /// template whose content hash changed has its labels marked pending. Returns the id and
    /// the labels marked.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn template(
        &mut self,
        key: &str,
        content_hash: &[u8; 32],
    ) -> Result<(TemplateId, u64), DiffError>;

    /// Binds a label (new, or re-bound); a created or changed binding is pending.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn bind_label(&mut self, binding: &Binding) -> Result<Written, DiffError>;
}

/// Counts of what a store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RegistryStats {
    /// Labels.
    pub labels: u64,
    /// Products.
    pub products: u64,
    /// Templates referenced so far.
    pub templates: u64,
    /// Labels pending: to be looked at by the next run.
    pub pending: u64,
    /// Labels with an acknowledged image.
    pub acknowledged: u64,
}

/// A label as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRow {
    /// The ESL.
    pub esl_id: String,
    /// Its shop.
    pub shop_id: String,
    /// Its model's name.
    pub model: String,
    /// Its template's source key.
    pub template: String,
    /// The product it shows.
    pub product_id: String,
    /// Whether the next run must look at it.
    pub pending: bool,
    /// Fingerprint, pixel hash and time (Unix seconds) of the last acknowledged image.
    pub acked: Option<(Fingerprint, ImageHash, i64)>,
    /// Why the last run that tried the label failed, and when (Unix seconds); cleared when
    /// a run settles it.
    pub failure: Option<(String, i64)>,
}

/// A label's failure in a run, to record ([`Store::note_failures`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureNote {
    /// The ESL.
    pub esl_id: String,
    /// Why, with the stage (`"render: …"`, `"push: …"`).
    pub reason: String,
    /// When, Unix seconds.
    pub at: i64,
}

/// Which labels [`Store::labels`] returns.
#[derive(Clone, Copy, Debug)]
pub enum LabelFilter<'a> {
    /// Every label.
    All,
    /// One ESL.
    Esl(&'a str),
    /// The labels showing a product.
    Product(&'a str),
    /// The pending labels.
    Pending,
    /// The labels whose last try failed.
    Failed,
}

/// The registry's storage: see the [module docs](self) for the rules every backend keeps.
pub trait Store: Send {
    /// A name for messages (the file, the database URL without credentials).
    fn describe(&self) -> String;

    /// Runs an import in one transaction: `f`'s writes are committed together, or, when `f`
    /// fails, not at all.
    ///
    /// # Errors
    /// `f`'s error; [`DiffError::Db`].
    fn import(
        &mut self,
        f: &mut dyn FnMut(&mut dyn ImportTx) -> Result<ImportReport, DiffError>,
    ) -> Result<ImportReport, DiffError>;

    /// Records the rendering environment (engine version, fonts); a different one than last
    /// time marks every label pending. Returns how many were marked.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn environment(&mut self, stamp: Stamp) -> Result<u64, DiffError>;

    /// The templates labels use: id and source key, by id.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn templates_in_use(&mut self) -> Result<Vec<(TemplateId, String)>, DiffError>;

    /// Records templates' content hashes as loaded now; the labels of a template whose hash
    /// changed are marked pending. Returns how many labels were marked.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn note_templates(&mut self, hashes: &[(TemplateId, [u8; 32])]) -> Result<u64, DiffError>;

    /// Up to `limit` pending labels after `after`, in the plan's order.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn pending_page(&mut self, after: &Cursor, limit: usize) -> Result<Vec<Candidate>, DiffError>;

    /// The products of these ids that exist.
    ///
    /// # Errors
    /// [`DiffError::Db`]; [`DiffError::Input`] for an unreadable stored product.
    fn products(&mut self, ids: &[&str]) -> Result<BTreeMap<String, Product>, DiffError>;

    /// Records settlements and intents of `run`, in one transaction.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn settle(&mut self, run: &str, settlements: &[Settlement]) -> Result<(), DiffError>;

    /// Records the platform's acknowledgements of `run`'s pushes, each compared with its
    /// intent, in one transaction; one result per acknowledgement. An acknowledgement whose
    /// intent is no longer `run`'s and its fingerprint's is [`AckResult::Overtaken`]: the
    /// label is then marked pending with no acknowledged image and no intent.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn acknowledge(&mut self, run: &str, acks: &[Ack]) -> Result<Vec<AckResult>, DiffError>;

    /// An operation on the run lease `name`.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn lease(&mut self, name: &str, op: LeaseOp<'_>) -> Result<LeaseState, DiffError>;

    /// Records why labels failed in a run, in one transaction. A settlement
    /// ([`Settlement::Unchanged`], [`Settlement::Identical`]) or a recorded acknowledgement
    /// clears a label's failure.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn note_failures(&mut self, failures: &[FailureNote]) -> Result<(), DiffError>;

    /// Marks every label pending; returns how many.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn mark_all_pending(&mut self) -> Result<u64, DiffError>;

    /// What the store holds.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn stats(&mut self) -> Result<RegistryStats, DiffError>;

    /// Labels, by `esl_id`.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn labels(&mut self, filter: LabelFilter<'_>) -> Result<Vec<LabelRow>, DiffError>;

    /// Starts a dry run: until [`Store::end_dry_run`], nothing is committed (every unit of
    /// work runs inside one transaction that is then rolled back).
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn begin_dry_run(&mut self) -> Result<(), DiffError>;

    /// Ends a dry run, undoing everything since [`Store::begin_dry_run`].
    ///
    /// # Errors
    /// [`DiffError::Db`].
    fn end_dry_run(&mut self) -> Result<(), DiffError>;
}
