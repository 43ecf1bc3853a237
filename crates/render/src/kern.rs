//! Pair kerning from a font's GPOS table (issue 10): the `kern` feature's pair-adjustment
//! lookups, read with read-fonts (through skrifa), so a font that keeps its kerning only in
//! GPOS — most fonts made this century — keeps it on a label. A font without a GPOS `kern`
//! feature falls back to its legacy `kern` table (read by ab_glyph).
//!
//! What is read, and what was chosen where the OpenType rules leave room:
//!
//! * The lookups of the `kern` feature in the default language system of script `latn`,
//!   else `DFLT`, else the first script (label text has no language tag; HarfBuzz would pick
//!   the script of the text, and for Latin and Chinese labels `latn`/`DFLT` is what it picks).
//! * PairPos format 1 (glyph pairs) and format 2 (class pairs), also inside extension
//!   lookups; the first glyph's `XAdvance`. Within a lookup the first subtable that matches
//!   decides, as in HarfBuzz: format 1 matches when it lists the pair, format 2 whenever it
//!   covers the first glyph. Values of several lookups add up.
//! * Not read: device tables (no effect on a 1-bit label at whole-pixel sizes), the second
//!   glyph's value, and contextual positioning. Lookup flags that skip marks do not matter,
//!   since the layout kerns each pair of adjacent characters of one face.
//! * At most [`MAX_LOOKUPS`] lookups of [`MAX_SUBTABLES`] subtables each are read, so no font
//!   file makes a pair costly.

use std::collections::HashMap;
use std::sync::RwLock;

use skrifa::raw::tables::gpos::{PairPos, PositionSubtables};
use skrifa::raw::types::{GlyphId16, Tag};
use skrifa::raw::{FontRef, TableProvider as _};

/// Kerning pairs kept per face, at most (a few MB).
const MAX_CACHED_PAIRS: usize = 1 << 18;
/// `kern` lookups read, at most, and subtables read per lookup: a pair then costs a bounded
/// number of look-ups whatever a font file holds. Real fonts use a few lookups of a few dozen
/// subtables (Noto Sans: one lookup, two subtables).
const MAX_LOOKUPS: usize = 16;
const MAX_SUBTABLES: usize = 256;

/// A face's GPOS kerning: its `kern` lookups, and the pairs looked up so far.
#[derive(Debug, Default)]
pub(crate) struct GposKern {
    lookups: Vec<u16>,
    pairs: RwLock<HashMap<(u16, u16), i32>>,
}

impl GposKern {
    /// The GPOS kerning of the font in `data`; `None` when it has no GPOS `kern` feature.
    pub(crate) fn of(data: &[u8]) -> Option<GposKern> {
        let font = FontRef::new(data).ok()?;
        let lookups = kern_lookups(&font)?;
        (!lookups.is_empty()).then(|| GposKern {
            lookups,
            pairs: RwLock::default(),
        })
    }

    /// The advance adjustment of glyph `a` followed by glyph `b`, in font units.
    pub(crate) fn pair(&self, data: &[u8], a: u16, b: u16) -> i32 {
        if let Some(v) = self.pairs.read().ok().and_then(|m| m.get(&(a, b)).copied()) {
            return v;
        }
        let v = FontRef::new(data)
            .ok()
            .map_or(0, |font| pair(&font, &self.lookups, a, b));
        if let Ok(mut pairs) = self.pairs.write() {
            if pairs.len() < MAX_CACHED_PAIRS {
                pairs.insert((a, b), v);
            }
        }
        v
    }
}

/// The lookup indices of the `kern` feature (see the module docs for the script chosen).
fn kern_lookups(font: &FontRef<'_>) -> Option<Vec<u16>> {
    let gpos = font.gpos().ok()?;
    let scripts = gpos.script_list().ok()?;
    let features = gpos.feature_list().ok()?;
    let records = scripts.script_records();
    let record = [Tag::new(b"latn"), Tag::new(b"DFLT")]
        .iter()
        .find_map(|tag| records.iter().find(|r| r.script_tag() == *tag))
        .or_else(|| records.first())?;
    let script = record.script(scripts.offset_data()).ok()?;
    let lang = script.default_lang_sys()?.ok()?;
    let mut lookups = Vec::new();
    for index in lang.feature_indices() {
        let Some(feature) = features.feature_records().get(usize::from(index.get())) else {
            continue;
        };
        if feature.feature_tag() != Tag::new(b"kern") {
            continue;
        }
        if let Ok(f) = feature.feature(features.offset_data()) {
            lookups.extend(f.lookup_list_indices().iter().map(|i| i.get()));
        }
    }
    lookups.sort_unstable();
    lookups.dedup();
    lookups.truncate(MAX_LOOKUPS);
    Some(lookups)
}

/// The summed `XAdvance` of the pair in those lookups.
fn pair(font: &FontRef<'_>, lookups: &[u16], a: u16, b: u16) -> i32 {
    let Ok(list) = font.gpos().and_then(|g| g.lookup_list()) else {
        return 0;
    };
    let all = list.lookups();
    let mut total = 0;
    for &i in lookups {
        let Ok(PositionSubtables::Pair(subtables)) =
            all.get(usize::from(i)).and_then(|l| l.subtables())
        else {
            continue;
        };
        let mut subtables = subtables.iter().take(MAX_SUBTABLES);
        if let Some(v) = subtables.find_map(|s| s.ok().and_then(|s| in_subtable(&s, a, b))) {
            total += v;
        }
    }
    total
}

/// The pair's `XAdvance` in one subtable, or `None` when the subtable does not match it.
fn in_subtable(subtable: &PairPos<'_>, a: u16, b: u16) -> Option<i32> {
    let (a, b) = (GlyphId16::new(a), GlyphId16::new(b));
    match subtable {
        PairPos::Format1(t) => {
            let index = t.coverage().ok()?.get(a)?;
            let set = t.pair_sets().get(usize::try_from(index).ok()?).ok()?;
            let record = set.find_pair_value_record(b)?;
            Some(i32::from(record.value_record1().x_advance().unwrap_or(0)))
        }
        PairPos::Format2(t) => {
            t.coverage().ok()?.get(a)?;
            let c1 = u16::try_from(t.class_def1().ok()?.get(a)).ok()?;
            let c2 = u16::try_from(t.class_def2().ok()?.get(b)).ok()?;
            let [first, _] = t.value_record_refs(c1, c2)?;
            Some(i32::from(first.x_advance().unwrap_or(0)))
        }
        _ => None,
    }
}

#[cfg(all(test, feature = "embedded-fonts"))]
mod tests {
    use crate::FontBook;

    /// Noto Sans Regular from Debian (fonts-noto-core 20201225-1), subset to ASCII with its
    /// GPOS `kern` feature kept (PairPos formats 1 and 2) and no `kern` table; see
    /// `testdata/README.md`.
    const GPOS_ONLY: &[u8] = include_bytes!("../testdata/NotoSans-GPOS-ASCII.ttf");

    /// The bundled Noto Sans Regular carries the same font's GPOS kerning flattened into a
    /// legacy `kern` table (cross-checked against HarfBuzz, `fonts/README.md`). Reading the
    /// GPOS of the original must give the same value for every pair of printable ASCII.
    #[test]
    fn gpos_kerning_equals_the_flattened_kern_table_for_every_ascii_pair() {
        let mut book = FontBook::bundled();
        book.add_static("gpos-only", GPOS_ONLY).unwrap();
        let gpos = book.face(book.index_of("gpos-only").unwrap());
        let legacy = book.face(book.index_of("sans").unwrap());
        assert!(
            gpos.gpos_kern.is_some(),
            "the fixture has a GPOS kern feature"
        );
        assert!(legacy.gpos_kern.is_none(), "the bundled font has no GPOS");
        let (mut pairs, mut kerned) = (0, 0);
        for a in ' '..='~' {
            for b in ' '..='~' {
                let (ga, gb) = (gpos.glyph(a).unwrap(), gpos.glyph(b).unwrap());
                let (la, lb) = (legacy.glyph(a).unwrap(), legacy.glyph(b).unwrap());
                let want = legacy.kern(la, lb, 1000.0);
                assert_eq!(gpos.kern(ga, gb, 1000.0), want, "{a:?}{b:?}");
                pairs += 1;
                kerned += usize::from(want != 0.0);
            }
        }
        assert_eq!(pairs, 95 * 95);
        // Noto Sans kerns hundreds of ASCII pairs ("AV", "To", "y.", …).
        assert!(kerned > 300, "only {kerned} kerned pairs");
        let v = |s: &str| {
            let mut c = s.chars().map(|c| gpos.glyph(c).unwrap());
            let (a, b) = (c.next().unwrap(), c.next().unwrap());
            gpos.kern(a, b, 1000.0)
        };
        assert!(v("AV") < 0.0 && v("To") < 0.0);
    }
}
