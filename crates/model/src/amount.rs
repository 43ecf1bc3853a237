//! Exact decimal amounts for prices.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An exact decimal number such as a price: `mantissa × 10^-scale`.
///
/// Prices arrive as JSON numbers (`3.2`) or strings (`"3.2"`); both parse to the same
/// amount without passing through binary floating point, so `0.1 + 0.2` problems and
/// platform-dependent rounding cannot reach a label.
///
/// ```
/// use esl_model::Amount;
/// let a: Amount = "12.345".parse()?;
/// assert_eq!(a.round_to(2), 1235); // half away from zero, in hundredths
/// assert!(a > "12.3".parse::<Amount>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Amount {
    mantissa: i128,
    scale: u32,
}

/// Why a text is not an [`Amount`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a plain decimal number (digits, an optional sign and one optional point).
    #[error(
        "{value:?} is not a decimal number (expected digits with an optional sign and decimal point, e.g. 3.20)"
    )]
    Syntax {
        /// The text as given.
        value: String,
    },
    /// More digits than an amount keeps (30 significant digits, 18 decimals).
    #[error("{value:?} has too many digits for a price")]
    TooLong {
        /// The text as given.
        value: String,
    },
}

const MAX_DIGITS: usize = 30;
const MAX_SCALE: u32 = 18;

impl Amount {
    /// An amount from a mantissa and a decimal scale: `Amount::new(1299, 2)` is 12.99.
    ///
    /// A scale above 18 is clamped to 18 by rounding.
    #[must_use]
    pub fn new(mantissa: i128, scale: u32) -> Amount {
        let a = Amount { mantissa, scale };
        if scale > MAX_SCALE {
            Amount {
                mantissa: a.round_to(MAX_SCALE),
                scale: MAX_SCALE,
            }
        } else {
            a
        }
    }

    /// An integer amount.
    #[must_use]
    pub const fn from_int(value: i64) -> Amount {
        Amount {
            mantissa: value as i128,
            scale: 0,
        }
    }

    /// The value in units of `10^-decimals`, rounded half away from zero.
    ///
    /// `"2.675".round_to(2)` is `268`.
    #[must_use]
    pub fn round_to(self, decimals: u32) -> i128 {
        let decimals = decimals.min(MAX_SCALE);
        if decimals >= self.scale {
            self.mantissa
                .saturating_mul(10i128.saturating_pow(decimals - self.scale))
        } else {
            let div = 10i128.pow(self.scale - decimals);
            let q = self.mantissa / div;
            let r = self.mantissa % div;
            if r.abs() * 2 >= div {
                q + self.mantissa.signum()
            } else {
                q
            }
        }
    }

    /// `self × factor ÷ divisor` in units of `10^-decimals`, computed exactly and rounded
    /// once, half away from zero. `None` when `divisor` is zero or the exact value does not
    /// fit in 128 bits.
    ///
    /// A unit price: 2.49 for 330 ml is `2.49 × 1000 ÷ 330` = 7.545… per litre:
    ///
    /// ```
    /// use esl_model::Amount;
    /// let price: Amount = "2.49".parse()?;
    /// let per_litre = price.scaled_quotient(Amount::from_int(1000), Amount::from_int(330), 2);
    /// assert_eq!(per_litre, Some(755));
    /// assert_eq!(price.scaled_quotient(Amount::from_int(1), Amount::from_int(0), 2), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn scaled_quotient(self, factor: Amount, divisor: Amount, decimals: u32) -> Option<i128> {
        if divisor.mantissa == 0 {
            return None;
        }
        let decimals = decimals.min(MAX_SCALE);
        // value = (a·f / d) · 10^decimals with a = ma/10^sa, f = mf/10^sf, d = md/10^sd:
        // numerator ma·mf·10^(sd+decimals), denominator md·10^(sa+sf).
        let pow = |e: u32| 10i128.checked_pow(e);
        let num = self
            .mantissa
            .checked_mul(factor.mantissa)?
            .checked_mul(pow(divisor.scale + decimals)?)?;
        let den = divisor
            .mantissa
            .checked_mul(pow(self.scale + factor.scale)?)?;
        let (num, den) = if den < 0 {
            (num.checked_neg()?, -den)
        } else {
            (num, den)
        };
        let q = num / den;
        let r = num % den;
        Some(if r.checked_abs()?.checked_mul(2)? >= den {
            q + num.signum()
        } else {
            q
        })
    }

    /// Whether the amount is zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    /// The amount divided by `10^shift`, e.g. fen to yuan with `shift = 2`.
    #[must_use]
    pub fn shift_right(self, shift: u32) -> Amount {
        Amount::new(self.mantissa, self.scale + shift)
    }

    fn aligned(self, other: Amount) -> (i128, i128) {
        let scale = self.scale.max(other.scale);
        (self.round_to(scale), other.round_to(scale))
    }
}

impl PartialEq for Amount {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Amount {}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = self.aligned(*other);
        a.cmp(&b)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || AmountError::Syntax {
            value: text.to_owned(),
        };
        let s = text.trim();
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return Err(syntax());
        }
        let int_part = int_part.trim_start_matches('0');
        let frac_trimmed = frac_part.trim_end_matches('0');
        if int_part.len() + frac_trimmed.len() > MAX_DIGITS
            || frac_trimmed.len() > MAX_SCALE as usize
        {
            return Err(AmountError::TooLong {
                value: text.to_owned(),
            });
        }
        let mut mantissa: i128 = 0;
        for b in int_part.bytes().chain(frac_trimmed.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        if negative {
            mantissa = -mantissa;
        }
        // `frac_trimmed.len() <= MAX_SCALE` was checked above, so this fits in u32.
        let scale = frac_trimmed.len() as u32;
        Ok(Amount { mantissa, scale })
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let abs = self.mantissa.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs}");
        }
        let div = 10u128.pow(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / div,
            abs % div,
            width = self.scale as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rounds() {
        assert_eq!(a("3.2").round_to(2), 320);
        assert_eq!(a("3").round_to(2), 300);
        assert_eq!(a("2.675").round_to(2), 268);
        assert_eq!(a("-2.675").round_to(2), -268);
        assert_eq!(a("0.004").round_to(2), 0);
        assert_eq!(a("+.5").round_to(0), 1);
        assert_eq!(a("12.50").to_string(), "12.5");
        assert_eq!(a("-0.05").to_string(), "-0.05");
        assert_eq!(a("1299").shift_right(2), a("12.99"));
    }

    #[test]
    fn compares_across_scales() {
        assert!(a("2.5") < a("3"));
        assert_eq!(a("3.00"), a("3"));
        assert!(a("-1") < a("0.01"));
    }

    #[test]
    fn refuses_non_numbers() {
        for bad in ["", "abc", "1e5", "1.2.3", "¥3", "-", ".", "1,50", "NaN"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad:?} parsed");
        }
        assert!(matches!(
            "1234567890123456789012345678901".parse::<Amount>(),
            Err(AmountError::TooLong { .. })
        ));
    }
}
