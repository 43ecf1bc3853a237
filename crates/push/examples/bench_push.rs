//! Pushes per second to the simulator on loopback, at concurrency 1, 16 and 64, and the
//! process's peak memory.
//!
//! ```sh
//! cargo run --release -p esl-push --example bench_push -- [PUSHES_PER_ROUND] [ROUNDS]
//! ```
//!
//! The simulator runs in the same process (it decodes and checks every pushed PNG, as the
//! platform would), so the figure is what one 2-core machine does end to end: signing,
//! multipart encoding, HTTP on 127.0.0.1, the simulator's checks. Each round pushes a fresh
//! label picture (a real model-sized, palette-exact PNG) to every ESL of a generated shop.

use std::time::Instant;

use esl_model::{Ink, Model};
use esl_push::types::PushImage;
use esl_push::{Client, Secret};
use esl_sim::{Fixture, SimConfig, Simulator};

const APP: &str = "bench-app";
const SECRET: &str = "bench-secret";

/// A palette-exact picture for `model`, different for each `n`, as PNG bytes.
fn label_png(model: Model, n: u32) -> Vec<u8> {
    let (w, h) = model.size();
    let red = model.palette().contains(Ink::Red);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let ink = if (x + n) % 23 < 3 || (y + n) % 17 < 2 {
            Ink::Black
        } else if red && (x * 7 + y + n) % 97 == 0 {
            Ink::Red
        } else {
            Ink::White
        };
        image::Rgb(ink.rgb())
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    out
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let fixture = Fixture::generated("1", n);
    let esls: Vec<(String, Model)> = fixture
        .esls
        .iter()
        .map(|e| (e.esl_id.clone(), e.model))
        .collect();
    let sim = Simulator::start(SimConfig::new(APP, SECRET).with_fixture(fixture))
        .await
        .expect("the simulator starts on 127.0.0.1");
    let client = Client::builder(APP, Secret::new(SECRET))
        .base_url(sim.base_url())
        .build()
        .expect("a client for the simulator");
    let pictures: Vec<std::sync::Arc<[u8]>> = esls
        .iter()
        .enumerate()
        .map(|(i, (_, m))| label_png(*m, i as u32).into())
        .collect();
    let mean_bytes = pictures.iter().map(|p| p.len()).sum::<usize>() / pictures.len().max(1);
    println!(
        "{n} pushes per round, {rounds} rounds, mean PNG {mean_bytes} bytes, simulator at {}",
        sim.base_url()
    );
    println!(
        "{:>11} {:>14} {:>14} {:>14}",
        "concurrency", "median push/s", "min push/s", "max push/s"
    );
    for concurrency in [1usize, 16, 64] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let jobs: Vec<PushImage> = esls
                .iter()
                .zip(&pictures)
                .map(|((id, _), png)| PushImage::new("1", id.clone(), png.clone()))
                .collect();
            let start = Instant::now();
            let results = client.push_batch(jobs, concurrency).await;
            let secs = start.elapsed().as_secs_f64();
            let failed = results.iter().filter(|r| r.result.is_err()).count();
            assert_eq!(failed, 0, "every push must be acknowledged");
            rates.push(n as f64 / secs);
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "{concurrency:>11} {:>14.0} {:>14.0} {:>14.0}",
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak memory (VmHWM) of the process, simulator included: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
    sim.shutdown().await;
}
