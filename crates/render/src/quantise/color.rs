//! Colour arithmetic: sRGB ↔ linear light, OKLab, and the tone curve of the controls.
//!
//! Everything here is built from `+ − × ÷` and comparisons on IEEE floats, which give the
//! same bits on every platform. The transcendental functions the conversions need (`ln`,
//! `exp`, a power, a cube root) are evaluated by short series below instead of the
//! platform's `libm`, whose last bits differ between systems. The series run only when a
//! table is built; per-pixel work is table look-ups.

use std::sync::OnceLock;

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm of `x > 0` (`-inf` for 0, NaN for negatives), to about 1 ulp.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // Normalise subnormals so the exponent field is meaningful.
    let (x, bias) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(54), -54)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + bias;
    // Mantissa in [1, 2).
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 40.0 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    e as f64 * LN_2 + 2.0 * sum
}

/// `e^x`, to about 1 ulp over the range the conversions use.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    // x = k·ln2 + r with |r| ≤ ln2/2; e^x = 2^k · e^r.
    // ln 2 split in two: the high part has its low 32 bits zero, so `k · LN2_HI` is exact
    // for every k used here, and the low part carries the rest.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    let k = (x / LN_2).round_ties_even();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1.0;
    while n < 24.0 {
        term *= r / n;
        sum += term;
        n += 1.0;
    }
    // 2^k in two steps, so k down to -1074 stays representable.
    let k = k as i32;
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

fn pow2(k: i32) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `x^y` for `x ≥ 0` (0 for `x = 0`).
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    exp(y * ln(x))
}

/// Real cube root, for any sign.
pub(crate) fn cbrt(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let a = x.abs();
    let mut y = exp(ln(a) / 3.0);
    // One Newton step polishes the last bits.
    y -= (y * y * y - a) / (3.0 * y * y);
    if x < 0.0 { -y } else { y }
}

/// sRGB-encoded value in `[0, 1]` to linear light.
pub(crate) fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        pow((v + 0.055) / 1.055, 2.4)
    }
}

struct Tables {
    /// Linear light of each sRGB byte.
    decode: [f32; 256],
    /// `mids[i]`: linear light half-way (in sRGB) between bytes `i` and `i + 1`.
    mids: [f32; 255],
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut decode = [0.0; 256];
        for (i, d) in decode.iter_mut().enumerate() {
            *d = srgb_to_linear(i as f64 / 255.0) as f32;
        }
        let mut mids = [0.0; 255];
        for (i, m) in mids.iter_mut().enumerate() {
            *m = srgb_to_linear((i as f64 + 0.5) / 255.0) as f32;
        }
        Tables { decode, mids }
    })
}

/// Linear light of each sRGB byte value.
pub(crate) fn decode_table() -> &'static [f32; 256] {
    &tables().decode
}

/// The sRGB byte nearest (in sRGB) to linear light `l` (clamped to `[0, 1]`).
pub(crate) fn encode(l: f32) -> u8 {
    // The number of midpoints below `l` is the rounded byte; at most 255.
    tables().mids.partition_point(|&m| m < l) as u8
}

/// The tone controls as one table: sRGB byte → linear light after brightness, contrast
/// and gamma. `None` when the controls are neutral (use [`decode_table`]).
pub(crate) fn tone_table(brightness: f32, contrast: f32, gamma: f32) -> Option<[f32; 256]> {
    if brightness == 0.0 && contrast == 1.0 && gamma == 1.0 {
        return None;
    }
    let (b, c, g) = (f64::from(brightness), f64::from(contrast), f64::from(gamma));
    let mut t = [0.0; 256];
    for (i, out) in t.iter_mut().enumerate() {
        let v = i as f64 / 255.0;
        let v = ((v - 0.5) * c + 0.5 + b).clamp(0.0, 1.0);
        let v = if g == 1.0 { v } else { pow(v, 1.0 / g) };
        *out = srgb_to_linear(v) as f32;
    }
    Some(t)
}

/// OKLab `[L, a, b]` of a linear-light RGB colour (components may leave `[0, 1]`).
pub(crate) fn oklab(rgb: [f64; 3]) -> [f64; 3] {
    let [r, g, b] = rgb;
    let l = 0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b;
    let m = 0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b;
    let s = 0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b;
    let (l, m, s) = (cbrt(l), cbrt(m), cbrt(s));
    [
        0.210_454_255_3 * l + 0.793_617_785_0 * m - 0.004_072_046_8 * s,
        1.977_998_495_1 * l - 2.428_592_205_0 * m + 0.450_593_709_9 * s,
        0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766_0 * s,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_match_the_platform_closely() {
        for &x in &[
            1e-300, 1e-9, 0.003, 0.5, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e200,
        ] {
            let rel = (ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            assert!(rel < 1e-14, "ln({x}) = {} vs {}", ln(x), x.ln());
        }
        for &x in &[-700.0, -20.0, -1.0, -1e-5, 0.0, 0.3, 1.0, 5.5, 300.0] {
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-14, "exp({x}) = {} vs {}", exp(x), x.exp());
        }
        for &x in &[-8.0, -0.001, 1e-12, 0.125, 0.2, 1.0, 27.0, 1e9] {
            assert!((cbrt(x) - x.cbrt()).abs() <= 1e-15 * x.abs().cbrt().max(1e-300));
        }
        assert!((pow(0.5, 2.4) - 0.5f64.powf(2.4)).abs() < 1e-15);
    }

    #[test]
    fn srgb_round_trips_every_byte() {
        let d = decode_table();
        assert_eq!(d[0], 0.0);
        assert_eq!(d[255], 1.0);
        for i in 0..=255u8 {
            assert_eq!(encode(d[usize::from(i)]), i);
        }
        assert_eq!(encode(-1.0), 0);
        assert_eq!(encode(2.0), 255);
        // sRGB 188 is about half of the light.
        assert!((d[188] - 0.5).abs() < 0.005);
    }

    #[test]
    fn grey_lightness_is_the_cube_root_of_luminance() {
        let [l, a, b] = oklab([0.125; 3]);
        assert!((l - 0.5).abs() < 1e-6, "{l}");
        assert!(a.abs() < 1e-6 && b.abs() < 1e-6);
        let white = oklab([1.0; 3]);
        assert!((white[0] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn neutral_controls_need_no_table() {
        assert!(tone_table(0.0, 1.0, 1.0).is_none());
        let t = tone_table(0.1, 1.0, 1.0).unwrap_or([0.0; 256]);
        assert!(t[128] > decode_table()[128]);
        assert_eq!(t[255], 1.0);
    }
}
