//! Errors of the diff stage, and the bad rows an import reports.

use std::fmt;

/// Why an operation on the registry failed as a whole.
///
/// A bad row of an input file is not an error: imports apply the good rows and report the
/// bad ones ([`BadRow`]). A label that cannot be rendered or pushed is not an error either:
/// the run goes on and reports it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// The registry database failed (disk full, corrupt file, locked for too long, …).
    #[error("registry database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The registry was written by a newer esl whose schema this build does not know.
    #[error(
        "registry {path} has schema version {found}; this esl reads versions up to {supported}: use a newer esl"
    )]
    NewerSchema {
        /// The registry file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// An input file cannot be read at all (not CSV, no header, no id column, JSON that does
    /// not parse): nothing of it was applied.
    #[error("{source_name}: {message}")]
    Input {
        /// The file or input name.
        source_name: String,
        /// What is wrong, with the line and column where known.
        message: String,
    },
    /// A template named by a label binding cannot be found.
    #[error("template {reference:?} not found (looked for {searched})")]
    TemplateNotFound {
        /// The reference as given.
        reference: String,
        /// Where it was looked for.
        searched: String,
    },
    /// A template cannot be loaded.
    #[error(transparent)]
    Template(#[from] esl_render::TemplateError),
    /// One label cannot be rendered from its current data.
    #[error("label {esl_id}: {reason}")]
    Label {
        /// The ESL.
        esl_id: String,
        /// Why.
        reason: String,
    },
    /// Another run holds the registry's lease, and it was not given up within the wait.
    #[error(
        "registry {registry} is busy: run {holder} holds it (its lease expires in {expires_in:?} unless renewed); waited {waited:?}"
    )]
    Busy {
        /// The registry.
        registry: String,
        /// The run that holds the lease.
        holder: String,
        /// When its lease expires unless it renews it.
        expires_in: std::time::Duration,
        /// How long this run waited.
        waited: std::time::Duration,
    },
    /// This run's lease was taken over (it was not renewed in time): the run stopped.
    #[error(
        "registry {registry}: this run's lease was taken over by {holder}; the run stopped, and what it did not finish stays pending"
    )]
    LeaseLost {
        /// The registry.
        registry: String,
        /// Who holds it now.
        holder: String,
    },
    /// A worker of the run stopped unexpectedly.
    #[error("{0}")]
    Worker(String),
    /// The rayon thread pool for rendering could not be built.
    #[error("cannot start the rendering threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
}

impl DiffError {
    pub(crate) fn input(source_name: &str, message: impl Into<String>) -> DiffError {
        DiffError::Input {
            source_name: source_name.to_owned(),
            message: message.into(),
        }
    }
}

/// Where in an input a bad row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A 1-based line of a CSV or JSON-lines file (the header is line 1 of a CSV file).
    Line(u64),
    /// A 1-based item of a JSON array.
    Item(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Item(n) => write!(f, "item {n}"),
        }
    }
}

/// A row (or JSON item) that an import did not apply, and why. The other rows were applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadRow {
    /// Where it is.
    pub at: Location,
    /// Why it was not applied.
    pub reason: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.reason)
    }
}
