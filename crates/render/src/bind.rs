//! Binding: product fields to final strings, and conditions to yes/no.

use esl_model::{Amount, Model, Product, ProductError};
use serde_json::Value;

use crate::template::{Case, CompareOp, Comparison, Condition, Format};

/// Why a binding failed; the renderer adds the template and element.
#[derive(Debug)]
pub(crate) enum BindFailure {
    Missing(String),
    Value(ProductError),
    Condition(String),
}

impl From<ProductError> for BindFailure {
    fn from(e: ProductError) -> Self {
        BindFailure::Value(e)
    }
}

/// Whether a field counts as present: not absent, not null, not an empty string.
fn present(product: &Product, field: &str) -> bool {
    match product.get(field) {
        None => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// Evaluates a condition.
pub(crate) fn eval(cond: &Condition, product: &Product, model: Model) -> Result<bool, BindFailure> {
    Ok(match cond {
        Condition::Present(f) => present(product, f),
        Condition::Absent(f) => !present(product, f),
        Condition::All(cs) => {
            for c in cs {
                if !eval(c, product, model)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Any(cs) => {
            for c in cs {
                if eval(c, product, model)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(c) => !eval(c, product, model)?,
        Condition::Models(ms) => ms.contains(&model),
        Condition::Compare(c) => compare(c, product)?,
    })
}

/// A comparable value: an exact number, or text.
enum Operand {
    Number(Amount),
    Text(String),
}

fn operand_of_field(product: &Product, field: &str) -> Result<Option<Operand>, BindFailure> {
    if !present(product, field) {
        return Ok(None);
    }
    if let Ok(Some(a)) = product.amount(field) {
        return Ok(Some(Operand::Number(a)));
    }
    Ok(product.text(field)?.map(Operand::Text))
}

fn operand_of_value(v: &Value) -> Option<Operand> {
    match v {
        Value::Number(n) => n.to_string().parse().ok().map(Operand::Number),
        Value::String(s) => Some(match s.parse::<Amount>() {
            Ok(a) => Operand::Number(a),
            Err(_) => Operand::Text(s.clone()),
        }),
        Value::Bool(b) => Some(Operand::Text(b.to_string())),
        _ => None,
    }
}

fn compare(c: &Comparison, product: &Product) -> Result<bool, BindFailure> {
    let Some(left) = operand_of_field(product, &c.field)? else {
        return Ok(false);
    };
    let right = match (&c.other, &c.value) {
        (Some(other), None) => operand_of_field(product, other)?,
        (None, Some(v)) => operand_of_value(v),
        _ => {
            return Err(BindFailure::Condition(
                "compare needs exactly one of `other` and `value`".to_owned(),
            ));
        }
    };
    let Some(right) = right else {
        return Ok(false);
    };
    let ord = match (&left, &right) {
        (Operand::Number(a), Operand::Number(b)) => a.cmp(b),
        (Operand::Text(a), Operand::Text(b)) => a.cmp(b),
        (Operand::Number(a), Operand::Text(b)) => a.to_string().cmp(b),
        (Operand::Text(a), Operand::Number(b)) => a.cmp(&b.to_string()),
    };
    let numeric = matches!((&left, &right), (Operand::Number(_), Operand::Number(_)));
    if !numeric && !matches!(c.op, CompareOp::Eq | CompareOp::Ne) {
        return Err(BindFailure::Condition(format!(
            "compare {:?} {:?}: ordering needs numbers on both sides, and field {:?} is text",
            c.field,
            c.op,
            match left {
                Operand::Text(_) => c.field.as_str(),
                Operand::Number(_) => c.other.as_deref().unwrap_or("value"),
            }
        )));
    }
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match c.op {
        CompareOp::Eq => ord == Equal,
        CompareOp::Ne => ord != Equal,
        CompareOp::Lt => ord == Less,
        CompareOp::Le => ord != Greater,
        CompareOp::Gt => ord == Greater,
        CompareOp::Ge => ord != Less,
    })
}

/// A money amount split into the parts a price element draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MoneyParts {
    /// Sign and integer digits with thousands separators, e.g. `-1,299`.
    pub integer: String,
    /// Decimal digits, without the separator; empty when `decimals` is 0.
    pub fraction: String,
}

/// Rounds and splits an amount.
pub(crate) fn money_parts(amount: Amount, decimals: u32, thousands: &str) -> MoneyParts {
    let decimals = decimals.min(6);
    let units = amount.round_to(decimals);
    let div = 10u128.pow(decimals);
    let abs = units.unsigned_abs();
    let int = (abs / div).to_string();
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push_str(thousands);
        }
        grouped.push(ch);
    }
    let sign = if units < 0 { "-" } else { "" };
    MoneyParts {
        integer: format!("{sign}{grouped}"),
        fraction: if decimals == 0 {
            String::new()
        } else {
            format!("{:0width$}", abs % div, width = decimals as usize)
        },
    }
}

/// Formats a field's value as text; `None` when the field is absent or empty.
pub(crate) fn format_field(
    product: &Product,
    field: &str,
    format: Option<&Format>,
    default_offset: i32,
) -> Result<Option<String>, BindFailure> {
    if !present(product, field) {
        return Ok(None);
    }
    let Some(format) = format else {
        return Ok(product.text(field)?);
    };
    let amount = || -> Result<Amount, BindFailure> {
        product
            .amount(field)?
            .ok_or_else(|| BindFailure::Missing(field.to_owned()))
    };
    Ok(Some(match format {
        Format::Money {
            decimals,
            currency,
            currency_after,
            decimal_separator,
            thousands_separator,
        } => {
            let p = money_parts(amount()?, *decimals, thousands_separator);
            let number = if p.fraction.is_empty() {
                p.integer
            } else {
                format!("{}{}{}", p.integer, decimal_separator, p.fraction)
            };
            match (currency.is_empty(), currency_after) {
                (true, _) => number,
                (false, false) => format!("{currency}{number}"),
                (false, true) => format!("{number} {currency}"),
            }
        }
        Format::Number { decimals } => {
            let p = money_parts(amount()?, *decimals, "");
            if p.fraction.is_empty() {
                p.integer
            } else {
                format!("{}.{}", p.integer, p.fraction)
            }
        }
        Format::Date {
            pattern,
            utc_offset,
        } => {
            let secs = amount()?.round_to(0);
            let secs = i64::try_from(secs).map_err(|_| {
                BindFailure::Value(ProductError::NotNumber {
                    field: field.to_owned(),
                    source: esl_model::AmountError::TooLong {
                        value: secs.to_string(),
                    },
                })
            })?;
            format_date(secs, utc_offset.unwrap_or(default_offset), pattern)
        }
    }))
}

/// A piece of a text literal: verbatim text, or a `{field}` placeholder.
enum Segment<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Splits a literal into text and `{field}` placeholders; `{{` and `}}` stand for braces,
/// and a lone brace is kept as it is.
fn segments(literal: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = literal;
    while let Some(i) = rest.find(['{', '}']) {
        out.push(Segment::Text(&rest[..i]));
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(Segment::Text(&tail[..1]));
            rest = &tail[2..];
        } else if let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}')) {
            out.push(Segment::Field(tail[1..1 + end].trim()));
            rest = &tail[end + 2..];
        } else {
            out.push(Segment::Text(&tail[..1]));
            rest = &tail[1..];
        }
    }
    out.push(Segment::Text(rest));
    out
}

/// Replaces `{field}` in a literal with the field's text (`{{` and `}}` stand for braces).
/// A named field that is absent or empty gives [`BindFailure::Missing`], so the element
/// can use its fallback.
pub(crate) fn interpolate(literal: &str, product: &Product) -> Result<String, BindFailure> {
    let mut out = String::with_capacity(literal.len());
    for seg in segments(literal) {
        match seg {
            Segment::Text(t) => out.push_str(t),
            Segment::Field(field) => {
                if !present(product, field) {
                    return Err(BindFailure::Missing(field.to_owned()));
                }
                out.push_str(&product.text(field)?.unwrap_or_default());
            }
        }
    }
    Ok(out)
}

/// The field names a literal's `{field}` placeholders refer to.
pub(crate) fn placeholders(literal: &str) -> Vec<String> {
    segments(literal)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Field(f) => Some(f.to_owned()),
            Segment::Text(_) => None,
        })
        .collect()
}

/// Applies case, prefix and suffix to a value.
pub(crate) fn decorate(value: &str, case: Case, prefix: &str, suffix: &str) -> String {
    let v = match case {
        Case::None => value.to_owned(),
        Case::Upper => value.to_uppercase(),
        Case::Lower => value.to_lowercase(),
    };
    format!("{prefix}{v}{suffix}")
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's
/// well-known algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats unix seconds with a strftime-like pattern (`%Y %y %m %d %H %M %S %%`).
pub(crate) fn format_date(unix: i64, utc_offset: i32, pattern: &str) -> String {
    let t = unix.saturating_add(i64::from(utc_offset));
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{hh:02}")),
            Some('M') => out.push_str(&format!("{mm:02}")),
            Some('S') => out.push_str(&format!("{ss:02}")),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_and_groups() {
        let a = |s: &str| s.parse::<Amount>().unwrap();
        assert_eq!(
            money_parts(a("1299"), 2, ","),
            MoneyParts {
                integer: "1,299".into(),
                fraction: "00".into()
            }
        );
        assert_eq!(money_parts(a("3.2"), 2, "").fraction, "20");
        assert_eq!(money_parts(a("2.675"), 2, "").fraction, "68");
        assert_eq!(money_parts(a("9.999"), 2, "").integer, "10");
        assert_eq!(money_parts(a("-0.5"), 0, "").integer, "-1");
        assert_eq!(money_parts(a("123456"), 0, " ").integer, "123 456");
    }

    #[test]
    fn interpolates_fields() {
        let p = Product::new()
            .with("spec", "250ml")
            .with("unit", "罐")
            .with("empty", "");
        assert_eq!(interpolate("{spec} / {unit}", &p).unwrap(), "250ml / 罐");
        assert_eq!(interpolate("{{x}} {spec}", &p).unwrap(), "{x} 250ml");
        assert!(
            matches!(interpolate("{spec} {empty}", &p), Err(BindFailure::Missing(f)) if f == "empty")
        );
        assert_eq!(interpolate("a { b", &p).unwrap(), "a { b");
    }

    #[test]
    fn dates_from_unix_time() {
        assert_eq!(
            format_date(0, 0, "%Y-%m-%d %H:%M:%S"),
            "1970-01-01 00:00:00"
        );
        // 2026-11-26 00:00:00 UTC = 1795651200.
        assert_eq!(format_date(1_795_651_200, 0, "%d/%m/%y"), "26/11/26");
        assert_eq!(
            format_date(1_795_651_200 - 1, 8 * 3600, "%Y-%m-%d %H:%M"),
            "2026-11-26 07:59"
        );
        assert_eq!(format_date(951_782_400, 0, "%Y-%m-%d"), "2000-02-29");
        assert_eq!(format_date(-86_400, 0, "%Y-%m-%d 100%%"), "1969-12-31 100%");
    }
}
