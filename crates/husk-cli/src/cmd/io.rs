//! Shared CLI input/output helpers: reading a note safely and writing a file atomically.

use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Largest note Husk reads.
pub const MAX_NOTE_BYTES: u64 = 64 * 1024 * 1024;

/// Read a markdown note, refusing folders, huge files, binary files and invalid UTF-8.
pub fn read_note(path: &Path) -> Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a folder, not a markdown file", path.display());
    }
    if meta.len() > MAX_NOTE_BYTES {
        bail!("{} is {} bytes; Husk reads notes up to 64 MiB", path.display(), meta.len());
    }
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.contains(&0) {
        bail!("{} is a binary file, not markdown", path.display());
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => bail!(
            "{} is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ),
    }
}

/// Write `data` to `path` atomically: a temp file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.is_dir() {
        bail!("{} is a folder", path.display());
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".husk-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    tmp.write_all(data).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot write {}", path.display()))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
