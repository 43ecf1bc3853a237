//! Unit prices (format version 2): the price per reference quantity, in exact decimals.

use esl_model::Amount;

/// What a quantity measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// Grams.
    Mass,
    /// Millilitres.
    Volume,
    /// Pieces.
    Count,
}

/// A reference quantity: the family and how many base units (g, ml, pieces) it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub family: Family,
    pub base_units: i128,
    pub label: &'static str,
}

impl Reference {
    /// `1kg`, `100g`, `1l`, `100ml`, `1pc` (spaces and case do not matter).
    pub(crate) fn parse(s: &str) -> Option<Reference> {
        let key: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let (family, base_units, label) = match key.as_str() {
            "1kg" | "kg" => (Family::Mass, 1000, "kg"),
            "100g" => (Family::Mass, 100, "100 g"),
            "1l" | "l" => (Family::Volume, 1000, "l"),
            "100ml" => (Family::Volume, 100, "100 ml"),
            "1pc" | "pc" => (Family::Count, 1, "pc"),
            _ => return None,
        };
        Some(Reference {
            family,
            base_units,
            label,
        })
    }

    fn default_for(family: Family) -> Reference {
        match family {
            Family::Mass => Reference {
                family,
                base_units: 1000,
                label: "kg",
            },
            Family::Volume => Reference {
                family,
                base_units: 1000,
                label: "l",
            },
            Family::Count => Reference {
                family,
                base_units: 1,
                label: "pc",
            },
        }
    }
}

/// A unit as products give it: its family, and base units per unit as `mantissa × 10^-scale`.
fn unit(s: &str) -> Option<(Family, i128, u32)> {
    let u = s.trim().to_lowercase();
    Some(match u.as_str() {
        "g" | "gram" | "grams" | "克" => (Family::Mass, 1, 0),
        "kg" | "kilogram" | "kilograms" | "千克" | "公斤" => (Family::Mass, 1000, 0),
        "mg" | "毫克" => (Family::Mass, 1, 3),
        "ml" | "毫升" => (Family::Volume, 1, 0),
        "cl" => (Family::Volume, 10, 0),
        "dl" => (Family::Volume, 100, 0),
        "l" | "litre" | "liter" | "litres" | "liters" | "升" => (Family::Volume, 1000, 0),
        "pc" | "pcs" | "piece" | "pieces" | "st" | "stk" | "个" | "件" | "只" => {
            (Family::Count, 1, 0)
        }
        _ => return None,
    })
}

/// The unit price in units of `10^-decimals` and the reference's label, or why not.
pub(crate) fn compute(
    price: Amount,
    quantity: Amount,
    unit_text: &str,
    per: Option<&str>,
    decimals: u32,
) -> Result<(i128, &'static str), String> {
    let Some((family, mant, scale)) = unit(unit_text) else {
        return Err(format!(
            "unit {unit_text:?} is not one of g, kg, mg, ml, cl, dl, l, pc"
        ));
    };
    let reference = match per {
        Some(p) => Reference::parse(p).ok_or_else(|| format!("per {p:?} is not understood"))?,
        None => Reference::default_for(family),
    };
    if reference.family != family {
        return Err(format!(
            "a quantity in {unit_text} cannot be priced per {}",
            reference.label
        ));
    }
    if quantity.is_zero() || quantity.is_negative() {
        return Err(format!("the quantity {quantity} is not above zero"));
    }
    if price.is_negative() {
        return Err(format!("the price {price} is negative"));
    }
    // price × (reference in base units) ÷ (quantity × base units per unit): with base units
    // per unit `mant × 10^-scale`, the factor is `reference × 10^scale ÷ mant`, and `mant` is
    // a power of ten, so the factor is an exact decimal.
    let digits = mant.ilog10();
    let factor = Amount::new(
        reference
            .base_units
            .checked_mul(10i128.checked_pow(scale).ok_or("too large")?)
            .ok_or("too large")?,
        digits,
    );
    let value = price
        .scaled_quotient(factor, quantity, decimals)
        .ok_or_else(|| "the unit price is too large to compute".to_owned())?;
    Ok((value, reference.label))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        s.parse().unwrap()
    }

    #[test]
    fn prices_per_reference() {
        // 2.49 for 330 ml: 7.5454… per litre.
        assert_eq!(compute(a("2.49"), a("330"), "ml", None, 2), Ok((755, "l")));
        // 1.99 for 500 g: 3.98 per kg, 0.398 per 100 g → 0.40.
        assert_eq!(compute(a("1.99"), a("500"), "g", None, 2), Ok((398, "kg")));
        assert_eq!(
            compute(a("1.99"), a("500"), "g", Some("100g"), 2),
            Ok((40, "100 g"))
        );
        // A 1.5 kg bag at 4.50: 3.00 per kg; 75 cl at 9.99: 13.32 per litre.
        assert_eq!(compute(a("4.50"), a("1.5"), "kg", None, 2), Ok((300, "kg")));
        assert_eq!(compute(a("9.99"), a("75"), "cl", None, 2), Ok((1332, "l")));
        // 250 mg at 12.00: 48000.00 per kg; 6 pieces at 2.99: 0.50 per piece.
        assert_eq!(
            compute(a("12.00"), a("250"), "mg", None, 2),
            Ok((4_800_000, "kg"))
        );
        assert_eq!(compute(a("2.99"), a("6"), "个", None, 2), Ok((50, "pc")));
        // Half away from zero: 1.00 for 8 pieces = 0.125 → 0.13.
        assert_eq!(compute(a("1.00"), a("8"), "pcs", None, 2), Ok((13, "pc")));
    }

    #[test]
    fn bad_quantities_are_refused() {
        assert!(
            compute(a("1"), a("0"), "g", None, 2)
                .unwrap_err()
                .contains("not above zero")
        );
        assert!(
            compute(a("1"), a("5"), "oz", None, 2)
                .unwrap_err()
                .contains("oz")
        );
        assert!(
            compute(a("1"), a("5"), "g", Some("1l"), 2)
                .unwrap_err()
                .contains("cannot be priced per l")
        );
    }
}
