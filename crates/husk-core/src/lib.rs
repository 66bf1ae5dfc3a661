//! Husk's core: everything that decides what a husk is, with no Tauri and no network.
//!
//! Pure modules take `&str` and return values; they do no I/O and read no clock:
//! [`markdown`] (the block map), [`lexicon`] (rules and word lists embedded from `assets/`),
//! [`classify`], [`rewrite`], [`leak`] and [`husk`] (the pipeline that ties them together).
//! I/O modules (vault, index, kernel, watch) sit beside them and call into the pure ones.

pub mod classify;
pub mod export;
pub mod husk;
pub mod import;
pub mod index;
pub mod kernel;
pub mod leak;
pub mod ledger;
pub mod lexicon;
pub mod markdown;
pub mod model;
pub mod needles;
pub mod rewrite;
pub mod trace;
pub mod vault;
pub mod watch;
pub mod words;

#[cfg(test)]
mod proptests;

pub use husk::{
    classify_note, sanitize, sanitize_fragment, BlockOutcome, Classified, Husk, Overrides, SanitizeError,
    SanitizeOptions,
};
pub use model::{Action, Category, Forced, Level, Visibility};
pub use vault::{Vault, VaultError};
