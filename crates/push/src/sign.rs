//! Request signing (seed 001, "Authentication" §2.2).
//!
//! The platform signs the *parameters* of a request, not its bytes:
//!
//! 1. every request carries `app_id`, `random` (6–10 letters and digits) and `timestamp`
//!    (10-digit unix seconds);
//! 2. all parameters are sorted by key and joined as `k=v` pairs with `&`;
//! 3. `&key=<secret>` is appended;
//! 4. the MD5 of that string, in upper-case hex, is the `sign` parameter.
//!
//! Choices where the seed is silent (also listed in the crate's README/note):
//! * keys are sorted by their bytes (ASCII order), which is "alphabetic" for the platform's
//!   lower-case snake_case keys;
//! * values go into the string raw (not URL-encoded), exactly as in the seed's example;
//! * the `sign` parameter itself and file parts (`pic` of pushImage) are not signed;
//! * the signed string is UTF-8.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use rand::RngExt;
use rand::distr::Alphanumeric;

/// Name of the environment variable the command line reads the secret key from.
pub const SECRET_ENV: &str = "ESL_SECRET";

/// The platform's secret key (`secret_key` in the seed).
///
/// It never appears in `Debug` or `Display` output: both print `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret key.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// Reads the secret from the environment variable `var` (normally [`SECRET_ENV`]).
    ///
    /// # Errors
    /// [`MissingSecret`] when the variable is unset, empty or not UTF-8.
    pub fn from_env(var: &str) -> Result<Self, MissingSecret> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Self(v)),
            _ => Err(MissingSecret {
                var: var.to_owned(),
            }),
        }
    }

    /// The secret itself. Handle with care: never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The secret key's environment variable is unset or empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {var} (the platform's secret key) is not set")]
pub struct MissingSecret {
    /// The variable that was read.
    pub var: String,
}

/// The string that is hashed, *without* the trailing `&key=<secret>`.
///
/// `sign` itself is skipped if present. Pairs are sorted by key.
///
/// ```
/// let s = esl_push::sign::canonical_string([("b", "2"), ("a", "1"), ("sign", "X")]);
/// assert_eq!(s, "a=1&b=2");
/// ```
#[must_use]
pub fn canonical_string<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = params.into_iter().filter(|(k, _)| *k != "sign").collect();
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The `sign` value of a parameter set: `MD5(canonical + "&key=" + secret)`, upper-case hex.
///
/// ```
/// use esl_push::sign::{sign, Secret};
/// let s = sign([("app_id", "a"), ("random", "abc123"), ("timestamp", "1593029283")], &Secret::new("k"));
/// assert_eq!(s.len(), 32);
/// assert!(s.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
/// ```
#[must_use]
pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, secret: &Secret) -> String {
    let mut text = canonical_string(params);
    text.push_str("&key=");
    text.push_str(secret.expose());
    md5_upper_hex(text.as_bytes())
}

/// MD5 of `bytes` as 32 upper-case hex digits.
#[must_use]
pub fn md5_upper_hex(bytes: &[u8]) -> String {
    // md-5 0.11 returns a hybrid_array::Array, which has no LowerHex/UpperHex: encode by hand.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digest = Md5::digest(bytes);
    let mut out = String::with_capacity(32);
    for b in digest.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// A fresh `random` value: 10 ASCII letters and digits (the seed allows 6–10; we use the
/// maximum length to make collisions least likely).
#[must_use]
pub fn random_nonce() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(10)
        .map(char::from)
        .collect()
}

/// The current unix time in seconds, as the platform's 10-digit `timestamp`.
#[must_use]
pub fn timestamp_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether `random` satisfies the seed's rule: 6 to 10 ASCII letters and digits.
#[must_use]
pub fn is_valid_random(random: &str) -> bool {
    (6..=10).contains(&random.len()) && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of seed 001, "Authentication" §2.2. The seed's text reads
    /// `random=289192×tamp=1593029283`: "×" is the HTML entity `&times` eaten from
    /// `&timestamp`, so the real string has `&timestamp=`.
    ///
    /// The seed prints a placeholder sign (`IDKNFLK392038KDS932K`, not even hex), so the
    /// expected value was computed independently of this crate, with coreutils:
    ///
    /// ```text
    /// printf '%s' 'app_id=2039dds&content=newproductmask&environment=test&product_id=389238&random=289192&timestamp=1593029283&user_id=29389&key=kdsofkdsnflke9382938k' | md5sum | tr a-f A-F
    /// ```
    #[test]
    fn seed_worked_example() {
        let params = [
            ("product_id", "389238"),
            ("user_id", "29389"),
            ("content", "newproductmask"),
            ("environment", "test"),
            ("app_id", "2039dds"),
            ("timestamp", "1593029283"),
            ("random", "289192"),
        ];
        assert_eq!(
            canonical_string(params),
            "app_id=2039dds&content=newproductmask&environment=test&product_id=389238\
             &random=289192&timestamp=1593029283&user_id=29389"
        );
        assert_eq!(
            sign(params, &Secret::new("kdsofkdsnflke9382938k")),
            "4AB07ACA8AC43AC0FD83718BF4D740E1"
        );
    }

    #[test]
    fn sign_is_excluded_and_order_irrelevant() {
        let s = Secret::new("k");
        let a = sign([("a", "1"), ("b", "2")], &s);
        let b = sign([("b", "2"), ("sign", "whatever"), ("a", "1")], &s);
        assert_eq!(a, b);
    }

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
    }

    #[test]
    fn nonce_is_valid_and_fresh() {
        let a = random_nonce();
        let b = random_nonce();
        assert!(is_valid_random(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_valid_random("abc12"));
        assert!(!is_valid_random("abcdefghijk"));
        assert!(!is_valid_random("abc-123"));
        assert_eq!(timestamp_now().to_string().len(), 10);
    }
}
