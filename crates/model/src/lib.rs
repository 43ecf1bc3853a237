//! Plain data shared by every `esl` crate.
//!
//! * [`Model`]: the SUNMI ESL models, their panel sizes, palettes and the platform's template
//!   screen and colour codes (seed 001, ESL §4.3.5 and §7); models the seed's table lacks
//!   are declared ([`ModelDecl`], [`ModelsFile`]), never guessed.
//! * [`Ink`] and [`Palette`]: the colours a panel can show.
//! * [`Product`]: the product record a label shows (seed 001, Product APIs §3.1.1), with any
//!   extra fields a pricing system supplies.
//! * [`Amount`]: an exact decimal number, parsed from JSON numbers or strings, for prices.
//!
//! This crate does no I/O and knows nothing of rendering or HTTP, so the push client can
//! depend on it without pulling in the renderer.
#![deny(clippy::unwrap_used)]
#![warn(missing_docs, clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![forbid(unsafe_code)]

mod amount;
mod model;
mod product;

pub use amount::{Amount, AmountError};
pub use model::{
    Ink, MAX_DECLARED_MODELS, MAX_PANEL_SIDE, Model, ModelDecl, ModelError, ModelsFile, Palette,
    Screen, UnknownModel,
};
pub use product::{Product, ProductError};
