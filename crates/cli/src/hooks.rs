//! `esl hooks listen`: receive the platform's event notifications and print each accepted
//! one as a JSON line.

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use esl_push::hooks::{HookVerifier, router};

use crate::net::Connection;

/// `esl hooks …`.
#[derive(Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    command: HooksCommand,
}

#[derive(Subcommand)]
enum HooksCommand {
    /// Serve the callback URL you register with `esl api hook add --http-callback URL`:
    /// every delivery is checked as the Notification Center signs it (app_id, MD5 sign with
    /// ESL_SECRET, timestamp within 5 minutes, each `random` used once); a refused one gets
    /// HTTP 401 and is never printed. Each accepted event is printed on stdout as one JSON
    /// line `{"shop_id", "event", "payload"}`.
    Listen {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        bind: String,
        /// The callback's path.
        #[arg(long, default_value = "/hook")]
        path: String,
        #[command(flatten)]
        conn: Connection,
    },
}

/// Runs `esl hooks …`.
pub fn run(args: HooksArgs) -> Result<()> {
    let HooksCommand::Listen { bind, path, conn } = args.command;
    if !path.starts_with('/') {
        anyhow::bail!("--path {path:?} must start with /");
    }
    let verifier = Arc::new(HookVerifier::new(
        conn.app_id()?.to_owned(),
        crate::net::secret()?,
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let app = router(verifier, &path, tx);
        eprintln!("esl hooks: listening on http://{addr}{path}");
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        while let Some(delivery) = rx.recv().await {
            // One line per event, flushed at once, for a pipe to read as they come.
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", delivery.to_json())?;
            out.flush()?;
        }
        server.await.context("the receiver stopped")??;
        Ok(())
    })
}
