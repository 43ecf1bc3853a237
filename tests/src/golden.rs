//! Golden images: every sample template × sample product × model it supports, rendered and
//! compared pixel-exact with `tests/golden/<template>__<product>__<model>.png`.
//!
//! `ESL_BLESS=1 cargo test -p esl-tests --test golden` writes new references (refused when
//! `CI` is set). A mismatch writes `target/golden/<case>.actual.png` and a three-panel
//! `<case>.diff.png` (reference | differences | actual) and fails with the pixel count.

use std::sync::Arc;

use esl_render::Renderer;
use esl_render::golden::{self, Bless};
use esl_tests::{model_slug, root, sample_products, sample_templates};
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
    let renderer = Renderer::bundled();
    let products = Arc::new(sample_products());
    let golden_dir = root().join("tests/golden");
    let out_dir = root().join("target/golden");
    let mut trials = Vec::new();
    for (tname, template) in sample_templates() {
        let template = Arc::new(template);
        for model in template.models() {
            for (i, (pname, _)) in products.iter().enumerate() {
                let case = format!("{tname}__{pname}__{}", model_slug(model));
                let (template, products, renderer) =
                    (template.clone(), products.clone(), renderer.clone());
                let reference = golden_dir.join(format!("{case}.png"));
                let out_dir = out_dir.clone();
                trials.push(Trial::test(case, move || -> Result<(), Failed> {
                    let product = &products[i].1;
                    let label = renderer
                        .render(&template, product, model)
                        .map_err(|e| e.to_string())?;
                    let outcome = golden::check(&reference, &label.image, bless, &out_dir)
                        .map_err(|e| e.to_string())?;
                    if outcome.passed() {
                        Ok(())
                    } else {
                        Err(outcome.to_string().into())
                    }
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
