//! `esl api <path words> [--param value]…`: every endpoint of the platform, driven from
//! esl-push's one table (`esl_push::api::ENDPOINTS`).
//!
//! * The words are the endpoint's path with camelCase in kebab-case:
//!   `/device/ap/updateName` is `esl api device ap update-name`.
//! * Each flag is a seed parameter with `_` as `-` (`--shop-id 1001`, `--shop-id=1001`).
//! * `@FILE` reads a value from a file; a file parameter (`pic`) must be given as `@FILE`.
//! * Parameters are checked against the table before anything is sent.
//! * The reply's `data` is printed as JSON; a platform error exits 1 with code and meaning.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use esl_push::api::{self, Endpoint, ParamKind};

use crate::net::Connection;

/// The arguments of `esl api`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The platform connection (also accepted after the words).
    #[command(flatten)]
    pub conn: Connection,
    /// Print every endpoint with its parameters.
    #[arg(long)]
    pub list: bool,
    /// The endpoint's words, then its parameters as `--name value`; `--help` after the
    /// words describes the endpoint.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "WORDS… [--PARAM VALUE]…"
    )]
    pub rest: Vec<String>,
}

/// The flag of a parameter: `shop_id` → `--shop-id`.
#[must_use]
pub fn flag(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

/// The command line of an endpoint: `esl api device ap update-name`.
#[must_use]
pub fn command_of(ep: &Endpoint) -> String {
    format!("esl api {}", ep.words().join(" "))
}

/// `esl api --list`: every endpoint, its path, seed section and parameters.
#[must_use]
pub fn list_text() -> String {
    let mut out = String::new();
    for ep in api::ENDPOINTS {
        out.push_str(&format!(
            "{}\n    {} ({}{}): {}\n",
            command_of(ep),
            ep.path,
            ep.seed,
            if ep.available { "" } else { ", unavailable" },
            ep.summary
        ));
        for p in ep.params {
            out.push_str(&format!("    {}\n", param_line(ep, p)));
        }
    }
    out
}

fn param_line(ep: &Endpoint, p: &api::ParamSpec) -> String {
    let need = if p.required {
        "required".to_owned()
    } else if let Some(group) = ep.one_of.iter().find(|g| g.contains(&p.name)) {
        format!(
            "one of {} required",
            group.iter().map(|n| flag(n)).collect::<Vec<_>>().join(", ")
        )
    } else {
        "optional".to_owned()
    };
    let value = match p.kind {
        ParamKind::File => "@FILE".to_owned(),
        k => format!("<{}>", k.name()),
    };
    format!("{} {value}  ({need})", flag(p.name))
}

/// The help of one endpoint.
#[must_use]
pub fn endpoint_help(ep: &Endpoint) -> String {
    let mut out = format!(
        "{}: {}\n\nPOST {} ({}){}\n\nParameters:\n",
        command_of(ep),
        ep.summary,
        ep.path,
        ep.seed,
        if ep.available {
            ""
        } else {
            "\nThe seed marks this endpoint \"currently unavailable\"."
        }
    );
    for p in ep.params {
        out.push_str(&format!("  {}\n", param_line(ep, p)));
    }
    out.push_str("\nA value @FILE is read from FILE. Arrays are JSON text.\n");
    let codes: Vec<String> = ep.errors.iter().map(i64::to_string).collect();
    out.push_str(&format!(
        "Error codes: {}; every endpoint: 5041, 5090, 5091, 5092.\n",
        if codes.is_empty() {
            "none listed".to_owned()
        } else {
            codes.join(", ")
        }
    ));
    out
}

/// A parsed `esl api` call.
#[derive(Debug)]
pub struct Call {
    /// The endpoint.
    pub endpoint: &'static Endpoint,
    /// Text parameters.
    pub text: Vec<(String, String)>,
    /// The file parameter, if any.
    pub file: Option<(&'static str, Vec<u8>)>,
    /// `--help` was given.
    pub help: bool,
}

/// Parses the words and flags (connection flags found among them go to `conn`).
///
/// # Errors
/// Unknown or incomplete words, a flag without a value, an unreadable `@FILE`, or parameters
/// that do not fit the endpoint (unknown, missing, malformed).
pub fn parse(rest: &[String], conn: &mut Connection) -> Result<Call> {
    let split = rest
        .iter()
        .position(|a| a.starts_with('-'))
        .unwrap_or(rest.len());
    let words: Vec<&str> = rest[..split].iter().map(String::as_str).collect();
    let Some(endpoint) = api::find_words(&words) else {
        let prefix = words.join(" ");
        let under: Vec<String> = api::ENDPOINTS
            .iter()
            .map(|e| e.words().join(" "))
            .filter(|w| w.starts_with(&prefix))
            .collect();
        if words.is_empty() {
            bail!("esl api: give an endpoint's words (see `esl api --list`)");
        }
        if under.is_empty() {
            bail!("esl api: no endpoint `{prefix}`; see `esl api --list`");
        }
        bail!(
            "esl api: `{prefix}` is not a whole endpoint; did you mean one of:\n  esl api {}",
            under.join("\n  esl api ")
        );
    };
    let mut call = Call {
        endpoint,
        text: Vec::new(),
        file: None,
        help: false,
    };
    let mut args = rest[split..].iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            call.help = true;
            continue;
        }
        let Some(body) = arg.strip_prefix("--") else {
            bail!(
                "{}: unexpected argument {arg:?}: parameters are --name value",
                endpoint.path
            );
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        let mut value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => args
                    .next()
                    .cloned()
                    .with_context(|| format!("{}: --{name} needs a value", endpoint.path)),
            }
        };
        match name {
            "base-url" => conn.base_url = value()?,
            "app-id" => conn.app_id = Some(value()?),
            _ => {
                let param = name.replace('-', "_");
                let raw = value()?;
                let spec = endpoint.param(&param);
                if spec.is_some_and(|p| p.kind == ParamKind::File) {
                    let Some(path) = raw.strip_prefix('@') else {
                        bail!(
                            "{}: --{name} is a file: give it as @FILE (e.g. @label.png)",
                            endpoint.path
                        );
                    };
                    let bytes = read(path)?;
                    if call
                        .file
                        .replace((spec.map_or("", |p| p.name), bytes))
                        .is_some()
                    {
                        bail!("{}: --{name} is given twice", endpoint.path);
                    }
                } else {
                    let text = match raw.strip_prefix('@') {
                        Some(path) => String::from_utf8(read(path)?)
                            .with_context(|| format!("--{name} @{path}: not UTF-8 text"))?,
                        None => raw,
                    };
                    call.text.push((param, text));
                }
            }
        }
    }
    if !call.help {
        let text: Vec<(&str, &str)> = call
            .text
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let files: Vec<&str> = call.file.iter().map(|(n, _)| *n).collect();
        endpoint
            .validate(&text, &files)
            .map_err(|e| anyhow::anyhow!("{e}; see `{} --help`", command_of(endpoint)))?;
    }
    Ok(call)
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(Path::new(path)).with_context(|| format!("reading @{path}"))
}

/// Runs `esl api`.
///
/// # Errors
/// Bad arguments (before anything is sent), a missing app_id or `ESL_SECRET`, or the
/// platform's error with its code and meaning.
pub fn run(args: ApiArgs) -> Result<()> {
    if args.list {
        print!("{}", list_text());
        return Ok(());
    }
    let mut conn = args.conn;
    let call = parse(&args.rest, &mut conn)?;
    if call.help {
        print!("{}", endpoint_help(call.endpoint));
        return Ok(());
    }
    let client = conn.client()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let file = call
        .file
        .map(|(n, b)| (n, esl_push::types::ImageBytes::from(b)));
    let data = runtime.block_on(client.call_endpoint(call.endpoint, &call.text, file))?;
    println!("{}", serde_json::to_string_pretty(&data)?);
    Ok(())
}
