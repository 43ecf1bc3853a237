//! The simulator's own implementation of the platform's checks: signature (written apart from
//! `esl-push`'s, so a signing bug cannot hide itself) and pushed images.

use std::collections::BTreeMap;

use esl_model::{Ink, Model};
use md5::{Digest, Md5};

/// The expected `sign` of `params` (seed 001, "Authentication" §2.2): keys sorted, `k=v`
/// joined by `&`, `&key=<secret>` appended, MD5, upper-case hex. `sign` is not signed.
pub(crate) fn expected_sign(params: &BTreeMap<String, String>, secret: &str) -> String {
    let mut text = params
        .iter()
        .filter(|(k, _)| k.as_str() != "sign")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    text.push_str("&key=");
    text.push_str(secret);
    let digest = Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// Checks that `bytes` decode to an image of `model`'s exact size with only its palette's
/// colours, fully opaque (seed 001, ESL §4.3.5). Returns `(width, height)` or the reason.
pub(crate) fn check_image(bytes: &[u8], model: Model) -> Result<(u32, u32), String> {
    let img = image::load_from_memory(bytes).map_err(|e| format!("cannot decode image: {e}"))?;
    let (w, h) = (img.width(), img.height());
    let (mw, mh) = model.size();
    if (w, h) != (mw, mh) {
        return Err(format!(
            "image is {w}x{h} px, but {model} needs exactly {mw}x{mh} px"
        ));
    }
    let palette = model.palette();
    let rgba = img.to_rgba8();
    for (x, y, p) in rgba.enumerate_pixels() {
        let [r, g, b, a] = p.0;
        let ink = Ink::from_rgb([r, g, b]).filter(|ink| palette.contains(*ink));
        if a != 255 || ink.is_none() {
            let names: Vec<&str> = palette.inks().iter().map(|i| i.name()).collect();
            return Err(format!(
                "pixel ({x}, {y}) is #{r:02x}{g:02x}{b:02x} alpha {a}, not one of {model}'s colours ({})",
                names.join(", ")
            ));
        }
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_example_sign() {
        // Same worked example as esl-push's unit test; value from coreutils md5sum.
        let params: BTreeMap<String, String> = [
            ("app_id", "2039dds"),
            ("content", "newproductmask"),
            ("environment", "test"),
            ("product_id", "389238"),
            ("random", "289192"),
            ("timestamp", "1593029283"),
            ("user_id", "29389"),
            ("sign", "ignored"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            expected_sign(&params, "kdsofkdsnflke9382938k"),
            "4AB07ACA8AC43AC0FD83718BF4D740E1"
        );
    }

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn images() {
        let ok = png(
            212,
            104,
            |x, _| if x % 3 == 0 { [255, 0, 0] } else { [0, 0, 0] },
        );
        assert_eq!(check_image(&ok, Model::Sl121), Ok((212, 104)));
        let e = check_image(&ok, Model::Sl126).unwrap_err();
        assert!(e.contains("296x152"), "{e}");
        let red = png(296, 152, |_, _| [255, 0, 0]);
        let e = check_image(&red, Model::Sl126Plus).unwrap_err();
        assert!(e.contains("#ff0000"), "{e}");
        let grey = png(212, 104, |_, _| [128, 128, 128]);
        assert!(check_image(&grey, Model::Sl121).is_err());
        assert!(check_image(b"not an image", Model::Sl121).is_err());
    }
}
