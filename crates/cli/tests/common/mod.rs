//! Helpers shared by the CLI's integration tests (each test file compiles this module on its
//! own and uses a part of it, hence the `dead_code` allowance).
#![allow(dead_code)]

use esl_sim::{SimConfig, SimHandle, Simulator};

/// Output bytes as text, for assertions and messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The simulator (demo fixture) for `app`/`secret` on a runtime of its own, kept alive by
/// the returned runtime.
pub fn sim(app: &str, secret: &str) -> (tokio::runtime::Runtime, SimHandle) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(Simulator::start(SimConfig::new(app, secret)))
        .unwrap();
    (rt, sim)
}
