//! Errors and warnings of every stage.

use esl_model::{Model, ProductError};

/// A template that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template file cannot be read.
    #[error("cannot read template {template}: {source}")]
    Read {
        /// The template file.
        template: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Malformed JSON, an unknown key or element type, or a value of the wrong type.
    #[error("template {template}: at {path} (line {line}, column {column}): {message}")]
    Json {
        /// The template's name or file.
        template: String,
        /// JSON path of the offending value, e.g. `elements[2].font`.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed JSON whose content breaks a rule of the format.
    #[error("template {template}: at {path}: {message}")]
    Invalid {
        /// The template's name or file.
        template: String,
        /// JSON path of the offending value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An image element's picture cannot be read or decoded.
    #[error("template {template}: at {path}: image {image}: {message}")]
    Image {
        /// The template's name or file.
        template: String,
        /// JSON path of the image element.
        path: String,
        /// The file path, or `data` for base64.
        image: String,
        /// Why it cannot be used.
        message: String,
    },
}

/// A label that cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The template does not serve this model.
    #[error("template {template} does not support model {model}; it supports: {supported}")]
    UnsupportedModel {
        /// The template.
        template: String,
        /// The requested model.
        model: Model,
        /// The models it serves, comma-separated.
        supported: String,
    },
    /// An element is bound to a field the product lacks, and has no fallback.
    #[error(
        "template {template}: {element}: product has no field {field:?} and the element has no fallback"
    )]
    MissingField {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// The field.
        field: String,
    },
    /// A field value cannot be used as the element needs it.
    #[error("template {template}: {element}: {source}")]
    BadValue {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// The field and the reason.
        source: ProductError,
    },
    /// A comparison that cannot be evaluated (e.g. `lt` on text).
    #[error("template {template}: {element}: {message}")]
    BadCondition {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// What is wrong.
        message: String,
    },
    /// An element names a font the font book lacks.
    #[error("template {template}: {element}: unknown font {font:?}; known fonts: {known}")]
    UnknownFont {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// The font name.
        font: String,
        /// The fonts the book has, comma-separated.
        known: String,
    },
    /// A price that does not fit its box even at `min_size`. Never cut: a clipped price
    /// would show a wrong amount.
    #[error(
        "template {template}: {element}: price {price} does not fit the box ({width} px wide) even at size {min_size}"
    )]
    PriceOverflow {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// The price as it would be drawn.
        price: String,
        /// The box width.
        width: u32,
        /// The smallest size tried.
        min_size: u32,
    },
    /// A barcode or QR code value that cannot be encoded, or a code that does not fit its
    /// box, with `on_error: fail` (the default).
    #[error("template {template}: {element}: cannot draw code{} for value {value:?}: {reason}", field.as_ref().map(|f| format!(" of field {f:?}")).unwrap_or_default())]
    Code {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// The field the value came from, if any.
        field: Option<String>,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A bound value (after formatting) longer than [`MAX_VALUE_CHARS`](crate::MAX_VALUE_CHARS).
    #[error(
        "template {template}: {element}: the value has {chars} characters; at most {max} can be shown"
    )]
    ValueTooLong {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A unit price that cannot be computed: a missing, zero or unreadable quantity, an
    /// unknown unit, a reference of another kind (`on_missing: fail`, the default).
    #[error("template {template}: {element}: cannot compute the unit price: {reason}")]
    UnitPrice {
        /// The template.
        template: String,
        /// JSON path of the element.
        element: String,
        /// Why.
        reason: String,
    },
    /// In strict mode, a warning is an error.
    #[error("template {template}: strict mode: {warning}")]
    Strict {
        /// The template.
        template: String,
        /// The warning.
        warning: Warning,
    },
}

/// What kind of [`RenderError`] it is, for callers that act on the kind (alert a
/// merchandiser when a price does not fit, fix the data when a field is missing, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RenderErrorKind {
    /// [`RenderError::UnsupportedModel`].
    UnsupportedModel,
    /// [`RenderError::MissingField`].
    MissingField,
    /// [`RenderError::BadValue`].
    BadValue,
    /// [`RenderError::BadCondition`].
    BadCondition,
    /// [`RenderError::UnknownFont`].
    UnknownFont,
    /// [`RenderError::PriceOverflow`].
    PriceOverflow,
    /// [`RenderError::Code`].
    Code,
    /// [`RenderError::ValueTooLong`].
    ValueTooLong,
    /// [`RenderError::UnitPrice`].
    UnitPrice,
    /// [`RenderError::Strict`].
    Strict,
}

impl RenderError {
    /// The kind of error.
    #[must_use]
    pub fn kind(&self) -> RenderErrorKind {
        match self {
            RenderError::UnsupportedModel { .. } => RenderErrorKind::UnsupportedModel,
            RenderError::MissingField { .. } => RenderErrorKind::MissingField,
            RenderError::BadValue { .. } => RenderErrorKind::BadValue,
            RenderError::BadCondition { .. } => RenderErrorKind::BadCondition,
            RenderError::UnknownFont { .. } => RenderErrorKind::UnknownFont,
            RenderError::PriceOverflow { .. } => RenderErrorKind::PriceOverflow,
            RenderError::Code { .. } => RenderErrorKind::Code,
            RenderError::ValueTooLong { .. } => RenderErrorKind::ValueTooLong,
            RenderError::UnitPrice { .. } => RenderErrorKind::UnitPrice,
            RenderError::Strict { .. } => RenderErrorKind::Strict,
        }
    }

    /// The JSON path of the element the error is about (`None` for a model the template
    /// does not serve).
    #[must_use]
    pub fn element(&self) -> Option<&str> {
        match self {
            RenderError::UnsupportedModel { .. } => None,
            RenderError::MissingField { element, .. }
            | RenderError::BadValue { element, .. }
            | RenderError::BadCondition { element, .. }
            | RenderError::UnknownFont { element, .. }
            | RenderError::PriceOverflow { element, .. }
            | RenderError::Code { element, .. }
            | RenderError::ValueTooLong { element, .. }
            | RenderError::UnitPrice { element, .. } => Some(element),
            RenderError::Strict { warning, .. } => Some(warning.element()),
        }
    }
}

/// Something worth knowing about a rendered label that did not stop it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Warning {
    /// No font of the element's chain has this character; it is drawn as the first font's
    /// "missing glyph" box.
    #[error("{element}: no font has {ch:?} (U+{code:04X}); drawn as a missing-glyph box")]
    MissingGlyph {
        /// JSON path of the element.
        element: String,
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
    },
    /// A code was hidden or replaced by text (`on_error: hide` or `text`).
    #[error("{element}: code for {value:?} not drawn: {reason}")]
    CodeNotDrawn {
        /// JSON path of the element.
        element: String,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A QR code with a quiet zone narrower than the standard 4 modules.
    #[error(
        "{element}: QR quiet zone of {modules} modules is below the standard 4; some scanners may fail"
    )]
    NarrowQuietZone {
        /// JSON path of the element.
        element: String,
        /// The quiet zone in modules.
        modules: u32,
    },
    /// Text did not fit at the smallest allowed size and was cut with an ellipsis.
    #[error("{element}: text does not fit at size {size}; cut to {shown:?}")]
    Truncated {
        /// JSON path of the element.
        element: String,
        /// The size used.
        size: u32,
        /// What is shown.
        shown: String,
    },
}

impl Warning {
    /// JSON path of the element the warning is about.
    #[must_use]
    pub fn element(&self) -> &str {
        match self {
            Warning::MissingGlyph { element, .. }
            | Warning::CodeNotDrawn { element, .. }
            | Warning::NarrowQuietZone { element, .. }
            | Warning::Truncated { element, .. } => element,
        }
    }
}
