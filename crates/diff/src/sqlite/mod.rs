//! The SQLite backend of the registry: every SQL statement of esl-diff is in this module.
//!
//! One file (rusqlite, SQLite built from source: nothing to install), WAL mode,
//! `synchronous = FULL`, so a committed transaction survives a killed process and a power cut
//! alike. The schema version is SQLite's `PRAGMA user_version`; [`SCHEMA_VERSION`] is the
//! newest this build writes. Opening an older file migrates it, one version at a time, in one
//! transaction; a newer one is refused ([`DiffError::NewerSchema`]).
//!
//! Version 1:
//!
//! ```sql
#![doc = include_str!("schema_v1.sql")]
//! ```
//!
//! Version 2:
//!
//! ```sql
#![doc = include_str!("schema_v2.sql")]
//! ```
//!
//! Version 3:
//!
//! ```sql
#![doc = include_str!("schema_v3.sql")]
//! ```
//!
//! `meta` holds `change_seq` (see [`crate::store`]) and the rendering environment last seen
//! (`render_version`, `font_fingerprint`).
//!
//! Transactions are RAII guards ([`rusqlite::Transaction`], or a [`rusqlite::Savepoint`]
//! inside a dry run): dropped without a commit, they roll back.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use esl_model::Product;
use esl_render::Fingerprint;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::DiffError;
use crate::fingerprint::{ImageHash, Stamp};
use crate::import::ImportReport;
use crate::store::{
    Ack, AckResult, Binding, Candidate, Cursor, FailureNote, ImportTx, LabelFilter, LabelRow,
    LeaseOp, LeaseState, RegistryStats, Settlement, Store, TemplateId, Written,
};

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 3;

const V1: &str = include_str!("schema_v1.sql");
const V2: &str = include_str!("schema_v2.sql");
const V3: &str = include_str!("schema_v3.sql");

/// The registry in one SQLite file. See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: String,
    /// Inside a dry run: an outer transaction is open, units of work are savepoints.
    dry: bool,
}

/// A unit of work's transaction.
enum Tx<'c> {
    Top(rusqlite::Transaction<'c>),
    Nested(rusqlite::Savepoint<'c>),
}

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Tx::Top(t) => t,
            Tx::Nested(s) => s,
        }
    }
}

impl Tx<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Tx::Top(t) => t.commit(),
            Tx::Nested(s) => s.commit(),
        }
    }
}

/// The change sequence of the current write transaction, taken when first needed.
fn next_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "UPDATE meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value",
        [],
        |r| r.get(0),
    )
}

fn fingerprint_of(bytes: Option<Vec<u8>>) -> Option<Fingerprint> {
    bytes
        .as_deref()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Fingerprint)
}

fn count(conn: &Connection, sql: &str) -> Result<u64, DiffError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
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

fn load_product(conn: &Connection, id: &str) -> Result<Option<Product>, DiffError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT fields FROM products WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match json {
        None => Ok(None),
        Some(j) => Product::from_json(j.as_bytes()).map(Some).map_err(|e| {
            DiffError::input(
                "registry",
                format!("stored product {id} is unreadable: {e}"),
            )
        }),
    }
}

impl SqliteStore {
    /// Opens (or creates) a registry file and brings its schema up to date.
    ///
    /// # Errors
    /// [`DiffError::Db`] when the file cannot be opened or is not a registry,
    /// [`DiffError::NewerSchema`] when a newer esl wrote it.
    pub fn open(path: &Path) -> Result<SqliteStore, DiffError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MB of page cache: the plan and imports touch the label indexes at random.
        conn.pragma_update(None, "cache_size", -65_536)?;
        let path = path.display().to_string();
        migrate(&mut conn, &path)?;
        Ok(SqliteStore {
            conn,
            path,
            dry: false,
        })
    }

    fn tx(&mut self) -> Result<Tx<'_>, DiffError> {
        Ok(if self.dry {
            Tx::Nested(self.conn.savepoint()?)
        } else {
            Tx::Top(
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?,
            )
        })
    }
}

/// Brings the database to [`SCHEMA_VERSION`].
fn migrate(conn: &mut Connection, path: &str) -> Result<(), DiffError> {
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
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found < 1 {
        tx.execute_batch(V1)?;
    }
    if found < 2 {
        tx.execute_batch(V2)?;
    }
    if found < 3 {
        tx.execute_batch(V3)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// An import's transaction, with the change sequence it marks labels with.
struct ImportWork<'t, 'c> {
    tx: &'t Tx<'c>,
    seq: Option<i64>,
}

impl ImportWork<'_, '_> {
    fn seq(&mut self) -> Result<i64, DiffError> {
        if let Some(s) = self.seq {
            return Ok(s);
        }
        let s = next_seq(self.tx)?;
        self.seq = Some(s);
        Ok(s)
    }

    fn mark_product(&mut self, id: &str) -> Result<u64, DiffError> {
        let seq = self.seq()?;
        let n = self
            .tx
            .prepare_cached("UPDATE labels SET pending = ?1 WHERE product_id = ?2")?
            .execute(params![seq, id])?;
        Ok(n as u64)
    }
}

impl ImportTx for ImportWork<'_, '_> {
    fn product(&mut self, id: &str) -> Result<Option<Product>, DiffError> {
        load_product(self.tx, id)
    }

    fn put_product(&mut self, id: &str, product: &Product) -> Result<u64, DiffError> {
        let json = serde_json::to_string(product)
            .map_err(|e| DiffError::input("registry", format!("cannot store product {id}: {e}")))?;
        self.tx
            .prepare_cached(
                "INSERT INTO products (id, fields) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET fields = excluded.fields",
            )?
            .execute(params![id, json])?;
        self.mark_product(id)
    }

    fn delete_product(&mut self, id: &str) -> Result<Option<u64>, DiffError> {
        let n = self
            .tx
            .prepare_cached("DELETE FROM products WHERE id = ?1")?
            .execute([id])?;
        if n == 0 {
            return Ok(None);
        }
        self.mark_product(id).map(Some)
    }

    fn template(
        &mut self,
        key: &str,
        content_hash: &[u8; 32],
    ) -> Result<(TemplateId, u64), DiffError> {
        let row: Option<(i64, Option<Vec<u8>>)> = self
            .tx
            .prepare_cached("SELECT id, content_hash FROM templates WHERE source = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get::<_, Vec<u8>>(1).ok())))
            .optional()?;
        match row {
            None => {
                self.tx
                    .prepare_cached("INSERT INTO templates (source, content_hash) VALUES (?1, ?2)")?
                    .execute(params![key, &content_hash[..]])?;
                Ok((self.tx.last_insert_rowid(), 0))
            }
            Some((id, Some(h))) if h == content_hash[..] => Ok((id, 0)),
            Some((id, _)) => {
                let seq = self.seq()?;
                let marked = mark_template(self.tx, seq, id, content_hash)?;
                Ok((id, marked))
            }
        }
    }

    fn bind_label(&mut self, b: &Binding) -> Result<Written, DiffError> {
        let existing: Option<(String, String, i64, String)> = self
            .tx
            .prepare_cached(
                "SELECT shop_id, model, template_id, product_id FROM labels WHERE esl_id = ?1",
            )?
            .query_row([&b.esl_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let wanted = (
            b.shop_id.clone(),
            b.model.clone(),
            b.template_id,
            b.product_id.clone(),
        );
        if existing.as_ref() == Some(&wanted) {
            return Ok(Written::Unchanged);
        }
        let seq = self.seq()?;
        self.tx
            .prepare_cached(
                "INSERT INTO labels (esl_id, shop_id, model, template_id, product_id, pending)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (esl_id) DO UPDATE SET shop_id = excluded.shop_id,
                    model = excluded.model, template_id = excluded.template_id,
                    product_id = excluded.product_id, pending = excluded.pending",
            )?
            .execute(params![
                b.esl_id,
                b.shop_id,
                b.model,
                b.template_id,
                b.product_id,
                seq
            ])?;
        Ok(if existing.is_some() {
            Written::Updated
        } else {
            Written::Created
        })
    }
}

/// Stores a template's new content hash and marks its labels; returns how many.
fn mark_template(
    conn: &Connection,
    seq: i64,
    id: TemplateId,
    content_hash: &[u8; 32],
) -> Result<u64, DiffError> {
    let marked = conn
        .prepare_cached("UPDATE labels SET pending = ?1 WHERE template_id = ?2")?
        .execute(params![seq, id])?;
    conn.prepare_cached("UPDATE templates SET content_hash = ?1 WHERE id = ?2")?
        .execute(params![&content_hash[..], id])?;
    Ok(marked as u64)
}

fn label_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LabelRow> {
    let fp = fingerprint_of(r.get(6)?);
    let img: Option<Vec<u8>> = r.get(7)?;
    let at: Option<i64> = r.get(8)?;
    let failure: Option<String> = r.get(9)?;
    let failed_at: Option<i64> = r.get(10)?;
    let acked = match (fp, img.as_deref().and_then(ImageHash::from_slice)) {
        (Some(fp), Some(image)) => Some((fp, image, at.unwrap_or(0))),
        _ => None,
    };
    Ok(LabelRow {
        esl_id: r.get(0)?,
        shop_id: r.get(1)?,
        model: r.get(2)?,
        template: r.get(3)?,
        product_id: r.get(4)?,
        pending: r.get::<_, i64>(5)? != 0,
        acked,
        failure: failure.map(|f| (f, failed_at.unwrap_or(0))),
    })
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        self.path.clone()
    }

    fn import(
        &mut self,
        f: &mut dyn FnMut(&mut dyn ImportTx) -> Result<ImportReport, DiffError>,
    ) -> Result<ImportReport, DiffError> {
        let tx = self.tx()?;
        let report = {
            let mut work = ImportWork { tx: &tx, seq: None };
            f(&mut work)?
        };
        tx.commit()?;
        Ok(report)
    }

    fn environment(&mut self, stamp: Stamp) -> Result<u64, DiffError> {
        let tx = self.tx()?;
        let version = meta_get(&tx, "render_version")?;
        let fonts = meta_get(&tx, "font_fingerprint")?;
        // The u64's bit pattern, in SQLite's signed 64-bit integer.
        let fonts_now = stamp.fonts as i64;
        let mut marked = 0;
        if version.is_some()
            && (version != Some(i64::from(stamp.render_version)) || fonts != Some(fonts_now))
        {
            let seq = next_seq(&tx)?;
            marked = tx.execute("UPDATE labels SET pending = ?1", [seq])? as u64;
        }
        meta_set(&tx, "render_version", i64::from(stamp.render_version))?;
        meta_set(&tx, "font_fingerprint", fonts_now)?;
        tx.commit()?;
        Ok(marked)
    }

    fn templates_in_use(&mut self) -> Result<Vec<(TemplateId, String)>, DiffError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, source FROM templates t
             WHERE EXISTS (SELECT 1 FROM labels l WHERE l.template_id = t.id) ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn note_templates(&mut self, hashes: &[(TemplateId, [u8; 32])]) -> Result<u64, DiffError> {
        let tx = self.tx()?;
        let mut seq = None;
        let mut marked = 0;
        for (id, hash) in hashes {
            let stored: Option<Vec<u8>> = tx
                .prepare_cached("SELECT content_hash FROM templates WHERE id = ?1")?
                .query_row([id], |r| Ok(r.get::<_, Vec<u8>>(0).ok()))
                .optional()?
                .flatten();
            if stored.as_deref() != Some(&hash[..]) {
                let s = match seq {
                    Some(s) => s,
                    None => *seq.insert(next_seq(&tx)?),
                };
                marked += mark_template(&tx, s, *id, hash)?;
            }
        }
        tx.commit()?;
        Ok(marked)
    }

    fn pending_page(&mut self, after: &Cursor, limit: usize) -> Result<Vec<Candidate>, DiffError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT esl_id, shop_id, model, template_id, product_id, pending, acked_fp,
                    acked_image, push_run
             FROM labels
             WHERE pending <> 0 AND (template_id, model, product_id, esl_id) > (?1, ?2, ?3, ?4)
             ORDER BY template_id, model, product_id, esl_id
             LIMIT ?5",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after.0, after.1, after.2, after.3, limit], |r| {
            let img: Option<Vec<u8>> = r.get(7)?;
            Ok(Candidate {
                esl_id: r.get(0)?,
                shop_id: r.get(1)?,
                model: r.get(2)?,
                template_id: r.get(3)?,
                product_id: r.get(4)?,
                pending: r.get(5)?,
                acked_fp: fingerprint_of(r.get(6)?),
                acked_image: img.as_deref().and_then(ImageHash::from_slice),
                stale_intent: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn products(&mut self, ids: &[&str]) -> Result<BTreeMap<String, Product>, DiffError> {
        let mut out = BTreeMap::new();
        for &id in ids {
            if out.contains_key(id) {
                continue;
            }
            if let Some(p) = load_product(&self.conn, id)? {
                out.insert(id.to_owned(), p);
            }
        }
        Ok(out)
    }

    fn settle(&mut self, run: &str, settlements: &[Settlement]) -> Result<(), DiffError> {
        if settlements.is_empty() {
            return Ok(());
        }
        let tx = self.tx()?;
        {
            // `pending` is cleared only if it still holds the change sequence the plan saw,
            // and never while an intent is on the label (what it shows is not known).
            let mut unchanged = tx.prepare_cached(
                "UPDATE labels SET pending = 0, failure = NULL, failed_at = NULL
                 WHERE esl_id = ?1 AND pending = ?2 AND push_run IS NULL",
            )?;
            let mut identical = tx.prepare_cached(
                "UPDATE labels SET acked_fp = ?2, failure = NULL, failed_at = NULL,
                    pending = CASE WHEN pending = ?3 THEN 0 ELSE pending END
                 WHERE esl_id = ?1 AND push_run IS NULL",
            )?;
            let mut intent = tx.prepare_cached(
                "UPDATE labels SET push_run = ?2, push_fp = ?3 WHERE esl_id = ?1",
            )?;
            for s in settlements {
                match s {
                    Settlement::Unchanged { esl_id, pending } => {
                        unchanged.execute(params![esl_id, pending])?;
                    }
                    Settlement::Identical {
                        esl_id,
                        fingerprint,
                        pending,
                    } => {
                        identical.execute(params![esl_id, &fingerprint.0[..], pending])?;
                    }
                    Settlement::Intent {
                        esl_id,
                        fingerprint,
                    } => {
                        intent.execute(params![esl_id, run, &fingerprint.0[..]])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn acknowledge(&mut self, run: &str, acks: &[Ack]) -> Result<Vec<AckResult>, DiffError> {
        if acks.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.tx()?;
        let mut results = Vec::with_capacity(acks.len());
        {
            let mut seq = None;
            let mut record = tx.prepare_cached(
                "UPDATE labels SET acked_fp = push_fp, acked_image = ?3, acked_at = ?4,
                    push_run = NULL, push_fp = NULL, failure = NULL, failed_at = NULL,
                    pending = CASE WHEN pending = ?5 THEN 0 ELSE pending END
                 WHERE esl_id = ?1 AND push_run = ?2 AND push_fp = ?6",
            )?;
            let mut forget = tx.prepare_cached(
                "UPDATE labels SET pending = ?2, acked_fp = NULL, acked_image = NULL,
                    acked_at = NULL, push_run = NULL, push_fp = NULL
                 WHERE esl_id = ?1",
            )?;
            for a in acks {
                let n = record.execute(params![
                    a.esl_id,
                    run,
                    &a.image.0[..],
                    a.at,
                    a.pending,
                    &a.fingerprint.0[..]
                ])?;
                if n == 1 {
                    results.push(AckResult::Recorded);
                } else {
                    let s = match seq {
                        Some(s) => s,
                        None => *seq.insert(next_seq(&tx)?),
                    };
                    forget.execute(params![a.esl_id, s])?;
                    results.push(AckResult::Overtaken);
                }
            }
        }
        tx.commit()?;
        Ok(results)
    }

    fn lease(&mut self, name: &str, op: LeaseOp<'_>) -> Result<LeaseState, DiffError> {
        let tx = self.tx()?;
        let ours = match op {
            LeaseOp::Acquire {
                holder,
                now_ms,
                expires_at_ms,
            } => {
                tx.execute(
                    "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                        expires_at = excluded.expires_at
                     WHERE leases.expires_at <= ?4 OR leases.holder = excluded.holder",
                    params![name, holder, expires_at_ms, now_ms],
                )? == 1
            }
            LeaseOp::Renew {
                holder,
                expires_at_ms,
            } => {
                tx.execute(
                    "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2",
                    params![name, holder, expires_at_ms],
                )? == 1
            }
            LeaseOp::Release { holder } => {
                tx.execute(
                    "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                    params![name, holder],
                )?;
                true
            }
        };
        let state = if ours {
            LeaseState::Ours
        } else {
            let (holder, expires_at_ms) = tx
                .query_row(
                    "SELECT holder, expires_at FROM leases WHERE name = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .unwrap_or_else(|| (String::new(), 0));
            LeaseState::Held {
                holder,
                expires_at_ms,
            }
        };
        tx.commit()?;
        Ok(state)
    }

    fn note_failures(&mut self, failures: &[FailureNote]) -> Result<(), DiffError> {
        if failures.is_empty() {
            return Ok(());
        }
        let tx = self.tx()?;
        {
            let mut note = tx.prepare_cached(
                "UPDATE labels SET failure = ?2, failed_at = ?3 WHERE esl_id = ?1",
            )?;
            for f in failures {
                note.execute(params![f.esl_id, f.reason, f.at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn mark_all_pending(&mut self) -> Result<u64, DiffError> {
        let tx = self.tx()?;
        let seq = next_seq(&tx)?;
        let n = tx.execute("UPDATE labels SET pending = ?1", [seq])? as u64;
        tx.commit()?;
        Ok(n)
    }

    fn stats(&mut self) -> Result<RegistryStats, DiffError> {
        Ok(RegistryStats {
            labels: count(&self.conn, "SELECT count(*) FROM labels")?,
            products: count(&self.conn, "SELECT count(*) FROM products")?,
            templates: count(&self.conn, "SELECT count(*) FROM templates")?,
            pending: count(&self.conn, "SELECT count(*) FROM labels WHERE pending <> 0")?,
            acknowledged: count(
                &self.conn,
                "SELECT count(*) FROM labels WHERE acked_fp IS NOT NULL",
            )?,
        })
    }

    fn labels(&mut self, filter: LabelFilter<'_>) -> Result<Vec<LabelRow>, DiffError> {
        let (cond, arg) = match filter {
            LabelFilter::All => ("?1 = ?1", ""),
            LabelFilter::Esl(e) => ("l.esl_id = ?1", e),
            LabelFilter::Product(p) => ("l.product_id = ?1", p),
            LabelFilter::Pending => ("l.pending <> 0 AND ?1 = ?1", ""),
            LabelFilter::Failed => ("l.failure IS NOT NULL AND ?1 = ?1", ""),
        };
        let sql = format!(
            "SELECT l.esl_id, l.shop_id, l.model, t.source, l.product_id, l.pending,
                    l.acked_fp, l.acked_image, l.acked_at, l.failure, l.failed_at
             FROM labels l JOIN templates t ON t.id = l.template_id
             WHERE {cond} ORDER BY l.esl_id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map([arg], label_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn begin_dry_run(&mut self) -> Result<(), DiffError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.dry = true;
        Ok(())
    }

    fn end_dry_run(&mut self) -> Result<(), DiffError> {
        self.dry = false;
        self.conn.execute_batch("ROLLBACK")?;
        Ok(())
    }
}
