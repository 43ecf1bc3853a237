//! Template format v1: the JSON a label designer writes, as Rust types.
//!
//! The types derive both [`serde::Deserialize`] (with unknown keys refused) and
//! [`schemars::JsonSchema`], so `templates/template.schema.json` is generated from the same
//! definitions the loader uses and cannot drift from it (a test compares the two).
//!
//! Coordinates: integer pixels in the *design space*, origin at the top-left corner, x to the
//! right, y downwards. A box `{x, y, w, h}` covers the pixels `x ≤ px < x + w`,
//! `y ≤ py < y + h`. The design space is the panel as seen after the template's rotation: a
//! 90°/270° template for a 296 × 152 panel is designed on a 152 × 296 canvas. Children of a
//! group use the group's top-left corner as their origin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use esl_model::{Ink, Model};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::TemplateError;
use crate::quantise;

/// The newest format version this engine reads; version 1 files load too, with the same
/// pixels.
pub const FORMAT_VERSION: u32 = 2;

/// A label template: what to draw for a product, for one or more ESL models.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "esl label template, format version 2")]
pub struct TemplateSpec {
    /// Format version: 2 (or 1; a version-1 file may not use the keys version 2 adds).
    pub version: u32,
    /// A short name for the template, used in messages.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The models the base layout (`elements`) serves.
    #[serde(default)]
    pub models: Vec<Model>,
    /// Whole-label rotation, clockwise, in degrees: 0, 90, 180 or 270.
    #[serde(default)]
    pub rotation: Rotation,
    /// Colour of the label background.
    #[serde(default = "white")]
    pub background: Color,
    /// Font names tried, in order, after an element's own fonts when a character is missing.
    #[serde(default)]
    pub fallback_fonts: Vec<String>,
    /// Seconds east of UTC used by date formats unless a format sets its own (e.g. 28800 for
    /// China Standard Time). Default 0 (UTC).
    #[serde(default)]
    pub utc_offset: i32,
    /// Version 2: whether text is grid-fitted (hinted) for the 1-bit panel before it is
    /// rasterised; default `true`. An element's own `hinting` overrides it.
    #[serde(default)]
    pub hinting: Option<bool>,
    /// The elements of the base layout, drawn in order (later elements on top).
    #[serde(default)]
    pub elements: Vec<Element>,
    /// Per-model layouts: a model listed in a variant uses the variant's elements instead of
    /// the base layout.
    #[serde(default)]
    pub variants: Vec<Variant>,
}

fn white() -> Color {
    Color::White
}

/// A layout for specific models.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The models this layout serves.
    pub models: Vec<Model>,
    /// Rotation for these models; the template's rotation when absent.
    #[serde(default)]
    pub rotation: Option<Rotation>,
    /// The elements of this layout.
    pub elements: Vec<Element>,
}

/// Whole-label rotation, clockwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rotation {
    /// No rotation.
    #[default]
    R0,
    /// 90° clockwise.
    R90,
    /// 180°.
    R180,
    /// 270° clockwise.
    R270,
}

impl<'de> Deserialize<'de> for Rotation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u16::deserialize(d)? {
            0 => Ok(Rotation::R0),
            90 => Ok(Rotation::R90),
            180 => Ok(Rotation::R180),
            270 => Ok(Rotation::R270),
            other => Err(serde::de::Error::custom(format!(
                "rotation must be 0, 90, 180 or 270 degrees, not {other}"
            ))),
        }
    }
}

impl Rotation {
    /// Clockwise quarter turns.
    #[must_use]
    pub const fn quarter_turns(self) -> u8 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 1,
            Rotation::R180 => 2,
            Rotation::R270 => 3,
        }
    }
}

impl JsonSchema for Rotation {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rotation".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Clockwise rotation in degrees.",
            "type": "integer",
            "enum": [0, 90, 180, 270]
        })
    }
}

/// A colour as templates name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// Black.
    Black,
    /// White.
    White,
    /// Red; drawn black on black/white models (see [`esl_model::Palette::map`]).
    Red,
}

impl From<Color> for Ink {
    fn from(c: Color) -> Ink {
        match c {
            Color::Black => Ink::Black,
            Color::White => Ink::White,
            Color::Red => Ink::Red,
        }
    }
}

/// A rectangle in pixels: `x ≤ px < x + w`, `y ≤ py < y + h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxSpec {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width, at least 1.
    pub w: u32,
    /// Height, at least 1.
    pub h: u32,
}

/// A point in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Horizontal position.
    pub x: i32,
    /// Vertical position.
    pub y: i32,
}

/// One drawable element, chosen by its `type` key.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Element {
    /// Text from a product field or a literal, fitted into a box.
    Text(TextElement),
    /// A money amount with a large integer part and small decimals.
    Price(PriceElement),
    /// A rectangle, filled and/or outlined, optionally with rounded corners.
    Rect(RectElement),
    /// A straight line.
    Line(LineElement),
    /// An ellipse inscribed in a box.
    Ellipse(EllipseElement),
    /// A PNG or JPEG picture, mapped to the panel's inks.
    Image(ImageElement),
    /// A box holding other elements, positioned relative to it and clipped to it.
    Group(GroupElement),
    /// A linear barcode (EAN-13, EAN-8, UPC-A, Code 128, Code 39, ITF, ITF-14).
    Barcode(BarcodeElement),
    /// A QR code.
    Qrcode(QrElement),
    /// Version 2: children laid out left to right.
    Row(ContainerElement),
    /// Version 2: children laid out top to bottom.
    Column(ContainerElement),
    /// Version 2: children on top of each other, each placed in the box.
    Stack(ContainerElement),
    /// Version 2: a price per reference quantity (per kg, per litre, per piece).
    #[serde(rename = "unit_price")]
    UnitPrice(UnitPriceElement),
}

impl Element {
    /// The element's `box`, and its `width` and `height` inside a container (a line has
    /// none of them).
    #[must_use]
    pub fn geometry(&self) -> (Option<BoxSpec>, Option<Size>, Option<Size>) {
        match self {
            Element::Text(e) => (e.bounds, e.width, e.height),
            Element::Price(e) => (e.bounds, e.width, e.height),
            Element::Rect(e) => (e.bounds, e.width, e.height),
            Element::Line(_) => (None, None, None),
            Element::Ellipse(e) => (e.bounds, e.width, e.height),
            Element::Image(e) => (e.bounds, e.width, e.height),
            Element::Group(e) => (e.bounds, e.width, e.height),
            Element::Barcode(e) => (e.bounds, e.width, e.height),
            Element::Qrcode(e) => (e.bounds, e.width, e.height),
            Element::Row(e) | Element::Column(e) | Element::Stack(e) => {
                (e.bounds, e.width, e.height)
            }
            Element::UnitPrice(e) => (e.bounds, e.width, e.height),
        }
    }

    /// The element's `when`.
    #[must_use]
    pub fn when(&self) -> Option<&Condition> {
        match self {
            Element::Text(e) => e.when.as_ref(),
            Element::Price(e) => e.when.as_ref(),
            Element::Rect(e) => e.when.as_ref(),
            Element::Line(e) => e.when.as_ref(),
            Element::Ellipse(e) => e.when.as_ref(),
            Element::Image(e) => e.when.as_ref(),
            Element::Group(e) => e.when.as_ref(),
            Element::Barcode(e) => e.when.as_ref(),
            Element::Qrcode(e) => e.when.as_ref(),
            Element::Row(e) | Element::Column(e) | Element::Stack(e) => e.when.as_ref(),
            Element::UnitPrice(e) => e.when.as_ref(),
        }
    }

    /// The element's own `hinting` (elements that draw text have one).
    #[must_use]
    pub fn hinting(&self) -> Option<bool> {
        match self {
            Element::Text(e) => e.hinting,
            Element::Price(e) => e.hinting,
            Element::UnitPrice(e) => e.hinting,
            Element::Barcode(e) => e.hinting,
            _ => None,
        }
    }

    /// The element's `type` as written in JSON.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Element::Text(_) => "text",
            Element::Price(_) => "price",
            Element::Rect(_) => "rect",
            Element::Line(_) => "line",
            Element::Ellipse(_) => "ellipse",
            Element::Image(_) => "image",
            Element::Group(_) => "group",
            Element::Barcode(_) => "barcode",
            Element::Qrcode(_) => "qrcode",
            Element::Row(_) => "row",
            Element::Column(_) => "column",
            Element::Stack(_) => "stack",
            Element::UnitPrice(_) => "unit_price",
        }
    }
}

/// Horizontal alignment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HAlign {
    /// Flush left.
    #[default]
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
}

/// Vertical alignment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VAlign {
    /// At the top.
    #[default]
    Top,
    /// Centred.
    Middle,
    /// At the bottom.
    Bottom,
}

/// Letter case applied to bound text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    /// As given.
    #[default]
    None,
    /// UPPER CASE.
    Upper,
    /// lower case.
    Lower,
}

/// One font name, or a list tried in order.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FontList {
    /// A single font name.
    One(String),
    /// Font names, tried in order for each character.
    Many(Vec<String>),
}

impl FontList {
    /// The names, in order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        match self {
            FontList::One(n) => std::slice::from_ref(n),
            FontList::Many(v) => v,
        }
    }
}

/// How a bound value becomes text.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Format {
    /// A money amount: rounded to `decimals`, with an optional currency sign.
    Money {
        /// Digits after the decimal separator (default 2).
        #[serde(default = "two")]
        decimals: u32,
        /// Currency sign, e.g. `¥`, `€`, `$`.
        #[serde(default)]
        currency: String,
        /// Whether the sign goes after the amount (`3,49 €`) instead of before (`¥3.49`).
        #[serde(default)]
        currency_after: bool,
        /// Decimal separator (default `.`).
        #[serde(default = "dot")]
        decimal_separator: String,
        /// Thousands separator (default none).
        #[serde(default)]
        thousands_separator: String,
    },
    /// A plain number rounded to `decimals`.
    Number {
        /// Digits after the decimal point.
        #[serde(default)]
        decimals: u32,
    },
    /// A date/time from unix seconds (the seed's `expire_time`).
    Date {
        /// Pattern with `%Y` (2026), `%y` (26), `%m`, `%d`, `%H`, `%M`, `%S`, `%%`.
        #[serde(default = "iso_date")]
        pattern: String,
        /// Seconds east of UTC; the template's `utc_offset` when absent.
        #[serde(default)]
        utc_offset: Option<i32>,
    },
}

fn two() -> u32 {
    2
}
fn dot() -> String {
    ".".to_owned()
}
fn iso_date() -> String {
    "%Y-%m-%d".to_owned()
}

/// When an element is drawn.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Condition {
    /// The field is present, not null and not an empty string.
    Present(String),
    /// The field is absent, null or an empty string.
    Absent(String),
    /// Compares a field with another field or a constant.
    Compare(Comparison),
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The label is rendered for one of these models.
    Models(Vec<Model>),
}

/// A comparison of a field with another field (`other`) or a constant (`value`).
///
/// Numbers compare numerically (prices as exact decimals); other values compare as text,
/// for which only `eq` and `ne` are allowed. A comparison with an absent field is false.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The field on the left.
    pub field: String,
    /// The operator.
    pub op: CompareOp,
    /// A field on the right.
    #[serde(default)]
    pub other: Option<String>,
    /// A constant on the right (number or text).
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// Text fitted into a box.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box the text must stay in.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// The product field shown; exactly one of `field` and `text`.
    #[serde(default)]
    pub field: Option<String>,
    /// A literal text, in which `{field}` is replaced by the field's value (`{{`, `}}` for
    /// braces); exactly one of `field` and `text`. When a named field is absent the
    /// element shows its fallback, or fails without one.
    #[serde(default)]
    pub text: Option<String>,
    /// Version 2: rich text, a list of spans, each with its own font, size, colour or
    /// weight; exactly one of `field`, `text` and `spans`. The spans wrap and shrink to fit
    /// as one text; each keeps its size relative to the element's `size`.
    #[serde(default)]
    pub spans: Option<Vec<Span>>,
    /// How the field's value becomes text.
    #[serde(default)]
    pub format: Option<Format>,
    /// Put before a non-empty value.
    #[serde(default)]
    pub prefix: String,
    /// Put after a non-empty value.
    #[serde(default)]
    pub suffix: String,
    /// Letter case.
    #[serde(default)]
    pub case: Case,
    /// Shown when the field is absent or empty; an empty fallback hides the element. Without
    /// one, a missing field is an error.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Font name(s) from the font book.
    #[serde(default = "sans")]
    pub font: FontList,
    /// Version 2: whether this element's text is hinted (grid-fitted for the 1-bit panel);
    /// the template's `hinting` when absent.
    #[serde(default)]
    pub hinting: Option<bool>,
    /// Font size in pixels (the em size).
    pub size: u32,
    /// Smallest size the text may shrink to before it is cut with an ellipsis (default:
    /// `size`, no shrinking).
    #[serde(default)]
    pub min_size: Option<u32>,
    /// Most lines the text may wrap to (default 1).
    #[serde(default = "one")]
    pub max_lines: u32,
    /// Line pitch as a multiple of the size (default 1.15).
    #[serde(default = "line_spacing")]
    pub line_spacing: f32,
    /// Horizontal alignment.
    #[serde(default)]
    pub align: HAlign,
    /// Vertical alignment.
    #[serde(default)]
    pub valign: VAlign,
    /// Text colour.
    #[serde(default = "black")]
    pub color: Color,
    /// Fills the whole box first (for white text on a black or red bar).
    #[serde(default)]
    pub background: Option<Color>,
    /// Draws a line through the text.
    #[serde(default)]
    pub strike: bool,
}

/// A piece of a rich text (`spans` of a text element): its text and how it differs from
/// the element's style. What a span leaves out, it takes from the element.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// A literal text, with `{field}` placeholders; exactly one of `text` and `field`.
    #[serde(default)]
    pub text: Option<String>,
    /// A product field; exactly one of `text` and `field`.
    #[serde(default)]
    pub field: Option<String>,
    /// How the field's value becomes text.
    #[serde(default)]
    pub format: Option<Format>,
    /// Shown when the span's field is absent or empty; an empty fallback leaves the span
    /// out. Without one, a missing field makes the element show its own `fallback` (or
    /// fail without one), as a `text` with a missing placeholder does.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Font name(s) from the font book (default: the element's).
    #[serde(default)]
    pub font: Option<FontList>,
    /// Sets the span in the bold face of each of its fonts: the book's `NAME-bold` where
    /// it has one (`sans` → `sans-bold`); a font without a bold face stays as it is.
    #[serde(default)]
    pub bold: bool,
    /// Font size in pixels at the element's full `size` (default: the element's); it
    /// shrinks in proportion when the text shrinks to fit.
    #[serde(default)]
    pub size: Option<u32>,
    /// Text colour (default: the element's).
    #[serde(default)]
    pub color: Option<Color>,
}

fn sans() -> FontList {
    FontList::One("sans".to_owned())
}
fn one() -> u32 {
    1
}
fn line_spacing() -> f32 {
    1.15
}
fn black() -> Color {
    Color::Black
}

/// A price: currency sign, large integer part, small decimals.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box the price must stay in.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// The product field holding the amount (a JSON number or a numeric string).
    pub field: String,
    /// Shown (as plain text) when the field is absent; an empty fallback hides the
    /// element. Without one, a missing field is an error.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Digits after the decimal separator (default 2; 0 shows no decimals).
    #[serde(default = "two")]
    pub decimals: u32,
    /// Currency sign, drawn small like the decimals: a literal, or (version 2) from a field.
    #[serde(default)]
    pub currency: Currency,
    /// Put the currency sign after the amount.
    #[serde(default)]
    pub currency_after: bool,
    /// Decimal separator (default `.`).
    #[serde(default = "dot")]
    pub decimal_separator: String,
    /// Thousands separator for the integer part (default none).
    #[serde(default)]
    pub thousands_separator: String,
    /// Font name(s).
    #[serde(default = "sans_bold")]
    pub font: FontList,
    /// Version 2: whether this element's text is hinted (grid-fitted for the 1-bit panel);
    /// the template's `hinting` when absent.
    #[serde(default)]
    pub hinting: Option<bool>,
    /// Size of the integer part in pixels.
    pub size: u32,
    /// Size of the decimals and the currency sign (default: half of `size`).
    #[serde(default)]
    pub small_size: Option<u32>,
    /// Smallest integer size to shrink to when the price is too wide (the small parts
    /// shrink in proportion). Default: `size`.
    #[serde(default)]
    pub min_size: Option<u32>,
    /// Small parts raised to the top of the digits (default) or on the baseline.
    #[serde(default)]
    pub small_position: SmallPosition,
    /// Horizontal alignment.
    #[serde(default)]
    pub align: HAlign,
    /// Vertical alignment of the digits.
    #[serde(default)]
    pub valign: VAlign,
    /// Colour.
    #[serde(default = "black")]
    pub color: Color,
    /// Fills the whole box first.
    #[serde(default)]
    pub background: Option<Color>,
    /// Draws a line through the price (for the old price next to a promotion).
    #[serde(default)]
    pub strike: bool,
    /// Version 2: where the currency sign goes, `before` or `after` the amount (instead of
    /// `currency_after`).
    #[serde(default)]
    pub currency_position: Option<CurrencyPosition>,
    /// Version 2: the currency sign on the `baseline` or raised to the `top` of the digits,
    /// set apart from the decimals (`small_position`); by default it sits with the decimals.
    #[serde(default)]
    pub currency_align: Option<CurrencyAlign>,
    /// Version 2: the size of the currency sign (default: the decimals' size).
    #[serde(default)]
    pub currency_size: Option<u32>,
    /// Version 2: text before the amount, at the decimals' size on the baseline, with
    /// `{field}` placeholders: `"{multi_qty} for "` draws a multi-buy "2 for ¥5.00". A
    /// missing field hides the element.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Version 2: text after the amount, as `prefix`: `"/kg"` for loose goods priced by
    /// weight.
    #[serde(default)]
    pub suffix: Option<String>,
}

/// Where a price's currency sign goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CurrencyPosition {
    /// Before the amount: `¥3.20`.
    Before,
    /// After the amount: `3,20 €`.
    After,
}

/// How a price's currency sign sits against the digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CurrencyAlign {
    /// On the baseline of the digits.
    Baseline,
    /// Raised to the top of the digits.
    Top,
}

/// A currency sign: a literal (`"€"`), or taken from a product field
/// (`{"field": "currency", "fallback": "¥"}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Currency {
    /// The sign itself.
    Literal(String),
    /// Version 2: from a field.
    Field {
        /// The field (the SUNMI field set has no currency; esl's optional `currency`).
        field: String,
        /// Shown when the field is missing (default: no sign).
        #[serde(default)]
        fallback: String,
    },
}

impl Default for Currency {
    fn default() -> Self {
        Currency::Literal(String::new())
    }
}

/// A size along one axis, inside a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// This many pixels.
    Px(u32),
    /// The content's natural size.
    Fit,
    /// A share (the weight) of the room the other children leave.
    Fill(u32),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Px(u32),
            Word(String),
            Fill { fill: u32 },
        }
        let bad = || {
            serde::de::Error::custom(
                "a size is a number of pixels, \"fit\", \"fill\" or {\"fill\": weight}",
            )
        };
        match Raw::deserialize(d).map_err(|_| bad())? {
            Raw::Px(v) => Ok(Size::Px(v)),
            Raw::Word(w) if w == "fit" => Ok(Size::Fit),
            Raw::Word(w) if w == "fill" => Ok(Size::Fill(1)),
            Raw::Fill { fill } if fill >= 1 => Ok(Size::Fill(fill)),
            _ => Err(bad()),
        }
    }
}

impl JsonSchema for Size {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A size inside a container: pixels, \"fit\" (the content's natural size), \"fill\" or {\"fill\": weight} (a share of the room left).",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "enum": ["fit", "fill"]},
                {"type": "object", "properties": {"fill": {"type": "integer", "minimum": 1}}, "required": ["fill"], "additionalProperties": false}
            ]
        })
    }
}

/// Room inside a box's edges: one number for all sides, `[vertical, horizontal]`, or
/// `[top, right, bottom, left]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    /// Top.
    pub top: u32,
    /// Right.
    pub right: u32,
    /// Bottom.
    pub bottom: u32,
    /// Left.
    pub left: u32,
}

impl<'de> Deserialize<'de> for Padding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            All(u32),
            Sides(Vec<u32>),
        }
        let bad = || {
            serde::de::Error::custom(
                "padding is a number, [vertical, horizontal] or [top, right, bottom, left]",
            )
        };
        Ok(match Raw::deserialize(d).map_err(|_| bad())? {
            Raw::All(v) => Padding {
                top: v,
                right: v,
                bottom: v,
                left: v,
            },
            Raw::Sides(v) => match v.as_slice() {
                [a, b] => Padding {
                    top: *a,
                    right: *b,
                    bottom: *a,
                    left: *b,
                },
                [t, r, b, l] => Padding {
                    top: *t,
                    right: *r,
                    bottom: *b,
                    left: *l,
                },
                _ => return Err(bad()),
            },
        })
    }
}

impl JsonSchema for Padding {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Padding".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Room inside the edges: a number, [vertical, horizontal] or [top, right, bottom, left].",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 4}
            ]
        })
    }
}

/// How a container places children across its axis (a row: vertically), when they are
/// smaller than it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    /// At the start (top of a row, left of a column).
    #[default]
    Start,
    /// Centred.
    Center,
    /// At the end.
    End,
}

/// How a container distributes room left along its axis, when no child fills it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Justify {
    /// Children packed at the start.
    #[default]
    Start,
    /// Packed in the middle.
    Center,
    /// Packed at the end.
    End,
    /// The first at the start, the last at the end, the room shared between them.
    SpaceBetween,
}

/// Version 2: a `row`, `column` or `stack` of children.
///
/// A row places its children left to right and a column top to bottom, `gap` pixels apart,
/// inside the `padding`. Along the axis each child is as large as its `width` (a row) or
/// `height` (a column) says: pixels, `"fit"` (its natural size; the default) or `"fill"`
/// (a share of the room left). Across, a child fills the container unless it says otherwise,
/// and `align` places the smaller ones. A child hidden by `when` (or a text whose value is
/// empty) takes no room. A stack places every child in its inner box, by `justify`
/// (horizontally) and `align` (vertically), sizes defaulting to `"fill"`. Children that do
/// not fit are cut at the container's edge, as everything is clipped to its box.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box, when the container is not inside another.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Inside another container: the width.
    #[serde(default)]
    pub width: Option<Size>,
    /// Inside another container: the height.
    #[serde(default)]
    pub height: Option<Size>,
    /// Pixels between neighbouring children.
    #[serde(default)]
    pub gap: u32,
    /// Room inside the edges.
    #[serde(default)]
    pub padding: Padding,
    /// Placement across the axis of children smaller than the container.
    #[serde(default)]
    pub align: Align,
    /// Distribution of the room left along the axis.
    #[serde(default)]
    pub justify: Justify,
    /// Fills the box first.
    #[serde(default)]
    pub background: Option<Color>,
    /// The children, laid out and drawn in order.
    pub children: Vec<Element>,
}

/// Version 2: a unit price, such as "€7.55/l": the price ÷ the quantity it is for, per a
/// reference quantity.
///
/// The quantity comes from `quantity_field` (a number, e.g. `330`) in `unit_field` (`g`,
/// `kg`, `mg`, `ml`, `cl`, `dl`, `l`, `pc`; also `克`, `千克`, `公斤`, `毫升`, `升`, `个`,
/// `件`, and `gram(s)`, `piece(s)`, `pcs`, case-insensitive). The reference `per` is
/// `1kg`, `100g`, `1l`, `100ml` or `1pc`; by default `1kg` for weights, `1l` for volumes,
/// `1pc` for pieces. The arithmetic is exact: `price × reference ÷ quantity`, rounded once
/// to `decimals`, half away from zero. A missing or zero quantity, or an unknown unit, is an
/// error naming the field, unless `on_missing` is `hide`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPriceElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Inside a container: the width.
    #[serde(default)]
    pub width: Option<Size>,
    /// Inside a container: the height.
    #[serde(default)]
    pub height: Option<Size>,
    /// The price field (default `price`).
    #[serde(default = "price_field")]
    pub field: String,
    /// The quantity field (default `net_content`).
    #[serde(default = "net_content")]
    pub quantity_field: String,
    /// The unit field (default `net_unit`).
    #[serde(default = "net_unit")]
    pub unit_field: String,
    /// The reference quantity: `1kg`, `100g`, `1l`, `100ml`, `1pc`.
    #[serde(default)]
    pub per: Option<String>,
    /// Digits after the decimal separator (default 2).
    #[serde(default = "two")]
    pub decimals: u32,
    /// The currency sign.
    #[serde(default)]
    pub currency: Currency,
    /// Where the sign goes (default `before`).
    #[serde(default)]
    pub currency_position: Option<CurrencyPosition>,
    /// Decimal separator (default `.`).
    #[serde(default = "dot")]
    pub decimal_separator: String,
    /// The text shown, with `{price}` (the unit price with its currency) and `{per}` (the
    /// reference: `kg`, `100 g`, `l`, `100 ml`, `pc`, or `per_label`). Default
    /// `"{price}/{per}"`.
    #[serde(default = "unit_price_text")]
    pub text: String,
    /// What `{per}` shows instead of the reference's own name (e.g. `"公斤"`).
    #[serde(default)]
    pub per_label: Option<String>,
    /// With a missing, zero or unreadable quantity: `fail` (default) or `hide`.
    #[serde(default)]
    pub on_missing: OnMissing,
    /// Font name(s).
    #[serde(default = "sans")]
    pub font: FontList,
    /// Version 2: whether this element's text is hinted (grid-fitted for the 1-bit panel);
    /// the template's `hinting` when absent.
    #[serde(default)]
    pub hinting: Option<bool>,
    /// Font size in pixels.
    pub size: u32,
    /// Smallest size to shrink to (default `size`).
    #[serde(default)]
    pub min_size: Option<u32>,
    /// Horizontal alignment.
    #[serde(default)]
    pub align: HAlign,
    /// Vertical alignment.
    #[serde(default)]
    pub valign: VAlign,
    /// Colour.
    #[serde(default = "black")]
    pub color: Color,
    /// Fills the box first.
    #[serde(default)]
    pub background: Option<Color>,
}

fn price_field() -> String {
    "price".to_owned()
}
fn net_content() -> String {
    "net_content".to_owned()
}
fn net_unit() -> String {
    "net_unit".to_owned()
}
fn unit_price_text() -> String {
    "{price}/{per}".to_owned()
}

/// What a unit price does when its quantity is missing, zero or unreadable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    /// The render fails with the field and the reason.
    #[default]
    Fail,
    /// The element is left out.
    Hide,
}

fn sans_bold() -> FontList {
    FontList::One("sans-bold".to_owned())
}

/// Where the small parts of a price sit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmallPosition {
    /// Top-aligned with the large digits (superscript style).
    #[default]
    Top,
    /// On the baseline.
    Baseline,
}

/// A rectangle.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The rectangle.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// Fill colour; none when absent.
    #[serde(default)]
    pub fill: Option<Color>,
    /// Outline colour; none when absent.
    #[serde(default)]
    pub outline: Option<Color>,
    /// Outline width in pixels, drawn inside the box (default 1).
    #[serde(default = "one")]
    pub stroke: u32,
    /// Corner radius in pixels (default 0).
    #[serde(default)]
    pub radius: u32,
    /// Version 2: elements inside the rectangle, stacked (as a `stack`) inside its padding;
    /// with `"width": "fit"` / `"height": "fit"` the rectangle hugs them. This is the badge:
    /// the same padding around "促销" and "SALE".
    #[serde(default)]
    pub children: Vec<Element>,
    /// Version 2: room between the rectangle's edge and its children.
    #[serde(default)]
    pub padding: Padding,
    /// Version 2: how the children are placed across (vertically), when smaller than the box.
    #[serde(default = "center_align")]
    pub align: Align,
    /// Version 2: how the children are placed along (horizontally), when smaller than the box.
    #[serde(default = "center_justify")]
    pub justify: Justify,
}

fn center_align() -> Align {
    Align::Center
}
fn center_justify() -> Justify {
    Justify::Center
}

/// A straight line of a given width.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// Start point: the centre of the first pixel.
    pub from: Point,
    /// End point: the centre of the last pixel.
    pub to: Point,
    /// Width in pixels (default 1).
    #[serde(default = "one")]
    pub width: u32,
    /// Colour.
    #[serde(default = "black")]
    pub color: Color,
}

/// An ellipse inscribed in a box.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EllipseElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The bounding box.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// Fill colour; none when absent.
    #[serde(default)]
    pub fill: Option<Color>,
    /// Outline colour; none when absent.
    #[serde(default)]
    pub outline: Option<Color>,
    /// Outline width in pixels, inside the ellipse (default 1).
    #[serde(default = "one")]
    pub stroke: u32,
}

/// How a picture fits its box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Scaled to fit inside the box, aspect kept, centred.
    #[default]
    Contain,
    /// Scaled to cover the box, aspect kept, centred and cropped.
    Cover,
    /// Stretched to the box.
    Stretch,
}

/// A PNG or JPEG picture.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box the picture is fitted into.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// A file path, relative to the template file; exactly one of `src` and `data`.
    #[serde(default)]
    pub src: Option<PathBuf>,
    /// Base64 bytes of a PNG or JPEG (a `data:` URI prefix is allowed).
    #[serde(default)]
    pub data: Option<String>,
    /// How the picture fits its box.
    #[serde(default)]
    pub fit: Fit,
    /// Index of the decoded picture in the loaded template (set by the loader).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) decoded: Option<usize>,
    /// Plain threshold: the luminance (0–255) below which a pixel becomes black (default
    /// 128). Set without `dither`, the picture is mapped by the `threshold` algorithm at
    /// this level (no dithering; strongly red pixels red on black/white/red models); with a
    /// `dither` whose algorithm is `threshold`, it is that algorithm's level.
    #[serde(default)]
    pub threshold: Option<u8>,
    /// How the picture is dithered to the panel's inks. Without it (and without
    /// `threshold`) the default algorithm with neutral controls is used.
    #[serde(default)]
    pub dither: Option<DitherSpec>,
}

impl ImageElement {
    /// The quantiser options this element asks for: its `dither` settings; a plain
    /// threshold at its level when it sets only `threshold`; the default dither otherwise.
    #[must_use]
    pub fn quantise_options(&self) -> quantise::Options {
        let defaults = quantise::Options::default();
        let threshold = self.threshold.unwrap_or(defaults.threshold);
        match &self.dither {
            None if self.threshold.is_some() => quantise::Options {
                algorithm: quantise::Algorithm::Threshold,
                threshold,
                ..defaults
            },
            None => defaults,
            Some(d) => quantise::Options {
                algorithm: d.algorithm,
                brightness: d.brightness,
                contrast: d.contrast,
                gamma: d.gamma,
                red: quantise::RedPolicy {
                    hue_full: d.red.hue_full,
                    hue_none: d.red.hue_none,
                    saturation_full: d.red.saturation_full,
                    saturation_none: d.red.saturation_none,
                },
                serpentine: d.serpentine,
                threshold,
                solid: d.solid,
                jitter: d.jitter,
            },
        }
    }
}

/// Dithering of an image element: the algorithm and the tone controls. Each maps to the
/// field of the same name of `quantise::Options`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DitherSpec {
    /// The algorithm (default `sierra`).
    #[serde(default)]
    pub algorithm: quantise::Algorithm,
    /// Added to every channel's sRGB value, -1 to 1 (default 0): positive is lighter.
    #[serde(default, deserialize_with = "brightness")]
    #[schemars(range(min = -1, max = 1))]
    pub brightness: f32,
    /// Slope around mid-grey, 0 to 10 (default 1): above 1 is punchier.
    #[serde(default = "dither_unit", deserialize_with = "contrast")]
    #[schemars(range(min = 0, max = 10))]
    pub contrast: f32,
    /// Mid-tone gamma, 0.1 to 10 (default 1): above 1 lightens mid-tones.
    #[serde(default = "dither_unit", deserialize_with = "gamma")]
    #[schemars(range(min = 0.1, max = 10))]
    pub gamma: f32,
    /// Error diffusion alternates the direction of rows (default true).
    #[serde(default = "dither_serpentine")]
    pub serpentine: bool,
    /// Which colours may become red on black/white/red models.
    #[serde(default)]
    pub red: RedSpec,
    /// Flat areas of a colour this near an ink (OKLab distance × 100, 0 to 50, default 4),
    /// or that the red policy lets be fully red, print as solid ink; 0 dithers everything.
    #[serde(default = "dither_solid", deserialize_with = "solid")]
    #[schemars(range(min = 0, max = 50))]
    pub solid: f32,
    /// Error diffusion: how strongly blue noise modulates the choice of ink, 0 to 1
    /// (default 0.2); 0 is the plain kernel.
    #[serde(default = "dither_jitter", deserialize_with = "jitter")]
    #[schemars(range(min = 0, max = 1))]
    pub jitter: f32,
}

/// Which colours of a picture may be drawn red on black/white/red models, by HSV hue and
/// saturation (as `quantise::RedPolicy`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RedSpec {
    /// Hue distance from pure red, in degrees, within which red is fully allowed
    /// (default 12).
    #[serde(deserialize_with = "degrees")]
    #[schemars(range(min = 0, max = 180))]
    pub hue_full: f32,
    /// Hue distance from pure red, in degrees, from which red is not used (default 24);
    /// 0 never uses red.
    #[serde(deserialize_with = "degrees")]
    #[schemars(range(min = 0, max = 180))]
    pub hue_none: f32,
    /// Saturation from which red is fully allowed, 0 to 1 (default 0.7).
    #[serde(deserialize_with = "fraction")]
    #[schemars(range(min = 0, max = 1))]
    pub saturation_full: f32,
    /// Saturation up to which red is not used, 0 to 1 (default 0.45).
    #[serde(deserialize_with = "fraction")]
    #[schemars(range(min = 0, max = 1))]
    pub saturation_none: f32,
}

impl Default for RedSpec {
    fn default() -> Self {
        let p = quantise::RedPolicy::default();
        RedSpec {
            hue_full: p.hue_full,
            hue_none: p.hue_none,
            saturation_full: p.saturation_full,
            saturation_none: p.saturation_none,
        }
    }
}

fn dither_unit() -> f32 {
    1.0
}
fn dither_serpentine() -> bool {
    true
}
fn dither_jitter() -> f32 {
    quantise::Options::DEFAULT_JITTER
}
fn dither_solid() -> f32 {
    quantise::Options::DEFAULT_SOLID
}

/// A number within `lo..=hi`, or a deserialisation error naming the key and the range
/// (the JSON path of an error inside an element stops at the element).
fn bounded<'de, D: serde::Deserializer<'de>>(
    d: D,
    key: &str,
    lo: f32,
    hi: f32,
) -> Result<f32, D::Error> {
    let v = f32::deserialize(d)?;
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{key} {v} is outside {lo} to {hi}"
        )))
    }
}
fn brightness<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "dither.brightness", -1.0, 1.0)
}
fn contrast<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "dither.contrast", 0.0, 10.0)
}
fn gamma<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "dither.gamma", 0.1, 10.0)
}
fn jitter<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "dither.jitter", 0.0, 1.0)
}
fn solid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "dither.solid", 0.0, 50.0)
}
fn degrees<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "a dither.red hue limit", 0.0, 180.0)
}
fn fraction<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    bounded(d, "a dither.red saturation limit", 0.0, 1.0)
}

impl serde::Serialize for quantise::Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for quantise::Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for quantise::Algorithm {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DitherAlgorithm".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = quantise::Algorithm::ALL
            .iter()
            .map(|a| a.name())
            .chain(quantise::Algorithm::ALL.iter().filter_map(|a| a.alias()))
            .collect();
        schemars::json_schema!({
            "description": "A dithering algorithm: threshold; error diffusion floyd-steinberg (fs), atkinson, jarvis-judice-ninke (jjn), stucki, burkes, sierra (the default), sierra-lite; ordered bayer2, bayer4, bayer8, blue-noise.",
            "type": "string",
            "enum": names
        })
    }
}

/// A box of elements.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The group's box: its children's origin and clip.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// Fills the box before the children are drawn.
    #[serde(default)]
    pub background: Option<Color>,
    /// Version 2: room between the group's edge and its children's origin; a group that
    /// fits (`"width": "fit"`) hugs its children's boxes with this room around them.
    #[serde(default)]
    pub padding: Padding,
    /// The children, drawn in order.
    pub elements: Vec<Element>,
}

/// A linear barcode symbology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Symbology {
    /// EAN-13 (and JAN): 12 digits, or 13 with the check digit verified.
    Ean13,
    /// EAN-8: 7 digits, or 8 with the check digit verified.
    Ean8,
    /// UPC-A: 11 digits, or 12 with the check digit verified.
    Upca,
    /// Code 128 (sets B and C chosen automatically): printable ASCII.
    Code128,
    /// Code 39: A–Z, 0–9 and `- . $ / + %` and space.
    Code39,
    /// Interleaved 2 of 5: an even number of digits.
    Itf,
    /// ITF-14 (GTIN-14 on cartons): 13 digits, or 14 with the check digit verified.
    Itf14,
}

/// What a code element does when its value cannot be encoded or does not fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// The render fails with the field, value and reason (default).
    #[default]
    Fail,
    /// The element is left out; the render result carries a warning.
    Hide,
    /// `error_text` (or the raw value) is drawn as text in the box; with a warning.
    Text,
}

/// A linear barcode, black on white, with integer module widths and its quiet zones.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BarcodeElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box: bars, quiet zones and digits all stay inside it.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// The symbology.
    pub symbology: Symbology,
    /// The product field holding the value; exactly one of `field` and `value`.
    #[serde(default)]
    pub field: Option<String>,
    /// A literal value; exactly one of `field` and `value`.
    #[serde(default)]
    pub value: Option<String>,
    /// When the field is absent: an empty fallback hides the element, another text is
    /// drawn as text; without one, a missing field is an error.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Draws the human-readable digits under the bars (default true).
    #[serde(default = "yes")]
    pub human_readable: bool,
    /// Font of the digits (default `sans`).
    #[serde(default = "sans")]
    pub font: FontList,
    /// Version 2: whether this element's text is hinted (grid-fitted for the 1-bit panel);
    /// the template's `hinting` when absent.
    #[serde(default)]
    pub hinting: Option<bool>,
    /// Size of the digits in pixels; chosen to fit when absent.
    #[serde(default)]
    pub text_size: Option<u32>,
    /// Horizontal placement of the code (with its quiet zones) in the box (default centre).
    #[serde(default = "center")]
    pub align: HAlign,
    /// What to do when the value cannot be encoded or does not fit.
    #[serde(default)]
    pub on_error: OnError,
    /// Text drawn with `on_error: text` (default: the value).
    #[serde(default)]
    pub error_text: Option<String>,
}

fn yes() -> bool {
    true
}
fn center() -> HAlign {
    HAlign::Center
}

/// QR error-correction level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum QrEcLevel {
    /// About 7% of the code may be damaged.
    L,
    /// About 15% (default).
    #[default]
    M,
    /// About 25%.
    Q,
    /// About 30%.
    H,
}

/// A QR code, black on white, with whole-pixel modules and a quiet zone.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QrElement {
    /// A name for messages.
    #[serde(default)]
    pub id: Option<String>,
    /// Draw only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The box; the code (with its quiet zone) is the largest square of whole-pixel modules
    /// that fits, centred.
    #[serde(rename = "box", default)]
    pub bounds: Option<BoxSpec>,
    /// Version 2, inside a `row`, `column` or `stack` (instead of `box`): the width, a
    /// number of pixels, `"fit"` (the content's natural width) or `"fill"` (a share of the
    /// room left; `{"fill": 2}` for two shares).
    #[serde(default)]
    pub width: Option<Size>,
    /// Version 2, inside a container: the height, as `width`.
    #[serde(default)]
    pub height: Option<Size>,
    /// The product field holding the data; exactly one of `field` and `value`.
    #[serde(default)]
    pub field: Option<String>,
    /// Literal data, in which `{field}` is replaced by the field's value (e.g. a URL with
    /// the product id); exactly one of `field` and `value`.
    #[serde(default)]
    pub value: Option<String>,
    /// When the field is absent: an empty fallback hides the element, another text is
    /// drawn as text; without one, a missing field is an error.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Error-correction level `L`, `M` (default), `Q` or `H`.
    #[serde(default)]
    pub ec_level: QrEcLevel,
    /// Quiet zone in modules: 4 (default, the standard) or 2 (allowed, with a warning).
    #[serde(default = "four")]
    pub quiet_zone: u32,
    /// Allows 1-pixel modules, which do not scan reliably; by default modules are at
    /// least 2 pixels.
    #[serde(default)]
    pub allow_1px: bool,
    /// What to do when the data cannot be encoded or does not fit.
    #[serde(default)]
    pub on_error: OnError,
    /// Text drawn with `on_error: text` (default: the data).
    #[serde(default)]
    pub error_text: Option<String>,
}

fn four() -> u32 {
    4
}

/// The JSON Schema of the template format, as pretty-printed JSON.
#[must_use]
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(TemplateSpec);
    // Serialising a schema (a JSON value) to a string cannot fail.
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// Parses template JSON, with precise positions in errors.
pub(crate) fn parse_spec(bytes: &[u8], source: &str) -> Result<TemplateSpec, TemplateError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let spec: TemplateSpec =
        serde_path_to_error::deserialize(de).map_err(|e| TemplateError::Json {
            template: source.to_owned(),
            path: display_path(&e.path().to_string()),
            line: e.inner().line(),
            column: e.inner().column(),
            message: e.inner().to_string(),
        })?;
    Ok(spec)
}

fn display_path(p: &str) -> String {
    if p == "." || p.is_empty() {
        "(top level)".to_owned()
    } else {
        p.to_owned()
    }
}

/// Reads the bytes of an image element's `src`, relative to the template's folder.
pub(crate) fn read_image_file(base: Option<&Path>, src: &Path) -> std::io::Result<Vec<u8>> {
    let path = match base {
        Some(dir) if src.is_relative() => dir.join(src),
        _ => src.to_path_buf(),
    };
    std::fs::read(path)
}

/// A map from model to the layout it uses, built by the loader.
pub(crate) type LayoutIndex = BTreeMap<Model, usize>;
