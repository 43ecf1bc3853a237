//! `esl dither`: any picture to a model's exact size and inks.

use std::path::PathBuf;
use std::process::Command;

fn esl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esl"))
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("esl-dither-{}-{name}", std::process::id()))
}

/// A 90 × 60 picture: a grey ramp with a red band, as PNG and as JPEG.
fn pictures(tag: &str) -> (PathBuf, PathBuf) {
    let img = image::RgbImage::from_fn(90, 60, |x, y| {
        if (20..30).contains(&y) {
            image::Rgb([230, 10, 20])
        } else {
            let v = (x * 255 / 89) as u8;
            image::Rgb([v, v, v])
        }
    });
    let (png, jpg) = (temp(&format!("{tag}.png")), temp(&format!("{tag}.jpg")));
    img.save(&png).unwrap();
    img.save(&jpg).unwrap();
    (png, jpg)
}

#[test]
fn dither_writes_the_model_size_and_inks() {
    let (png, jpg) = pictures("ok");
    // Input, model, extra arguments, expected size, whether red may appear.
    type Case<'a> = (&'a PathBuf, &'a str, &'a [&'a str], (u32, u32), bool);
    let cases: [Case; 4] = [
        (&png, "SL142", &[], (400, 300), true),
        (
            &jpg,
            "sl126+",
            &["--algo", "fs", "--fit", "cover"],
            (296, 152),
            false,
        ),
        (
            &png,
            "SL121",
            &[
                "--algo",
                "blue-noise",
                "--fit",
                "stretch",
                "--brightness",
                "-0.2",
            ],
            (212, 104),
            true,
        ),
        (
            &png,
            "SL126",
            &["--no-red", "--contrast", "1.3", "--gamma", "0.8"],
            (296, 152),
            false,
        ),
    ];
    for (input, model, extra, size, red) in cases {
        let out = temp(&format!("{model}.png"));
        let o = esl()
            .arg("dither")
            .arg(input)
            .args(["--model", model])
            .args(extra)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let img = image::open(&out).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), size, "{model}");
        let inks = [[255, 255, 255], [0, 0, 0], [255, 0, 0]];
        assert!(img.pixels().all(|p| inks.contains(&p.0)), "{model}");
        let has = |rgb: [u8; 3]| img.pixels().any(|p| p.0 == rgb);
        assert!(has([0, 0, 0]) && has([255, 255, 255]), "{model}");
        assert_eq!(has([255, 0, 0]), red, "{model}");
        let _ = std::fs::remove_file(out);
    }
    let _ = std::fs::remove_file(png);
    let _ = std::fs::remove_file(jpg);
}

#[test]
fn dither_reports_bad_arguments() {
    let (png, jpg) = pictures("bad");
    let run = |args: &[&str]| {
        let o = esl()
            .arg("dither")
            .arg(&png)
            .args(args)
            .args(["-o", "/nonexistent/never.png"])
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&["--model", "SL142", "--algo", "floyd"]);
    assert!(!ok && err.contains("floyd-steinberg"), "{err}");
    let (ok, err) = run(&["--model", "SL999"]);
    assert!(!ok && err.contains("SL999"), "{err}");
    let (ok, err) = run(&["--model", "SL142", "--gamma", "0"]);
    assert!(!ok && err.contains("--gamma"), "{err}");
    let o = esl()
        .args([
            "dither",
            "/nonexistent/in.png",
            "--model",
            "SL142",
            "-o",
            "x.png",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("/nonexistent/in.png"),
        "{err}"
    );
    let _ = std::fs::remove_file(png);
    let _ = std::fs::remove_file(jpg);
}
