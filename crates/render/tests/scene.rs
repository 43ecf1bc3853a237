//! The scene stage: what a scene holds, what its fingerprint covers, and the bounds that keep
//! hostile templates cheap.

use std::path::{Path, PathBuf};

use esl_model::{Ink, Model, Product};
use esl_render::scene::{Content, PriceRole};
use esl_render::{
    FontBook, RenderError, RenderOptions, Renderer, Template, TemplateError, rasterise,
};

fn template(json: &str) -> Template {
    Template::from_json(json.as_bytes(), "test", None).unwrap()
}

fn fonts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fonts")
}

const PRICE_AND_NAME: &str = r#"{"version": 1, "models": ["SL121", "SL126+"], "elements": [
    {"type": "text", "box": {"x": 4, "y": 2, "w": 204, "h": 40}, "field": "name", "size": 16, "max_lines": 2, "font": ["sans", "cjk"]},
    {"type": "price", "box": {"x": 4, "y": 44, "w": 204, "h": 56}, "field": "price", "currency": "¥", "size": 44, "align": "right"}
]}"#;

#[test]
fn a_scene_holds_final_strings_and_price_parts() {
    let t = template(PRICE_AND_NAME);
    let p = Product::new()
        .with(
            "name",
            "Jasmine green tea with a name far too long for two lines of this label",
        )
        .with("price", "12.5");
    let scene = Renderer::bundled().bind(&t, &p, Model::Sl121).unwrap();
    assert_eq!(scene.model(), Model::Sl121);
    assert_eq!(scene.canvas_size(), (212, 104));
    let els = scene.elements();
    assert_eq!(els.len(), 2);
    assert_eq!(els[0].path, "elements[0]");
    let Content::Text(text) = &els[0].content else {
        panic!("{:?}", els[0].content)
    };
    assert_eq!(text.size, 16);
    assert_eq!(text.lines.len(), 2);
    assert!(text.truncated);
    assert!(text.lines[1].ends_with('…'), "{:?}", text.lines);
    let Content::Price(price) = &els[1].content else {
        panic!("{:?}", els[1].content)
    };
    let roles: Vec<_> = price
        .parts
        .iter()
        .map(|p| (p.role, p.text.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (PriceRole::Currency, "¥"),
            (PriceRole::Integer, "12"),
            (PriceRole::Fraction, ".50")
        ]
    );
    // Parts left to right, the small ones raised above the integer's baseline.
    assert!(price.parts[0].x < price.parts[1].x && price.parts[1].x < price.parts[2].x);
    assert!(price.parts[2].baseline < price.parts[1].baseline);
    assert_eq!(price.parts[1].size, 44);
    assert_eq!(price.parts[2].size, 22);
    // The text was cut: a warning says so, and it names the element.
    assert_eq!(scene.warnings().len(), 1);
    assert_eq!(scene.warnings()[0].element(), "elements[0]");
    // The JSON view has the same, plus boxes on the panel and the fingerprint.
    let json = scene.to_json();
    assert_eq!(json["elements"][1]["content"]["parts"][1]["text"], "12");
    assert_eq!(json["fingerprint"], scene.fingerprint().to_string());
}

#[test]
fn equal_drawings_give_equal_fingerprints() {
    let t = template(PRICE_AND_NAME);
    let r = Renderer::bundled();
    let fp = |p: &Product, m: Model| r.bind(&t, p, m).unwrap().fingerprint();
    let a = Product::new().with("name", "Tea").with("price", "3.2");
    // Another spelling of the same amount, and a field no element shows.
    let b = Product::new()
        .with("name", "Tea")
        .with("price", "3.20")
        .with("seq_num", "A-17");
    let c = Product::new().with("name", "Tea").with("price", 3.2);
    assert_eq!(fp(&a, Model::Sl121), fp(&b, Model::Sl121));
    assert_eq!(fp(&a, Model::Sl121), fp(&c, Model::Sl121));
    // What moves a pixel moves the fingerprint: a value, the model.
    let d = Product::new().with("name", "Tea").with("price", "3.21");
    assert_ne!(fp(&a, Model::Sl121), fp(&d, Model::Sl121));
    assert_ne!(fp(&a, Model::Sl121), fp(&a, Model::Sl126Plus));
    // And equal fingerprints draw equal pixels.
    let pa = r.render(&t, &a, Model::Sl121).unwrap().image;
    let pb = r.render(&t, &b, Model::Sl121).unwrap().image;
    assert_eq!(pa, pb);
}

#[test]
fn an_edited_template_changes_the_fingerprint() {
    let r = Renderer::bundled();
    let p = Product::new().with("name", "Tea").with("price", "3.2");
    let a = template(PRICE_AND_NAME);
    let b = template(&PRICE_AND_NAME.replace(r#""size": 44"#, r#""size": 40"#));
    // Whitespace and key order are not drawn.
    let c = template(&PRICE_AND_NAME.replace(",\n", ",   \n"));
    let fa = r.bind(&a, &p, Model::Sl121).unwrap().fingerprint();
    assert_ne!(fa, r.bind(&b, &p, Model::Sl121).unwrap().fingerprint());
    assert_eq!(fa, r.bind(&c, &p, Model::Sl121).unwrap().fingerprint());
}

#[test]
fn another_font_file_changes_the_fingerprint() {
    let mut regular = FontBook::new();
    regular
        .add_file("sans", &fonts_dir().join("NotoSans-Regular.ttf"))
        .unwrap();
    let mut bold = FontBook::new();
    bold.add_file("sans", &fonts_dir().join("NotoSans-Bold.ttf"))
        .unwrap();
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "text", "box": {"x": 0, "y": 0, "w": 212, "h": 30}, "text": "Tea", "size": 20}]}"#,
    );
    let p = Product::new();
    let a = Renderer::new(regular.clone(), RenderOptions::default());
    let b = Renderer::new(bold, RenderOptions::default());
    let again = Renderer::new(regular, RenderOptions::default());
    let fa = a.bind(&t, &p, Model::Sl121).unwrap().fingerprint();
    assert_ne!(fa, b.bind(&t, &p, Model::Sl121).unwrap().fingerprint());
    assert_eq!(fa, again.bind(&t, &p, Model::Sl121).unwrap().fingerprint());
}

fn write_png(path: &Path, img: &image::RgbaImage) {
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

#[test]
fn another_picture_behind_the_same_src_changes_the_fingerprint() {
    let dir = std::env::temp_dir().join(format!("esl-scene-picture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = r#"{"version": 1, "models": ["SL126"], "elements": [
        {"type": "image", "box": {"x": 10, "y": 10, "w": 48, "h": 48}, "src": "logo.png"}]}"#;
    std::fs::write(dir.join("t.json"), json).unwrap();
    let disc = |rgb: [u8; 3]| {
        image::RgbaImage::from_fn(32, 32, |x, y| {
            let (dx, dy) = (x as i32 - 16, y as i32 - 16);
            if dx * dx + dy * dy < 200 {
                image::Rgba([rgb[0], rgb[1], rgb[2], 255])
            } else {
                image::Rgba([255, 255, 255, 255])
            }
        })
    };
    let r = Renderer::bundled();
    let p = Product::new();
    write_png(&dir.join("logo.png"), &disc([200, 20, 30]));
    let first = r
        .bind(
            &Template::load(&dir.join("t.json")).unwrap(),
            &p,
            Model::Sl126,
        )
        .unwrap();
    // The same pixels in another file (another compression) are the same picture.
    let same = disc([200, 20, 30]);
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Paeth,
    )
    .write_image(same.as_raw(), 32, 32, image::ExtendedColorType::Rgba8)
    .unwrap();
    std::fs::write(dir.join("logo.png"), &bytes).unwrap();
    let reencoded = r
        .bind(
            &Template::load(&dir.join("t.json")).unwrap(),
            &p,
            Model::Sl126,
        )
        .unwrap();
    assert_eq!(first.fingerprint(), reencoded.fingerprint());
    // Another picture behind the same `src`.
    write_png(&dir.join("logo.png"), &disc([20, 20, 20]));
    let second = r
        .bind(
            &Template::load(&dir.join("t.json")).unwrap(),
            &p,
            Model::Sl126,
        )
        .unwrap();
    assert_ne!(first.fingerprint(), second.fingerprint());
    assert_ne!(rasterise(&first), rasterise(&second));
    let _ = std::fs::remove_dir_all(&dir);
}

use image::ImageEncoder as _;

#[test]
fn a_picture_is_prepared_once_and_shared() {
    let data = {
        let img = image::RgbaImage::from_fn(40, 40, |x, y| {
            image::Rgba([(x * 6) as u8, (y * 6) as u8, 128, 255])
        });
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(img.as_raw(), 40, 40, image::ExtendedColorType::Rgba8)
            .unwrap();
        base64_encode(&bytes)
    };
    let t = template(&format!(
        r#"{{"version": 1, "models": ["SL126", "SL126+"], "elements": [
        {{"type": "image", "box": {{"x": 0, "y": 0, "w": 100, "h": 100}}, "data": "{data}"}}]}}"#
    ));
    let r = Renderer::bundled();
    let id = |m: Model| {
        let s = r.bind(&t, &Product::new(), m).unwrap();
        match &s.elements()[0].content {
            Content::Picture(p) => p.id,
            other => panic!("{other:?}"),
        }
    };
    // The same model gives the same prepared picture (and the same fingerprint); another
    // palette another one.
    assert_eq!(id(Model::Sl126), id(Model::Sl126));
    assert_ne!(id(Model::Sl126), id(Model::Sl126Plus));
    // Threads share it, and draw the same.
    let one = r.render(&t, &Product::new(), Model::Sl126).unwrap().image;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| r.render(&t, &Product::new(), Model::Sl126).unwrap().image))
            .collect();
        for h in hs {
            assert_eq!(h.join().unwrap(), one);
        }
    });
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn boxes_map_onto_the_rotated_panel() {
    for rotation in [0, 90, 180, 270] {
        let t = template(&format!(
            r#"{{"version": 1, "models": ["SL126"], "rotation": {rotation}, "elements": [
            {{"type": "rect", "box": {{"x": 7, "y": 11, "w": 30, "h": 20}}, "fill": "black"}}]}}"#
        ));
        let scene = Renderer::bundled()
            .bind(&t, &Product::new(), Model::Sl126)
            .unwrap();
        let el = &scene.elements()[0];
        let on_panel = scene.to_panel(el.bounds);
        let panel = rasterise(&scene);
        let mut inked = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
        for y in 0..panel.height() {
            for x in 0..panel.width() {
                if panel.ink(x, y) == Some(Ink::Black) {
                    let (x, y) = (x as i32, y as i32);
                    inked = (
                        inked.0.min(x),
                        inked.1.min(y),
                        inked.2.max(x + 1),
                        inked.3.max(y + 1),
                    );
                }
            }
        }
        assert_eq!(
            (on_panel.x0, on_panel.y0, on_panel.x1, on_panel.y1),
            inked,
            "rotation {rotation}"
        );
    }
}

#[test]
fn elements_off_the_canvas_draw_nothing_but_keep_their_place() {
    let t = template(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "rect", "box": {"x": 300, "y": 0, "w": 20, "h": 20}, "fill": "black"},
        {"type": "rect", "box": {"x": -30, "y": -30, "w": 40, "h": 40}, "fill": "black"}]}"#,
    );
    let scene = Renderer::bundled()
        .bind(&t, &Product::new(), Model::Sl121)
        .unwrap();
    assert_eq!(scene.elements()[0].clip, None);
    let clip = scene.elements()[1].clip.unwrap();
    assert_eq!((clip.x0, clip.y0, clip.x1, clip.y1), (0, 0, 10, 10));
    assert_eq!(rasterise(&scene).ink_counts()[1], 100);
}

// ---- Bounds: hostile input gets a clear error, or costs no more than the panel. ----

fn load_err(json: &str) -> TemplateError {
    Template::from_json(json.as_bytes(), "hostile", None).unwrap_err()
}

#[test]
fn coordinates_and_sizes_out_of_range_are_refused_at_load() {
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "rect", "box": {"x": 0, "y": 0, "w": 5, "h": 5}},
        {"type": "rect", "box": {"x": -20000, "y": 0, "w": 5, "h": 5}}]}"#,
    );
    assert!(
        matches!(&e, TemplateError::Invalid { path, .. } if path == "elements[1].box"),
        "{e}"
    );
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "line", "from": {"x": 0, "y": 0}, "to": {"x": 0, "y": 99999}}]}"#,
    );
    assert!(e.to_string().contains("elements[0].to"), "{e}");
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "rect", "box": {"x": 0, "y": 0, "w": 5, "h": 5}, "radius": 4000000000}]}"#,
    );
    assert!(e.to_string().contains("elements[0].radius"), "{e}");
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
        {"type": "text", "box": {"x": 0, "y": 0, "w": 5, "h": 5}, "text": "x", "size": 5000}]}"#,
    );
    assert!(e.to_string().contains("elements[0].size"), "{e}");
}

#[test]
fn deep_nesting_and_huge_layouts_are_refused_at_load() {
    let mut group = r#"{"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1}}"#.to_owned();
    for _ in 0..9 {
        group = format!(
            r#"{{"type": "group", "box": {{"x": 0, "y": 0, "w": 10, "h": 10}}, "elements": [{group}]}}"#
        );
    }
    let e = load_err(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [{group}]}}"#
    ));
    assert!(e.to_string().contains("nested at most 8"), "{e}");
    let mut cond = r#"{"present": "name"}"#.to_owned();
    for _ in 0..20 {
        cond = format!(r#"{{"not": {cond}}}"#);
    }
    let e = load_err(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [
        {{"type": "rect", "box": {{"x": 0, "y": 0, "w": 1, "h": 1}}, "when": {cond}}}]}}"#
    ));
    assert!(e.to_string().contains("conditions may be nested"), "{e}");
    let many = vec![r#"{"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1}}"#; 1001].join(",");
    let e = load_err(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [{many}]}}"#
    ));
    assert!(e.to_string().contains("at most 1000 elements"), "{e}");
    let long = "x".repeat(1001);
    let e = load_err(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [
        {{"type": "text", "box": {{"x": 0, "y": 0, "w": 5, "h": 5}}, "text": "{long}", "size": 5}}]}}"#
    ));
    assert!(e.to_string().contains("elements[0].text"), "{e}");
}

#[test]
fn a_value_too_long_is_refused_when_bound() {
    let t = template(PRICE_AND_NAME);
    let p = Product::new()
        .with("name", "茶".repeat(5000))
        .with("price", "1");
    let e = Renderer::bundled().bind(&t, &p, Model::Sl121).unwrap_err();
    assert!(
        matches!(&e, RenderError::ValueTooLong { element, chars: 5000, .. } if element == "elements[0]"),
        "{e}"
    );
}

#[test]
fn a_huge_picture_box_off_the_panel_is_prepared_for_the_visible_part_only() {
    let img = image::RgbaImage::from_fn(64, 64, |x, y| {
        image::Rgba([(x * 4) as u8, (y * 4) as u8, 90, 255])
    });
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(img.as_raw(), 64, 64, image::ExtendedColorType::Rgba8)
        .unwrap();
    let data = base64_encode(&bytes);
    let t = template(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [
        {{"type": "image", "box": {{"x": -5000, "y": -5000, "w": 10000, "h": 10000}}, "data": "{data}", "fit": "stretch"}},
        {{"type": "rect", "box": {{"x": -5000, "y": -5000, "w": 10000, "h": 10000}}, "outline": "red", "stroke": 1000, "radius": 1000}},
        {{"type": "ellipse", "box": {{"x": -5000, "y": -5000, "w": 10000, "h": 10000}}, "fill": "black"}},
        {{"type": "line", "from": {{"x": -10000, "y": -10000}}, "to": {{"x": 10000, "y": 10000}}, "width": 1000}},
        {{"type": "text", "box": {{"x": -5000, "y": -5000, "w": 10000, "h": 10000}}, "text": "{text}", "size": 1000, "min_size": 1, "max_lines": 100}}
        ]}}"#,
        text = "W".repeat(1000)
    ));
    // What made such a label cost 10 s and 500 MB before the scene stage was a 10000² picture
    // prepared in full. Checked by structure, not by timing (timings live in benches/): every
    // element's clip, and the area a picture is prepared for, lie within the canvas.
    let r = Renderer::bundled();
    let scene = r.bind(&t, &Product::new(), Model::Sl121).unwrap();
    let (w, h) = scene.canvas_size();
    let inside =
        |c: &esl_render::Rect| c.x0 >= 0 && c.y0 >= 0 && c.x1 <= w as i32 && c.y1 <= h as i32;
    assert_eq!(scene.elements().len(), 5);
    for e in scene.elements() {
        let clip = e.clip.expect("each element covers the panel");
        assert!(
            inside(&clip),
            "{}: clip {clip:?} leaves the {w}x{h} canvas",
            e.path
        );
    }
    let Content::Picture(pic) = &scene.elements()[0].content else {
        panic!(
            "elements[0] is the picture: {:?}",
            scene.elements()[0].content
        )
    };
    // `area` is in the box's coordinates: the 212 × 104 of it that shows.
    let a = pic.area;
    assert_eq!(
        (a.x0, a.y0, a.x1 - a.x0, a.y1 - a.y0),
        (5000, 5000, w as i32, h as i32)
    );
    let label = esl_render::rasterise(&scene);
    assert_eq!((label.width(), label.height()), (212, 104));
}

#[test]
fn scales_beyond_the_bound_are_errors() {
    let t = template(PRICE_AND_NAME);
    let p = Product::new().with("name", "Tea").with("price", "1");
    let label = Renderer::bundled()
        .render(&t, &p, Model::Sl121)
        .unwrap()
        .image;
    assert!(label.to_png(16).is_ok());
    let e = label.to_png(100_000).unwrap_err();
    assert!(e.to_string().contains("at most 16"), "{e}");
    assert!(label.to_rgb_image(17).is_err());
}

#[test]
fn oversized_pictures_are_refused_at_load() {
    // 4096 × 4000 is within the side limit but over the pixel count.
    let img = image::GrayImage::new(4096, 4000);
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(img.as_raw(), 4096, 4000, image::ExtendedColorType::L8)
        .unwrap();
    let data = base64_encode(&bytes);
    let e = load_err(&format!(
        r#"{{"version": 1, "models": ["SL121"], "elements": [
        {{"type": "image", "box": {{"x": 0, "y": 0, "w": 10, "h": 10}}, "data": "{data}"}}]}}"#
    ));
    assert!(
        matches!(&e, TemplateError::Image { path, message, .. } if path == "elements[0]" && message.contains("pixels")),
        "{e}"
    );
}
