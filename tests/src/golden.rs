//! Golden images: every sample template × sample product × model it supports, rendered and
//! compared pixel-exact with `tests/golden/<template>__<product>__<model>.png`, through the
//! same `esl_render::golden::Suite` that `esl golden` and users' tests use.
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
    let suite = Arc::new(Suite::new(
        root().join("templates"),
        root().join("templates/products"),
        root().join("tests/golden"),
        root().join("target/golden"),
    ));
    let (cases, broken) = suite.cases().unwrap_or_else(|e| panic!("{e}"));
    let renderer = Renderer::bundled();
    let mut trials: Vec<Trial> = broken
        .into_iter()
        .map(|b| Trial::test(b.case.clone(), move || Err(b.line().into())))
        .collect();
    for case in cases {
        let (suite, renderer) = (suite.clone(), renderer.clone());
        trials.push(Trial::test(
            case.name.clone(),
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
    libtest_mimic::run(&args, trials).exit();
}
