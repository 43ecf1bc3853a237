//! The sample templates and products: they load, render without warnings, and the
//! committed JSON Schema is the one the loader's types generate.

use esl_render::{Renderer, json_schema};
use esl_tests::{root, sample_products, sample_templates};

#[test]
fn committed_schema_matches_the_loader() {
    let path = root().join("templates/template.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json_schema(),
        "{} is stale: regenerate it with `cargo run -- schema > templates/template.schema.json`",
        path.display()
    );
}

#[test]
fn every_sample_renders_on_every_model_it_serves() {
    let renderer = Renderer::bundled();
    let templates = sample_templates();
    let products = sample_products();
    assert!(templates.len() >= 3 && products.len() >= 5);
    let mut models = std::collections::BTreeSet::new();
    for (tname, t) in &templates {
        for model in t.models() {
            models.insert(model);
            for (pname, p) in &products {
                let label = renderer
                    .render(t, p, model)
                    .unwrap_or_else(|e| panic!("{tname} × {pname}: {e}"));
                for w in &label.warnings {
                    // Only the deliberately over-long name may be cut.
                    assert!(
                        pname == "long-name" && matches!(w, esl_render::Warning::Truncated { .. }),
                        "{tname} × {pname} × {model}: {w}"
                    );
                }
            }
        }
    }
    assert_eq!(models.len(), 5, "every model has a sample template");
}

#[test]
fn the_promotion_shows_red_on_bwr_and_none_on_bw() {
    let renderer = Renderer::bundled();
    let products = sample_products();
    let promo = &products
        .iter()
        .find(|(n, _)| n == "promo")
        .expect("promo fixture")
        .1;
    let plain = &products
        .iter()
        .find(|(n, _)| n == "cola")
        .expect("cola fixture")
        .1;
    for (tname, t) in sample_templates() {
        for model in t.models() {
            let red = |p| {
                renderer
                    .render(&t, p, model)
                    .map(|l| l.image.ink_counts()[2])
                    .unwrap_or_default()
            };
            if model.palette().contains(esl_model::Ink::Red) {
                assert!(red(promo) > 100, "{tname} {model}: no red promotion");
            } else {
                assert_eq!(red(promo), 0, "{tname} {model}");
            }
            assert_eq!(red(plain), 0, "{tname} {model}: red without a promotion");
        }
    }
}

/// Decodes one symbology from a whole label at native resolution.
fn decode(img: &esl_render::PanelImage, format: rxing::BarcodeFormat) -> Option<String> {
    let luma: Vec<u8> = img
        .indices()
        .iter()
        .map(|&i| if i == 0 { 255 } else { 0 })
        .collect();
    rxing::helpers::detect_in_luma(luma, img.width(), img.height(), Some(format))
        .ok()
        .map(|r| r.getText().to_owned())
}

#[test]
fn every_sample_barcode_and_qr_code_scans() {
    let renderer = Renderer::bundled();
    let mut scanned = (0, 0);
    for (tname, t) in sample_templates() {
        for model in t.models() {
            for (pname, p) in sample_products() {
                let label = renderer.render(&t, &p, model).unwrap();
                if let Some(code) = p.text("bar_code").unwrap() {
                    let got = decode(&label.image, rxing::BarcodeFormat::EAN_13);
                    assert_eq!(
                        got.as_deref(),
                        Some(code.as_str()),
                        "EAN-13 on {tname} × {pname} × {model}"
                    );
                    scanned.0 += 1;
                }
                let places_qr = t.fields_read().contains("qr_code");
                if let Some(url) = p.text("qr_code").unwrap().filter(|_| places_qr) {
                    let got = decode(&label.image, rxing::BarcodeFormat::QR_CODE);
                    assert_eq!(
                        got.as_deref(),
                        Some(url.as_str()),
                        "QR on {tname} × {pname} × {model}"
                    );
                    scanned.1 += 1;
                }
            }
        }
    }
    // 4 products with a barcode on 5 models; 3 with a QR code on the 4 SL126/SL142 models.
    assert_eq!(scanned, (20, 12));
}
