//! Shared inputs of the esl benchmarks (criterion benches in `benches/`, the `throughput`
//! example): the label design of the throughput issue on the three panel sizes, and a
//! generated product set for it.
//!
//! The design, on every size: the product name and spec, a 24–48 px logo (a photo dithered
//! to the panel's inks, prepared once per template), a red badge, the old price struck
//! through, the promotion price large in red with small decimals, an EAN-13; a QR code on
//! the 2.6" and 4.2" sizes.

use std::path::{Path, PathBuf};

use esl_model::{Model, Product, Screen};
use esl_render::Template;

/// The workspace root (where `templates/` is).
#[must_use]
pub fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

/// The three sizes of the set: one model per screen size (2.13", 2.6", 4.2").
pub const SIZES: [Model; 3] = [Model::Sl121, Model::Sl126, Model::Sl142];

/// The JSON of the issue's label design for `model`'s size.
#[must_use]
pub fn design_json(model: Model) -> String {
    let elements = match model.screen() {
        None | Some(Screen::In2_13) => {
            r#"
  {"type": "image", "box": {"x": 4, "y": 4, "w": 28, "h": 28}, "src": "product.png", "fit": "contain"},
  {"type": "text", "box": {"x": 36, "y": 2, "w": 172, "h": 18}, "field": "name", "font": "sans-bold", "size": 15, "min_size": 11},
  {"type": "text", "box": {"x": 36, "y": 20, "w": 172, "h": 14}, "field": "spec", "size": 11},
  {"type": "rect", "box": {"x": 4, "y": 37, "w": 44, "h": 16}, "fill": "red", "radius": 3},
  {"type": "text", "box": {"x": 4, "y": 37, "w": 44, "h": 16}, "text": "SALE", "font": "sans-bold", "size": 11, "align": "center", "valign": "middle", "color": "white"},
  {"type": "price", "box": {"x": 52, "y": 36, "w": 72, "h": 18}, "field": "price", "currency": "¥", "font": "sans", "size": 13, "small_size": 10, "min_size": 10, "small_position": "baseline", "strike": true},
  {"type": "barcode", "box": {"x": 2, "y": 56, "w": 116, "h": 46}, "symbology": "ean13", "field": "bar_code"},
  {"type": "price", "box": {"x": 120, "y": 36, "w": 88, "h": 66}, "field": "promote_price", "currency": "¥", "size": 44, "min_size": 20, "align": "right", "valign": "bottom", "color": "red"}"#
        }
        Some(Screen::In2_6) => {
            r#"
  {"type": "image", "box": {"x": 4, "y": 4, "w": 36, "h": 36}, "src": "product.png", "fit": "contain"},
  {"type": "text", "box": {"x": 44, "y": 2, "w": 180, "h": 40}, "field": "name", "font": "sans-bold", "size": 17, "min_size": 12, "max_lines": 2},
  {"type": "text", "box": {"x": 44, "y": 42, "w": 180, "h": 15}, "field": "spec", "size": 12},
  {"type": "qrcode", "box": {"x": 228, "y": 2, "w": 66, "h": 66}, "field": "qr_code", "ec_level": "L"},
  {"type": "rect", "box": {"x": 4, "y": 62, "w": 52, "h": 18}, "fill": "red", "radius": 4},
  {"type": "text", "box": {"x": 4, "y": 62, "w": 52, "h": 18}, "text": "SALE", "font": "sans-bold", "size": 13, "align": "center", "valign": "middle", "color": "white"},
  {"type": "price", "box": {"x": 60, "y": 61, "w": 100, "h": 20}, "field": "price", "currency": "¥", "font": "sans", "size": 16, "small_size": 12, "min_size": 12, "small_position": "baseline", "strike": true},
  {"type": "barcode", "box": {"x": 2, "y": 84, "w": 128, "h": 66}, "symbology": "ean13", "field": "bar_code"},
  {"type": "price", "box": {"x": 134, "y": 70, "w": 158, "h": 80}, "field": "promote_price", "currency": "¥", "size": 64, "min_size": 30, "align": "right", "valign": "bottom", "color": "red"}"#
        }
        Some(Screen::In4_2) => {
            r#"
  {"type": "image", "box": {"x": 6, "y": 6, "w": 48, "h": 48}, "src": "product.png", "fit": "contain"},
  {"type": "text", "box": {"x": 60, "y": 4, "w": 240, "h": 64}, "field": "name", "font": "sans-bold", "size": 26, "min_size": 18, "max_lines": 2},
  {"type": "text", "box": {"x": 60, "y": 72, "w": 240, "h": 20}, "field": "spec", "size": 16},
  {"type": "qrcode", "box": {"x": 306, "y": 4, "w": 90, "h": 90}, "field": "qr_code", "ec_level": "M"},
  {"type": "rect", "box": {"x": 6, "y": 102, "w": 96, "h": 26}, "fill": "red", "radius": 6},
  {"type": "text", "box": {"x": 6, "y": 102, "w": 96, "h": 26}, "text": "SALE", "font": "sans-bold", "size": 18, "align": "center", "valign": "middle", "color": "white"},
  {"type": "price", "box": {"x": 108, "y": 102, "w": 150, "h": 26}, "field": "price", "currency": "¥", "font": "sans", "size": 20, "small_size": 14, "min_size": 14, "small_position": "baseline", "strike": true},
  {"type": "barcode", "box": {"x": 4, "y": 140, "w": 236, "h": 156}, "symbology": "ean13", "field": "bar_code"},
  {"type": "price", "box": {"x": 244, "y": 134, "w": 152, "h": 162}, "field": "promote_price", "currency": "¥", "size": 96, "min_size": 36, "align": "right", "valign": "bottom", "color": "red"}"#
        }
    };
    format!(
        r#"{{"version": 1, "name": "throughput-{}", "models": ["{}"], "elements": [{elements}
]}}"#,
        model.name(),
        model.name()
    )
}

/// The issue's label design for `model`'s size, its logo read from `templates/gallery`.
///
/// # Panics
/// If the design does not load (a bug of this crate).
#[must_use]
pub fn design(model: Model) -> Template {
    let base = root().join("templates/gallery");
    Template::from_json(design_json(model).as_bytes(), "throughput", Some(&base))
        .unwrap_or_else(|e| panic!("the throughput design does not load: {e}"))
}

/// The blank template of `model`: nothing drawn (the floor: canvas, PNG, write).
///
/// # Panics
/// If it does not load (a bug of this crate).
#[must_use]
pub fn blank(model: Model) -> Template {
    let json = format!(
        r#"{{"version": 1, "name": "blank-{}", "models": ["{}"], "elements": []}}"#,
        model.name(),
        model.name()
    );
    Template::from_json(json.as_bytes(), "blank", None)
        .unwrap_or_else(|e| panic!("the blank template does not load: {e}"))
}

const WORDS: [&str; 24] = [
    "Jasmine",
    "Green",
    "Tea",
    "Organic",
    "Whole",
    "Milk",
    "Dark",
    "Chocolate",
    "Sparkling",
    "Water",
    "Roasted",
    "Coffee",
    "Beans",
    "Basmati",
    "Rice",
    "Olive",
    "Oil",
    "Extra",
    "Virgin",
    "Apple",
    "Juice",
    "Crunchy",
    "Peanut",
    "Butter",
];
const CJK: [&str; 6] = [
    "茉莉花茶",
    "全脂牛奶",
    "黑巧克力",
    "矿泉水",
    "咖啡豆",
    "橄榄油",
];
const SPECS: [&str; 6] = ["100 g", "1 L", "500 g", "330 ml × 6", "1.5 kg", "250 ml"];

/// The GS1 check digit of 12 digits.
fn check_digit(d: &[u8]) -> u8 {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// `n` generated products, deterministic: names of 2–4 words (every fifth with a Chinese
/// part), a spec, a price with decimals and a lower promotion price, a valid EAN-13 and a
/// product URL.
#[must_use]
pub fn products(n: usize) -> Vec<Product> {
    (0..n)
        .map(|i| {
            let words = 2 + i % 3;
            let mut name: Vec<&str> = (0..words).map(|k| WORDS[(i * 7 + k * 5) % 24]).collect();
            if i % 5 == 0 {
                name.push(CJK[i % CJK.len()]);
            }
            let cents = 199 + (i * 137) % 9800;
            let promo = cents - cents / 5;
            let mut digits: Vec<u8> = format!("69{:010}", 1_000_000 + i * 7919)
                .bytes()
                .map(|b| b - b'0')
                .collect();
            digits.push(check_digit(&digits));
            let ean: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            Product::new()
                .with("id", i.to_string())
                .with("name", name.join(" "))
                .with("spec", SPECS[i % SPECS.len()])
                .with("price", format!("{}.{:02}", cents / 100, cents % 100))
                .with(
                    "promote_price",
                    format!("{}.{:02}", promo / 100, promo % 100),
                )
                .with("bar_code", ean)
                .with("qr_code", format!("https://esl.example/p/sku-{i:05}"))
        })
        .collect()
}
