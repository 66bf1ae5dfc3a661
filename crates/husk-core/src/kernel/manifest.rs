//! `husk-backup.json`, the first entry of every kernel: format name and version, creation time,
//! and every folder and file with its size and SHA-256. Restore trusts nothing that the
//! manifest does not list, and caps entries and sizes by it.

use super::error::KernelError;
use super::read::Limits;
use super::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The `format` field of every kernel manifest.
pub const FORMAT: &str = "husk-kernel";
/// The newest manifest version this Husk writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's name inside the tar.
pub(crate) const MANIFEST_NAME: &str = "husk-backup.json";
/// The index snapshot's name inside the tar.
pub(crate) const INDEX_NAME: &str = "index.db";
/// The folder holding the notes inside the tar.
pub(crate) const VAULT_DIR: &str = "vault";

/// The kernel's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub version: u32,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// The Husk version that wrote it.
    pub husk_version: String,
    /// Every folder, `vault` first (tar paths, no trailing slash).
    pub dirs: Vec<String>,
    /// Every file in tar order (`vault/…`, then `index.db` when present).
    pub files: Vec<ManifestFile>,
}

/// One file of a kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The tar path (`vault/notes/a.md` or `index.db`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
}

impl Manifest {
    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Number of tar entries the kernel holds (manifest, folders, files).
    pub fn entry_count(&self) -> u64 {
        1 + self.dirs.len() as u64 + self.files.len() as u64
    }

    /// Number of notes (`*.md` files under `vault/`).
    pub fn note_count(&self) -> usize {
        self.files.iter().filter(|f| f.path.starts_with("vault/") && f.path.ends_with(".md")).count()
    }

    /// Check the format, version, paths and caps. Called on every manifest read.
    pub(crate) fn validate(&self, limits: &Limits) -> Result<()> {
        if self.format != FORMAT {
            return Err(KernelError::not_kernel("the manifest's format is not husk-kernel"));
        }
        if self.version == 0 || self.version > FORMAT_VERSION {
            return Err(KernelError::UnsupportedVersion {
                found: format!("kernel format version {}", self.version),
            });
        }
        if self.entry_count() > limits.max_entries {
            return Err(KernelError::TooLarge {
                detail: format!("{} entries (at most {})", self.entry_count(), limits.max_entries),
            });
        }
        let total = self.files.iter().try_fold(0u64, |acc, f| acc.checked_add(f.size));
        match total {
            Some(t) if t <= limits.max_total_bytes => {}
            _ => {
                return Err(KernelError::TooLarge {
                    detail: format!("declared size above {} bytes", limits.max_total_bytes),
                })
            }
        }
        let mut seen = HashSet::new();
        for d in &self.dirs {
            check_path(d)
                .map_err(|reason| KernelError::not_kernel(format!("manifest folder {d:?}: {reason}")))?;
            if !(d == VAULT_DIR || d.starts_with("vault/")) {
                return Err(KernelError::not_kernel(format!("manifest folder {d:?} is outside vault/")));
            }
            if !seen.insert(d.as_str()) {
                return Err(KernelError::not_kernel(format!("manifest lists {d:?} twice")));
            }
        }
        for f in &self.files {
            check_path(&f.path)
                .map_err(|reason| KernelError::not_kernel(format!("manifest file {:?}: {reason}", f.path)))?;
            if !(f.path == INDEX_NAME || f.path.starts_with("vault/")) {
                return Err(KernelError::not_kernel(format!("manifest file {:?} is outside vault/", f.path)));
            }
            if f.path == "vault/.husk/index.db" {
                return Err(KernelError::not_kernel("the manifest lists a live index inside vault/.husk"));
            }
            if f.sha256.len() != 64
                || !f.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(KernelError::not_kernel(format!(
                    "manifest file {:?} has a malformed sha256",
                    f.path
                )));
            }
            if !seen.insert(f.path.as_str()) {
                return Err(KernelError::not_kernel(format!("manifest lists {:?} twice", f.path)));
            }
        }
        Ok(())
    }
}

/// A tar path Husk accepts: relative, `/`-separated, no empty, `.` or `..` component, no NUL
/// or backslash.
pub(crate) fn check_path(p: &str) -> std::result::Result<(), &'static str> {
    if p.is_empty() {
        return Err("empty path");
    }
    if p.starts_with('/') {
        return Err("absolute path");
    }
    if p.contains('\0') || p.contains('\\') {
        return Err("forbidden character in path");
    }
    for c in p.split('/') {
        match c {
            ".." => return Err("path contains .."),
            "" | "." => return Err("path has an empty or . component"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(files: &[(&str, u64)], dirs: &[&str]) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            created: "2026-01-01T00:00:00Z".into(),
            husk_version: "t".into(),
            dirs: dirs.iter().map(|s| s.to_string()).collect(),
            files: files
                .iter()
                .map(|(p, s)| ManifestFile { path: p.to_string(), size: *s, sha256: "0".repeat(64) })
                .collect(),
        }
    }

    #[test]
    fn paths() {
        assert!(check_path("vault/a.md").is_ok());
        for bad in ["", "/etc/passwd", "vault/../x", "..", "vault//a", "vault/./a", "a\\b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_caps_and_shapes() {
        let l = Limits::default();
        assert!(m(&[("vault/a.md", 1)], &["vault"]).validate(&l).is_ok());
        assert!(matches!(
            m(&[("vault/a.md", 1), ("vault/a.md", 1)], &["vault"]).validate(&l),
            Err(KernelError::NotKernel { .. })
        ));
        assert!(matches!(m(&[("etc/x", 1)], &["vault"]).validate(&l), Err(KernelError::NotKernel { .. })));
        let tiny = Limits { max_entries: 2, ..Limits::default() };
        assert!(matches!(
            m(&[("vault/a.md", 1), ("vault/b.md", 1)], &["vault"]).validate(&tiny),
            Err(KernelError::TooLarge { .. })
        ));
        assert!(matches!(
            m(&[("vault/a.md", u64::MAX), ("vault/b.md", 2)], &[]).validate(&l),
            Err(KernelError::TooLarge { .. })
        ));
        let mut v2 = m(&[], &[]);
        v2.version = 2;
        assert!(matches!(v2.validate(&l), Err(KernelError::UnsupportedVersion { .. })));
    }
}
