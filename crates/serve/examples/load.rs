//! Load bench of `POST /v1/render`: the real server on 127.0.0.1 port 0 in this process,
//! 1, 8 and 64 concurrent reqwest clients, on the SL121 and SL142 sample templates.
//! Prints throughput, p50 and p99 per case.
//!
//! ```text
//! cargo run --release -p esl-serve --example load [-- REQUESTS_PER_CASE]
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use esl_render::Renderer;
use esl_serve::{Config, Server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|e| format!("REQUESTS_PER_CASE {n:?}: {e}"))?,
        None => 512,
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    let product: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("products/cola.json"))?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let token = esl_serve::random_token();
    let server = rt.block_on(Server::bind(
        Config {
            addr: "127.0.0.1:0".parse()?,
            templates: root.clone(),
            token: Some(token.clone()),
            cors: None,
            db: None,
        },
        Renderer::bundled(),
    ))?;
    let url = format!("http://{}/v1/render", server.local_addr()?);
    rt.spawn(server.run());
    println!(
        "{:<7} {:>8} {:>9} {:>10} {:>9} {:>9}",
        "model", "clients", "requests", "req/s", "p50 ms", "p99 ms"
    );
    for (template, model) in [("shelf-2.13", "SL121"), ("shelf-4.2", "SL142")] {
        let body = Arc::new(
            serde_json::json!({"template": template, "product": product, "model": model})
                .to_string(),
        );
        for clients in [1usize, 8, 64] {
            let client = reqwest::Client::new();
            let started = Instant::now();
            let latencies = rt.block_on(async {
                let mut tasks = Vec::new();
                for c in 0..clients {
                    let n = total / clients + usize::from(c < total % clients);
                    let (client, url, body, token) =
                        (client.clone(), url.clone(), body.clone(), token.clone());
                    tasks.push(tokio::spawn(async move {
                        let mut out = Vec::with_capacity(n);
                        for _ in 0..n {
                            let t = Instant::now();
                            let resp = client
                                .post(&url)
                                .bearer_auth(&token)
                                .body(body.as_str().to_owned())
                                .send()
                                .await?;
                            if resp.status() != 200 {
                                return Err(format!("status {}", resp.status()).into());
                            }
                            resp.bytes().await?;
                            out.push(t.elapsed());
                        }
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(out)
                    }));
                }
                let mut all: Vec<Duration> = Vec::new();
                for t in tasks {
                    all.extend(
                        t.await
                            .map_err(|e| e.to_string())?
                            .map_err(|e| e.to_string())?,
                    );
                }
                Ok::<_, String>(all)
            })?;
            let wall = started.elapsed().as_secs_f64();
            let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
            ms.sort_by(f64::total_cmp);
            let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
            println!(
                "{:<7} {:>8} {:>9} {:>10.0} {:>9.2} {:>9.2}",
                model,
                clients,
                ms.len(),
                ms.len() as f64 / wall,
                pct(0.50),
                pct(0.99)
            );
        }
    }
    Ok(())
}
