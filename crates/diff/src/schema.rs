//! The registry's SQLite schema, created and migrated by [`crate::Registry::open`].
//!
//! The schema version is SQLite's `PRAGMA user_version`; [`SCHEMA_VERSION`] is the newest this
//! build writes. Opening an older file migrates it in one transaction; a newer one is refused
//! ([`crate::DiffError::NewerSchema`]). The file runs in WAL mode with `synchronous = FULL`, so
//! a committed transaction survives a killed process and a power cut alike.
//!
//! ```sql
#![doc = include_str!("schema_v1.sql")]
//! ```
//!
//! * `labels.pending` is 0 for a settled label. Otherwise the label must be looked at by the
//!   next run, and the value is the *change sequence* (`meta.change_seq`, one per write
//!   transaction) that marked it. An acknowledgement clears it only if it still holds the
//!   value the run planned with, so a change imported while a run was pushing is never lost.
//! * `labels.acked_fp`, `acked_image`, `acked_at`: the fingerprint and pixel hash of the last
//!   image the platform acknowledged for the label, and when (Unix seconds). They are written
//!   only after the platform's answer.
//! * `templates.content_hash` is the template's content hash when the registry last saw it;
//!   a different hash at the next run marks the template's labels pending.
//! * `meta` holds `change_seq` and the stamp of the rendering environment (`render_version`,
//!   `font_fingerprint`); a new stamp marks every label pending.

use rusqlite::Connection;

use crate::error::DiffError;

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 1;

const V1: &str = include_str!("schema_v1.sql");

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), DiffError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(DiffError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found < 1 {
        tx.execute_batch(V1)?;
    }
    // Later versions: `if found < 2 { tx.execute_batch(V2)?; }` and so on, each step taking
    // the file from one version to the next.
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
