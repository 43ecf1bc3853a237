//! Unit tests of the renderer: formats, errors, geometry, determinism.

use esl_model::{Ink, Model, Product};

use crate::golden::{self, Bless, Outcome};
use crate::{RenderError, RenderOptions, Renderer, Template, TemplateError, Warning};

fn template(json: &str) -> Template {
    Template::from_json(json.as_bytes(), "test", None).unwrap()
}

fn renderer() -> Renderer {
    Renderer::bundled()
}

fn cola() -> Product {
    Product::new()
        .with("name", "可口可乐/灌装")
        .with("price", "3.2")
        .with("spec", "250ml")
        .with("unit", "罐")
}

/// Ink outside `(x0, y0)..(x1, y1)`.
fn ink_outside(img: &crate::PanelImage, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in 0..img.height() {
        for x in 0..img.width() {
            let inside = x >= x0 && x < x1 && y >= y0 && y < y1;
            if !inside && img.ink(x, y) != Some(Ink::White) {
                n += 1;
            }
        }
    }
    n
}

const ALL_MODELS: &str = r#""models": ["SL121", "SL126", "SL126+", "SL142", "SL142+"]"#;

#[test]
fn every_model_gets_its_size_and_palette() {
    let t = template(&format!(
        r#"{{"version": 1, {ALL_MODELS}, "elements": [
            {{"type": "rect", "box": {{"x": 0, "y": 0, "w": 50, "h": 20}}, "fill": "red"}},
            {{"type": "text", "box": {{"x": 0, "y": 30, "w": 200, "h": 30}}, "field": "name", "size": 20, "color": "red"}},
            {{"type": "price", "box": {{"x": 0, "y": 60, "w": 200, "h": 40}}, "field": "price", "size": 36}}
        ]}}"#
    ));
    for model in Model::ALL {
        let img = renderer().render(&t, &cola(), model).unwrap().image;
        assert_eq!((img.width(), img.height()), model.size(), "{model}");
        let [white, black, red] = img.ink_counts();
        assert!(white > 0 && black > 0, "{model}");
        if model.palette().contains(Ink::Red) {
            assert!(red >= 50 * 20, "{model}: red rect missing");
        } else {
            assert_eq!(red, 0, "{model}: red on a black/white panel");
            // Red becomes black: the rect is black.
            assert_eq!(img.ink(10, 10), Some(Ink::Black));
        }
        // The PNG decodes to the same pixels and only palette colours.
        let png = img.to_png(1).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), model.size());
        assert_eq!(decoded.as_raw(), &img.to_rgb());
    }
}

#[test]
fn text_never_leaves_its_box() {
    let long =
        "Organic Extra Virgin Olive Oil, Cold Pressed, Family Size 可口可乐/灌装 Bottle gjpqy ÅÉÎ";
    for (valign, align) in [("top", "left"), ("middle", "center"), ("bottom", "right")] {
        let t = template(&format!(
            r#"{{"version": 1, "models": ["SL126"], "elements": [
                {{"type": "text", "box": {{"x": 40, "y": 50, "w": 90, "h": 23}}, "field": "name",
                  "size": 30, "min_size": 9, "max_lines": 2, "align": "{align}", "valign": "{valign}"}}
            ]}}"#
        ));
        let product = Product::new().with("name", long);
        let r = renderer().render(&t, &product, Model::Sl126).unwrap();
        assert_eq!(
            ink_outside(&r.image, 40, 50, 130, 73),
            0,
            "{valign}/{align}"
        );
        assert!(r.image.ink_counts()[1] > 50, "nothing drawn");
        assert!(
            r.warnings
                .iter()
                .any(|w| matches!(w, Warning::Truncated { .. })),
            "{:?}",
            r.warnings
        );
    }
}

#[test]
fn shrink_to_fit_prefers_a_smaller_size_over_cutting() {
    let t = template(
        r#"{"version": 1, "models": ["SL126"], "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 120, "h": 40}, "field": "name", "size": 30, "min_size": 10}]}"#,
    );
    let r = renderer()
        .render(
            &t,
            &Product::new().with("name", "Chocolate Cookies"),
            Model::Sl126,
        )
        .unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(ink_outside(&r.image, 0, 0, 120, 40), 0);
}

#[test]
fn promotion_condition_shows_red_only_when_lower() {
    let t = template(
        r#"{"version": 1, "models": ["SL126"], "elements": [
            {"type": "rect", "box": {"x": 0, "y": 0, "w": 20, "h": 20}, "fill": "red",
             "when": {"compare": {"field": "promote_price", "op": "lt", "other": "price"}}}]}"#,
    );
    let red = |p: Product| {
        renderer()
            .render(&t, &p, Model::Sl126)
            .unwrap()
            .image
            .ink_counts()[2]
    };
    assert_eq!(red(cola()), 0);
    assert_eq!(red(cola().with("promote_price", "2.99")), 400);
    assert_eq!(red(cola().with("promote_price", 3.2)), 0);
    assert_eq!(red(cola().with("promote_price", "")), 0);
}

#[test]
fn rotation_turns_the_design() {
    // A 10×10 block at the design's top-left corner.
    let json = |rot: u32| {
        format!(
            r#"{{"version": 1, "models": ["SL126"], "rotation": {rot}, "elements": [
                {{"type": "rect", "box": {{"x": 0, "y": 0, "w": 10, "h": 10}}, "fill": "black"}}]}}"#
        )
    };
    let corner = |rot: u32| {
        let img = renderer()
            .render(&template(&json(rot)), &cola(), Model::Sl126)
            .unwrap()
            .image;
        assert_eq!((img.width(), img.height()), (296, 152));
        assert_eq!(img.ink_counts()[1], 100);
        [(0, 0), (295, 0), (295, 151), (0, 151)]
            .iter()
            .position(|&(x, y)| img.ink(x, y) == Some(Ink::Black))
    };
    // Clockwise: the design's top-left goes to the panel's top-right, bottom-right, bottom-left.
    assert_eq!(corner(0), Some(0));
    assert_eq!(corner(90), Some(1));
    assert_eq!(corner(180), Some(2));
    assert_eq!(corner(270), Some(3));
}

#[test]
fn shapes_are_exact() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "rect", "box": {"x": 10, "y": 10, "w": 20, "h": 10}, "outline": "black", "stroke": 2},
            {"type": "line", "from": {"x": 50, "y": 5}, "to": {"x": 59, "y": 5}, "width": 1},
            {"type": "line", "from": {"x": 50, "y": 20}, "to": {"x": 50, "y": 29}, "width": 3},
            {"type": "ellipse", "box": {"x": 100, "y": 0, "w": 30, "h": 30}, "fill": "red"},
            {"type": "rect", "box": {"x": 150, "y": 0, "w": 30, "h": 30}, "fill": "black", "radius": 8}
        ]}"#,
    );
    let img = renderer().render(&t, &cola(), Model::Sl121).unwrap().image;
    // Outlined rect: 20×10 minus the 16×6 inside.
    let black_in = |x0: u32, y0: u32, x1: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| img.ink(x, y) == Some(Ink::Black))
            .count()
    };
    assert_eq!(black_in(0, 0, 40, 40), 20 * 10 - 16 * 6);
    assert_eq!(black_in(50, 5, 60, 6), 10);
    assert_eq!(black_in(49, 20, 52, 30), 30);
    // Rounded corners: the corner pixel is white, the centre black.
    assert_eq!(img.ink(150, 0), Some(Ink::White));
    assert_eq!(img.ink(165, 15), Some(Ink::Black));
    assert_eq!(img.ink(100, 0), Some(Ink::White));
    assert_eq!(img.ink(115, 15), Some(Ink::Red));
}

#[test]
fn groups_offset_and_clip_their_children() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "group", "box": {"x": 100, "y": 50, "w": 20, "h": 20}, "elements": [
                {"type": "rect", "box": {"x": -10, "y": -10, "w": 100, "h": 100}, "fill": "black"}]}]}"#,
    );
    let img = renderer().render(&t, &cola(), Model::Sl121).unwrap().image;
    assert_eq!(img.ink_counts()[1], 400);
    assert_eq!(ink_outside(&img, 100, 50, 120, 70), 0);
}

#[test]
fn malformed_json_names_line_and_column() {
    let err = Template::from_json(
        b"{\n  \"version\": 1,\n  \"models\": [\"SL121\"\n}",
        "bad.json",
        None,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, TemplateError::Json { line: 4, .. }), "{msg}");
    assert!(msg.contains("bad.json") && msg.contains("line 4"), "{msg}");
}

#[test]
fn unknown_keys_and_types_name_their_path() {
    let err = Template::from_json(
        br#"{"version": 1, "models": ["SL121"], "elements": [{"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1}}, {"type": "star"}]}"#,
        "t",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("elements[1]") && err.contains("star"), "{err}");
    let err = Template::from_json(
        br#"{"version": 1, "models": ["SL121"], "elements": [{"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1, "z": 3}}]}"#,
        "t",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("elements[0]") && err.contains('z'), "{err}");
    let err = Template::from_json(br#"{"version": 1, "modles": []}"#, "t", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("modles"), "{err}");
    let err = Template::from_json(br#"{"version": 3, "models": ["SL121"]}"#, "t", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("version"), "{err}");
    let err = Template::from_json(br#"{"version": 1, "models": ["SL999"]}"#, "t", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("SL999") && err.contains("SL126+"), "{err}");
}

#[test]
fn missing_field_without_fallback_is_an_error_naming_it() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 100, "h": 20}, "field": "brand", "size": 12}]}"#,
    );
    let err = renderer().render(&t, &cola(), Model::Sl121).unwrap_err();
    assert!(
        matches!(&err, RenderError::MissingField { field, element, .. } if field == "brand" && element == "elements[0]"),
        "{err}"
    );
}

#[test]
fn non_numeric_price_names_field_and_value() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "price", "box": {"x": 0, "y": 0, "w": 200, "h": 60}, "field": "price", "size": 40}]}"#,
    );
    let err = renderer()
        .render(&t, &cola().with("price", "three"), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("price") && err.contains("three"), "{err}");
}

#[test]
fn a_price_too_wide_is_refused_not_cut() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "price", "box": {"x": 0, "y": 0, "w": 40, "h": 60}, "field": "price", "size": 40, "min_size": 30}]}"#,
    );
    let err = renderer()
        .render(&t, &cola().with("price", "1299.99"), Model::Sl121)
        .unwrap_err();
    assert!(matches!(err, RenderError::PriceOverflow { .. }), "{err}");
}

#[test]
fn unknown_model_and_font_are_errors() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 100, "h": 20}, "text": "x", "size": 12, "font": "comic"}]}"#,
    );
    let err = renderer()
        .render(&t, &cola(), Model::Sl142)
        .unwrap_err()
        .to_string();
    assert!(err.contains("SL142") && err.contains("SL121"), "{err}");
    let err = renderer()
        .render(&t, &cola(), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("comic") && err.contains("sans"), "{err}");
}

#[test]
fn missing_glyphs_are_reported_and_strict_mode_refuses_them() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 200, "h": 30}, "field": "name", "size": 20}]}"#,
    );
    let p = Product::new().with("name", "Tea 😀");
    let r = renderer().render(&t, &p, Model::Sl121).unwrap();
    assert_eq!(
        r.warnings,
        vec![Warning::MissingGlyph {
            element: "elements[0]".into(),
            ch: '😀',
            code: 0x1F600
        }]
    );
    let strict = Renderer::new(crate::FontBook::bundled(), RenderOptions { strict: true });
    assert!(matches!(
        strict.render(&t, &p, Model::Sl121),
        Err(RenderError::Strict { .. })
    ));
    // Chinese and Latin are covered by the bundled chain: no warning.
    assert!(
        renderer()
            .render(&t, &cola(), Model::Sl121)
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn variants_choose_a_layout_per_model() {
    let t = template(
        r#"{"version": 1, "models": ["SL126"], "elements": [
            {"type": "rect", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "fill": "black"}],
         "variants": [{"models": ["SL121"], "elements": [
            {"type": "rect", "box": {"x": 0, "y": 0, "w": 5, "h": 5}, "fill": "black"}]}]}"#,
    );
    assert_eq!(t.models(), vec![Model::Sl121, Model::Sl126]);
    assert_eq!(
        renderer()
            .render(&t, &cola(), Model::Sl126)
            .unwrap()
            .image
            .ink_counts()[1],
        100
    );
    assert_eq!(
        renderer()
            .render(&t, &cola(), Model::Sl121)
            .unwrap()
            .image
            .ink_counts()[1],
        25
    );
    let dup = Template::from_json(
        br#"{"version": 1, "models": ["SL126"], "variants": [{"models": ["sl126"], "elements": []}]}"#,
        "t",
        None,
    );
    assert!(dup.unwrap_err().to_string().contains("SL126"));
}

/// A 4×2 PNG: left half red, right half black, as base64.
fn tiny_png_base64() -> String {
    use base64::Engine as _;
    let img = image::RgbImage::from_fn(4, 2, |x, _| {
        if x < 2 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 0])
        }
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn images_are_mapped_to_the_palette() {
    // Plain threshold, and the default dithering: solid red and black stay solid.
    for mapping in [r#", "threshold": 100"#, ""] {
        images_map(mapping);
    }
}

fn images_map(mapping: &str) {
    let t = template(&format!(
        r#"{{"version": 1, "models": ["SL126", "SL126+"], "elements": [
            {{"type": "image", "box": {{"x": 0, "y": 0, "w": 40, "h": 20}}, "data": "data:image/png;base64,{}", "fit": "stretch"{mapping}}}]}}"#,
        tiny_png_base64()
    ));
    let bwr = renderer().render(&t, &cola(), Model::Sl126).unwrap().image;
    assert_eq!(bwr.ink(5, 10), Some(Ink::Red));
    assert_eq!(bwr.ink(35, 10), Some(Ink::Black));
    assert_eq!(ink_outside(&bwr, 0, 0, 40, 20), 0);
    let bw = renderer()
        .render(&t, &cola(), Model::Sl126Plus)
        .unwrap()
        .image;
    assert_eq!(bw.ink_counts()[2], 0);
    let err = Template::from_json(
        br#"{"version": 1, "models": ["SL126"], "elements": [{"type": "image", "box": {"x": 0, "y": 0, "w": 4, "h": 4}, "data": "!!"}]}"#,
        "t",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("base64"), "{err}");
    let err = Template::from_json(
        br#"{"version": 1, "models": ["SL126"], "elements": [{"type": "image", "box": {"x": 0, "y": 0, "w": 4, "h": 4}, "src": "nope.png"}]}"#,
        "t",
        Some(std::path::Path::new("/nonexistent")),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("nope.png"), "{err}");
}

#[test]
fn rendering_is_identical_on_every_thread() {
    let t = template(&format!(
        r#"{{"version": 1, {ALL_MODELS}, "elements": [
            {{"type": "text", "box": {{"x": 2, "y": 2, "w": 200, "h": 40}}, "field": "name", "size": 18, "max_lines": 2}},
            {{"type": "price", "box": {{"x": 0, "y": 50, "w": 200, "h": 50}}, "field": "price", "currency": "¥", "size": 40}}
        ]}}"#
    ));
    let r = renderer();
    let reference: Vec<_> = Model::ALL
        .iter()
        .map(|&m| r.render(&t, &cola(), m).unwrap().image)
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    Model::ALL
                        .iter()
                        .map(|&m| r.render(&t, &cola(), m).unwrap().image)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), reference);
        }
    });
}

#[test]
fn text_formats_dates_money_and_case() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "utc_offset": 28800, "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 200, "h": 20}, "field": "expire_time",
             "format": {"kind": "date", "pattern": "%d.%m.%Y"}, "prefix": "exp ", "size": 12}]}"#,
    );
    assert!(
        renderer()
            .render(&t, &cola().with("expire_time", 1_795_651_200), Model::Sl121)
            .is_ok()
    );
    let err = renderer()
        .render(&t, &cola().with("expire_time", "soon"), Model::Sl121)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expire_time") && err.contains("soon"), "{err}");
}

#[test]
fn golden_check_reports_blesses_and_diffs() {
    let dir = std::env::temp_dir().join(format!("esl-golden-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "text", "box": {"x": 0, "y": 0, "w": 200, "h": 30}, "field": "name", "size": 20}]}"#,
    );
    let a = renderer().render(&t, &cola(), Model::Sl121).unwrap().image;
    let b = renderer()
        .render(&t, &cola().with("name", "Pepsi"), Model::Sl121)
        .unwrap()
        .image;
    let reference = dir.join("case.png");
    assert!(matches!(
        golden::check(&reference, &a, Bless::Off, &dir).unwrap(),
        Outcome::Missing { .. }
    ));
    assert_eq!(
        golden::check(&reference, &a, Bless::On, &dir).unwrap(),
        Outcome::Blessed
    );
    assert_eq!(
        golden::check(&reference, &a, Bless::Off, &dir).unwrap(),
        Outcome::Match
    );
    match golden::check(&reference, &b, Bless::Off, &dir).unwrap() {
        Outcome::Differs {
            pixels, diff_path, ..
        } => {
            assert!(pixels > 0);
            let diff = image::open(&diff_path).unwrap();
            assert_eq!(diff.width(), 212 * 3 + 8);
        }
        other => panic!("expected a difference, got {other:?}"),
    }
    assert_eq!(
        golden::check(&reference, &b, Bless::On, &dir).unwrap(),
        Outcome::Blessed
    );
    assert_eq!(
        golden::check(&reference, &b, Bless::Off, &dir).unwrap(),
        Outcome::Match
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bit_planes_pack_msb_first() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
            {"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1}, "fill": "black"},
            {"type": "rect", "box": {"x": 9, "y": 0, "w": 1, "h": 1}, "fill": "red"}]}"#,
    );
    let planes = renderer()
        .render(&t, &cola(), Model::Sl121)
        .unwrap()
        .image
        .bit_planes();
    assert_eq!(planes.len(), 2);
    assert_eq!(planes[0].len(), 27 * 104);
    assert_eq!(planes[0][0], 0x80);
    assert_eq!(planes[1][1], 0x40);
    assert_eq!(planes[0].iter().map(|b| b.count_ones()).sum::<u32>(), 1);
}

#[test]
fn shared_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<Renderer>();
    assert_send_sync::<crate::FontBook>();
    assert_send_sync::<crate::PanelImage>();
}

fn one_text(version: u32, template_hinting: &str, element_hinting: &str) -> String {
    format!(
        r#"{{"version": {version}, "models": ["SL121"]{template_hinting}, "elements": [
            {{"type": "text", "box": {{"x": 2, "y": 10, "w": 200, "h": 30}}, "field": "name", "size": 12{element_hinting}}}
        ]}}"#
    )
}

#[test]
fn hinting_is_on_by_default_and_turned_off_per_template_or_element() {
    let r = renderer();
    let p = Product::new().with("name", "Jasmine Green Tea 茉莉花茶");
    let scene = |json: &str| r.bind(&template(json), &p, Model::Sl121).unwrap();
    let image = |json: &str| r.render(&template(json), &p, Model::Sl121).unwrap().image;
    let default = one_text(2, "", "");
    let on = one_text(2, r#", "hinting": true"#, "");
    let off = one_text(2, r#", "hinting": false"#, "");
    let off_here = one_text(2, "", r#", "hinting": false"#);
    let on_here = one_text(2, r#", "hinting": false"#, r#", "hinting": true"#);
    assert_eq!(scene(&default).fingerprint(), scene(&on).fingerprint());
    assert_eq!(scene(&off).fingerprint(), scene(&off_here).fingerprint());
    assert_eq!(scene(&on_here).fingerprint(), scene(&on).fingerprint());
    // Hinting changes the pixels, and the fingerprint says so.
    assert_ne!(scene(&on).fingerprint(), scene(&off).fingerprint());
    assert_ne!(image(&on).indices(), image(&off).indices());
}

#[test]
fn hinting_is_a_version_2_key() {
    for json in [
        one_text(1, r#", "hinting": false"#, ""),
        one_text(1, "", r#", "hinting": false"#),
    ] {
        let err = Template::from_json(json.as_bytes(), "t", None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("hinting") && msg.contains("version"), "{msg}");
    }
}

/// The dot of a hinted "i" in the first line of a box, at label sizes: the ink rows form two
/// runs (the dot, the stem; unhinted, the two merge at small sizes). Hinting raises the dot a pixel; with the line's
/// baseline rounded as for unhinted text, the box's top cut it off ("Vırgın" on the SL121
/// long-name sample).
#[test]
fn the_dot_of_an_i_stays_inside_a_first_line() {
    for font in ["sans", "sans-bold"] {
        for size in 9..=18 {
            let t = template(&format!(
                r#"{{"version": 2, "models": ["SL121"], "elements": [
                        {{"type": "text", "box": {{"x": 10, "y": 10, "w": 40, "h": {size}}},
                          "text": "i", "font": "{font}", "size": {size}}}
                    ]}}"#
            ));
            let img = renderer()
                .render(&t, &Product::new(), Model::Sl121)
                .unwrap()
                .image;
            let rows: Vec<u32> = (0..img.height())
                .filter(|&y| (0..img.width()).any(|x| img.ink(x, y) == Some(Ink::Black)))
                .collect();
            let runs = 1 + rows.windows(2).filter(|w| w[1] != w[0] + 1).count();
            assert_eq!(runs, 2, "{font} {size} px: ink rows {rows:?}");
        }
    }
}
