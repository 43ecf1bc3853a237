//! Barcodes and QR codes decode back to their values with a real decoder (rxing), at
//! native resolution; property tests over random payloads.

use esl_model::{Model, Product};
use esl_render::{PanelImage, RenderError, Renderer, Template, Warning};
use proptest::prelude::*;
use rxing::BarcodeFormat;

/// Decodes the one code of a label, as grey levels at native resolution.
pub fn decode(img: &PanelImage, format: BarcodeFormat) -> Option<String> {
    let luma: Vec<u8> = img
        .indices()
        .iter()
        .map(|&i| if i == 0 { 255 } else { 0 })
        .collect();
    rxing::helpers::detect_in_luma(luma, img.width(), img.height(), Some(format))
        .ok()
        .map(|r| r.getText().to_owned())
}

fn one_code(element: &str, model: Model) -> Template {
    Template::from_json(
        format!(
            r#"{{"version": 1, "models": ["{}"], "elements": [{element}]}}"#,
            model.name()
        )
        .as_bytes(),
        "codes",
        None,
    )
    .unwrap()
}

fn render(t: &Template, p: &Product, m: Model) -> Result<esl_render::Rendered, RenderError> {
    Renderer::bundled().render(t, p, m)
}

#[test]
fn symbologies_decode_at_native_resolution() {
    let cases = [
        (
            "ean13",
            "6958644000259",
            BarcodeFormat::EAN_13,
            "6958644000259",
        ),
        (
            "ean13",
            "695864400025",
            BarcodeFormat::EAN_13,
            "6958644000259",
        ),
        ("ean8", "9638507", BarcodeFormat::EAN_8, "96385074"),
        ("upca", "03600029145", BarcodeFormat::UPC_A, "036000291452"),
        ("code128", "tea-1107", BarcodeFormat::CODE_128, "tea-1107"),
        ("code128", "12345678", BarcodeFormat::CODE_128, "12345678"),
        ("code39", "ESL-42", BarcodeFormat::CODE_39, "ESL-42"),
        ("itf", "12345678", BarcodeFormat::ITF, "12345678"),
        (
            "itf14",
            "1540014128876",
            BarcodeFormat::ITF,
            "15400141288763",
        ),
    ];
    for (sym, value, format, want) in cases {
        for (w, model) in [
            (200, Model::Sl121),
            (280, Model::Sl126),
            (380, Model::Sl142),
        ] {
            let t = one_code(
                &format!(
                    r#"{{"type": "barcode", "box": {{"x": 4, "y": 4, "w": {w}, "h": 80}}, "symbology": "{sym}", "value": "{value}"}}"#
                ),
                model,
            );
            let label = render(&t, &Product::new(), model).unwrap();
            assert_eq!(
                decode(&label.image, format).as_deref(),
                Some(want),
                "{sym} {value} on {model}"
            );
        }
    }
}

#[test]
fn wrong_check_digit_is_an_error_naming_field_value_and_reason() {
    let t = one_code(
        r#"{"type": "barcode", "box": {"x": 0, "y": 0, "w": 200, "h": 60}, "symbology": "ean13", "field": "bar_code"}"#,
        Model::Sl121,
    );
    let p = Product::new().with("bar_code", "6958644000258");
    let err = render(&t, &p, Model::Sl121).unwrap_err().to_string();
    assert!(
        err.contains("bar_code") && err.contains("6958644000258") && err.contains("check digit"),
        "{err}"
    );
}

#[test]
fn on_error_hide_and_text() {
    let p = Product::new().with("bar_code", "12AB");
    for (mode, ink) in [("hide", false), ("text", true)] {
        let t = one_code(
            &format!(
                r#"{{"type": "barcode", "box": {{"x": 0, "y": 0, "w": 200, "h": 60}}, "symbology": "ean13", "field": "bar_code", "on_error": "{mode}"}}"#
            ),
            Model::Sl121,
        );
        let r = render(&t, &p, Model::Sl121).unwrap();
        assert!(
            matches!(r.warnings.as_slice(), [Warning::CodeNotDrawn { .. }]),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.image.ink_counts()[1] > 0, ink, "{mode}");
    }
}

#[test]
fn too_narrow_boxes_say_how_wide_they_must_be() {
    let t = one_code(
        r#"{"type": "barcode", "box": {"x": 0, "y": 0, "w": 100, "h": 60}, "symbology": "ean13", "value": "6958644000259"}"#,
        Model::Sl121,
    );
    let err = render(&t, &Product::new(), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("113 px"), "{err}");
    let t = one_code(
        r#"{"type": "qrcode", "box": {"x": 0, "y": 0, "w": 40, "h": 40}, "value": "https://example.com/p/6958644000259"}"#,
        Model::Sl121,
    );
    let err = render(&t, &Product::new(), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("74 px are needed for 2 px modules"), "{err}");
    let t = one_code(
        r#"{"type": "qrcode", "box": {"x": 0, "y": 0, "w": 30, "h": 30}, "value": "https://example.com/p/6958644000259"}"#,
        Model::Sl121,
    );
    let err = render(&t, &Product::new(), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs 37 px at 1 px per module"), "{err}");
}

#[test]
fn codes_are_black_even_in_a_red_group() {
    let t = one_code(
        r#"{"type": "group", "box": {"x": 0, "y": 0, "w": 212, "h": 104}, "background": "red", "elements": [
            {"type": "qrcode", "box": {"x": 2, "y": 2, "w": 100, "h": 100}, "value": "hello"}]}"#,
        Model::Sl121,
    );
    let img = render(&t, &Product::new(), Model::Sl121).unwrap().image;
    assert_eq!(
        decode(&img, BarcodeFormat::QR_CODE).as_deref(),
        Some("hello")
    );
}

#[test]
fn qr_levels_and_quiet_zones() {
    for level in ["L", "M", "Q", "H"] {
        for qz in [4, 2] {
            let t = one_code(
                &format!(
                    r#"{{"type": "qrcode", "box": {{"x": 10, "y": 10, "w": 90, "h": 90}}, "value": "https://shop.example/p/42", "ec_level": "{level}", "quiet_zone": {qz}}}"#
                ),
                Model::Sl121,
            );
            let r = render(&t, &Product::new(), Model::Sl121).unwrap();
            assert_eq!(r.warnings.len(), usize::from(qz == 2), "{level} {qz}");
            assert_eq!(
                decode(&r.image, BarcodeFormat::QR_CODE).as_deref(),
                Some("https://shop.example/p/42"),
                "{level} {qz}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn random_ean13_round_trips(digits in "[0-9]{12}") {
        let t = one_code(
            &format!(r#"{{"type": "barcode", "box": {{"x": 2, "y": 2, "w": 208, "h": 70}}, "symbology": "ean13", "value": "{digits}"}}"#),
            Model::Sl121,
        );
        let img = render(&t, &Product::new(), Model::Sl121).unwrap().image;
        let decoded = decode(&img, BarcodeFormat::EAN_13);
        prop_assert_eq!(decoded.as_ref().map(|d| &d[..12]), Some(&digits[..]));
    }

    #[test]
    fn random_code128_round_trips(text in "[!-~]([ -~]{0,14}[!-~])?") {
        let t = one_code(
            r#"{"type": "barcode", "box": {"x": 2, "y": 2, "w": 392, "h": 70}, "symbology": "code128", "field": "v"}"#,
            Model::Sl142,
        );
        let img = render(&t, &Product::new().with("v", text.clone()), Model::Sl142).unwrap().image;
        prop_assert_eq!(decode(&img, BarcodeFormat::CODE_128), Some(text));
    }

    #[test]
    fn random_qr_round_trips(text in "[a-zA-Z0-9:/._?=&-]{1,80}") {
        let t = one_code(
            r#"{"type": "qrcode", "box": {"x": 0, "y": 0, "w": 150, "h": 150}, "field": "v"}"#,
            Model::Sl126,
        );
        let img = render(&t, &Product::new().with("v", text.clone()), Model::Sl126).unwrap().image;
        prop_assert_eq!(decode(&img, BarcodeFormat::QR_CODE), Some(text));
    }
}
