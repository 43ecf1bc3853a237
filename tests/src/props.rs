//! Property tests: random product data never makes the renderer panic, and every label it
//! renders has exactly the model's size and palette.

use esl_model::{Ink, Model, Product};
use esl_render::Renderer;
use esl_tests::sample_templates;
use proptest::prelude::*;
use serde_json::Value;

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "[0-9]{0,12}(\\.[0-9]{0,4})?".prop_map(Value::from),
        "\\PC{0,80}".prop_map(Value::from),
        "[可口乐灌装茶叶 a-zA-Z0-9/%€¥-]{0,60}".prop_map(Value::from),
        Just(Value::from("")),
        Just(serde_json::json!([1, 2])),
        Just(serde_json::json!({"a": 1})),
        any::<bool>().prop_map(Value::from),
    ]
}

fn product() -> impl Strategy<Value = Product> {
    let fields = [
        "name",
        "price",
        "promote_price",
        "member_price",
        "spec",
        "unit",
        "brand",
        "area",
        "level",
        "bar_code",
        "expire_time",
        "qr_code",
    ];
    proptest::collection::vec(field_value(), fields.len()).prop_map(move |values| {
        let mut p = Product::new();
        for (f, v) in fields.iter().zip(values) {
            p.set(f, v);
        }
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_products_never_panic_and_keep_size_and_palette(p in product()) {
        let renderer = Renderer::bundled();
        for (_, template) in sample_templates() {
            for model in template.models() {
                // Errors are fine (a text where a price must be); a panic or a bad image is not.
                if let Ok(label) = renderer.render(&template, &p, model) {
                    let img = label.image;
                    prop_assert_eq!((img.width(), img.height()), model.size());
                    prop_assert_eq!(img.indices().len() as u32, img.width() * img.height());
                    for &i in img.indices() {
                        let ink = Ink::from_index(i);
                        prop_assert!(ink.is_some_and(|ink| model.palette().contains(ink)), "index {} on {}", i, model);
                    }
                }
            }
        }
    }

    #[test]
    fn random_prices_render_or_refuse_cleanly(price in "-?[0-9]{1,9}(\\.[0-9]{1,6})?", model in 0usize..5) {
        let model = Model::ALL[model];
        let renderer = Renderer::bundled();
        let p = Product::new().with("name", "Test").with("price", price);
        for (_, template) in sample_templates() {
            if template.supports(model) {
                match renderer.render(&template, &p, model) {
                    Ok(label) => prop_assert_eq!((label.image.width(), label.image.height()), model.size()),
                    Err(e) => prop_assert!(e.to_string().contains("does not fit"), "{}", e),
                }
            }
        }
    }
}
