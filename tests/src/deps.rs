//! One version of each crate in the build (the project's rule, `cargo tree -d`).
//!
//! Runs `cargo tree --duplicates` over the workspace, offline and from the committed
//! `Cargo.lock`, and fails on any crate built in two versions except the pair kept on purpose:
//! `getrandom` 0.2 (ring, under rustls) beside 0.4 (rand 0.10). A `cargo update`
//! that splits a crate again (flate2 ≥ 1.1.10 does: its miniz_oxide 0.9 beside png's 0.8) fails
//! here instead of silently doubling a build.

use std::collections::BTreeMap;
use std::process::Command;

/// Crates allowed in two versions, each with why.
const ALLOWED: &[(&str, &str)] = &[(
    "getrandom",
    "ring 0.17 (rustls) takes 0.2, rand 0.10 takes 0.4; only dropping rand (nonces, jitter, \
     tokens) for hand-made draws on getrandom 0.2 would merge them, and rand is worth its build",
)];

#[test]
fn every_crate_is_built_in_one_version() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(&cargo)
        .args([
            "tree",
            "--workspace",
            "--duplicates",
            "--edges",
            "normal,build",
            "--locked",
            "--offline",
            "--charset",
            "ascii",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs (it is running this test)");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // The roots of the inverted trees are the duplicated crates: "name vX.Y.Z", unindented.
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with([' ', '|', '`']) {
            continue;
        }
        let mut words = line.split_whitespace();
        if let (Some(name), Some(version)) = (words.next(), words.next()) {
            versions.entry(name).or_default().push(version);
        }
    }
    let extra: Vec<String> = versions
        .iter()
        .filter(|(name, _)| !ALLOWED.iter().any(|(a, _)| a == *name))
        .map(|(name, v)| format!("{name} {}", v.join(", ")))
        .collect();
    assert!(
        extra.is_empty(),
        "crates built in more than one version: {extra:?}\n{text}"
    );
}
