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
fn render_writes_bmp_and_bit_planes_with_the_same_pixels() {
    let dir = std::env::temp_dir().join(format!("esl-cli-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let render = |format: &str, file: &str| {
        let out = dir.join(file);
        let status = esl()
            .args(["render", "--model", "sl126", "--format", format])
            .arg("--template")
            .arg(root().join("templates/shelf-2.6.json"))
            .arg("--product")
            .arg(root().join("templates/products/promo.json"))
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{format}");
        std::fs::read(out).unwrap()
    };
    let png = image::load_from_memory(&render("png", "l.png"))
        .unwrap()
        .to_rgb8();
    let bmp_bytes = render("bmp", "l.bmp");
    assert_eq!(
        u16::from_le_bytes([bmp_bytes[28], bmp_bytes[29]]),
        2,
        "2 bits per pixel"
    );
    let bmp = image::load_from_memory_with_format(&bmp_bytes, image::ImageFormat::Bmp)
        .unwrap()
        .to_rgb8();
    assert_eq!(png, bmp);
    // Two planes (black, red) of 37 bytes × 152 rows.
    let planes = render("planes", "l.bin");
    assert_eq!(planes.len(), 2 * 37 * 152);
    for y in 0..152u32 {
        for x in 0..296u32 {
            let bit = |plane: usize| {
                planes[plane * 37 * 152 + (y * 37 + x / 8) as usize] & (0x80 >> (x % 8)) != 0
            };
            let want = match png.get_pixel(x, y).0 {
                [0, 0, 0] => (true, false),
                [255, 0, 0] => (false, true),
                _ => (false, false),
            };
            assert_eq!((bit(0), bit(1)), want, "({x}, {y})");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
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

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn golden_fails_on_a_changed_fixture_then_blessing_passes() {
    let dir = std::env::temp_dir().join(format!("esl-golden-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (templates, fixtures, golden) = (
        dir.join("templates"),
        dir.join("fixtures"),
        dir.join("golden"),
    );
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::copy(
        root().join("templates/shelf-2.13.json"),
        templates.join("shelf-2.13.json"),
    )
    .unwrap();
    copy_dir(&root().join("templates/products"), &fixtures);
    let run = |extra: &[&str]| {
        let mut cmd = esl();
        cmd.arg("golden")
            .arg("--templates")
            .arg(&templates)
            .arg("--fixtures")
            .arg(&fixtures)
            .arg("--golden")
            .arg(&golden);
        cmd.args(extra).env_remove("CI");
        let o = cmd.output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    // No references yet: every case fails, naming the missing file.
    let (ok, out) = run(&[]);
    assert!(
        !ok && out.contains("no reference at") && out.trim_end().ends_with("0 passed, 5 failed"),
        "{out}"
    );
    let (ok, out) = run(&["--bless"]);
    assert!(
        ok && out.trim_end().ends_with("5 passed, 0 failed"),
        "{out}"
    );
    let (ok, out) = run(&[]);
    assert!(
        ok && out.trim_end().ends_with("5 passed, 0 failed"),
        "{out}"
    );
    // A price change fails its case and writes a diff picture beside the report.
    let cola = fixtures.join("cola.json");
    let changed = std::fs::read_to_string(&cola)
        .unwrap()
        .replace("\"3.2\"", "\"3.9\"");
    std::fs::write(&cola, changed).unwrap();
    let report = dir.join("report/golden.json");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    let (ok, out) = run(&["--report", report.to_str().unwrap()]);
    assert!(
        !ok && out.trim_end().ends_with("4 passed, 1 failed"),
        "{out}"
    );
    assert!(
        out.contains("FAIL shelf-2.13__cola__sl121") && out.contains("pixels differ"),
        "{out}"
    );
    let diff = image::open(dir.join("report/shelf-2.13__cola__sl121.diff.png")).unwrap();
    assert_eq!(diff.width(), 212 * 3 + 8);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["failed"], 1);
    assert_eq!(json["cases"][0]["result"]["outcome"]["status"], "differs");
    // Blessing accepts the change.
    assert!(run(&["--bless"]).0);
    assert!(run(&[]).0);
    let _ = std::fs::remove_dir_all(&dir);
}
