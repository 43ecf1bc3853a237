//! `esl hooks listen` against the simulator: a hook registered with `esl api hook add`, an
//! event delivered by esl-sim, printed as one JSON line; a forged delivery refused.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod common;

const APP: &str = "hooks-app";
const SECRET: &str = "hooks-s3cret";

#[test]
fn hooks_listen_prints_each_accepted_event_as_a_json_line() {
    let (rt, sim) = common::sim(APP, SECRET);
    let esl = env!("CARGO_BIN_EXE_esl");
    let mut listener = Command::new(esl)
        .args(["hooks", "listen", "--bind", "127.0.0.1:0", "--path", "/cb"])
        .env("ESL_SECRET", SECRET)
        .env("ESL_APP_ID", APP)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(listener.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("esl hooks: listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    assert!(url.ends_with("/cb"), "{url}");
    let added = Command::new(esl)
        .args([
            "api",
            "hook",
            "add",
            "--shop-id",
            "1001",
            "--http-callback",
            &url,
        ])
        .args(["--event-list", "[6001, 1010]"])
        .env("ESL_SECRET", SECRET)
        .env("ESL_APP_ID", APP)
        .env("ESL_BASE_URL", sim.base_url())
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let payload = serde_json::json!({"id": 7, "sn": "CP01", "text": "1 x 茶 9.90"});
    let status = rt.block_on(sim.deliver("1001", 6001, &payload)).unwrap();
    assert_eq!(status, Some(200));
    // A forged delivery (right app, wrong sign) is refused and never printed.
    let forged = rt.block_on(async {
        raw_post(&url, "app_id=hooks-app&random=abc123&timestamp=1&sign=X&shop_id=1001&event=6001&payload=%7B%7D").await
    });
    assert!(forged.starts_with("HTTP/1.1 401"), "{forged}");
    let mut stdout = BufReader::new(listener.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let got: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        got,
        serde_json::json!({"shop_id": "1001", "event": 6001, "payload": payload})
    );
    listener.kill().unwrap();
    let _ = listener.wait();
}

/// A plain HTTP/1.1 form POST over a TCP stream; answers the status line.
async fn raw_post(url: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(authority).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.lines().next().unwrap_or_default().to_owned()
}
