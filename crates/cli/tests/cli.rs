//! The `esl` binary: exit codes and messages.

use std::process::Command;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn esl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esl"))
}

#[test]
fn render_writes_an_exact_png() {
    let out = std::env::temp_dir().join(format!("esl-cli-{}.png", std::process::id()));
    let status = esl()
        .args(["render", "--model", "sl126+", "--scale", "1"])
        .arg("--template")
        .arg(root().join("templates/shelf-2.6.json"))
        .arg("--product")
        .arg(root().join("templates/products/cola.json"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (296, 152));
    assert!(
        img.pixels()
            .all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255])
    );
    let _ = std::fs::remove_file(out);
}

#[test]
fn bad_input_exits_non_zero_with_the_reason() {
    let run = |args: &[&str]| {
        let o = esl().args(args).current_dir(root()).output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&[
        "render",
        "--template",
        "templates/shelf-2.6.json",
        "--product",
        "templates/products/cola.json",
        "--model",
        "SL200",
        "-o",
        "/tmp/x.png",
    ]);
    assert!(
        !ok && err.contains("SL200") && err.contains("SL142+"),
        "{err}"
    );
    let (ok, err) = run(&[
        "render",
        "--template",
        "templates/nope.json",
        "--product",
        "templates/products/cola.json",
        "--model",
        "SL126",
        "-o",
        "/tmp/x.png",
    ]);
    assert!(!ok && err.contains("nope.json"), "{err}");
    let (ok, err) = run(&[
        "render",
        "--template",
        "templates/shelf-2.6.json",
        "--product",
        "templates/products/cola.json",
        "--model",
        "SL121",
        "-o",
        "/tmp/x.png",
    ]);
    assert!(!ok && err.contains("does not support model SL121"), "{err}");
}
