//! Imports: products (CSV price files and catalogues, the SUNMI `product_list` JSON, Koubei
//! dish records) and label bindings (CSV).
//!
//! Every import is one transaction: a killed import leaves the registry as it was. Bad rows
//! are reported with their line or item number and the reason, and the other rows applied.
//!
//! # Choices where the seeds leave room
//!
//! * Products are one chain-wide catalogue keyed by the product `id`. The `shop_id` of a
//!   `product/create` or `product/update` request (seed 001, Product APIs §3.1.2) and the
//!   `outer_shop_do` of a Koubei record (seed 002) are not used: a label's shop comes from its
//!   binding.
//! * A CSV column present in the file sets its field on every row; an empty cell removes the
//!   field (so a price file can end a promotion with an empty `promote_price`). In JSON, `null`
//!   removes a field. Values are stored as given (CSV cells as JSON strings).
//! * `price`, `promote_price` and `member_price` must be non-negative decimals with at most two
//!   decimals (seed 001 §3.1.2: "non-negative, 2 digit precision"); `expire_time` must be a
//!   whole number (Unix seconds). Other fields are not checked.
//! * A CSV price file (`esl reprice --prices`) changes existing products only: a row for an
//!   unknown id is a bad row (most likely a typo). A catalogue (CSV or `product_list` JSON)
//!   creates missing products, which then need a `name` (seed 001: `name` is required by
//!   product/create; product/update may create too, §6.2.2).
//! * The `product_list` JSON may be a bare array, an object with a `product_list` array, or an
//!   object whose `product_list` is a string holding the array (as a form parameter carries
//!   it). Ids may be strings or numbers. Seed 001's samples use typographic quotes (“ ” ″): a
//!   file that is not valid JSON as it is, but is once those are read as `"`, is accepted with
//!   a note. Anything else invalid (such as the seed's `,,,` example) is refused with its line
//!   and column.
//! * Koubei records (seed 002, `alipay.offline.provider.shopaction.record`): a JSON array of
//!   records or one record per line; `action_detail` may be an object or a string holding one.
//!   `outerDishId` is the product id; `price` is a whole number of fen (seed 002: amounts of
//!   type Long are in fen) and is stored in yuan with two decimals (`1250` → `"12.50"`);
//!   `name`, `unit`, `soldout` (0/1) are copied, `dishTypeName` becomes `category`; pictures,
//!   SKUs, stock, sort order and status are not label content and are ignored. `insert_dish`
//!   creates or replaces the given fields and sets `soldout` to 0 unless given; `modify_dish`
//!   changes the given keys only (and creates the dish if it has a `name`); `soldout_dish`
//!   sets `soldout` to 1; `delete_dish` deletes the product (its labels then fail until
//!   re-bound). Records are applied in file order; other action types (tables, shop status)
//!   are skipped and counted.
//! * Label bindings are keyed by `esl_id` (the platform's ESL ids are unique); a row for a known
//!   `esl_id` re-binds the label. A binding to a product that is not in the registry, or to a
//!   template that does not serve the model, is a bad row.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use esl_model::{Amount, Model, Product};
use serde_json::Value;

use crate::error::{BadRow, DiffError, Location};
use crate::store::{Binding, ImportTx, Written};
use crate::templates::{LoadedTemplate, TemplateLibrary};

/// How a CSV product file is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvMode {
    /// A catalogue: creates missing products (they need a `name`) and updates known ones.
    Catalogue,
    /// A price file: updates known products only.
    Prices,
}

/// The format of a product file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductFormat {
    /// CSV with a header row: `id` or `product_id`, then any product fields.
    Csv(CsvMode),
    /// The `product_list` JSON of SUNMI product/create and product/update (seed 001, Product
    /// APIs §3).
    ProductList,
    /// Koubei dish action records (seed 002).
    Koubei,
}

impl ProductFormat {
    /// Guesses the format from the content: JSON whose first record has an `action_type` is
    /// Koubei, other JSON is a `product_list`, anything else is CSV applied as `csv`.
    #[must_use]
    pub fn detect(bytes: &[u8], csv: CsvMode) -> ProductFormat {
        let text = String::from_utf8_lossy(bytes);
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if !(trimmed.starts_with('[') || trimmed.starts_with('{')) {
            return ProductFormat::Csv(csv);
        }
        // The first record: the first object in the text (either format starts with it).
        let first = match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(items)) => items.into_iter().next(),
            Ok(v) => Some(v),
            Err(_) => trimmed
                .lines()
                .next()
                .and_then(|l| serde_json::from_str(l).ok()),
        };
        match first {
            Some(Value::Object(o)) if o.contains_key("action_type") => ProductFormat::Koubei,
            _ => ProductFormat::ProductList,
        }
    }

    /// A short name for reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ProductFormat::Csv(CsvMode::Catalogue) => "catalogue CSV",
            ProductFormat::Csv(CsvMode::Prices) => "price CSV",
            ProductFormat::ProductList => "product_list JSON",
            ProductFormat::Koubei => "Koubei dish records",
        }
    }
}

/// A product file to import: its name (for messages), its bytes and its format.
#[derive(Clone, Debug)]
pub struct ProductFile {
    /// The file name, used in messages.
    pub name: String,
    /// The content.
    pub bytes: Vec<u8>,
    /// How to read it.
    pub format: ProductFormat,
}

impl ProductFile {
    /// Reads a file and detects its format ([`ProductFormat::detect`]); a CSV file is applied
    /// as `csv`.
    ///
    /// # Errors
    /// [`DiffError::Io`] when it cannot be read.
    pub fn read(path: &Path, csv: CsvMode) -> Result<ProductFile, DiffError> {
        let bytes = std::fs::read(path).map_err(|source| DiffError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(ProductFile::detect(&path.display().to_string(), bytes, csv))
    }

    /// A file from bytes, its format detected ([`ProductFormat::detect`]).
    #[must_use]
    pub fn detect(name: &str, bytes: Vec<u8>, csv: CsvMode) -> ProductFile {
        let format = ProductFormat::detect(&bytes, csv);
        ProductFile {
            name: name.to_owned(),
            bytes,
            format,
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// The file.
    pub source: String,
    /// Its format.
    pub format: String,
    /// Rows or records read (a CSV header not counted).
    pub rows: u64,
    /// Products or labels created.
    pub created: u64,
    /// Products or labels changed.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Products deleted (Koubei `delete_dish`).
    pub deleted: u64,
    /// Records skipped because they are not about products (Koubei table or shop actions).
    pub skipped: u64,
    /// Labels marked for the next run (through the product → labels index).
    pub labels_marked: u64,
    /// The rows not applied, with the reason.
    pub bad_rows: Vec<BadRow>,
    /// Remarks about the file as a whole.
    pub notes: Vec<String>,
}

impl ImportReport {
    fn new(source: &str, format: &str) -> ImportReport {
        ImportReport {
            source: source.to_owned(),
            format: format.to_owned(),
            ..ImportReport::default()
        }
    }

    fn bad(&mut self, at: Location, reason: impl Into<String>) {
        self.bad_rows.push(BadRow {
            at,
            reason: reason.into(),
        });
    }
}

/// One field change.
enum Change {
    Set(Value),
    Remove,
}

const PRICE_FIELDS: [&str; 3] = ["price", "promote_price", "member_price"];

/// Checks the fields whose form seed 001 fixes.
fn check_value(field: &str, value: &Value) -> Result<(), String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ if PRICE_FIELDS.contains(&field) || field == "expire_time" => {
            return Err(format!("{field} {value} is not a number"));
        }
        _ => return Ok(()),
    };
    if PRICE_FIELDS.contains(&field) {
        if text.is_empty() {
            return Ok(());
        }
        let a: Amount = text
            .parse()
            .map_err(|e| format!("{field} {text:?} is not a price: {e}"))?;
        if a.is_negative() {
            return Err(format!("{field} {text} is negative"));
        }
        if Amount::new(a.round_to(2), 2) != a {
            return Err(format!(
                "{field} {text} has more than two decimals (seed 001: 2 digit precision)"
            ));
        }
    } else if field == "expire_time" && !text.is_empty() && text.parse::<i64>().is_err() {
        return Err(format!(
            "expire_time {text:?} is not a whole number of seconds"
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Applied {
    Created,
    Updated,
    Unchanged,
}

/// Applies field changes to a product: `Ok(Err(reason))` is a bad row, `Err` a database failure.
fn apply_product(
    tx: &mut dyn ImportTx,
    id: &str,
    changes: &[(String, Change)],
    allow_create: bool,
    report: &mut ImportReport,
) -> Result<Result<(), String>, DiffError> {
    let old = tx.product(id)?;
    let mut product = match (&old, allow_create) {
        (Some(p), _) => p.clone(),
        (None, true) => Product::new(),
        (None, false) => {
            return Ok(Err(format!(
                "unknown product {id:?}: a price file changes known products only (import the catalogue first)"
            )));
        }
    };
    for (field, change) in changes {
        match change {
            Change::Set(v) => product.set(field, v.clone()),
            Change::Remove => {
                product.remove(field);
            }
        }
    }
    product.set("id", id);
    let applied = match &old {
        None => {
            let named =
                matches!(product.get("name"), Some(Value::String(s)) if !s.trim().is_empty());
            if !named {
                return Ok(Err(format!(
                    "new product {id:?} has no name (a product is created with a name, seed 001 §3.1.2)"
                )));
            }
            Applied::Created
        }
        Some(p) if *p == product => Applied::Unchanged,
        Some(_) => Applied::Updated,
    };
    match applied {
        Applied::Unchanged => report.unchanged += 1,
        Applied::Created | Applied::Updated => {
            report.labels_marked += tx.put_product(id, &product)?;
            if applied == Applied::Created {
                report.created += 1;
            } else {
                report.updated += 1;
            }
        }
    }
    Ok(Ok(()))
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map_or(0, csv::Position::line)
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes)
}

/// The header of a CSV file, checked: no empty or repeated names.
fn csv_header(rdr: &mut csv::Reader<&[u8]>, source: &str) -> Result<Vec<String>, DiffError> {
    let headers = rdr
        .headers()
        .map_err(|e| DiffError::input(source, format!("cannot read the header row: {e}")))?;
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_owned()
        })
        .collect();
    if names.iter().all(String::is_empty) {
        return Err(DiffError::input(
            source,
            "the file is empty: a header row naming the columns is needed",
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(DiffError::input(
                source,
                format!("column {} of the header has no name", i + 1),
            ));
        }
        if names[..i].contains(n) {
            return Err(DiffError::input(
                source,
                format!("column {n:?} appears twice in the header"),
            ));
        }
    }
    Ok(names)
}

pub(crate) fn import_csv(
    tx: &mut dyn ImportTx,
    file: &ProductFile,
    mode: CsvMode,
) -> Result<ImportReport, DiffError> {
    let mut report = ImportReport::new(&file.name, ProductFormat::Csv(mode).name());
    let mut rdr = csv_reader(&file.bytes);
    let names = csv_header(&mut rdr, &file.name)?;
    let id_cols: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| *n == "id" || *n == "product_id")
        .map(|(i, _)| i)
        .collect();
    let id_col = match id_cols.as_slice() {
        [one] => *one,
        [] => {
            return Err(DiffError::input(
                &file.name,
                format!(
                    "no `id` or `product_id` column (the header has: {})",
                    names.join(", ")
                ),
            ));
        }
        _ => {
            return Err(DiffError::input(
                &file.name,
                "both `id` and `product_id` columns: give one",
            ));
        }
    };
    for record in rdr.records() {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.bad(Location::Line(csv_line(&e)), csv_reason(&e));
                continue;
            }
        };
        let line = Location::Line(record.position().map_or(0, csv::Position::line));
        let id = record.get(id_col).unwrap_or("");
        if id.is_empty() {
            report.bad(line, format!("empty {}", names[id_col]));
            continue;
        }
        let mut changes = Vec::with_capacity(names.len());
        let mut bad = None;
        for (i, name) in names.iter().enumerate() {
            if i == id_col {
                continue;
            }
            let cell = record.get(i).unwrap_or("");
            if cell.is_empty() {
                changes.push((name.clone(), Change::Remove));
            } else {
                let v = Value::String(cell.to_owned());
                if let Err(reason) = check_value(name, &v) {
                    bad = Some(reason);
                    break;
                }
                changes.push((name.clone(), Change::Set(v)));
            }
        }
        if let Some(reason) = bad {
            report.bad(line, format!("product {id:?}: {reason}"));
            continue;
        }
        if let Err(reason) =
            apply_product(tx, id, &changes, mode == CsvMode::Catalogue, &mut report)?
        {
            report.bad(line, reason);
        }
    }
    Ok(report)
}

/// Parses JSON, accepting seed 001's typographic quotes when the text is invalid without
/// them being read as `"`.
fn parse_json_lenient(text: &str, source: &str, notes: &mut Vec<String>) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            const CURLY: [char; 3] = ['\u{201c}', '\u{201d}', '\u{2033}'];
            if text.contains(CURLY) {
                let fixed = text.replace(CURLY, "\"");
                if let Ok(v) = serde_json::from_str::<Value>(&fixed) {
                    notes.push(format!(
                        "{source}: typographic quotes (“ ” ″) were read as \" (as in seed 001's samples)"
                    ));
                    return Ok(v);
                }
            }
            Err(format!(
                "not valid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        }
    }
}

fn id_of(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn utf8(file: &ProductFile) -> Result<&str, DiffError> {
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        DiffError::input(
            &file.name,
            format!("not UTF-8 (byte {}): JSON must be UTF-8", e.valid_up_to()),
        )
    })?;
    Ok(text.trim_start_matches('\u{feff}'))
}

pub(crate) fn import_product_list(
    tx: &mut dyn ImportTx,
    file: &ProductFile,
) -> Result<ImportReport, DiffError> {
    let mut report = ImportReport::new(&file.name, ProductFormat::ProductList.name());
    let text = utf8(file)?;
    let value = parse_json_lenient(text, &file.name, &mut report.notes)
        .map_err(|m| DiffError::input(&file.name, m))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut o) => {
            if let Some(shop) = id_of(o.get("shop_id")) {
                report.notes.push(format!(
                    "shop_id {shop} not used: the registry keeps one chain-wide catalogue"
                ));
            }
            match o.remove("product_list") {
                Some(Value::Array(items)) => items,
                Some(Value::String(s)) => {
                    match parse_json_lenient(&s, &file.name, &mut report.notes) {
                        Ok(Value::Array(items)) => items,
                        Ok(_) => {
                            return Err(DiffError::input(
                                &file.name,
                                "`product_list` holds no JSON array",
                            ));
                        }
                        Err(m) => {
                            return Err(DiffError::input(
                                &file.name,
                                format!("`product_list` string: {m}"),
                            ));
                        }
                    }
                }
                _ => {
                    return Err(DiffError::input(
                        &file.name,
                        "a JSON object needs a `product_list` array (seed 001, Product APIs §3)",
                    ));
                }
            }
        }
        _ => {
            return Err(DiffError::input(
                &file.name,
                "expected a JSON array of products or an object with `product_list`",
            ));
        }
    };
    for (i, item) in items.into_iter().enumerate() {
        report.rows += 1;
        let at = Location::Item(i as u64 + 1);
        let Value::Object(map) = item else {
            report.bad(at, "not a JSON object");
            continue;
        };
        let Some(id) = id_of(map.get("id")) else {
            report.bad(at, "no `id` (a string or number, seed 001 §3.2.3)");
            continue;
        };
        let mut changes = Vec::with_capacity(map.len());
        let mut bad = None;
        for (k, v) in map {
            if k == "id" {
                continue;
            }
            if v.is_null() {
                changes.push((k, Change::Remove));
            } else {
                if let Err(reason) = check_value(&k, &v) {
                    bad = Some(reason);
                    break;
                }
                changes.push((k, Change::Set(v)));
            }
        }
        if let Some(reason) = bad {
            report.bad(at, format!("product {id:?}: {reason}"));
            continue;
        }
        if let Err(reason) = apply_product(tx, &id, &changes, true, &mut report)? {
            report.bad(at, reason);
        }
    }
    Ok(report)
}

/// Seed 002 amounts of type Long are in fen: a whole, non-negative number of fen to yuan.
fn fen_to_yuan(v: &Value) -> Result<String, String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        other => return Err(format!("price {other} is not a number of fen")),
    };
    let fen: i64 = text
        .parse()
        .ok()
        .filter(|f| *f >= 0)
        .ok_or_else(|| format!("price {text:?} is not a whole, non-negative number of fen"))?;
    Ok(Amount::from_int(fen).shift_right(2).to_string())
}

/// The product changes of an insert_dish or modify_dish detail.
fn dish_changes(
    detail: &serde_json::Map<String, Value>,
    insert: bool,
) -> Result<Vec<(String, Change)>, String> {
    let mut changes = Vec::new();
    for (key, field) in [
        ("name", "name"),
        ("unit", "unit"),
        ("dishTypeName", "category"),
    ] {
        match detail.get(key) {
            None => {}
            Some(Value::Null) => changes.push((field.to_owned(), Change::Remove)),
            Some(v @ Value::String(_)) => changes.push((field.to_owned(), Change::Set(v.clone()))),
            Some(other) => return Err(format!("{key} {other} is not text")),
        }
    }
    match detail.get("price") {
        None | Some(Value::Null) => {}
        Some(v) => changes.push(("price".to_owned(), Change::Set(fen_to_yuan(v)?.into()))),
    }
    match detail.get("soldout") {
        None | Some(Value::Null) => {
            if insert {
                changes.push(("soldout".to_owned(), Change::Set(0.into())));
            }
        }
        Some(v) => {
            let s = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|s| *s == 0 || *s == 1)
                .ok_or_else(|| format!("soldout {v} is neither 0 nor 1"))?;
            changes.push(("soldout".to_owned(), Change::Set(s.into())));
        }
    }
    Ok(changes)
}

/// Records of a Koubei file, each with where it is and the record or why it is unreadable.
type Records = Vec<(Location, Result<Value, String>)>;

/// The records of a Koubei file: a JSON array, one JSON object, or one object per line.
fn koubei_records(text: &str, source: &str) -> Result<Records, DiffError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(trimmed).map_err(|e| {
            DiffError::input(
                source,
                format!(
                    "not valid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Location::Item(i as u64 + 1), Ok(v)))
            .collect());
    }
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
        return Ok(vec![(Location::Item(1), Ok(v))]);
    }
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let parsed = serde_json::from_str::<Value>(l)
                .map_err(|e| format!("not valid JSON at column {}: {e}", e.column()));
            (Location::Line(n as u64 + 1), parsed)
        })
        .collect())
}

pub(crate) fn import_koubei(
    tx: &mut dyn ImportTx,
    file: &ProductFile,
) -> Result<ImportReport, DiffError> {
    let mut report = ImportReport::new(&file.name, ProductFormat::Koubei.name());
    let text = utf8(file)?;
    let records = koubei_records(text, &file.name)?;
    for (at, record) in records {
        report.rows += 1;
        let record = match record {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                report.bad(at, "not a JSON object");
                continue;
            }
            Err(reason) => {
                report.bad(at, reason);
                continue;
            }
        };
        let Some(action) = record.get("action_type").and_then(Value::as_str) else {
            report.bad(at, "no `action_type`");
            continue;
        };
        if !matches!(
            action,
            "insert_dish" | "modify_dish" | "soldout_dish" | "delete_dish"
        ) {
            report.skipped += 1;
            continue;
        }
        let detail = match record.get("action_detail") {
            Some(Value::Object(d)) => d.clone(),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(d)) => d,
                Ok(_) => {
                    report.bad(at, "`action_detail` holds no JSON object");
                    continue;
                }
                Err(e) => {
                    report.bad(at, format!("`action_detail` is not valid JSON: {e}"));
                    continue;
                }
            },
            _ => {
                report.bad(at, "no `action_detail` object");
                continue;
            }
        };
        let Some(id) = id_of(detail.get("outerDishId")) else {
            report.bad(
                at,
                format!("{action}: `action_detail` has no `outerDishId`"),
            );
            continue;
        };
        let outcome = match action {
            "insert_dish" | "modify_dish" => match dish_changes(&detail, action == "insert_dish") {
                Ok(changes) => apply_product(tx, &id, &changes, true, &mut report)?,
                Err(reason) => Err(reason),
            },
            "soldout_dish" => {
                let changes = [("soldout".to_owned(), Change::Set(1.into()))];
                apply_product(tx, &id, &changes, false, &mut report)?
                    .map_err(|_| format!("soldout_dish: unknown dish {id:?}"))
            }
            _ => match tx.delete_product(&id)? {
                None => Err(format!("delete_dish: unknown dish {id:?}")),
                Some(marked) => {
                    report.deleted += 1;
                    report.labels_marked += marked;
                    Ok(())
                }
            },
        };
        if let Err(reason) = outcome {
            report.bad(at, format!("dish {id:?}: {reason}"));
        }
    }
    Ok(report)
}

const LABEL_COLUMNS: [&str; 5] = ["esl_id", "shop_id", "model", "template", "product_id"];

pub(crate) fn import_labels(
    tx: &mut dyn ImportTx,
    source: &str,
    bytes: &[u8],
    base_dir: Option<&Path>,
    library: &TemplateLibrary,
) -> Result<ImportReport, DiffError> {
    let mut report = ImportReport::new(source, "label bindings CSV");
    let mut rdr = csv_reader(bytes);
    let names = csv_header(&mut rdr, source)?;
    let mut cols = [0usize; 5];
    let mut missing = Vec::new();
    for (slot, want) in cols.iter_mut().zip(LABEL_COLUMNS) {
        match names.iter().position(|n| n == want) {
            Some(i) => *slot = i,
            None => missing.push(want),
        }
    }
    if !missing.is_empty() {
        return Err(DiffError::input(
            source,
            format!(
                "missing column(s) {} (a label binding has esl_id, shop_id, model, template, product_id)",
                missing.join(", ")
            ),
        ));
    }
    let mut templates: HashMap<String, Result<(i64, Arc<LoadedTemplate>), String>> = HashMap::new();
    for record in rdr.records() {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.bad(Location::Line(csv_line(&e)), csv_reason(&e));
                continue;
            }
        };
        let at = Location::Line(record.position().map_or(0, csv::Position::line));
        let [esl_id, shop_id, model, template, product_id] =
            cols.map(|i| record.get(i).unwrap_or(""));
        if let Some(col) = [
            ("esl_id", esl_id),
            ("shop_id", shop_id),
            ("model", model),
            ("template", template),
            ("product_id", product_id),
        ]
        .iter()
        .find(|(_, v)| v.is_empty())
        .map(|(c, _)| *c)
        {
            report.bad(at, format!("empty {col}"));
            continue;
        }
        let model: Model = match model.parse() {
            Ok(m) => m,
            Err(e) => {
                report.bad(at, format!("ESL {esl_id}: {e}"));
                continue;
            }
        };
        if !templates.contains_key(template) {
            let loaded = match library
                .resolve(template, base_dir)
                .and_then(|s| library.load(&s))
            {
                Ok(t) => {
                    let (id, marked) = tx.template(&t.source.key(), &t.content_hash)?;
                    report.labels_marked += marked;
                    Ok((id, Arc::new(t)))
                }
                Err(e) => Err(e.to_string()),
            };
            templates.insert(template.to_owned(), loaded);
        }
        let (template_id, loaded) = match templates.get(template) {
            Some(Ok((id, t))) => (*id, Arc::clone(t)),
            Some(Err(reason)) => {
                report.bad(at, format!("ESL {esl_id}: {reason}"));
                continue;
            }
            None => continue,
        };
        if !loaded.template.supports(model) {
            let serves: Vec<&str> = loaded.template.models().iter().map(|m| m.name()).collect();
            report.bad(
                at,
                format!(
                    "ESL {esl_id}: template {} does not serve model {model} (it serves {})",
                    loaded.source,
                    serves.join(", ")
                ),
            );
            continue;
        }
        if tx.product(product_id)?.is_none() {
            report.bad(
                at,
                format!("ESL {esl_id}: unknown product {product_id:?} (import products first)"),
            );
            continue;
        }
        let binding = Binding {
            esl_id: esl_id.to_owned(),
            shop_id: shop_id.to_owned(),
            model: model.name().to_owned(),
            template_id,
            product_id: product_id.to_owned(),
        };
        match tx.bind_label(&binding)? {
            Written::Unchanged => report.unchanged += 1,
            Written::Updated => {
                report.updated += 1;
                report.labels_marked += 1;
            }
            Written::Created => {
                report.created += 1;
                report.labels_marked += 1;
            }
        }
    }
    Ok(report)
}

/// Imports a product file inside the caller's transaction, by its format.
pub(crate) fn import_products(
    tx: &mut dyn ImportTx,
    file: &ProductFile,
) -> Result<ImportReport, DiffError> {
    match file.format {
        ProductFormat::Csv(mode) => import_csv(tx, file, mode),
        ProductFormat::ProductList => import_product_list(tx, file),
        ProductFormat::Koubei => import_koubei(tx, file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_checked() {
        assert!(check_value("price", &Value::String("3.20".into())).is_ok());
        assert!(check_value("price", &serde_json::json!(3.2)).is_ok());
        assert!(check_value("price", &Value::String("3.205".into())).is_err());
        assert!(check_value("price", &Value::String("-1".into())).is_err());
        assert!(check_value("price", &Value::String("abc".into())).is_err());
        assert!(check_value("name", &Value::String("abc".into())).is_ok());
        assert!(check_value("expire_time", &Value::String("17x".into())).is_err());
    }

    #[test]
    fn fen_become_yuan() {
        assert_eq!(
            fen_to_yuan(&serde_json::json!(1250)).as_deref(),
            Ok("12.50")
        );
        assert_eq!(fen_to_yuan(&serde_json::json!("5")).as_deref(), Ok("0.05"));
        assert!(fen_to_yuan(&serde_json::json!(12.5)).is_err());
        assert!(fen_to_yuan(&serde_json::json!(-3)).is_err());
    }

    #[test]
    fn formats_are_detected() {
        let d = |s: &str| ProductFormat::detect(s.as_bytes(), CsvMode::Prices);
        assert_eq!(d("id,price\n1,3\n"), ProductFormat::Csv(CsvMode::Prices));
        assert_eq!(d(r#"[{"id": 1}]"#), ProductFormat::ProductList);
        assert_eq!(
            d(r#"{"shop_id": 1, "product_list": []}"#),
            ProductFormat::ProductList
        );
        assert_eq!(
            d("{\"action_type\": \"soldout_dish\"}\n{\"action_type\": \"x\"}\n"),
            ProductFormat::Koubei
        );
    }
}
