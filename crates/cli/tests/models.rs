//! Models the built-in table lacks: the seed's own `SL121+`, declared from what the platform
//! says of it (`esl models from-platform` against the simulator), then rendered with
//! `--models FILE` and pushed to the simulator, which checks the image against the model.

use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

use common::text;
use esl_sim::SimHandle;

const APP: &str = "models-app";
const SECRET: &str = "models-s3cret";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("esl-models-{}-{name}", std::process::id()))
}

fn esl(sim: &SimHandle, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esl"))
        .env_remove("ESL_MODELS")
        .env("ESL_SECRET", SECRET)
        .env("ESL_APP_ID", APP)
        .env("ESL_BASE_URL", sim.base_url())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn sl121_plus_is_declared_from_the_platform_rendered_and_pushed() {
    let (_rt, sim) = common::sim(APP, SECRET);
    // The 2.13" sample, made for the SL121+ as well.
    let mut t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("templates/shelf-2.13.json")).unwrap())
            .unwrap();
    t["models"] = serde_json::json!(["SL121", "SL121+"]);
    let template = temp("shelf-plus.json");
    std::fs::write(&template, t.to_string()).unwrap();
    let product = root().join("templates/products/cola.json");
    let png = temp("plus.png");
    let render = |models: Option<&str>| {
        let mut args = Vec::new();
        if let Some(m) = models {
            args.extend(["--models", m]);
        }
        let (t, p, o) = (
            template.to_str().unwrap(),
            product.to_str().unwrap(),
            png.to_str().unwrap(),
        );
        args.extend([
            "render",
            "--model",
            "SL121+",
            "--template",
            t,
            "--product",
            p,
            "--scale",
            "1",
            "-o",
            o,
        ]);
        esl(&sim, &args)
    };

    let from_platform = |template: &str| {
        esl(
            &sim,
            &[
                "models",
                "from-platform",
                "--shop-id",
                "1001",
                "--esl-id",
                "129205",
                "--template-id",
                template,
            ],
        )
    };

    // Undeclared, SL121+ is an error that names it and says how to declare it.
    let out = render(None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("SL121+"), "{err}");
    assert!(err.contains("--models"), "{err}");

    // What the platform says: getInfo's "2.13寸" and template 103's black/white.
    let out = from_platform("103");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &file["models"][0];
    assert_eq!(m["name"], "SL121+");
    assert_eq!(
        (m["width"].as_u64(), m["height"].as_u64()),
        (Some(212), Some(104))
    );
    let mut inks: Vec<&str> = m["inks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    inks.sort_unstable();
    assert_eq!(inks, ["black", "white"]);
    let models = temp("models.json");
    std::fs::write(&models, &out.stdout).unwrap();
    let models = models.to_str().unwrap();

    // A template for another screen does not describe the ESL: nothing is guessed.
    let out = from_platform("101");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("129205") && err.contains("101"), "{err}");

    // Listed once declared.
    let out = esl(&sim, &["--models", models, "models"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    let line = list.lines().find(|l| l.starts_with("SL121+")).unwrap();
    assert!(
        line.contains("212x104") && line.contains("white/black"),
        "{line}"
    );

    // Rendered at its size in its two inks.
    let out = render(Some(models));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (212, 104));
    assert!(
        img.pixels()
            .all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255])
    );
    assert!(img.pixels().any(|p| p.0 == [0, 0, 0]), "something is drawn");

    // The simulator takes it for ESL 129205, whose model is SL121+.
    let out = esl(
        &sim,
        &[
            "--models",
            models,
            "push",
            "--shop-id",
            "1001",
            "--esl-id",
            "129205",
            png.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = sim.esl("129205").unwrap().last_image.unwrap();
    assert_eq!((stored.width, stored.height), (212, 104));

    // A models file that contradicts the built-in table is refused, naming the file.
    let bad = temp("bad.json");
    std::fs::write(
        &bad,
        r#"{"models": [{"name": "SL126", "width": 10, "height": 10, "inks": ["white", "black"]}]}"#,
    )
    .unwrap();
    let out = esl(&sim, &["--models", bad.to_str().unwrap(), "models"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("bad.json") && err.contains("SL126"), "{err}");

    for f in [
        png.to_str().unwrap(),
        models,
        bad.to_str().unwrap(),
        template.to_str().unwrap(),
    ] {
        let _ = std::fs::remove_file(f);
    }
}
