//! Checks on what the user typed before it reaches husk-core: folder and file paths come from a
//! text field (there is no dialog plugin), so they must be absolute and free of `..`; a new
//! passphrase is typed twice and must match.

use crate::error::{ErrorCode, IpcError, IpcResult};
use husk_core::kernel::{Key, Lock};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Component, PathBuf};

/// Check that a typed path is absolute and clean.
pub fn typed_path(typed: &str) -> IpcResult<PathBuf> {
    let t = typed.trim();
    let bad = |why: &str| IpcError::new(ErrorCode::InvalidPath, format!("{t:?} {why}"));
    if t.is_empty() {
        return Err(IpcError::new(ErrorCode::InvalidPath, "the path is empty"));
    }
    let p = PathBuf::from(t);
    if !p.is_absolute() {
        return Err(bad("is not an absolute path"));
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(bad("must not contain `..`"));
    }
    Ok(p)
}

/// A passphrase for a new kernel, typed twice. Both copies live in zeroizing `SecretString`s
/// from the moment they are decoded, and neither is ever logged or put in an error.
#[derive(Debug, Deserialize)]
pub struct NewPassphrase {
    #[serde(deserialize_with = "secret")]
    passphrase: SecretString,
    #[serde(deserialize_with = "secret")]
    confirm: SecretString,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl NewPassphrase {
    /// The lock to write with and the key to verify with: the same passphrase, as typed the first
    /// and the second time. Refused when empty or when the two differ.
    pub fn lock_and_key(self) -> IpcResult<(Lock, Key)> {
        if self.passphrase.expose_secret().is_empty() {
            return Err(IpcError::new(ErrorCode::InvalidInput, "the passphrase is empty"));
        }
        if self.passphrase.expose_secret() != self.confirm.expose_secret() {
            return Err(IpcError::new(ErrorCode::InvalidInput, "the two passphrases differ"));
        }
        Ok((Lock::Passphrase(self.passphrase), Key::Passphrase(self.confirm)))
    }
}
