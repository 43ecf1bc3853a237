//! Golden images, through the same `esl_render::golden::Suite` that `esl golden` and users'
//! tests use, rendered and compared pixel-exact:
//!
//! * every sample template × sample product × model it supports, with
//!   `tests/golden/<template>__<product>__<model>.png`;
//! * the feature cases of `tests/cases/` (pictures dithered and by threshold, shapes,
//!   rotations and per-model variants) × `tests/cases/products/`, with
//!   `tests/golden/cases/<template>__<product>__<model>.png`;
//! * the gallery of production-style templates, `templates/gallery/` ×
//!   `templates/gallery/products/`, with `tests/golden/gallery/…`.
//!
//! `ESL_BLESS=1 cargo test -p esl-tests --test golden` writes new references (refused when
//! `CI` is set). A mismatch writes `target/golden/<case>.actual.png` and a three-panel
//! `<case>.diff.png` (reference | differences | actual) and fails with the pixel count.

use std::sync::Arc;

use esl_render::Renderer;
use esl_render::golden::{Bless, Suite};
use esl_tests::root;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let bless = match Bless::from_env() {
        Ok(b) => b,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let suites = [
        ("", "templates", "templates/products", "tests/golden"),
        (
            "cases/",
            "tests/cases",
            "tests/cases/products",
            "tests/golden/cases",
        ),
        (
            "gallery/",
            "templates/gallery",
            "templates/gallery/products",
            "tests/golden/gallery",
        ),
    ];
    let renderer = Renderer::bundled();
    let mut trials: Vec<Trial> = Vec::new();
    for (prefix, templates, fixtures, golden) in suites {
        let suite = Arc::new(Suite::new(
            root().join(templates),
            root().join(fixtures),
            root().join(golden),
            root().join("target/golden").join(prefix),
        ));
        let (cases, broken) = suite.cases().unwrap_or_else(|e| panic!("{e}"));
        trials.extend(
            broken
                .into_iter()
                .map(|b| Trial::test(format!("{prefix}{}", b.case), move || Err(b.line().into()))),
        );
        for case in cases {
            let (suite, renderer) = (suite.clone(), renderer.clone());
            trials.push(Trial::test(
                format!("{prefix}{}", case.name),
                move || -> Result<(), Failed> {
                    let report = suite.run_case(&renderer, &case, bless);
                    if report.passed() {
                        Ok(())
                    } else {
                        Err(report.line().into())
                    }
                },
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
