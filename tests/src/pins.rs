//! Ties [`esl_render::RENDER_VERSION`] to the pixels of every golden reference, so a change
//! that moves pixels cannot ship without a version bump (stored fingerprints of labels
//! rendered by an older engine must not be mistaken for current ones).
//!
//! `tests/golden/PINS` records the render version and, for every reference PNG under
//! `tests/golden/`, the SHA-256 of its decoded pixels. The test fails when
//!
//! * a reference's pixels differ from its pin while `RENDER_VERSION` is still the pinned
//!   one: bump `RENDER_VERSION` in `crates/render/src/lib.rs` (blessing does not help);
//! * `RENDER_VERSION` differs from the pinned one, or a reference was added or removed:
//!   `ESL_BLESS=1 cargo test -p esl-tests --test pins` re-records the pins (refused when `CI` is
//!   set). Blessing the goldens first (`--test golden`) and then the pins is what
//!   `ESL_BLESS=1 cargo test -p esl-tests` does, since the test binaries run in that order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use esl_render::golden::Bless;
use esl_tests::root;
use sha2::{Digest, Sha256};

fn references(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            references(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "png") {
            let img = image::open(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .to_rgb8();
            let mut h = Sha256::new();
            h.update(img.width().to_le_bytes());
            h.update(img.height().to_le_bytes());
            h.update(img.as_raw());
            let name = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            out.insert(name, hex);
        }
    }
}

fn parse(text: &str) -> (u32, BTreeMap<String, String>) {
    let mut version = 0;
    let mut pins = BTreeMap::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("render_version ") {
            version = v
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("PINS: {line:?}: {e}"));
        } else if let Some((name, hash)) = line.split_once(' ') {
            if !line.starts_with('#') {
                pins.insert(name.to_owned(), hash.trim().to_owned());
            }
        }
    }
    (version, pins)
}

fn render(version: u32, pins: &BTreeMap<String, String>) -> String {
    let mut s = String::from(
        "# SHA-256 of the decoded pixels of every golden reference, at this render version.\n\
         # Written by `ESL_BLESS=1 cargo test -p esl-tests --test pins`; see tests/src/pins.rs.\n",
    );
    s.push_str(&format!("render_version {version}\n"));
    for (name, hash) in pins {
        s.push_str(&format!("{name} {hash}\n"));
    }
    s
}

#[test]
fn render_version_is_bumped_when_references_change() {
    let golden = root().join("tests/golden");
    let file = golden.join("PINS");
    let mut current = BTreeMap::new();
    references(&golden, &golden, &mut current);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let (pinned_version, pins) = parse(&text);
    let version = esl_render::RENDER_VERSION;
    let changed: Vec<&String> = current
        .iter()
        .filter(|(n, h)| pins.get(*n).is_some_and(|p| p != *h))
        .map(|(n, _)| n)
        .collect();
    let added: Vec<&String> = current.keys().filter(|n| !pins.contains_key(*n)).collect();
    let removed: Vec<&String> = pins.keys().filter(|n| !current.contains_key(*n)).collect();
    if version == pinned_version && !changed.is_empty() {
        panic!(
            "{} golden reference(s) changed pixels ({}) but RENDER_VERSION is still {version}: \
             bump it in crates/render/src/lib.rs, then re-record the pins with \
             ESL_BLESS=1 cargo test -p esl-tests --test pins",
            changed.len(),
            changed
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    assert!(
        version >= pinned_version,
        "RENDER_VERSION {version} is below the pinned {pinned_version}"
    );
    let stale = version != pinned_version || !added.is_empty() || !removed.is_empty();
    if !stale {
        return;
    }
    match Bless::from_env() {
        Ok(Bless::On) => {
            std::fs::write(&file, render(version, &current))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        Ok(Bless::Off) => panic!(
            "the pins are stale (render version {pinned_version} pinned, {version} now; \
             {} reference(s) without a pin, {} pin(s) without a reference): re-record them with \
             ESL_BLESS=1 cargo test -p esl-tests --test pins",
            added.len(),
            removed.len()
        ),
        Err(message) => panic!("{message}"),
    }
}
