//! `esl serve` prints the URL it listens on, with the token, and that URL's server answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

#[test]
fn serve_prints_its_url_and_answers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_esl"))
        .args(["serve", "--bind", "127.0.0.1:0", "--templates"])
        .arg(root.join("templates"))
        .env_remove("ESL_API_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let result = (|| {
        read.map_err(|e| e.to_string())?;
        let url = line
            .trim()
            .strip_prefix("esl serve listening on http://")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?;
        let (addr, token) = url
            .split_once("/?token=")
            .ok_or_else(|| format!("no token in {line:?}"))?;
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
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
}
