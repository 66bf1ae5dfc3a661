//! Checks on what the user typed before it reaches husk-core: folder and file paths come from a
//! text field (there is no dialog plugin), so they must be absolute and free of `..`.

use crate::error::{ErrorCode, IpcError, IpcResult};
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
