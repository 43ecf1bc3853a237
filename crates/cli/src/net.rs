//! `esl push`, `esl flash`, `esl labels` and `esl sim`: the network subcommands.
//!
//! The secret key is read from the environment variable `ESL_SECRET` (never from the command
//! line, where it would show in the process list and shell history).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use esl_push::types::{FlashLed, LedColor, PushImage};
use esl_push::{Client, DEFAULT_BASE_URL, Secret};
use esl_sim::{FaultConfig, Fixture, SimConfig, Simulator};

/// The network subcommands, to be flattened into the `esl` command's subcommands.
#[derive(Debug, Subcommand)]
pub enum NetCommand {
    /// Push a PNG to one label through the platform (secret from ESL_SECRET).
    Push {
        #[command(flatten)]
        conn: Connection,
        /// The shop (`shop_id`).
        #[arg(long)]
        shop_id: String,
        /// The label (`esl_id`).
        #[arg(long)]
        esl_id: String,
        /// The image: exactly the model's size, only its palette's colours.
        file: PathBuf,
    },
    /// Flash a label's LED (secret from ESL_SECRET).
    Flash {
        #[command(flatten)]
        conn: Connection,
        /// The shop (`shop_id`).
        #[arg(long)]
        shop_id: String,
        /// The label (`esl_id`).
        #[arg(long)]
        esl_id: String,
        /// LED colour; the platform's default is green.
        #[arg(long, value_enum)]
        color: Option<Color>,
        /// Length of one flash in units of 10 ms; the platform's default is 100.
        #[arg(long)]
        cycle: Option<u32>,
        /// Number of flashes; the platform's default is 8.
        #[arg(long)]
        duration: Option<u32>,
    },
    /// List a shop's labels, walking every page (secret from ESL_SECRET).
    Labels {
        #[command(flatten)]
        conn: Connection,
        /// The shop (`shop_id`).
        #[arg(long)]
        shop_id: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the platform simulator on 127.0.0.1 until Ctrl-C (secret from ESL_SECRET).
    Sim {
        /// TCP port (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The app_id the simulator accepts.
        #[arg(long)]
        app_id: String,
        /// JSON fixture of shops, APs and ESLs (default: a demo shop `1001`).
        #[arg(long)]
        fixture: Option<PathBuf>,
        /// Fraction of requests that fail transiently (5000, HTTP 500/503, dropped).
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// Seed of the fault generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Where the platform is and who we are: the one way every command that calls the platform
/// is configured (`api`, `push`, `flash`, `labels`, `reprice --push`, `hooks`, `serve`).
/// The secret key is read only from `ESL_SECRET`.
#[derive(Clone, Debug, Args)]
pub struct Connection {
    /// The platform's base URL (the simulator prints its own).
    #[arg(long, env = "ESL_BASE_URL", default_value = DEFAULT_BASE_URL)]
    pub base_url: String,
    /// The app_id the platform gave you.
    #[arg(long, env = "ESL_APP_ID")]
    pub app_id: Option<String>,
}

impl Connection {
    /// The app_id, or an error saying how to give one.
    ///
    /// # Errors
    /// When neither `--app-id` nor `ESL_APP_ID` is set.
    pub fn app_id(&self) -> Result<&str> {
        self.app_id
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("no app_id: give --app-id or set ESL_APP_ID"))
    }

    /// A client for this platform, signing with the secret of `ESL_SECRET`.
    ///
    /// # Errors
    /// No app_id, no `ESL_SECRET`, or a base URL that is not http(s).
    pub fn client(&self) -> Result<Client> {
        Ok(Client::builder(self.app_id()?.to_owned(), secret()?)
            .base_url(self.base_url.clone())
            .build()?)
    }
}

/// LED colours of `esl flash --color` (seed 001, ESL §4.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// channel 1
    White,
    /// channel 2
    Blue,
    /// channel 4 (platform default)
    Green,
    /// channel 8
    Red,
    /// channel 512
    Cyan,
    /// channel 1024
    Purple,
    /// channel 2048
    Yellow,
}

impl From<Color> for LedColor {
    fn from(c: Color) -> Self {
        match c {
            Color::White => LedColor::White,
            Color::Blue => LedColor::Blue,
            Color::Green => LedColor::Green,
            Color::Red => LedColor::Red,
            Color::Cyan => LedColor::Cyan,
            Color::Purple => LedColor::Purple,
            Color::Yellow => LedColor::Yellow,
        }
    }
}

/// `esl models …` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Declare an ESL's model from what the platform says of it: the screen size of its
    /// getInfo and the colour of a platform template made for it. Prints a models file
    /// (`{"models": [...]}`) for `esl --models FILE`; nothing is guessed: a model whose
    /// screen or colour the platform does not give is an error.
    FromPlatform {
        #[command(flatten)]
        conn: Connection,
        /// The shop.
        #[arg(long)]
        shop_id: String,
        /// An ESL of the model.
        #[arg(long)]
        esl_id: String,
        /// A platform template for that ESL's screen, whose colour is the model's.
        #[arg(long)]
        template_id: String,
    },
}

/// Runs an `esl models` subcommand on its own tokio runtime.
///
/// # Errors
/// As [`run`], and a model the platform's answers do not describe.
pub fn run_models(cmd: ModelsCommand) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cmd {
            ModelsCommand::FromPlatform {
                conn,
                shop_id,
                esl_id,
                template_id,
            } => {
                let client = conn.client()?;
                let decl = client
                    .describe_model(&shop_id, &esl_id, &template_id)
                    .await
                    .with_context(|| {
                        format!("describing the model of ESL {esl_id} with template {template_id}")
                    })?;
                let file = esl_model::ModelsFile { models: vec![decl] };
                println!("{}", serde_json::to_string_pretty(&file)?);
                Ok(())
            }
        }
    })
}

/// Runs a network subcommand on its own tokio runtime.
///
/// # Errors
/// A missing `ESL_SECRET`, an unreadable file, or the platform's error (its code and
/// meaning are in the message).
pub fn run(cmd: NetCommand) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(cmd))
}

/// The secret key, from `ESL_SECRET` only.
pub(crate) fn secret() -> Result<Secret> {
    Ok(Secret::from_env(esl_push::sign::SECRET_ENV)?)
}

fn client(conn: &Connection) -> Result<Client> {
    conn.client()
}

async fn run_async(cmd: NetCommand) -> Result<()> {
    match cmd {
        NetCommand::Push {
            conn,
            shop_id,
            esl_id,
            file,
        } => {
            let client = client(&conn)?;
            let image =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let receipt = client
                .push_image(&PushImage::new(shop_id.clone(), esl_id.clone(), image))
                .await
                .with_context(|| format!("pushing {} to ESL {esl_id}", file.display()))?;
            print_receipt(&receipt, &shop_id, &esl_id);
        }
        NetCommand::Flash {
            conn,
            shop_id,
            esl_id,
            color,
            cycle,
            duration,
        } => {
            let client = client(&conn)?;
            let req = FlashLed {
                shop_id: shop_id.clone(),
                esl_id: esl_id.clone(),
                color: color.map(LedColor::from),
                cycle,
                duration,
            };
            let receipt = client
                .flash_led(&req)
                .await
                .with_context(|| format!("flashing ESL {esl_id}"))?;
            print_receipt(&receipt, &shop_id, &esl_id);
        }
        NetCommand::Labels {
            conn,
            shop_id,
            json,
        } => {
            let client = client(&conn)?;
            let labels = client
                .esl_list_all(&shop_id)
                .await
                .with_context(|| format!("listing the ESLs of shop {shop_id}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&labels)?);
            } else {
                println!(
                    "{:<12} {:<10} {:<16} {:<8} status",
                    "esl_id", "esl_code", "esl_sn", "model"
                );
                for l in &labels {
                    println!(
                        "{:<12} {:<10} {:<16} {:<8} {} ({})",
                        l.esl_id,
                        l.esl_code.as_deref().unwrap_or("-"),
                        l.esl_sn.as_deref().unwrap_or("-"),
                        l.model_name.as_deref().unwrap_or("-"),
                        i64::from(l.status),
                        l.status
                    );
                }
                println!("{} label(s)", labels.len());
            }
        }
        NetCommand::Sim {
            port,
            app_id,
            fixture,
            fault_rate,
            seed,
        } => {
            let secret = secret()?;
            let fixture = match &fixture {
                Some(path) => Fixture::load(path)?,
                None => Fixture::demo(),
            };
            let config = SimConfig::new(app_id, secret.expose())
                .with_port(port)
                .with_fixture(fixture)
                .with_faults(FaultConfig::transient(fault_rate, seed));
            let sim = Simulator::start(config).await?;
            println!(
                "esl-sim listening on {} (app_id {}); Ctrl-C to stop",
                sim.base_url(),
                sim.app_id()
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            let served = sim.request_count();
            sim.shutdown().await;
            println!("esl-sim stopped after {served} request(s)");
        }
    }
    Ok(())
}

/// Prints the platform's answer to a push or flash as one JSON line.
fn print_receipt(receipt: &esl_push::Receipt, shop_id: &str, esl_id: &str) {
    println!(
        "{}",
        serde_json::json!({
            "code": 0, "msg": receipt.message, "attempts": receipt.attempts,
            "shop_id": shop_id, "esl_id": esl_id,
        })
    );
}
