//! Property tests of the scene stage.
//!
//! * Over random products and the sample templates: equal fingerprints always mean equal
//!   pixels, and products that differ only in the spelling of an amount (`"3.2"` against
//!   `"3.20"`) or in fields no element shows get equal fingerprints.
//! * Over random templates (element trees of every kind, with boxes and coordinates up to and
//!   beyond the limits) and random products: loading and rendering never panic, and every
//!   label has exactly the model's size and inks.

use esl_model::{Ink, Model, Product};
use esl_render::{PanelImage, Renderer, Template, rasterise};
use esl_tests::sample_templates;
use proptest::prelude::*;
use serde_json::{Value, json};

fn amount() -> impl Strategy<Value = String> {
    (0u32..100_000, 0u32..3).prop_map(|(cents, digits)| match digits {
        0 => format!("{}", cents / 100),
        1 => format!("{}.{}", cents / 100, (cents % 100) / 10),
        _ => format!("{}.{:02}", cents / 100, cents % 100),
    })
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        "[可口乐灌装茶叶 a-zA-Z0-9/%-]{0,40}".prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
    ]
}

/// A product over the fields the sample templates read, with amounts as strings.
fn product() -> impl Strategy<Value = Product> {
    (
        text(),
        amount(),
        proptest::option::of(amount()),
        proptest::option::of(amount()),
        text(),
        text(),
        text(),
        proptest::option::of("[0-9]{12}"),
        proptest::option::of(1_700_000_000i64..1_900_000_000),
    )
        .prop_map(
            |(name, price, promo, member, spec, unit, brand, bar, expire)| {
                let mut p = Product::new();
                p.set("name", name);
                p.set("price", Value::from(price));
                p.set("promote_price", promo.map_or(Value::Null, Value::from));
                p.set("member_price", member.map_or(Value::Null, Value::from));
                p.set("spec", spec);
                p.set("unit", unit);
                p.set("brand", brand);
                p.set("area", Value::from("Fujian"));
                p.set("level", Value::from("A"));
                p.set("bar_code", bar.map_or(Value::Null, Value::from));
                p.set("qr_code", Value::from("https://example.com/p/1"));
                p.set("expire_time", expire.map_or(Value::Null, Value::from));
                p
            },
        )
}

/// The same product with every amount spelled with one more trailing zero (or as a JSON
/// number), and a field no template shows.
fn respelled(p: &Product) -> Product {
    let mut q = p.clone();
    for f in ["price", "promote_price", "member_price"] {
        if let Some(Value::String(s)) = p.get(f) {
            let longer = if s.contains('.') {
                format!("{s}0")
            } else {
                format!("{s}.000")
            };
            q.set(f, Value::from(longer));
        }
    }
    q.set("seq_num", Value::from("unused-17"));
    q
}

fn check_panel(img: &PanelImage, model: Model) -> Result<(), TestCaseError> {
    prop_assert_eq!((img.width(), img.height()), model.size());
    prop_assert_eq!(img.indices().len() as u32, img.width() * img.height());
    for &i in img.indices() {
        let ink = Ink::from_index(i);
        prop_assert!(
            ink.is_some_and(|ink| model.palette().contains(ink)),
            "index {} on {}",
            i,
            model
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fingerprints_mean_pixels(a in product(), b in product()) {
        let renderer = Renderer::bundled();
        let a2 = respelled(&a);
        for (name, template) in sample_templates() {
            for model in template.models() {
                let sa = renderer.bind(&template, &a, model);
                let sa2 = renderer.bind(&template, &a2, model);
                let sb = renderer.bind(&template, &b, model);
                match (&sa, &sa2) {
                    (Ok(x), Ok(y)) => {
                        prop_assert_eq!(x.fingerprint(), y.fingerprint(), "{} {}: respelled", name, model);
                        prop_assert_eq!(rasterise(x), rasterise(y));
                    }
                    (Err(x), Err(y)) => prop_assert_eq!(x.to_string(), y.to_string()),
                    _ => prop_assert!(false, "{} {}: one spelling binds, the other does not", name, model),
                }
                if let (Ok(x), Ok(y)) = (&sa, &sb) {
                    let same_fp = x.fingerprint() == y.fingerprint();
                    let same_px = rasterise(x) == rasterise(y);
                    // Equal fingerprints mean equal pixels; different pixels mean different
                    // fingerprints.
                    prop_assert!(!same_fp || same_px, "{} {}: equal fingerprints, different pixels", name, model);
                }
            }
        }
    }
}

// ---- Random templates ----

fn coord() -> impl Strategy<Value = i64> {
    prop_oneof![
        40 => -300i64..500,
        10 => Just(-10_000i64),
        10 => Just(10_000i64),
        10 => -10_000i64..=10_000,
        // Beyond the limit: the template is refused.
        1 => prop_oneof![Just(-10_001i64), Just(i64::from(i32::MIN)), Just(i64::from(i32::MAX))],
    ]
}

fn side() -> impl Strategy<Value = i64> {
    prop_oneof![
        40 => 1i64..420,
        10 => Just(10_000i64),
        10 => 1i64..=10_000,
        // Beyond the limit: the template is refused.
        1 => prop_oneof![Just(0i64), Just(10_001i64), Just(i64::from(u32::MAX))],
    ]
}

fn bounds() -> impl Strategy<Value = Value> {
    (coord(), coord(), side(), side())
        .prop_map(|(x, y, w, h)| json!({"x": x, "y": y, "w": w, "h": h}))
}

fn color() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("black")),
        Just(json!("white")),
        Just(json!("red"))
    ]
}

fn field() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("name")),
        Just(json!("price")),
        Just(json!("spec")),
        Just(json!("bar_code")),
        Just(json!("missing_field")),
    ]
}

/// A 6×4 picture with transparency, as base64 PNG.
fn picture() -> String {
    use base64::Engine as _;
    use image::ImageEncoder as _;
    let img = image::RgbaImage::from_fn(6, 4, |x, y| {
        image::Rgba([
            (x * 40) as u8,
            (y * 60) as u8,
            200,
            if x == 0 { 0 } else { 255 },
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(img.as_raw(), 6, 4, image::ExtendedColorType::Rgba8)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn leaf() -> impl Strategy<Value = Value> {
    let size = prop_oneof![6 => 1i64..120, 1 => Just(1000i64), 1 => Just(1001i64)];
    prop_oneof![
        (bounds(), field(), size.clone(), 1i64..4, color(), any::<bool>()).prop_map(|(b, f, s, lines, c, strike)| json!({
            "type": "text", "box": b, "field": f, "size": s, "min_size": 1, "max_lines": lines,
            "color": c, "strike": strike, "fallback": "—"})),
        (bounds(), size, color(), any::<bool>()).prop_map(|(b, s, c, strike)| json!({
            "type": "price", "box": b, "field": "price", "size": s, "min_size": 1, "currency": "¥",
            "color": c, "strike": strike, "fallback": ""})),
        (bounds(), proptest::option::of(color()), proptest::option::of(color()), 0i64..1001, 0i64..1001).prop_map(|(b, f, o, s, r)| json!({
            "type": "rect", "box": b, "fill": f, "outline": o, "stroke": s, "radius": r})),
        (bounds(), proptest::option::of(color()), proptest::option::of(color()), 0i64..1001).prop_map(|(b, f, o, s)| json!({
            "type": "ellipse", "box": b, "fill": f, "outline": o, "stroke": s})),
        (coord(), coord(), coord(), coord(), 1i64..1001, color()).prop_map(|(a, b, c, d, w, col)| json!({
            "type": "line", "from": {"x": a, "y": b}, "to": {"x": c, "y": d}, "width": w, "color": col})),
        (bounds(), prop_oneof![Just("contain"), Just("cover"), Just("stretch")], any::<bool>()).prop_map(|(b, fit, thr)| {
            let mut v = json!({"type": "image", "box": b, "data": picture(), "fit": fit});
            if thr { v["threshold"] = json!(100); }
            v
        }),
        (bounds(), prop_oneof![Just("ean13"), Just("code128"), Just("itf")]).prop_map(|(b, s)| json!({
            "type": "barcode", "box": b, "symbology": s, "field": "bar_code", "on_error": "text", "fallback": ""})),
        (bounds(), any::<bool>()).prop_map(|(b, one)| json!({
            "type": "qrcode", "box": b, "value": "https://example.com/{name}", "allow_1px": one,
            "on_error": "hide", "fallback": ""})),
    ]
}

fn element() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        (bounds(), proptest::option::of(color()), proptest::collection::vec(inner, 0..4))
            .prop_map(|(b, bg, els)| json!({"type": "group", "box": b, "background": bg, "elements": els}))
    })
}

fn template_json() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(element(), 0..6),
        prop_oneof![Just(0), Just(90), Just(180), Just(270)],
        color(),
    )
        .prop_map(|(els, rot, bg)| {
            json!({
            "version": 1,
            "models": ["SL121", "SL126", "SL126+", "SL142", "SL142+"],
            "rotation": rot, "background": bg, "elements": els})
        })
}

fn random_product() -> impl Strategy<Value = Product> {
    (
        prop_oneof![
            Just(Value::Null),
            "\\PC{0,60}".prop_map(Value::from),
            "W{0,300}".prop_map(Value::from)
        ],
        prop_oneof![
            Just(Value::Null),
            amount().prop_map(Value::from),
            Just(json!("abc")),
            Just(json!(-1e15))
        ],
        prop_oneof![Just(Value::Null), "[0-9]{0,14}".prop_map(Value::from)],
    )
        .prop_map(|(name, price, bar)| {
            let mut p = Product::new();
            p.set("name", name);
            p.set("price", price);
            p.set("spec", Value::from("500 g"));
            p.set("bar_code", bar);
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_templates_never_panic_and_keep_size_and_inks(t in template_json(), p in random_product()) {
        let bytes = serde_json::to_vec(&t).unwrap();
        // Out-of-range values are refused with an error; that is fine, a panic is not.
        let Ok(template) = Template::from_json(&bytes, "random", None) else { return Ok(()) };
        let renderer = Renderer::bundled();
        for model in Model::ALL {
            match renderer.bind(&template, &p, model) {
                Ok(scene) => {
                    let img = rasterise(&scene);
                    check_panel(&img, model)?;
                    // The scene is all there is: binding again draws the same.
                    let again = renderer.bind(&template, &p, model).unwrap();
                    prop_assert_eq!(scene.fingerprint(), again.fingerprint());
                    prop_assert_eq!(&rasterise(&again), &img);
                }
                // A refusal names the template it is about.
                Err(e) => prop_assert!(e.to_string().contains("random"), "{}", e),
            }
        }
    }
}
