//! `esl serve` prints the URL it listens on, with the token, and that URL's server answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

/// The server process, killed when the test ends, even by a panic.
struct Served(Child);

impl Served {
    /// Starts `cmd` (an `esl serve` command line) and reads the URL it prints first: the
    /// server, and its address and token (or why the first line is not that URL).
    fn start(cmd: &mut Command) -> (Served, Result<(String, String), String>) {
        let mut served = Served(cmd.stdout(Stdio::piped()).spawn().unwrap());
        let mut line = String::new();
        let read = BufReader::new(served.0.stdout.take().unwrap()).read_line(&mut line);
        let url = read.map_err(|e| e.to_string()).and_then(|_| {
            line.trim()
                .strip_prefix("esl serve listening on http://")
                .and_then(|u| u.split_once("/?token="))
                .map(|(a, t)| (a.to_owned(), t.to_owned()))
                .ok_or_else(|| format!("unexpected first line {line:?}"))
        });
        (served, url)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_its_url_and_answers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (child, url) = Served::start(
        Command::new(env!("CARGO_BIN_EXE_esl"))
            .args(["serve", "--bind", "127.0.0.1:0", "--templates"])
            .arg(root.join("templates"))
            .env_remove("ESL_API_TOKEN"),
    );
    let result = (|| {
        let (addr, token) = url?;
        if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("token {token:?} is not 32 hex digits"));
        }
        let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
        if !answer.starts_with("HTTP/1.1 200") || !answer.ends_with("ok\n") {
            return Err(format!("healthz answered {answer:?}"));
        }
        Ok(())
    })();
    drop(child);
    result.unwrap();
}

mod common;

/// One HTTP/1.1 request on a fresh connection: the status and the raw bytes after the
/// headers (a chunked body keeps its chunk lines; the checks below only look for text in it).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let status = std::str::from_utf8(&answer[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {:?}", common::text(&answer)));
    let start = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |p| p + 4);
    (status, answer[start..].to_vec())
}

/// `esl serve --db` with the platform flags of every platform command (`--base-url`,
/// `--app-id`, the secret from ESL_SECRET): a run started over HTTP pushes to the simulator.
#[test]
fn serve_with_a_registry_pushes_through_the_platform_flags() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (_rt, sim) = common::sim("app-serve-cli", "secret-serve-cli");
    let dir = std::env::temp_dir().join(format!("esl-cli-serve-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (child, url) = Served::start(
        Command::new(env!("CARGO_BIN_EXE_esl"))
            .args(["serve", "--bind", "127.0.0.1:0", "--templates"])
            .arg(root.join("templates"))
            .arg("--db")
            .arg(dir.join("labels.db"))
            .args(["--base-url", &sim.base_url(), "--app-id", "app-serve-cli"])
            .env("ESL_SECRET", "secret-serve-cli")
            .env("ESL_API_TOKEN", "cli-token"),
    );
    let result = (|| {
        let (addr, token) = url?;
        if token != "cli-token" {
            return Err(format!("token {token:?}, not ESL_API_TOKEN's"));
        }
        let (status, body) = http(
            &addr,
            "POST",
            "/v1/import/products",
            "cli-token",
            "id,name,price\nP1,Cola 330 ml,2.50\n",
        );
        let body = common::text(&body);
        if status != 200 || !body.contains("\"created\":1") {
            return Err(format!("import products: {status} {body}"));
        }
        let (status, body) = http(
            &addr,
            "POST",
            "/v1/import/labels",
            "cli-token",
            "esl_id,shop_id,model,template,product_id\n129200,1001,SL121,shelf-2.13,P1\n",
        );
        let body = common::text(&body);
        if status != 200 || !body.contains("\"created\":1") {
            return Err(format!("import labels: {status} {body}"));
        }
        let (status, events) = http(&addr, "POST", "/v1/reprice", "cli-token", "");
        let events = common::text(&events);
        if status != 200 || !events.contains("event: done") || !events.contains("\"pushed\":1") {
            return Err(format!("reprice: {status} {events}"));
        }
        let (status, preview) = http(
            &addr,
            "GET",
            "/v1/labels/129200/preview.png",
            "cli-token",
            "",
        );
        // Not chunked: the body is the PNG itself, the picture the label was pushed.
        let shown = sim.last_image("129200").ok_or("the label was not pushed")?;
        if status != 200 || preview != shown.bytes[..] {
            return Err(format!("preview: {status}, {} bytes", preview.len()));
        }
        Ok(())
    })();
    drop(child);
    result.unwrap();
    let shown = sim.last_image("129200").expect("the label was pushed");
    assert_eq!((shown.width, shown.height), (212, 104));
    let _ = std::fs::remove_dir_all(&dir);
}
