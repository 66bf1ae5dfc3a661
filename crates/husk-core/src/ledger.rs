//! The export ledger: one [`LedgerEntry`] per export, kept in `.husk/ledger.jsonl` (one JSON
//! object per line, rewritten atomically on every append) and mirrored into the index. It records
//! when an export was made, which notes it covered, the level and format, the recipient and the
//! agreed scope, period and manner of use, the SHA-256 of every file written, and the map of what
//! was withheld — by location and hash only, never by text. [`verify`] checks a folder against an
//! entry. Shingle hashes (see [`crate::trace`]) let `husk trace` recognise the export later.

use crate::model::{Action, Category, Level};
use crate::vault::{io_err, sha256_hex, write_atomic, Result, VaultError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An Agent Skills folder (`SKILL.md`, `references/*.md`).
    Skill,
    /// colleague-skill's layout (`SKILL.md`, `work.md`, `persona.md`, `meta.json`).
    Colleague,
    /// A mirror of the selected notes as husks.
    Markdown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Skill => "skill",
            Format::Colleague => "colleague",
            Format::Markdown => "markdown",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = crate::model::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skill" => Ok(Format::Skill),
            "colleague" => Ok(Format::Colleague),
            "markdown" => Ok(Format::Markdown),
            _ => Err(crate::model::UnknownName {
                kind: "format",
                name: s.into(),
                expected: "skill, colleague, markdown",
            }),
        }
    }
}

/// A note an export covered, with the hash of its text at the time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerNote {
    pub path: String,
    pub sha256: String,
}

/// A file an export wrote, relative to the export folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// One block that was not shared verbatim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Withheld {
    pub note: String,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub category: Category,
    pub action: Action,
    pub rule: String,
    /// SHA-256 of the block's original text.
    pub sha256: String,
    /// Shingle hashes of the original text (never the text), for `husk trace`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shingles: Vec<u64>,
    /// Token count of the original text; a block shorter than one shingle has a single hash
    /// over all its tokens, matched against runs of that length.
    #[serde(default)]
    pub tokens: usize,
}

/// The terms an export was shared on: recipient and the agreed scope, period and manner of use
/// (授权范围、期限、方式). Flattened into the ledger line and the export request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Terms {
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub manner: Option<String>,
}

/// One export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub id: String,
    /// RFC 3339 UTC.
    pub time: String,
    pub level: Level,
    pub format: Format,
    /// The export folder, as given.
    pub to: PathBuf,
    pub notes: Vec<LedgerNote>,
    /// Who received it and on what terms.
    #[serde(flatten, default)]
    pub terms: Terms,
    pub files: Vec<LedgerFile>,
    pub withheld: Vec<Withheld>,
    /// Shingle hashes of everything exported (a sample), for `husk trace`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shingles: Vec<u64>,
}

/// Load every entry from `ledger.jsonl` (missing file: empty ledger).
pub fn load(path: &Path) -> Result<Vec<LedgerEntry>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(VaultError::Io { op: "read", path: path.to_path_buf(), source: e }),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let e: LedgerEntry = serde_json::from_str(line)
            .map_err(|_| VaultError::StateFile { path: path.to_path_buf(), line: i + 1 })?;
        out.push(e);
    }
    Ok(out)
}

/// Append an entry: the whole file is rewritten atomically with the new line at the end.
pub fn append(path: &Path, entry: &LedgerEntry) -> Result<()> {
    let mut text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(VaultError::Io { op: "read", path: path.to_path_buf(), source: e }),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let line = serde_json::to_string(entry).map_err(|e| VaultError::Io {
        op: "write",
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    text.push_str(&line);
    text.push('\n');
    write_atomic(path, text.as_bytes()).map_err(io_err("write", path))
}

/// The result of checking a folder against a ledger entry.
#[derive(Debug, Clone, Serialize, Default)]
pub struct VerifyReport {
    pub id: String,
    pub ok: bool,
    pub matched: Vec<String>,
    /// Files whose hash differs.
    pub changed: Vec<String>,
    /// Files the export wrote that are gone.
    pub missing: Vec<String>,
    /// Files in the folder the export did not write.
    pub extra: Vec<String>,
}

/// Check that `dir` holds exactly the files of `entry`, byte for byte.
pub fn verify(entry: &LedgerEntry, dir: &Path) -> Result<VerifyReport> {
    if !dir.is_dir() {
        return Err(VaultError::Io {
            op: "open",
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        });
    }
    let mut on_disk: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for ent in fs::read_dir(&d).map_err(io_err("list", &d))?.flatten() {
            let p = ent.path();
            let Ok(ft) = ent.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).map(crate::vault::rel_string).unwrap_or_default();
                on_disk.insert(rel, p);
            }
        }
    }
    let mut r = VerifyReport { id: entry.id.clone(), ..Default::default() };
    for f in &entry.files {
        match on_disk.remove(&f.path) {
            None => r.missing.push(f.path.clone()),
            Some(p) => {
                let bytes = fs::read(&p).map_err(io_err("read", &p))?;
                if sha256_hex(&bytes) == f.sha256 {
                    r.matched.push(f.path.clone());
                } else {
                    r.changed.push(f.path.clone());
                }
            }
        }
    }
    r.extra = on_disk.into_keys().collect();
    r.ok = r.changed.is_empty() && r.missing.is_empty() && r.extra.is_empty();
    Ok(r)
}

/// A short, sortable, unique id: `YYYYMMDD-HHMMSS-` plus 6 hex digits of a hash.
pub(crate) fn new_id(time: &str, salt: &str) -> String {
    let compact: String = time.chars().filter(|c| c.is_ascii_digit()).collect();
    let (date, clock) = compact.split_at(compact.len().min(8));
    let h = sha256_hex(format!("{time}\u{1f}{salt}\u{1f}{:?}", std::time::SystemTime::now()).as_bytes());
    format!("{date}-{clock}-{}", &h[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> LedgerEntry {
        LedgerEntry {
            id: id.into(),
            time: "2026-11-29T20:00:00Z".into(),
            level: Level::Medium,
            format: Format::Markdown,
            to: PathBuf::from("/tmp/x"),
            notes: vec![LedgerNote { path: "a.md".into(), sha256: "00".into() }],
            terms: Terms {
                recipient: Some("ACME".into()),
                until: Some("2027-01-01".into()),
                ..Default::default()
            },
            files: vec![],
            withheld: vec![],
            shingles: vec![1, 2, 3],
        }
    }

    #[test]
    fn append_and_load_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.jsonl");
        append(&p, &entry("a")).unwrap();
        append(&p, &entry("b")).unwrap();
        let all = load(&p).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], entry("b"));
    }

    #[test]
    fn damaged_ledger_is_an_error_not_an_empty_ledger() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.jsonl");
        fs::write(&p, "{not json\n").unwrap();
        assert!(matches!(load(&p), Err(VaultError::StateFile { line: 1, .. })));
    }

    #[test]
    fn ids_are_shaped() {
        let id = new_id("2026-11-29T20:05:44Z", "x");
        assert!(id.starts_with("20261129-200544-"), "{id}");
        assert_eq!(id.len(), 22);
    }
}
