//! A local simulator of the SUNMI Store open platform's ESL and AP endpoints (seed 001,
//! "Electronic Shelf Label(ESL)", "Error Codes", "Authentication"), for tests and offline
//! development.
//!
//! ```text
//! client ──POST /device/esl/pushImage──▶ [fault?] ─▶ body ≤ 1 MB? (413) ─▶ parse form/multipart
//!   ─▶ app_id (5041) ─▶ sign (HTTP 401 + 5090) ─▶ timestamp window (5091) ─▶ random fresh (5092)
//!   ─▶ [injected 5000?] ─▶ endpoint: shop (5013), ESL (5301), AP (5300),
//!      image decodes, exact model size, palette colours only (5005 with the reason)
//!   ◀── {"code":0,"msg":"succeed","data":{…}}
//! ```
//!
//! It serves on `127.0.0.1` only. Start it with [`Simulator::start`]; the [`SimHandle`] gives
//! the base URL and lets tests look at the last image per ESL, the request log and counts,
//! and inject faults ([`SimHandle::inject`], [`FaultConfig`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), esl_sim::SimError> {
//! let sim = esl_sim::Simulator::start(esl_sim::SimConfig::new("app", "secret")).await?;
//! println!("simulator at {}", sim.base_url());
//! # Ok(()) }
//! ```
//!
//! Besides the ESL and AP endpoints it serves every other endpoint of seeds 000 and 001
//! (shops, templates, products and their ESL bindings, orders, hooks, firmware lists, patrol
//! statistics, audit videos) over in-memory state seeded from the [`Fixture`].
//!
//! Outside the platform's paths, and only in the simulator: `GET /sim/esls` (every ESL with
//! the request that delivered its last picture) and `GET /sim/esls/{esl_id}/image.png` (that
//! picture), unsigned and not in the request log, for tools that show what each ESL shows.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]
#![warn(missing_docs, clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![forbid(unsafe_code)]

mod check;
mod config;
pub mod fixture;
mod platform;
mod server;
mod state;

pub use config::{Fault, FaultConfig, MAX_BODY_BYTES, SimConfig};
pub use fixture::{
    ApFixture, ApStockFixture, BindingFixture, EslFixture, Fixture, FixtureError, HookFixture,
    ProductFixture, ShopFixture, SunmiShopFixture, TemplateFixture, sl121_plus,
};
pub use server::{DeliveryError, SimError, SimHandle, Simulator};
pub use state::{ApSnapshot, EslSnapshot, FlashRecord, RequestRecord, StoredImage};
