//! Template format version 2: containers, prices as shops print them, unit prices.

use esl_model::{Model, Product};
use esl_render::scene::{Content, PriceRole};
use esl_render::{Rect, RenderError, Renderer, Scene, Template, TemplateError};

fn template(json: &str) -> Template {
    Template::from_json(json.as_bytes(), "v2", None).unwrap_or_else(|e| panic!("{e}"))
}

fn bind(t: &Template, p: &Product, m: Model) -> Scene {
    Renderer::bundled()
        .bind(t, p, m)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn element<'a>(s: &'a Scene, path: &str) -> &'a esl_render::SceneElement {
    s.elements()
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                s.elements().iter().map(|e| &e.path).collect::<Vec<_>>()
            )
        })
}

fn size(r: Rect) -> (i32, i32) {
    (r.width(), r.height())
}

const BADGE_ROW: &str = r#"{"version": 2, "models": ["SL126"], "elements": [
  {"type": "row", "box": {"x": 4, "y": 4, "w": 288, "h": 24}, "gap": 6, "align": "center", "children": [
    {"type": "rect", "width": "fit", "height": "fit", "fill": "red", "radius": 3, "padding": [2, 5],
     "children": [{"type": "text", "field": "badge", "font": ["sans-bold", "cjk"], "size": 14, "color": "white",
                   "width": "fit", "height": "fit"}]},
    {"type": "price", "field": "price", "currency": "¥", "size": 16, "font": "sans", "strike": true, "width": "fit"}
  ]}]}"#;

#[test]
fn a_badge_hugs_its_text_with_the_same_padding() {
    let t = template(BADGE_ROW);
    let widths: Vec<(i32, i32, i32)> = ["促销", "SALE", "BIG SALE"]
        .iter()
        .map(|badge| {
            let p = Product::new().with("badge", *badge).with("price", "12.90");
            let s = bind(&t, &p, Model::Sl126);
            let rect = element(&s, "elements[0].children[0]").bounds;
            let text = element(&s, "elements[0].children[0].children[0]").bounds;
            let price = element(&s, "elements[0].children[1]").bounds;
            // The same padding around any text: 5 px each side, 2 above and below.
            assert_eq!(text.x0 - rect.x0, 5, "{badge}");
            assert_eq!(rect.x1 - text.x1, 5, "{badge}");
            assert_eq!(size(rect).1, size(text).1 + 4, "{badge}");
            // The old price follows the badge, `gap` pixels after it.
            assert_eq!(price.x0, rect.x1 + 6, "{badge}");
            (size(rect).0, size(text).0, price.x0)
        })
        .collect();
    assert!(
        widths[0].0 != widths[1].0 && widths[1].0 < widths[2].0,
        "{widths:?}"
    );
}

#[test]
fn a_column_moves_up_when_a_line_is_absent() {
    let t = template(
        r#"{"version": 2, "models": ["SL121"], "elements": [
      {"type": "column", "box": {"x": 0, "y": 0, "w": 212, "h": 104}, "padding": 4, "gap": 2, "children": [
        {"type": "text", "field": "name", "size": 16, "height": "fit"},
        {"type": "text", "field": "spec", "fallback": "", "size": 11, "height": "fit"},
        {"type": "text", "text": "origin {area}", "size": 11, "height": "fit", "when": {"present": "area"}},
        {"type": "price", "field": "price", "size": 30, "height": "fill", "valign": "bottom", "align": "right"}
      ]}]}"#,
    );
    let full = Product::new()
        .with("name", "Green tea")
        .with("spec", "500 g")
        .with("area", "Fujian")
        .with("price", "9.90");
    let bare = Product::new()
        .with("name", "Green tea")
        .with("price", "9.90");
    let s_full = bind(&t, &full, Model::Sl121);
    let s_bare = bind(&t, &bare, Model::Sl121);
    let name = element(&s_full, "elements[0].children[0]").bounds;
    let spec = element(&s_full, "elements[0].children[1]").bounds;
    assert_eq!((name.x0, name.y0), (4, 4));
    assert_eq!(spec.y0, name.y1 + 2);
    assert_eq!(name.width(), 204, "children fill the column's width");
    // Without spec and origin, the price (which fills the rest) starts right under the name.
    let price_full = element(&s_full, "elements[0].children[3]").bounds;
    let price_bare = element(&s_bare, "elements[0].children[3]").bounds;
    assert_eq!(price_bare.y0, name.y1 + 2);
    assert!(price_full.y0 > price_bare.y0);
    // It fills down to the padding either way.
    assert_eq!((price_full.y1, price_bare.y1), (100, 100));
    assert!(
        s_bare
            .elements()
            .iter()
            .all(|e| e.path != "elements[0].children[1]")
    );
}

#[test]
fn fill_children_share_the_room_left() {
    let t = template(
        r#"{"version": 2, "models": ["SL126"], "elements": [
      {"type": "row", "box": {"x": 10, "y": 10, "w": 200, "h": 30}, "gap": 4, "children": [
        {"type": "rect", "width": 50, "fill": "black"},
        {"type": "rect", "width": "fill", "fill": "red"},
        {"type": "rect", "width": {"fill": 2}, "height": 10, "fill": "black"}
      ]}]}"#,
    );
    let s = bind(&t, &Product::new(), Model::Sl126);
    let b = |i: usize| element(&s, &format!("elements[0].children[{i}]")).bounds;
    // 200 - 50 - 8 = 142 → 48 (47 + 1) and 94.
    assert_eq!((b(0).width(), b(1).width(), b(2).width()), (50, 48, 94));
    assert_eq!((b(1).x0, b(2).x0), (64, 116));
    assert_eq!((b(1).height(), b(2).height()), (30, 10));
}

fn parts(s: &Scene, path: &str) -> Vec<(PriceRole, String, i32)> {
    match &element(s, path).content {
        Content::Price(p) => p
            .parts
            .iter()
            .map(|p| (p.role, p.text.clone(), p.baseline))
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_currency_comes_from_the_product_and_sits_apart_from_the_cents() {
    let t = template(
        r#"{"version": 2, "models": ["SL142"], "elements": [
      {"type": "price", "box": {"x": 0, "y": 0, "w": 400, "h": 120}, "field": "price",
       "currency": {"field": "currency", "fallback": "¥"}, "currency_position": "after",
       "currency_align": "baseline", "decimal_separator": ",", "size": 80}]}"#,
    );
    let euro = bind(
        &t,
        &Product::new().with("price", "3.49").with("currency", "€"),
        Model::Sl142,
    );
    let got = parts(&euro, "elements[0]");
    let roles: Vec<_> = got.iter().map(|(r, t, _)| (*r, t.as_str())).collect();
    assert_eq!(
        roles,
        [
            (PriceRole::Integer, "3"),
            (PriceRole::Fraction, ",49"),
            (PriceRole::Currency, "€")
        ]
    );
    // The sign on the baseline, the cents raised.
    assert_eq!(got[2].2, got[0].2);
    assert!(got[1].2 < got[0].2);
    // Without the field, the fallback sign.
    let yuan = bind(&t, &Product::new().with("price", "3.49"), Model::Sl142);
    assert_eq!(parts(&yuan, "elements[0]")[2].1, "¥");
}

#[test]
fn multi_buy_and_per_kg_are_prefix_and_suffix() {
    let t = template(
        r#"{"version": 2, "models": ["SL126"], "elements": [
      {"type": "price", "box": {"x": 0, "y": 0, "w": 296, "h": 60}, "field": "multi_price", "currency": "¥",
       "prefix": "{multi_qty} for ", "size": 40},
      {"type": "price", "box": {"x": 0, "y": 70, "w": 296, "h": 60}, "field": "price", "currency": "¥",
       "suffix": "/kg", "size": 40}]}"#,
    );
    let p = Product::new()
        .with("price", "12.80")
        .with("multi_qty", 2)
        .with("multi_price", "5");
    let s = bind(&t, &p, Model::Sl126);
    let first = parts(&s, "elements[0]");
    assert_eq!(first[0].0, PriceRole::Prefix);
    assert_eq!(first[0].1, "2 for ");
    let second = parts(&s, "elements[1]");
    assert_eq!(
        second.last().map(|p| (p.0, p.1.as_str())),
        Some((PriceRole::Suffix, "/kg"))
    );
    // No multi-buy fields: the multi-buy price is not shown at all.
    let plain = bind(
        &t,
        &Product::new()
            .with("price", "12.80")
            .with("multi_price", "5"),
        Model::Sl126,
    );
    assert!(plain.elements().iter().all(|e| e.path != "elements[0]"));
}

fn unit_price_template(extra: &str) -> Template {
    template(&format!(
        r#"{{"version": 2, "models": ["SL126"], "elements": [
      {{"type": "unit_price", "box": {{"x": 0, "y": 0, "w": 296, "h": 20}}, "currency": "€", "size": 12{extra}}}]}}"#
    ))
}

fn lines(s: &Scene) -> Vec<String> {
    match &s.elements()[0].content {
        Content::Text(t) => t.lines.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unit_prices_are_exact_and_refuse_missing_quantities() {
    let t = unit_price_template("");
    let can = Product::new()
        .with("price", "2.49")
        .with("net_content", 330)
        .with("net_unit", "ml");
    assert_eq!(lines(&bind(&t, &can, Model::Sl126)), ["€7.55/l"]);
    let per100 = unit_price_template(r#", "per": "100g", "text": "{price} per {per}""#);
    let tea = Product::new()
        .with("price", "1.99")
        .with("net_content", "500")
        .with("net_unit", "g");
    assert_eq!(
        lines(&bind(&per100, &tea, Model::Sl126)),
        ["€0.40 per 100 g"]
    );
    // A zero quantity names the element.
    let zero = tea.clone().with("net_content", 0);
    let err = Renderer::bundled()
        .bind(&t, &zero, Model::Sl126)
        .unwrap_err();
    assert!(
        matches!(&err, RenderError::UnitPrice { element, .. } if element == "elements[0]"),
        "{err}"
    );
    assert!(err.to_string().contains("not above zero"), "{err}");
    // Unless the template hides the element then.
    let hide = unit_price_template(r#", "on_missing": "hide""#);
    let s = bind(&hide, &Product::new().with("price", "1"), Model::Sl126);
    assert!(s.elements().is_empty());
}

fn load_err(json: &str) -> String {
    match Template::from_json(json.as_bytes(), "v", None) {
        Ok(_) => panic!("loaded: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn placement_and_version_rules() {
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
      {"type": "row", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "children": []}]}"#,
    );
    assert!(e.contains("version") && e.contains("elements[0]"), "{e}");
    let e = load_err(
        r#"{"version": 1, "models": ["SL121"], "elements": [
      {"type": "price", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "field": "price", "size": 8, "suffix": "/kg"}]}"#,
    );
    assert!(e.contains("version"), "{e}");
    let e = load_err(
        r#"{"version": 2, "models": ["SL121"], "elements": [
      {"type": "row", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "children": [
        {"type": "rect", "box": {"x": 0, "y": 0, "w": 1, "h": 1}}]}]}"#,
    );
    assert!(e.contains("elements[0].children[0].box"), "{e}");
    let e = load_err(
        r#"{"version": 2, "models": ["SL121"], "elements": [{"type": "rect", "width": 4}]}"#,
    );
    assert!(e.contains("elements[0]") && e.contains("box"), "{e}");
    let e = load_err(
        r#"{"version": 2, "models": ["SL121"], "elements": [
      {"type": "column", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "children": [
        {"type": "line", "from": {"x": 0, "y": 0}, "to": {"x": 5, "y": 0}}]}]}"#,
    );
    assert!(e.contains("line") && e.contains("group"), "{e}");
    let e = match Template::from_json(
        br#"{"version": 2, "models": ["SL121"], "elements": [
      {"type": "row", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "children": [
        {"type": "rect", "width": "wide"}]}]}"#,
        "v",
        None,
    ) {
        Err(TemplateError::Json { path, message, .. }) => format!("{path}: {message}"),
        other => panic!("{other:?}"),
    };
    assert!(e.contains("elements[0]") && e.contains("fit"), "{e}");
}

#[test]
fn containers_clip_what_does_not_fit() {
    // A 40-px column holding two 30-px rectangles: the second is cut at the column's edge.
    let t = template(
        r#"{"version": 2, "models": ["SL121"], "elements": [
      {"type": "column", "box": {"x": 0, "y": 0, "w": 20, "h": 40}, "children": [
        {"type": "rect", "height": 30, "fill": "black"},
        {"type": "rect", "height": 30, "fill": "black"}]}]}"#,
    );
    let panel = Renderer::bundled()
        .render(&t, &Product::new(), Model::Sl121)
        .unwrap()
        .image;
    assert_eq!(panel.ink_counts()[1], 20 * 40);
}

fn rich(spans: &str, extra: &str) -> Template {
    template(&format!(
        r#"{{"version": 2, "models": ["SL126"], "elements": [
      {{"type": "text", "box": {{"x": 0, "y": 0, "w": 296, "h": 40}}, "size": 16, "font": ["sans", "cjk"],
        "spans": [{spans}]{extra}}}]}}"#
    ))
}

/// Inked pixels of `ink` inside columns `x0..x1` of a label.
fn ink_in(img: &esl_render::PanelImage, ink: esl_model::Ink, (x0, x1): (u32, u32)) -> usize {
    (0..img.height())
        .flat_map(|y| (x0..x1.min(img.width())).map(move |x| (x, y)))
        .filter(|&(x, y)| img.ink(x, y) == Some(ink))
        .count()
}

/// The first and last column with any ink other than white.
fn inked_columns(img: &esl_render::PanelImage) -> Option<(u32, u32)> {
    let cols: Vec<u32> = (0..img.width())
        .filter(|&x| (0..img.height()).any(|y| img.ink(x, y) != Some(esl_model::Ink::White)))
        .collect();
    Some((*cols.first()?, *cols.last()?))
}

#[test]
fn rich_text_sets_each_span_in_its_own_style() {
    use esl_model::Ink;
    let p = Product::new().with("origin", "Fujian");
    let r = Renderer::bundled();
    let plain = rich(r#"{"text": "Origin "}, {"field": "origin"}"#, "");
    let bold = rich(
        r#"{"text": "Origin ", "bold": true}, {"field": "origin"}"#,
        "",
    );
    let red = rich(
        r#"{"text": "Origin ", "bold": true}, {"field": "origin", "color": "red"}"#,
        "",
    );
    // One text, read as one line.
    for t in [&plain, &bold, &red] {
        assert_eq!(lines(&bind(t, &p, Model::Sl126)), ["Origin Fujian"]);
    }
    let plain_img = r.render(&plain, &p, Model::Sl126).unwrap().image;
    let bold_img = r.render(&bold, &p, Model::Sl126).unwrap().image;
    let red_img = r.render(&red, &p, Model::Sl126).unwrap().image;
    // The bold word is darker and wider; what follows it moves right.
    let (_, plain_end) = inked_columns(&plain_img).unwrap();
    let (_, bold_end) = inked_columns(&bold_img).unwrap();
    assert!(
        bold_end > plain_end,
        "bold ends at {bold_end}, plain at {plain_end}"
    );
    let word = (0, 50);
    assert!(
        ink_in(&bold_img, Ink::Black, word) > ink_in(&plain_img, Ink::Black, word) * 6 / 5,
        "bold word not darker"
    );
    // The red span is red and only red; the bold span stays black.
    assert_eq!(ink_in(&plain_img, Ink::Red, (0, 296)), 0);
    let red_start = (0..296)
        .find(|&x| (0..40).any(|y| red_img.ink(x, y) == Some(Ink::Red)))
        .expect("no red");
    let black_end = (0..296)
        .rev()
        .find(|&x| (0..40).any(|y| red_img.ink(x, y) == Some(Ink::Black)))
        .expect("no black");
    assert!(
        black_end < red_start,
        "black to {black_end}, red from {red_start}"
    );
}

#[test]
fn rich_text_wraps_and_shrinks_as_one_text() {
    let p = Product::new().with("origin", "Fujian Province");
    // A span twice the element's size keeps that ratio when the text shrinks to fit.
    let t = template(
        r#"{"version": 2, "models": ["SL126"], "elements": [
      {"type": "text", "box": {"x": 0, "y": 0, "w": 120, "h": 44}, "size": 16, "min_size": 6, "max_lines": 2,
       "spans": [{"text": "99", "size": 32, "bold": true}, {"text": " Origin "}, {"field": "origin"}]}]}"#,
    );
    let s = bind(&t, &p, Model::Sl126);
    let Content::Text(text) = &s.elements()[0].content else {
        panic!("{:?}", s.elements()[0].content)
    };
    // It breaks at a space, across spans, and fits in two lines of the box.
    assert_eq!(text.lines.len(), 2, "{:?}", text.lines);
    assert!(text.lines[0].starts_with("99"), "{:?}", text.lines);
    assert!(!text.truncated);
    // At 16 px the two lines (37 px pitch for the 32 px span, then 16) need 53 px: it shrinks.
    assert!(text.size < 16, "size {}", text.size);
    let img = Renderer::bundled()
        .render(&t, &p, Model::Sl126)
        .unwrap()
        .image;
    // Every line sits inside the box.
    for y in 44..img.height() {
        for x in 0..img.width() {
            assert_eq!(
                img.ink(x, y),
                Some(esl_model::Ink::White),
                "ink at ({x}, {y})"
            );
        }
    }
    // The big span shrank in proportion, so the first line is still taller than the second.
    let row_ink = |y: u32| (0..120).any(|x| img.ink(x, y) == Some(esl_model::Ink::Black));
    let rows: Vec<u32> = (0..44).filter(|&y| row_ink(y)).collect();
    let gap = rows
        .windows(2)
        .find(|w| w[1] > w[0] + 1)
        .expect("two lines");
    let first = gap[0] - rows[0] + 1;
    let second = rows.last().unwrap() - gap[1] + 1;
    assert!(
        first > second * 3 / 2,
        "first line {first} px, second {second} px"
    );
}

#[test]
fn rich_text_missing_fields() {
    // A span's own fallback; an empty one leaves the span out.
    let t = rich(
        r#"{"text": "Origin: "}, {"field": "origin", "fallback": "unknown"}, {"field": "grade", "fallback": ""}"#,
        "",
    );
    assert_eq!(
        lines(&bind(&t, &Product::new(), Model::Sl126)),
        ["Origin: unknown"]
    );
    // Without one, the element's fallback stands for the whole text ...
    let t = rich(
        r#"{"text": "Origin: "}, {"field": "origin"}"#,
        r#", "fallback": "—""#,
    );
    assert_eq!(lines(&bind(&t, &Product::new(), Model::Sl126)), ["—"]);
    let hidden = rich(r#"{"text": "Origin: {origin}"}"#, r#", "fallback": """#);
    assert!(
        bind(&hidden, &Product::new(), Model::Sl126)
            .elements()
            .is_empty()
    );
    // ... and without that, the label fails naming the element and the field.
    let t = rich(r#"{"text": "Origin: "}, {"field": "origin"}"#, "");
    let err = Renderer::bundled()
        .bind(&t, &Product::new(), Model::Sl126)
        .unwrap_err();
    assert!(err.to_string().contains("elements[0]"), "{err}");
    assert!(err.to_string().contains("origin"), "{err}");
}

#[test]
fn rich_text_rules() {
    let v1 = r#"{"version": 1, "models": ["SL126"], "elements": [
      {"type": "text", "box": {"x": 0, "y": 0, "w": 296, "h": 40}, "size": 16, "spans": [{"text": "a"}]}]}"#;
    assert!(
        load_err(v1).contains("`spans` needs \"version\": 2"),
        "{}",
        load_err(v1)
    );
    let cases = [
        (
            r#"{"text": "a"}"#,
            r#", "text": "b""#,
            "exactly one of `field`, `text` and `spans`",
        ),
        (
            r#"{"text": "a"}"#,
            r#", "prefix": "b""#,
            "elements[0].prefix",
        ),
        (r#"{"text": "a", "field": "b"}"#, "", "elements[0].spans[0]"),
        (r#"{"text": "a"}, {}"#, "", "elements[0].spans[1]"),
        (
            r#"{"text": "a", "size": 0}"#,
            "",
            "elements[0].spans[0].size",
        ),
        (
            r#"{"text": "a", "format": {"kind": "money"}}"#,
            "",
            "spans[0].format",
        ),
    ];
    for (spans, extra, expect) in cases {
        let json = format!(
            r#"{{"version": 2, "models": ["SL126"], "elements": [
          {{"type": "text", "box": {{"x": 0, "y": 0, "w": 296, "h": 40}}, "size": 16, "spans": [{spans}]{extra}}}]}}"#
        );
        let err = load_err(&json);
        assert!(err.contains(expect), "{spans} {extra}: {err}");
    }
    let empty = r#"{"version": 2, "models": ["SL126"], "elements": [
      {"type": "text", "box": {"x": 0, "y": 0, "w": 296, "h": 40}, "size": 16, "spans": []}]}"#;
    assert!(load_err(empty).contains("spans"), "{}", load_err(empty));
    // An unknown font in a span names the span.
    let t = rich(r#"{"text": "a", "font": "nope"}"#, "");
    let err = Renderer::bundled()
        .bind(&t, &Product::new(), Model::Sl126)
        .unwrap_err();
    assert!(err.to_string().contains("elements[0].spans[0]"), "{err}");
}

#[test]
fn a_line_feed_in_a_value_starts_a_new_line() {
    let t = template(
        r#"{"version": 2, "models": ["SL126"], "elements": [
      {"type": "text", "box": {"x": 0, "y": 0, "w": 296, "h": 60}, "size": 14, "max_lines": 3, "field": "name"}]}"#,
    );
    let p = Product::new().with("name", "Green tea\nJasmine");
    assert_eq!(lines(&bind(&t, &p, Model::Sl126)), ["Green tea", "Jasmine"]);
}
