//! Shared helpers of the workspace-level tests: where the sample templates and products
//! are, and the golden cases they make.

use std::path::{Path, PathBuf};

use esl_model::Product;
use esl_render::Template;

/// The workspace root.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Files with extension `ext` in `dir`, sorted.
///
/// # Panics
/// When the folder cannot be read (a broken checkout).
#[must_use]
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// The sample templates, loaded.
///
/// # Panics
/// When a sample template does not load.
#[must_use]
pub fn sample_templates() -> Vec<(String, Template)> {
    files(&root().join("templates"), "json")
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".schema.json"))
        })
        .map(|p| {
            let t = Template::load(&p).unwrap_or_else(|e| panic!("{e}"));
            (stem(&p), t)
        })
        .collect()
}

/// The sample products, loaded.
///
/// # Panics
/// When a sample product does not parse.
#[must_use]
pub fn sample_products() -> Vec<(String, Product)> {
    files(&root().join("templates/products"), "json")
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let product =
                Product::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (stem(&p), product)
        })
        .collect()
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
