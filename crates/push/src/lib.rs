//! An async client of the SUNMI Store open platform's ESL API (seed 001, "Electronic Shelf
//! Label(ESL)", "Error Codes", "Authentication").
//!
//! ```text
//! PushImage / FlashLed / …  ──▶ Client ──(sign: sort params, &key=secret, MD5, upper hex)──▶
//!     POST {base_url}/device/esl/pushImage  (multipart, file field `pic`)
//!     POST {base_url}/device/esl/flashLed … (application/x-www-form-urlencoded)
//!  ◀── {code, msg, data} ── typed data, or PushError (ApiCode for the platform's codes)
//! ```
//!
//! * [`sign`]: the signing rules and the [`Secret`] type that never prints its value.
//! * [`Client`]: typed endpoints ([`Client::push_image`], [`Client::flash_led`],
//!   [`Client::bind_esl`], [`Client::esl_list_all`], …) and [`Client::push_batch`].
//! * [`api`]: every endpoint of seeds 000 and 001 in one table, each with a typed request
//!   and reply, sent with [`Client::send`] (or untyped, checked against the table, with
//!   [`Client::call_endpoint`]).
//! * [`RetryPolicy`]: exponential back-off with full jitter for transient failures only.
//! * [`PushError`] and [`ApiCode`]: every error code of the seed, typed.
//!
//! Every attempt is built and signed afresh (new `timestamp` and `random`), and the request
//! body is checked against the 1 MB limit before it is sent.
//!
//! ```no_run
//! use esl_push::{Client, PushImage, Secret};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("app-id", Secret::from_env(esl_push::sign::SECRET_ENV)?)
//!     .base_url("http://127.0.0.1:8080")
//!     .build()?;
//! let png = std::fs::read("label.png")?;
//! let receipt = client.push_image(&PushImage::new("1001", "129200", png)).await?;
//! println!("pushed in {} attempt(s)", receipt.attempts);
//! # Ok(()) }
//! ```
//!
//! This crate does not render or check images: the platform (or `esl-sim`) does.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]
#![warn(missing_docs, clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![forbid(unsafe_code)]

pub mod api;
mod body;
mod client;
mod error;
mod retry;
pub mod sign;
pub mod types;

pub use client::{
    BatchItem, Client, ClientBuilder, DEFAULT_BASE_URL, LIST_ALL_PAGE_SIZE, MAX_BODY_BYTES,
    endpoints,
};
pub use error::{ApiCode, MAX_KEPT_BODY, PushError, TransportKind};
pub use retry::RetryPolicy;
pub use sign::{MissingSecret, Secret};
pub use types::{
    ApInfo, ApPage, ApStatus, ApSummary, BindEsl, DEFAULT_FLASH_CYCLE, DEFAULT_FLASH_DURATION,
    EslCodeOrSn, EslIdOrCode, EslIdReply, EslInfo, EslPage, EslStatus, EslSummary, FlashLed,
    ImageBytes, LedColor, Overview, Page, PushImage, Receipt, UnbindEsl, UnknownLedColor,
};
