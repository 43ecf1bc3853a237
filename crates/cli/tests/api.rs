//! `esl api`: every endpoint of the table has a command; the list is snapshot; calls against
//! the simulator over real HTTP.

use std::process::{Command, Output};

mod common;

use common::text;
use esl_sim::SimHandle;

const APP: &str = "cli-app";
const SECRET: &str = "cli-s3cret";

fn esl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esl"));
    c.env_remove("ESL_SECRET")
        .env_remove("ESL_APP_ID")
        .env_remove("ESL_BASE_URL")
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn env_for(sim: &SimHandle) -> Vec<(&'static str, String)> {
    vec![
        ("ESL_SECRET", SECRET.to_owned()),
        ("ESL_APP_ID", APP.to_owned()),
        ("ESL_BASE_URL", sim.base_url()),
    ]
}

fn run(sim: &SimHandle, args: &[&str]) -> Output {
    let env = env_for(sim);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    esl(args, &env)
}

#[test]
fn every_endpoint_of_the_table_has_a_command() {
    for ep in esl_push::api::ENDPOINTS {
        let words = ep.words();
        let mut args: Vec<&str> = vec!["api"];
        args.extend(words.iter().map(String::as_str));
        args.push("--help");
        let o = esl(&args, &[]);
        assert!(o.status.success(), "{}: {}", ep.path, text(&o.stderr));
        let help = text(&o.stdout);
        assert!(help.contains(ep.path), "{help}");
        for p in ep.params {
            let flag = format!("--{}", p.name.replace('_', "-"));
            assert!(help.contains(&flag), "{}: no {flag} in\n{help}", ep.path);
        }
    }
}

#[test]
fn list_matches_the_snapshot() {
    let o = esl(&["api", "--list"], &[]);
    assert!(o.status.success());
    let list = text(&o.stdout);
    for ep in esl_push::api::ENDPOINTS {
        assert!(list.contains(ep.path), "{}", ep.path);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/api-list.txt");
    if std::env::var_os("ESL_BLESS").is_some() {
        std::fs::write(path, &list).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        list, want,
        "esl api --list changed: ESL_BLESS=1 cargo test -p esl-cli --test api"
    );
}

#[test]
fn calls_print_data_and_change_the_simulator() {
    let (_rt, sim) = common::sim(APP, SECRET);
    let o = run(
        &sim,
        &[
            "api",
            "device",
            "ap",
            "update-name",
            "--shop-id",
            "1001",
            "--ap-id=10200",
            "--ap-name",
            "Gate 9",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "{}");
    assert_eq!(sim.ap("10200").unwrap().ap_name, "Gate 9");

    let o = run(
        &sim,
        &[
            "api",
            "device",
            "esl",
            "get-info",
            "--shop-id",
            "1001",
            "--esl-id",
            "129202",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let data: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(data["model_name"], "SL126+");

    // @FILE: a JSON array from a file, and a file parameter.
    let dir = std::env::temp_dir().join(format!("esl-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let products = dir.join("products.json");
    std::fs::write(&products, r#"[{"id":"77","name":"Tea","price":2.5}]"#).unwrap();
    let arg = format!("@{}", products.display());
    let o = run(
        &sim,
        &[
            "api",
            "product",
            "create",
            "--shop-id",
            "1001",
            "--product-list",
            &arg,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(sim.product("1001", "77").unwrap()["name"], "Tea");

    let img = image::RgbImage::from_fn(212, 104, |x, _| {
        image::Rgb(if x < 100 { [0, 0, 0] } else { [255, 255, 255] })
    });
    let png = dir.join("label.png");
    img.save(&png).unwrap();
    let arg = format!("@{}", png.display());
    let o = run(
        &sim,
        &[
            "api",
            "device",
            "esl",
            "push-image",
            "--shop-id",
            "1001",
            "--esl-id",
            "129200",
            "--pic",
            &arg,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        sim.last_image("129200").unwrap().bytes.len(),
        std::fs::read(&png).unwrap().len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn platform_errors_exit_1_with_code_and_meaning() {
    let (_rt, sim) = common::sim(APP, SECRET);
    let o = run(
        &sim,
        &[
            "api",
            "device",
            "esl",
            "unbind",
            "--shop-id",
            "1001",
            "--esl-id",
            "nope",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("5301") && err.contains("invalid ESL"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_parameters_are_refused_before_sending() {
    let (_rt, sim) = common::sim(APP, SECRET);
    for (args, want) in [
        (
            vec![
                "api",
                "device",
                "ap",
                "reboot",
                "--shop-id",
                "1001",
                "--ap-idd",
                "1",
            ],
            "unknown parameter \"ap_idd\"",
        ),
        (
            vec!["api", "device", "ap", "reboot", "--shop-id", "1001"],
            "required parameter ap_id is missing",
        ),
        (
            vec![
                "api",
                "device",
                "esl",
                "get-list",
                "--shop-id",
                "1001",
                "--page-num",
                "x",
            ],
            "page_num must be an integer",
        ),
        (
            vec![
                "api",
                "device",
                "esl",
                "push-image",
                "--shop-id",
                "1",
                "--esl-id",
                "2",
                "--pic",
                "label.png",
            ],
            "give it as @FILE",
        ),
        (vec!["api", "device", "ap"], "not a whole endpoint"),
        (vec!["api", "no", "such"], "no endpoint `no such`"),
    ] {
        let o = run(&sim, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = text(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(sim.request_count(), 0, "nothing was sent");
    let o = esl(
        &["api", "device", "get-overview", "--shop-id", "1001"],
        &[("ESL_SECRET", SECRET), ("ESL_BASE_URL", &sim.base_url())],
    );
    assert!(text(&o.stderr).contains("no app_id"), "{}", text(&o.stderr));
}
