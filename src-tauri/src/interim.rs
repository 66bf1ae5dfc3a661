//! INTERIM stand-in for `husk_core::vault::Vault`, which is being written on the `vault` branch.
//!
//! It owns only what the desktop screens need to run before that lands: opening and creating a
//! vault folder, listing, reading and atomically writing notes, a naive substring search, and
//! in-memory per-note overrides and settings. Every function here maps one-to-one to a `Vault`
//! method; when the real type lands, `commands.rs` switches to it and this file is deleted.
//! Nothing here is exported to the CLI, and no domain rule (classification, policy) lives here.

use husk_core::{Forced, Overrides};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// Why a vault operation failed. Carries paths, never note text.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{} is not a Husk vault (no .husk folder); create one there instead", path.display())]
    NotAVault { path: PathBuf },
    #[error("{path:?} is not a usable path: {why}")]
    InvalidPath { path: String, why: &'static str },
    #[error("{} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("{} is not a UTF-8 markdown note", path.display())]
    NotMarkdown { path: PathBuf },
    #[error("cannot access {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io { path: path.to_path_buf(), source }
}

/// Vault-level settings shown on the Settings screen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    pub backup_dir: String,
    pub recipients: Vec<String>,
    /// How many kernels to keep; 0 keeps all.
    pub retention: u32,
}

/// One search hit: the note and a short line of context around the first match.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub path: String,
    pub title: String,
    pub snippet: String,
}

/// An open vault folder.
pub struct Vault {
    root: PathBuf,
    overrides: Mutex<HashMap<String, Overrides>>,
    settings: Mutex<Settings>,
}

/// Check that a user-typed folder path is absolute and clean.
pub fn folder_path(typed: &str) -> Result<PathBuf, VaultError> {
    let t = typed.trim();
    if t.is_empty() {
        return Err(VaultError::InvalidPath { path: typed.into(), why: "it is empty" });
    }
    let p = PathBuf::from(t);
    if !p.is_absolute() {
        return Err(VaultError::InvalidPath { path: typed.into(), why: "it must be an absolute path" });
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(VaultError::InvalidPath { path: typed.into(), why: "it must not contain `..`" });
    }
    Ok(p)
}

impl Vault {
    pub fn open(root: &Path) -> Result<Self, VaultError> {
        if !root.is_dir() {
            return Err(VaultError::NotFound { path: root.to_path_buf() });
        }
        if !root.join(".husk").is_dir() {
            return Err(VaultError::NotAVault { path: root.to_path_buf() });
        }
        Ok(Self { root: root.to_path_buf(), overrides: Default::default(), settings: Default::default() })
    }

    pub fn create(root: &Path) -> Result<Self, VaultError> {
        fs::create_dir_all(root.join(".husk")).map_err(io(root))?;
        Self::open(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolve a vault-relative note path, refusing anything that escapes the vault.
    pub fn note_path(&self, rel: &str) -> Result<PathBuf, VaultError> {
        let p = Path::new(rel);
        let clean = !rel.is_empty()
            && p.components().all(|c| matches!(c, Component::Normal(_)))
            && p.extension().is_some_and(|e| e == "md");
        if !clean {
            return Err(VaultError::InvalidPath { path: rel.into(), why: "notes are vault-relative `.md` paths" });
        }
        Ok(self.root.join(p))
    }

    /// Every `*.md` note, vault-relative with `/` separators, sorted; hidden folders skipped.
    pub fn notes(&self) -> Result<Vec<String>, VaultError> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).map_err(io(&dir))? {
                let entry = entry.map_err(io(&dir))?;
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let path = entry.path();
                let ft = entry.file_type().map_err(io(&path))?;
                if ft.is_dir() {
                    stack.push(path);
                } else if ft.is_file() && path.extension().is_some_and(|e| e == "md") {
                    if let Ok(rel) = path.strip_prefix(&self.root) {
                        let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                        out.push(parts.join("/"));
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn read(&self, rel: &str) -> Result<String, VaultError> {
        let path = self.note_path(rel)?;
        if !path.is_file() {
            return Err(VaultError::NotFound { path });
        }
        let bytes = fs::read(&path).map_err(io(&path))?;
        String::from_utf8(bytes).map_err(|_| VaultError::NotMarkdown { path })
    }

    /// Atomic write: temp file in the same folder, fsync, rename, fsync the folder.
    pub fn write(&self, rel: &str, text: &str) -> Result<(), VaultError> {
        let path = self.note_path(rel)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut tmp = tempfile::Builder::new().prefix(".husk-tmp-").tempfile_in(&dir).map_err(io(&dir))?;
        tmp.write_all(text.as_bytes()).map_err(io(&path))?;
        tmp.as_file().sync_all().map_err(io(&path))?;
        tmp.persist(&path).map_err(|e| VaultError::Io { path: path.clone(), source: e.error })?;
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Case-insensitive substring search over every note (the real index uses FTS5).
    pub fn search(&self, query: &str) -> Result<Vec<SearchHit>, VaultError> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits = Vec::new();
        for rel in self.notes()? {
            let Ok(text) = self.read(&rel) else { continue };
            if let Some(line) = text.lines().find(|l| l.to_lowercase().contains(&q)) {
                let snippet: String = line.trim().chars().take(120).collect();
                hits.push(SearchHit { title: title_of(&rel, &text), path: rel, snippet });
            }
        }
        Ok(hits)
    }

    pub fn overrides(&self, rel: &str) -> Overrides {
        self.overrides.lock().map(|m| m.get(rel).cloned().unwrap_or_default()).unwrap_or_default()
    }

    pub fn set_override(&self, rel: &str, fingerprint: &str, forced: Option<Forced>) -> Result<(), VaultError> {
        self.note_path(rel)?;
        if let Ok(mut m) = self.overrides.lock() {
            let o = m.entry(rel.to_string()).or_default();
            match forced {
                Some(f) => o.insert(fingerprint, f),
                None => o.remove(fingerprint),
            }
        }
        Ok(())
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn save_settings(&self, s: Settings) {
        if let Ok(mut cur) = self.settings.lock() {
            *cur = s;
        }
    }
}

/// A note's title: its first `# ` heading, else its file name.
pub fn title_of(rel: &str, text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
        .unwrap_or_else(|| rel.rsplit('/').next().unwrap_or(rel).trim_end_matches(".md").to_string())
}
