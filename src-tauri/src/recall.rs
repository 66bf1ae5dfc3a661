//! The last vault the user opened, remembered between launches in the app's own config folder
//! (`<app config dir>/last-vault.json`, e.g. `~/.config/app.husk.desktop/` on Linux), never inside
//! a vault. The file holds one absolute path and nothing secret; it is written atomically (temp
//! file, fsync, rename). A missing or unreadable file simply means nothing is remembered.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const FILE: &str = "last-vault.json";

#[derive(Serialize, Deserialize)]
struct Stored {
    vault: PathBuf,
}

/// Where the last vault is remembered.
#[derive(Debug, Clone)]
pub struct Recall {
    file: PathBuf,
}

impl Recall {
    /// Remember in `dir` (the app's config folder; created on the first write).
    pub fn in_dir(dir: &Path) -> Self {
        Self { file: dir.join(FILE) }
    }

    /// The remembered vault, if any (`None` when the file is missing, damaged or not absolute).
    pub fn load(&self) -> Option<PathBuf> {
        let text = std::fs::read(&self.file).ok()?;
        let stored: Stored = serde_json::from_slice(&text).ok()?;
        stored.vault.is_absolute().then_some(stored.vault)
    }

    /// Remember `vault` (an absolute path), replacing what was remembered.
    pub fn store(&self, vault: &Path) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(&Stored { vault: vault.to_path_buf() })
            .map_err(std::io::Error::other)?;
        husk_core::vault::write_atomic(&self.file, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_loads_one_path() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Recall::in_dir(&tmp.path().join("config"));
        assert_eq!(r.load(), None, "nothing remembered yet");
        r.store(Path::new("/home/me/notes")).unwrap();
        assert_eq!(r.load(), Some(PathBuf::from("/home/me/notes")));
        r.store(Path::new("/home/me/other")).unwrap();
        assert_eq!(r.load(), Some(PathBuf::from("/home/me/other")), "the newest replaces the old");
        let names: Vec<_> =
            std::fs::read_dir(tmp.path().join("config")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [FILE], "no temp file left behind");
    }

    #[test]
    fn a_damaged_or_relative_entry_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Recall::in_dir(tmp.path());
        std::fs::write(tmp.path().join(FILE), b"{ not json").unwrap();
        assert_eq!(r.load(), None);
        std::fs::write(tmp.path().join(FILE), br#"{"vault": "relative/notes"}"#).unwrap();
        assert_eq!(r.load(), None);
    }
}
