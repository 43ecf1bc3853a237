//! Line breaking: UAX #14 opportunities, and a break at a space preferred when it costs no
//! extra line.

use esl_model::{Model, Product};
use esl_render::scene::Content;
use esl_render::{Renderer, Template};

fn lines_at(text: &str, width: u32, size: u32) -> Vec<String> {
    let json = format!(
        r#"{{"version": 2, "models": ["SL142"], "elements": [
      {{"type": "text", "box": {{"x": 0, "y": 0, "w": {width}, "h": 290}}, "size": {size}, "max_lines": 6,
        "font": ["sans", "cjk"], "field": "name"}}]}}"#
    );
    let t = Template::from_json(json.as_bytes(), "wrap", None).unwrap_or_else(|e| panic!("{e}"));
    let p = Product::new().with("name", text);
    let s = Renderer::bundled()
        .bind(&t, &p, Model::Sl142)
        .unwrap_or_else(|e| panic!("{e}"));
    match &s.elements()[0].content {
        Content::Text(t) => {
            assert!(!t.truncated, "{text} at {width}: truncated");
            t.lines.clone()
        }
        other => panic!("{other:?}"),
    }
}

/// The width of `text` on one line, from a fitting text in a row.
fn width_of(text: &str, size: u32) -> i32 {
    let json = format!(
        r#"{{"version": 2, "models": ["SL142"], "elements": [
      {{"type": "row", "box": {{"x": 0, "y": 0, "w": 400, "h": 40}}, "children": [
        {{"type": "text", "size": {size}, "font": ["sans", "cjk"], "field": "name", "width": "fit"}}]}}]}}"#
    );
    let t = Template::from_json(json.as_bytes(), "w", None).unwrap_or_else(|e| panic!("{e}"));
    let s = Renderer::bundled()
        .bind(&t, &Product::new().with("name", text), Model::Sl142)
        .unwrap_or_else(|e| panic!("{e}"));
    let el = s
        .elements()
        .iter()
        .find(|e| e.path == "elements[0].children[0]")
        .expect("the text");
    el.bounds.width()
}

#[test]
fn a_break_at_the_space_is_preferred_to_one_between_chinese_characters() {
    let text = "Jasmine Green Tea 茉莉花茶";
    let whole = width_of(text, 14);
    let latin = width_of("Jasmine Green Tea", 14);
    let greedy = width_of("Jasmine Green Tea 茉", 14);
    assert!(latin < greedy && greedy < whole);
    // Every width at which the first line could also hold "茉" but not the whole text:
    // a greedy breaker would split the Chinese word there.
    let mut tried = 0;
    for w in greedy..whole {
        let lines = lines_at(text, w as u32, 14);
        assert_eq!(lines, ["Jasmine Green Tea", "茉莉花茶"], "at {w} px");
        tried += 1;
    }
    assert!(tried > 10, "only {tried} widths");
}

#[test]
fn chinese_breaks_between_characters_but_never_before_closing_punctuation() {
    let text = "特价商品，每人限购两件。欢迎选购（新品）";
    for w in (70..200).step_by(3) {
        let lines = lines_at(text, w, 14);
        assert_eq!(lines.concat(), text, "at {w}");
        for l in &lines[1..] {
            let first = l.chars().next().unwrap_or(' ');
            assert!(
                !"，。）".contains(first),
                "line starts with {first:?} at {w}: {lines:?}"
            );
        }
        for l in &lines[..lines.len() - 1] {
            assert!(
                !l.ends_with('（'),
                "line ends with an opening bracket at {w}: {lines:?}"
            );
        }
    }
    assert!(lines_at(text, 80, 14).len() > 2);
}

#[test]
fn latin_breaks_at_spaces_and_after_hyphens_and_keeps_no_break_spaces() {
    let lines = lines_at(
        "Coca-Cola Zero Sugar",
        width_of("Coca-Cola Zero", 14) as u32 - 1,
        14,
    );
    assert_eq!(lines, ["Coca-Cola", "Zero Sugar"]);
    let lines = lines_at("Coca-Cola", width_of("Coca-Cola", 14) as u32 - 1, 14);
    assert_eq!(lines, ["Coca-", "Cola"]);
    // A no-break space holds "500 g" together.
    let text = "Green tea 500\u{a0}g";
    let lines = lines_at(text, width_of("Green tea 500", 14) as u32 + 1, 14);
    assert_eq!(lines, ["Green tea", "500\u{a0}g"]);
}

/// Checks that at every width from the widest word's to the whole text's, `text` (the
/// concatenation of `words`, joined by `sep`) wraps only between words, and that some width
/// needs more than one line.
fn wraps_between_words(words: &[&str], sep: &str) {
    let text = words.join(sep);
    let widest = words.iter().map(|w| width_of(w, 14)).max().unwrap_or(0);
    let whole = width_of(&text, 14);
    let mut wrapped = 0;
    for w in widest..whole {
        let lines = lines_at(&text, w as u32, 14);
        wrapped += usize::from(lines.len() > 1);
        // Each line is a run of whole words.
        let mut next = 0;
        for line in &lines {
            let mut rest = line.as_str();
            while !rest.is_empty() {
                let word = words
                    .get(next)
                    .unwrap_or_else(|| panic!("{lines:?} at {w}"));
                rest = rest
                    .strip_prefix(word)
                    .unwrap_or_else(|| panic!("{line:?} splits {word:?} at {w} px: {lines:?}"));
                rest = rest.strip_prefix(sep).unwrap_or(rest);
                next += 1;
            }
        }
        assert_eq!(next, words.len(), "{lines:?} at {w}");
    }
    assert!(wrapped > 10, "only {wrapped} widths wrapped {text}");
}

#[test]
fn thai_breaks_between_words_found_by_the_dictionary() {
    // "Thai is very easy": written without spaces between its words.
    wraps_between_words(&["ภาษา", "ไทย", "ง่าย", "นิด", "เดียว"], "");
}

#[test]
fn hangul_breaks_at_the_spaces_between_words() {
    // "Delicious apple juice".
    wraps_between_words(&["맛있는", "사과", "주스"], " ");
}
