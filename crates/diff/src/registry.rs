//! The registry: one SQLite file of labels, products, templates and acknowledgements.

use std::path::{Path, PathBuf};
use std::time::Duration;

use esl_model::{Model, Product};
use rusqlite::{Connection, OptionalExtension};

use crate::error::DiffError;
use crate::fingerprint::{Fingerprint, ImageHash, fingerprint, image_hash};
use crate::import::{self, CsvMode, ImportReport, ProductFile, ProductFormat, write_tx};
use crate::run::RenderEnv;
use crate::templates::{TemplateLibrary, TemplateSource};

/// The label registry: which label shows which product with which template on which model,
/// and what the platform last acknowledged for it. See [`crate::schema`] for the tables.
///
/// One `Registry` is one connection; several processes may open the same file (SQLite
/// serialises their writes).
#[derive(Debug)]
pub struct Registry {
    pub(crate) conn: Connection,
    path: PathBuf,
}

/// Counts of what the registry holds.
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

/// What the platform last acknowledged for a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acknowledged {
    /// The fingerprint of the data the image was rendered from.
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
}

/// A label's picture as its current data gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentImage {
    /// The label's fingerprint now.
    pub fingerprint: Fingerprint,
    /// The picture's pixel hash.
    pub image: ImageHash,
    /// The picture as the indexed PNG a run pushes.
    pub png: Vec<u8>,
}

fn count(conn: &Connection, sql: &str) -> Result<u64, DiffError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

impl Registry {
    /// Opens (or creates) a registry file and brings its schema up to date.
    ///
    /// # Errors
    /// [`DiffError::Db`] when the file cannot be opened or is not a registry,
    /// [`DiffError::NewerSchema`] when a newer esl wrote it.
    pub fn open(path: &Path) -> Result<Registry, DiffError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MB of page cache: the plan and imports touch the label indexes at random.
        conn.pragma_update(None, "cache_size", -65_536)?;
        crate::schema::migrate(&mut conn, &path.display().to_string())?;
        Ok(Registry {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The registry file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the registry holds.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn stats(&self) -> Result<RegistryStats, DiffError> {
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

    fn label_states(&self, filter: &str, arg: &str) -> Result<Vec<LabelState>, DiffError> {
        let sql = format!(
            "SELECT l.esl_id, l.shop_id, l.model, t.source, l.product_id, l.pending,
                    l.acked_fp, l.acked_image, l.acked_at
             FROM labels l JOIN templates t ON t.id = l.template_id {filter} ORDER BY l.esl_id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([arg], |r| {
            let model: String = r.get(2)?;
            let model = model.parse::<Model>().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
            })?;
            let fp: Option<Vec<u8>> = r.get(6)?;
            let img: Option<Vec<u8>> = r.get(7)?;
            let at: Option<i64> = r.get(8)?;
            let acked = match (
                fp.as_deref().and_then(Fingerprint::from_slice),
                img.as_deref().and_then(ImageHash::from_slice),
            ) {
                (Some(fingerprint), Some(image)) => Some(Acknowledged {
                    fingerprint,
                    image,
                    at: at.unwrap_or(0),
                }),
                _ => None,
            };
            Ok(LabelState {
                esl_id: r.get(0)?,
                shop_id: r.get(1)?,
                model,
                template: r.get(3)?,
                product_id: r.get(4)?,
                pending: r.get::<_, i64>(5)? != 0,
                acked,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One label.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn label(&self, esl_id: &str) -> Result<Option<LabelState>, DiffError> {
        Ok(self
            .label_states("WHERE l.esl_id = ?1", esl_id)?
            .into_iter()
            .next())
    }

    /// Every label, by `esl_id`.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn labels(&self) -> Result<Vec<LabelState>, DiffError> {
        self.label_states("WHERE ?1 = ?1", "")
    }

    /// The labels showing a product, by `esl_id` (through the product → labels index).
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn labels_of_product(&self, product_id: &str) -> Result<Vec<String>, DiffError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT esl_id FROM labels WHERE product_id = ?1 ORDER BY esl_id")?;
        let ids = stmt
            .query_map([product_id], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    /// A product.
    ///
    /// # Errors
    /// [`DiffError::Db`]; [`DiffError::Input`] if the stored JSON is unreadable.
    pub fn product(&self, id: &str) -> Result<Option<Product>, DiffError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT fields FROM products WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| {
            Product::from_json(j.as_bytes()).map_err(|e| {
                DiffError::input(
                    "registry",
                    format!("stored product {id} is unreadable: {e}"),
                )
            })
        })
        .transpose()
    }

    /// Imports a product file in one transaction. A product whose fields change marks its
    /// labels pending (through the product → labels index). The rules, and the choices made
    /// where the seeds leave room, are in [`crate::import`].
    ///
    /// # Errors
    /// [`DiffError::Input`] when the file cannot be read at all (nothing is applied);
    /// [`DiffError::Db`]. Bad rows are not errors: they are in the report.
    pub fn import_products(&mut self, file: &ProductFile) -> Result<ImportReport, DiffError> {
        write_tx(&self.conn, |c| import_products_in(c, file))
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
        write_tx(&self.conn, |c| {
            import::import_labels(c, source, bytes, base_dir, library)
        })
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

    /// Marks every label pending, so the next run recomputes every fingerprint (it still
    /// renders only the labels whose fingerprint changed). Returns the number of labels.
    ///
    /// # Errors
    /// [`DiffError::Db`].
    pub fn mark_all_pending(&mut self) -> Result<u64, DiffError> {
        write_tx(&self.conn, |c| {
            let seq = import::next_seq(c)?;
            Ok(c.execute("UPDATE labels SET pending = ?1", [seq])? as u64)
        })
    }

    /// Renders a label from its current data, as a run would: its fingerprint and picture.
    ///
    /// # Errors
    /// [`DiffError::Label`] for an unknown label, a missing product or a render error;
    /// template errors; [`DiffError::Db`].
    pub fn current_image(&self, esl_id: &str, env: &RenderEnv) -> Result<CurrentImage, DiffError> {
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
        let fp = fingerprint(
            env.stamp(),
            template.content_hash,
            &template.fields,
            label.model,
            &product,
        );
        let rendered = env
            .renderer
            .render(&template.template, &product, label.model)
            .map_err(|e| label_error(e.to_string()))?;
        let png = rendered
            .image
            .to_png(1)
            .map_err(|e| label_error(e.to_string()))?;
        Ok(CurrentImage {
            fingerprint: fp,
            image: image_hash(&rendered.image),
            png,
        })
    }
}

/// Imports a product file inside the caller's transaction.
pub(crate) fn import_products_in(
    conn: &Connection,
    file: &ProductFile,
) -> Result<ImportReport, DiffError> {
    match file.format {
        ProductFormat::Csv(mode) => import::import_csv(conn, file, mode),
        ProductFormat::ProductList => import::import_product_list(conn, file),
        ProductFormat::Koubei => import::import_koubei(conn, file),
    }
}
