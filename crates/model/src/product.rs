//! Product records.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Amount, AmountError};

/// A product as a label shows it: the SUNMI product fields (seed 001, Product APIs §3.1.1:
/// `id`, `seq_num`, `bar_code`, `name`, `alias`, `price`, `promote_price`, `member_price`,
/// `spec`, `unit`, `level`, `area`, `brand`, `qr_code`, `expire_time`) plus any extra field
/// the pricing system supplies.
///
/// Fields keep their JSON values; a field that is `null` counts as absent. Prices may be
/// JSON numbers or strings and are read exactly with [`Product::amount`].
///
/// ```
/// use esl_model::Product;
/// let p = Product::from_json(r#"{"name": "可口可乐/灌装", "price": "3.2", "promote_price": null}"#.as_bytes())?;
/// assert_eq!(p.text("name")?.as_deref(), Some("可口可乐/灌装"));
/// assert_eq!(p.amount("price")?.map(|a| a.round_to(2)), Some(320));
/// assert!(p.get("promote_price").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Product {
    fields: BTreeMap<String, Value>,
}

/// Why a product, or one of its fields, cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProductError {
    /// The product text is not valid JSON.
    #[error("product JSON is malformed at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// The product is JSON but not an object.
    #[error("a product must be a JSON object of fields, found {found}")]
    NotObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A field meant as a number is not one.
    #[error("field {field:?} is not a number: {source}")]
    NotNumber {
        /// The field name.
        field: String,
        /// Why the value is not a number.
        source: AmountError,
    },
    /// A field holds an array or object where text was expected.
    #[error("field {field:?} holds a JSON {found}, not text or a number")]
    NotText {
        /// The field name.
        field: String,
        /// The JSON type found.
        found: &'static str,
    },
}

/// The JSON type name of a value, for error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Product {
    /// The product fields that seed 001 (Product APIs §3.1.1) defines.
    pub const KNOWN_FIELDS: [&'static str; 15] = [
        "id",
        "seq_num",
        "bar_code",
        "name",
        "alias",
        "price",
        "promote_price",
        "member_price",
        "spec",
        "unit",
        "level",
        "area",
        "brand",
        "qr_code",
        "expire_time",
    ];

    /// Optional fields esl's templates know beyond the seed's: `currency` (a price's sign or
    /// code, e.g. `€`, for templates that take it from the product), `net_content` and
    /// `net_unit` (the quantity a price is for, e.g. `330` and `ml`, for unit prices), and the
    /// multi-buy pair `multi_qty` and `multi_price` ("2 for 5.00").
    pub const ESL_FIELDS: [&'static str; 5] = [
        "currency",
        "net_content",
        "net_unit",
        "multi_qty",
        "multi_price",
    ];

    /// An empty product.
    #[must_use]
    pub fn new() -> Product {
        Product::default()
    }

    /// Parses a product from a JSON object.
    ///
    /// # Errors
    /// [`ProductError::Json`] with line and column when the text is not JSON,
    /// [`ProductError::NotObject`] when it is not an object.
    pub fn from_json(bytes: &[u8]) -> Result<Product, ProductError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| ProductError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Product::from_value(value)
    }

    /// A product from an already parsed JSON value.
    ///
    /// # Errors
    /// [`ProductError::NotObject`] when the value is not an object.
    pub fn from_value(value: Value) -> Result<Product, ProductError> {
        match value {
            Value::Object(map) => Ok(Product {
                fields: map.into_iter().collect(),
            }),
            other => Err(ProductError::NotObject {
                found: type_name(&other),
            }),
        }
    }

    /// Sets a field, returning `self` for chaining.
    #[must_use]
    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Product {
        self.set(field, value);
        self
    }

    /// Sets a field.
    pub fn set(&mut self, field: &str, value: impl Into<Value>) {
        self.fields.insert(field.to_owned(), value.into());
    }

    /// Removes a field.
    pub fn remove(&mut self, field: &str) -> Option<Value> {
        self.fields.remove(field)
    }

    /// The field's value; `None` when absent or `null`.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// All fields, sorted by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The field as text: strings as they are, numbers in their JSON form, booleans as
    /// `true`/`false`; `None` when absent or `null`.
    ///
    /// # Errors
    /// [`ProductError::NotText`] when the field holds an array or an object.
    pub fn text(&self, field: &str) -> Result<Option<String>, ProductError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(ProductError::NotText {
                field: field.to_owned(),
                found: type_name(other),
            }),
        }
    }

    /// The field as an exact decimal; `None` when absent, `null` or an empty string.
    ///
    /// # Errors
    /// [`ProductError::NotNumber`] when the value is not a decimal number (a JSON number,
    /// or a string such as `"3.2"`).
    pub fn amount(&self, field: &str) -> Result<Option<Amount>, ProductError> {
        let not_number = |source| ProductError::NotNumber {
            field: field.to_owned(),
            source,
        };
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).map_err(not_number),
            Some(Value::Number(n)) => n.to_string().parse().map(Some).map_err(not_number),
            Some(other) => Err(not_number(AmountError::Syntax {
                value: other.to_string(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_numbers_or_strings() {
        let p =
            Product::from_json(br#"{"price": 3.2, "promote_price": "2.99", "member_price": ""}"#)
                .unwrap();
        assert_eq!(p.amount("price").unwrap().unwrap().round_to(2), 320);
        assert_eq!(p.amount("promote_price").unwrap().unwrap().round_to(2), 299);
        assert_eq!(p.amount("member_price").unwrap(), None);
        assert_eq!(p.amount("missing").unwrap(), None);
    }

    #[test]
    fn bad_price_names_field_and_value() {
        let p = Product::from_json(br#"{"price": "abc"}"#).unwrap();
        let err = p.amount("price").unwrap_err().to_string();
        assert!(err.contains("price") && err.contains("abc"), "{err}");
    }

    #[test]
    fn malformed_json_has_position() {
        let err = Product::from_json(b"{\n  \"name\": }").unwrap_err();
        assert!(matches!(err, ProductError::Json { line: 2, .. }), "{err:?}");
        assert!(matches!(
            Product::from_json(b"[1]"),
            Err(ProductError::NotObject { found: "array" })
        ));
    }
}
