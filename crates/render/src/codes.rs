//! Barcodes and QR codes: value checking, encoding to modules, and the raster rules that
//! keep them scannable on a 1-bit panel.
//!
//! * Every module is a whole number of pixels: the largest width that fits the box.
//! * The symbology's quiet zones are part of the box and kept white.
//! * EAN/UPC guard bars run longer than the data bars, and the digits are grouped as
//!   printed on packs.
//! * Codes are always black on white. There is no colour key: red is invisible to the
//!   red-light scanners at tills, so a red code would not scan.

use barcoders::sym::{code39::Code39, code128::Code128, ean8::EAN8, ean13::EAN13, tf::TF};
use fast_qr::{ECL, QRBuilder};

use crate::template::{QrEcLevel, Symbology};

/// Why a value cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeError(pub String);

/// One encoded linear barcode.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    /// Bars (true) and spaces, one entry per module.
    pub modules: Vec<bool>,
    /// Modules that belong to EAN/UPC guard patterns (drawn longer).
    pub guards: Vec<bool>,
    /// Quiet zone in modules, left and right.
    pub quiet: (u32, u32),
    /// Human-readable text, as groups placed under module ranges.
    pub text: Vec<TextGroup>,
}

/// A group of human-readable characters centred on a range of modules (which may lie in
/// the quiet zone: negative or past the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextGroup {
    pub text: String,
    pub from: i32,
    pub to: i32,
}

fn digits_of(value: &str) -> Result<Vec<u8>, CodeError> {
    value
        .chars()
        .map(|c| {
            c.to_digit(10)
                .map(|d| d as u8)
                .ok_or_else(|| CodeError(format!("{c:?} is not a digit")))
        })
        .collect()
}

/// The GS1 mod-10 check digit of `data` (weights 3, 1, 3, … from the right).
pub(crate) fn gs1_check_digit(data: &[u8]) -> u8 {
    let sum: u32 = data
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks or completes a GS1 number of `len` digits (with its check digit): a value one
/// digit short gets the check digit computed, a full one has it verified.
fn gs1_complete(value: &str, len: usize, name: &str) -> Result<Vec<u8>, CodeError> {
    let mut d = digits_of(value)?;
    if d.len() == len - 1 {
        d.push(gs1_check_digit(&d));
    } else if d.len() == len {
        let want = gs1_check_digit(&d[..len - 1]);
        if d[len - 1] != want {
            return Err(CodeError(format!(
                "wrong check digit {}: a {name} ending in these digits needs {want}",
                d[len - 1]
            )));
        }
    } else {
        return Err(CodeError(format!(
            "a {name} has {} digits, or {} without the check digit; this has {}",
            len,
            len - 1,
            d.len()
        )));
    }
    Ok(d)
}

fn to_string(d: &[u8]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

fn ean_guards(n: usize, ranges: &[(usize, usize)]) -> Vec<bool> {
    let mut g = vec![false; n];
    for &(a, b) in ranges {
        g[a..b].iter_mut().for_each(|x| *x = true);
    }
    g
}

fn bits(v: Vec<u8>) -> Vec<bool> {
    v.into_iter().map(|b| b == 1).collect()
}

/// Encodes a value for a linear symbology.
pub(crate) fn encode_linear(sym: Symbology, value: &str) -> Result<Linear, CodeError> {
    let lib = |e: barcoders::error::Error| CodeError(format!("cannot encode: {e}"));
    let plain = |text: &str, n: usize| {
        vec![TextGroup {
            text: text.to_owned(),
            from: 0,
            to: n as i32,
        }]
    };
    Ok(match sym {
        Symbology::Ean13 | Symbology::Upca => {
            let d = if sym == Symbology::Upca {
                let mut d = gs1_complete(value, 12, "UPC-A")?;
                d.insert(0, 0);
                d
            } else {
                gs1_complete(value, 13, "EAN-13")?
            };
            let modules = bits(EAN13::new(to_string(&d)).map_err(lib)?.encode());
            let n = modules.len(); // 95
            let guards = ean_guards(n, &[(0, 3), (45, 50), (92, 95)]);
            let text = if sym == Symbology::Upca {
                // UPC-A: number system and check digit small outside, 5 + 5 under the halves.
                vec![
                    TextGroup {
                        text: to_string(&d[1..2]),
                        from: -8,
                        to: -1,
                    },
                    TextGroup {
                        text: to_string(&d[2..7]),
                        from: 10,
                        to: 45,
                    },
                    TextGroup {
                        text: to_string(&d[7..12]),
                        from: 50,
                        to: 85,
                    },
                    TextGroup {
                        text: to_string(&d[12..13]),
                        from: 96,
                        to: 103,
                    },
                ]
            } else {
                vec![
                    TextGroup {
                        text: to_string(&d[0..1]),
                        from: -8,
                        to: -1,
                    },
                    TextGroup {
                        text: to_string(&d[1..7]),
                        from: 3,
                        to: 45,
                    },
                    TextGroup {
                        text: to_string(&d[7..13]),
                        from: 50,
                        to: 92,
                    },
                ]
            };
            Linear {
                modules,
                guards,
                quiet: if sym == Symbology::Upca {
                    (9, 9)
                } else {
                    (11, 7)
                },
                text,
            }
        }
        Symbology::Ean8 => {
            let d = gs1_complete(value, 8, "EAN-8")?;
            let modules = bits(EAN8::new(to_string(&d)).map_err(lib)?.encode());
            let n = modules.len(); // 67
            Linear {
                guards: ean_guards(n, &[(0, 3), (31, 36), (64, 67)]),
                modules,
                quiet: (7, 7),
                text: vec![
                    TextGroup {
                        text: to_string(&d[0..4]),
                        from: 3,
                        to: 31,
                    },
                    TextGroup {
                        text: to_string(&d[4..8]),
                        from: 36,
                        to: 64,
                    },
                ],
            }
        }
        Symbology::Code128 => {
            if value.is_empty() {
                return Err(CodeError("an empty value cannot be encoded".to_owned()));
            }
            if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(CodeError(format!(
                    "{c:?} is not printable ASCII, which Code 128 encodes"
                )));
            }
            // Character set C packs digit pairs; B covers printable ASCII.
            let all_digits = value.bytes().all(|b| b.is_ascii_digit());
            let data = if all_digits && value.len() % 2 == 0 {
                format!("Ć{value}")
            } else {
                format!("Ɓ{value}")
            };
            let modules = bits(Code128::new(data).map_err(lib)?.encode());
            let n = modules.len();
            Linear {
                guards: vec![false; n],
                text: plain(value, n),
                modules,
                quiet: (10, 10),
            }
        }
        Symbology::Code39 => {
            let upper = value.to_owned();
            if let Some(c) = upper.chars().find(
                |c| !matches!(c, 'A'..='Z' | '0'..='9' | '-' | '.' | ' ' | '$' | '/' | '+' | '%'),
            ) {
                return Err(CodeError(format!(
                    "{c:?} cannot be encoded: Code 39 takes A–Z, 0–9 and - . space $ / + %"
                )));
            }
            if upper.is_empty() {
                return Err(CodeError("an empty value cannot be encoded".to_owned()));
            }
            let modules = bits(Code39::new(&upper).map_err(lib)?.encode());
            let n = modules.len();
            Linear {
                guards: vec![false; n],
                text: plain(&format!("*{upper}*"), n),
                modules,
                quiet: (10, 10),
            }
        }
        Symbology::Itf | Symbology::Itf14 => {
            let d = if sym == Symbology::Itf14 {
                gs1_complete(value, 14, "ITF-14")?
            } else {
                let d = digits_of(value)?;
                if d.is_empty() || d.len() % 2 == 1 {
                    return Err(CodeError(format!(
                        "ITF encodes an even number of digits; this has {}",
                        d.len()
                    )));
                }
                d
            };
            let modules = bits(TF::interleaved(to_string(&d)).map_err(lib)?.encode());
            let n = modules.len();
            Linear {
                guards: vec![false; n],
                text: plain(&to_string(&d), n),
                modules,
                quiet: (10, 10),
            }
        }
    })
}

/// An encoded QR code: `width × width` modules, row by row, dark = true.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Qr {
    pub width: u32,
    pub dark: Vec<bool>,
}

/// Bytes of encoded QR codes kept for reuse (values and modules): about 3,000 typical
/// product URLs. A batch renders each product on every size it is shown on, and `fit`
/// layouts measure a code before drawing it; both encode the same value again.
const QR_CACHE_BYTES: usize = 4 << 20;

/// Encoded QR codes keyed by value and level, shared by every label and thread. When a new
/// code would pass the budget the cache is emptied and starts again: memory stays bounded
/// and recent values (the sizes of one product, rendered close together) stay cheap. A
/// kept code is the code [`encode_qr_uncached`] makes, so output never depends on it.
#[derive(Debug, Default)]
struct QrCache {
    /// By value, then by level (`L`, `M`, `Q`, `H`).
    codes: std::collections::HashMap<String, [Option<std::sync::Arc<Qr>>; 4]>,
    bytes: usize,
    budget: usize,
}

fn level_index(level: QrEcLevel) -> usize {
    match level {
        QrEcLevel::L => 0,
        QrEcLevel::M => 1,
        QrEcLevel::Q => 2,
        QrEcLevel::H => 3,
    }
}

impl QrCache {
    fn with_budget(budget: usize) -> QrCache {
        QrCache {
            budget,
            ..QrCache::default()
        }
    }

    fn get(&self, value: &str, level: QrEcLevel) -> Option<std::sync::Arc<Qr>> {
        self.codes.get(value)?[level_index(level)].clone()
    }

    fn put(&mut self, value: &str, level: QrEcLevel, code: std::sync::Arc<Qr>) {
        let cost = value.len() + code.dark.len() + 64;
        if cost > self.budget {
            return;
        }
        if self.bytes + cost > self.budget {
            self.codes.clear();
            self.bytes = 0;
        }
        let slot = &mut self.codes.entry(value.to_owned()).or_default()[level_index(level)];
        if slot.replace(code).is_none() {
            self.bytes += cost;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.codes.values().flatten().flatten().count()
    }
}

static QR_CACHE: std::sync::LazyLock<std::sync::Mutex<QrCache>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(QrCache::with_budget(QR_CACHE_BYTES)));

/// Encodes data as a QR code at an error-correction level, from the shared cache when the
/// same value and level were encoded before.
pub(crate) fn encode_qr(value: &str, level: QrEcLevel) -> Result<std::sync::Arc<Qr>, CodeError> {
    // A poisoned lock (a panic elsewhere while it was held) only turns the cache off.
    if let Some(code) = QR_CACHE.lock().ok().and_then(|c| c.get(value, level)) {
        return Ok(code);
    }
    let code = std::sync::Arc::new(encode_qr_uncached(value, level)?);
    if let Ok(mut cache) = QR_CACHE.lock() {
        cache.put(value, level, code.clone());
    }
    Ok(code)
}

/// Encodes data as a QR code at an error-correction level (with fast_qr: one mode for the
/// whole value, the mask of lowest penalty).
fn encode_qr_uncached(value: &str, level: QrEcLevel) -> Result<Qr, CodeError> {
    if value.is_empty() {
        return Err(CodeError("an empty value cannot be encoded".to_owned()));
    }
    let ec = match level {
        QrEcLevel::L => ECL::L,
        QrEcLevel::M => ECL::M,
        QrEcLevel::Q => ECL::Q,
        QrEcLevel::H => ECL::H,
    };
    let code = QRBuilder::new(value.as_bytes())
        .ecl(ec)
        .build()
        .map_err(|e| {
            CodeError(format!(
                "cannot encode {} bytes as a QR code: {e}",
                value.len()
            ))
        })?;
    let n = code.size;
    let dark = code.data[..n * n].iter().map(|m| m.value()).collect();
    // At most 177 modules a side.
    Ok(Qr {
        width: n as u32,
        dark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_qr_codes_are_the_codes_encoded_afresh() {
        for (value, level) in [
            ("https://shop.example/p/6958644000259", QrEcLevel::M),
            ("https://shop.example/p/6958644000259", QrEcLevel::H),
            ("茉莉花茶 500ml", QrEcLevel::L),
        ] {
            let fresh = encode_qr_uncached(value, level).unwrap();
            assert_eq!(*encode_qr(value, level).unwrap(), fresh);
            assert_eq!(*encode_qr(value, level).unwrap(), fresh, "from the cache");
        }
        assert!(encode_qr("", QrEcLevel::M).is_err());
    }

    #[test]
    fn the_qr_cache_stays_within_its_budget() {
        let code = |v: &str| std::sync::Arc::new(encode_qr_uncached(v, QrEcLevel::M).unwrap());
        let one = code("a").dark.len() + 1 + 64;
        let mut cache = QrCache::with_budget(2 * one);
        cache.put("a", QrEcLevel::M, code("a"));
        cache.put("b", QrEcLevel::M, code("b"));
        assert_eq!((cache.len(), cache.bytes), (2, 2 * one));
        assert!(cache.get("a", QrEcLevel::M).is_some());
        assert!(
            cache.get("a", QrEcLevel::H).is_none(),
            "the level is part of the key"
        );
        // A third is past the budget: the cache starts again with it alone.
        cache.put("c", QrEcLevel::M, code("c"));
        assert_eq!((cache.len(), cache.bytes), (1, one));
        assert!(cache.get("c", QrEcLevel::M).is_some());
        // A code larger than the whole budget is not kept.
        let mut tiny = QrCache::with_budget(10);
        tiny.put("a", QrEcLevel::M, code("a"));
        assert_eq!(tiny.len(), 0);
    }

    #[test]
    fn check_digits_are_computed_and_verified() {
        // The seed's cola: 695864400025 + 9.
        assert_eq!(gs1_check_digit(&digits_of("695864400025").unwrap()), 9);
        assert!(encode_linear(Symbology::Ean13, "6958644000259").is_ok());
        let e = encode_linear(Symbology::Ean13, "6958644000258")
            .unwrap_err()
            .0;
        assert!(e.contains("check digit 8") && e.contains("needs 9"), "{e}");
        assert_eq!(
            encode_linear(Symbology::Ean13, "695864400025")
                .unwrap()
                .text[2]
                .text,
            "000259"
        );
        assert!(
            encode_linear(Symbology::Ean13, "69586440002")
                .unwrap_err()
                .0
                .contains("has 11")
        );
        assert!(
            encode_linear(Symbology::Ean13, "69586440002x")
                .unwrap_err()
                .0
                .contains("'x'")
        );
        assert!(encode_linear(Symbology::Upca, "03600029145").is_ok()); // 036000291452
        assert!(encode_linear(Symbology::Upca, "036000291453").is_err());
        assert!(encode_linear(Symbology::Ean8, "9638507").is_ok()); // 96385074
        assert!(encode_linear(Symbology::Itf14, "1540014128876").is_ok()); // 15400141288763
        assert!(encode_linear(Symbology::Itf, "12345").is_err());
        assert!(encode_linear(Symbology::Code39, "abc").is_err());
        assert!(encode_linear(Symbology::Code128, "tea-1107 €").is_err());
    }

    #[test]
    fn module_counts() {
        let e = encode_linear(Symbology::Ean13, "6958644000259").unwrap();
        assert_eq!(e.modules.len(), 95);
        assert_eq!(e.guards.iter().filter(|&&g| g).count(), 11);
        assert_eq!(
            encode_linear(Symbology::Ean8, "96385074")
                .unwrap()
                .modules
                .len(),
            67
        );
        // Code 128 C packs "123456" into 3 symbols: start + 3 + check + stop = 6×11 + 2.
        assert_eq!(
            encode_linear(Symbology::Code128, "123456")
                .unwrap()
                .modules
                .len(),
            68
        );
    }
}
