//! `esl import`, `esl reprice` and `esl demo` as an operator runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("esl-cli-reprice-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `esl` from the repository root (so `templates/` resolves template names).
fn esl(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_esl"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .output()
        .unwrap();
    eprintln!(
        "$ esl {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn int(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

#[test]
fn import_then_reprice_with_and_without_push() {
    let dir = temp_dir("flow");
    let db = dir.join("r.db");
    let db = db.to_str().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();

    let o = esl(
        &[
            "import",
            "products",
            "--db",
            db,
            "templates/demo/catalogue.csv",
        ],
        &[],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("48 created"));
    let o = esl(
        &["import", "labels", "--db", db, "templates/demo/labels.csv"],
        &[],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("5 created"));

    // A dry run changes nothing and reports what it would render.
    let dry = dir.join("dry.json");
    let o = esl(
        &[
            "reprice",
            "--db",
            db,
            "--prices",
            "templates/demo/prices.csv",
            "--dry-run",
            "--report",
            &s(&dry),
        ],
        &[],
    );
    assert!(o.status.success());
    let r = report(&dry);
    assert_eq!(
        (
            int(&r, "considered"),
            int(&r, "to_render"),
            int(&r, "rendered")
        ),
        (5, 5, 0)
    );
    assert_eq!(int(&r, "bad_rows"), 2);

    // Without --push: rendered and written, but nothing is acknowledged.
    let out = dir.join("out");
    let first = dir.join("first.json");
    let o = esl(
        &[
            "reprice",
            "--db",
            db,
            "--prices",
            "templates/demo/prices.csv",
            "--out",
            &s(&out),
            "--report",
            &s(&first),
        ],
        &[],
    );
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("line 15") && stderr.contains("1099"),
        "{stderr}"
    );
    let r = report(&first);
    for key in [
        "considered",
        "unchanged",
        "rendered",
        "pushed",
        "failed",
        "bad_rows",
    ] {
        int(&r, key);
    }
    assert_eq!(
        [
            "considered",
            "rendered",
            "pushed",
            "failed",
            "bad_rows",
            "pending"
        ]
        .map(|k| int(&r, k)),
        [5, 5, 0, 0, 2, 5]
    );
    for esl_id in ["129200", "129201", "129202", "129203", "129204"] {
        assert!(out.join(format!("{esl_id}.png")).is_file(), "{esl_id}.png");
    }

    // With --push against the simulator (its demo world has exactly these five ESLs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(esl_sim::Simulator::start(esl_sim::SimConfig::new(
            "demo", "s3cret",
        )))
        .unwrap();
    let pushed = dir.join("pushed.json");
    let url = sim.base_url();
    let args = [
        "reprice",
        "--db",
        db,
        "--push",
        "--base-url",
        &url,
        "--app-id",
        "demo",
        "--report",
        &s(&pushed),
    ];
    let o = esl(&args, &[]);
    assert!(!o.status.success(), "--push without ESL_SECRET must fail");
    let o = esl(&args, &[("ESL_SECRET", "s3cret")]);
    assert!(o.status.success());
    let r = report(&pushed);
    assert_eq!(
        ["rendered", "pushed", "failed", "pending"].map(|k| int(&r, k)),
        [5, 5, 0, 0]
    );
    let shown = sim.last_image("129200").unwrap();
    assert_eq!(
        *shown.bytes,
        std::fs::read(out.join("129200.png")).unwrap()[..]
    );

    // Nothing changed since: nothing to do.
    let o = esl(&args, &[("ESL_SECRET", "s3cret")]);
    assert!(o.status.success());
    let r = report(&pushed);
    assert_eq!(
        ["considered", "unchanged", "rendered"].map(|k| int(&r, k)),
        [5, 5, 0]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_is_named() {
    let dir = temp_dir("bad");
    let db = dir.join("r.db");
    let db = db.to_str().unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"product_list": [{"name": "x",,, "id": "1"}]}"#).unwrap();
    let o = esl(
        &["import", "products", "--db", db, bad.to_str().unwrap()],
        &[],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("column"),
        "{stderr}"
    );
    let o = esl(&["reprice", "--db", db, "--push"], &[]);
    assert!(!o.status.success(), "--push needs --app-id");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_is_the_whole_job_from_any_directory() {
    let dir = temp_dir("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_esl"))
        .args(["demo", "--scale", "2"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("checked: all 3000 labels"), "{stdout}");
    let previews = std::fs::read_dir(dir.join("out")).unwrap().count();
    assert!(previews > 600, "{previews} files in ./out");
    let _ = std::fs::remove_dir_all(dir);
}
