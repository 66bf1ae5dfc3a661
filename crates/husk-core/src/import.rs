//! Import: bring a colleague-skill folder into the vault as ordinary notes that keep their
//! structure. Both layouts are read — legacy `colleagues/{slug}/` and current
//! `skills/colleague/{slug}/` (SKILL.md, work.md, persona.md, meta.json, versions/) — as well as a
//! single such folder or a plain folder of markdown. Markdown files are copied verbatim into
//! `<vault>/colleagues/{slug}/`; `meta.json` becomes a `meta.md` note (its fields as markdown
//! plus the original JSON in a code block, so an export can rebuild it). Everything is checked
//! before the first write, and an existing different note is never overwritten.

use crate::vault::{io_err, read_note_file, rel_string, write_atomic, Result, Vault, VaultError};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Why an import was refused. Carries paths, never note text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("no colleague-skill folder or markdown found in {path} (expected colleagues/{{slug}}/, skills/colleague/{{slug}}/, or a folder with SKILL.md, work.md, persona.md or meta.json)")]
    NothingToImport { path: PathBuf },
    #[error("{path} is not valid JSON")]
    BadMeta { path: PathBuf },
    #[error("{note} already exists in the vault with different content; move it away first")]
    Exists { note: String },
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    pub colleagues: Vec<String>,
    /// Vault-relative notes written.
    pub notes: Vec<String>,
    /// Notes already present with identical content.
    pub unchanged: Vec<String>,
    /// Source files that are not markdown or meta.json, left out.
    pub skipped: Vec<String>,
}

const MARKERS: &[&str] = &["SKILL.md", "work.md", "persona.md", "meta.json"];

fn is_colleague_dir(p: &Path) -> bool {
    MARKERS.iter().any(|m| p.join(m).is_file())
}

fn subdirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir() && !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The colleague folders under `dir`, with their slugs.
fn find_colleagues(dir: &Path) -> Vec<(String, PathBuf)> {
    let slug = |p: &Path| {
        p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "colleague".into())
    };
    if is_colleague_dir(dir) {
        return vec![(slug(dir), dir.to_path_buf())];
    }
    let mut out = Vec::new();
    for base in [dir.join("colleagues"), dir.join("skills").join("colleague"), dir.to_path_buf()] {
        for d in subdirs(&base) {
            if is_colleague_dir(&d) && !out.iter().any(|(_, p): &(String, PathBuf)| *p == d) {
                out.push((slug(&d), d));
            }
        }
    }
    if out.is_empty() && has_markdown(dir) {
        out.push((slug(dir), dir.to_path_buf()));
    }
    out
}

fn has_markdown(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|e| crate::vault::is_note_name(&e.path()) && e.path().is_file()))
        .unwrap_or(false)
}

/// Every file under `dir` (relative paths), hidden entries skipped.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).map_err(io_err("list", &d))?.flatten() {
            if e.file_name().to_str().is_none_or(|n| n.starts_with('.')) {
                continue;
            }
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.push(p.strip_prefix(dir).map(Path::to_path_buf).unwrap_or(p));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::Object(o) => o.values().flat_map(strings).collect(),
        serde_json::Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

/// A `meta.md` note from a colleague-skill `meta.json`.
fn meta_note(slug: &str, meta: &serde_json::Value) -> String {
    let name = meta.get("display_name").or_else(|| meta.get("name")).and_then(|v| v.as_str()).unwrap_or(slug);
    let mut s = format!(
        "---\ntitle: {}\nsource: colleague-skill\nslug: {}\n---\n\n# {name}\n",
        yaml_str(&format!("{name} (meta)")),
        yaml_str(slug)
    );
    if let Some(p) = meta.get("profile").and_then(|v| v.as_object()).filter(|o| !o.is_empty()) {
        s.push_str("\n## Profile\n\n");
        for (k, v) in p {
            let vals = strings(v);
            if !vals.is_empty() {
                s.push_str(&format!("- {k}: {}\n", vals.join(", ")));
            }
        }
    }
    if let Some(i) = meta.get("impression").and_then(|v| v.as_str()).filter(|s| !s.trim().is_empty()) {
        s.push_str(&format!("\n## Impression\n\n{}\n", i.trim()));
    }
    if let Some(t) = meta.get("tags") {
        let mut lines = String::new();
        match t {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    let vals = strings(v);
                    if !vals.is_empty() {
                        lines.push_str(&format!("- {k}: {}\n", vals.join(", ")));
                    }
                }
            }
            other => {
                for v in strings(other) {
                    lines.push_str(&format!("- {v}\n"));
                }
            }
        }
        if !lines.is_empty() {
            s.push_str(&format!("\n## Tags\n\n{lines}"));
        }
    }
    let ks = meta.get("knowledge_sources").map(strings).unwrap_or_default();
    if !ks.is_empty() {
        s.push_str("\n## Knowledge sources\n\n");
        for k in ks {
            s.push_str(&format!("- {k}\n"));
        }
    }
    let pretty = serde_json::to_string_pretty(meta).unwrap_or_else(|_| "{}".into());
    s.push_str(&format!("\n## meta.json\n\n```json\n{pretty}\n```\n"));
    s
}

impl Vault {
    /// Import a colleague-skill folder (either layout) as notes under `colleagues/{slug}/`.
    pub fn import_colleague(&mut self, dir: &Path) -> Result<ImportReport> {
        if !dir.is_dir() {
            return Err(ImportError::NotAFolder { path: dir.to_path_buf() }.into());
        }
        let found = find_colleagues(dir);
        if found.is_empty() {
            return Err(ImportError::NothingToImport { path: dir.to_path_buf() }.into());
        }
        // Plan every write, reading and checking each source first.
        let mut plan: Vec<(String, String)> = Vec::new();
        let mut report = ImportReport::default();
        for (slug, src_dir) in &found {
            report.colleagues.push(slug.clone());
            let slug_dir = crate::export::skill_name_from(slug);
            let slug_dir = if slug.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
                slug.clone()
            } else {
                slug_dir
            };
            for rel in files_under(src_dir)? {
                let abs = src_dir.join(&rel);
                let rel_s = rel_string(&rel);
                let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if crate::vault::is_note_name(&rel) {
                    let text = read_note_file(&abs)?;
                    plan.push((format!("colleagues/{slug_dir}/{rel_s}"), text));
                } else if name == "meta.json" {
                    let bytes = fs::read(&abs).map_err(io_err("read", &abs))?;
                    let v: serde_json::Value = serde_json::from_slice(&bytes)
                        .map_err(|_| ImportError::BadMeta { path: abs.clone() })?;
                    let note = rel.with_file_name("meta.md");
                    plan.push((format!("colleagues/{slug_dir}/{}", rel_string(&note)), meta_note(slug, &v)));
                } else {
                    report.skipped.push(abs.display().to_string());
                }
            }
        }
        let mut writes = Vec::new();
        for (rel, text) in plan {
            let target = self.root().join(&rel);
            match fs::read(&target) {
                Ok(existing) if existing == text.as_bytes() => report.unchanged.push(rel),
                Ok(_) => return Err(ImportError::Exists { note: rel }.into()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => writes.push((rel, text)),
                Err(e) => return Err(VaultError::Io { op: "read", path: target, source: e }),
            }
        }
        for (rel, text) in &writes {
            let target = self.root().join(rel);
            if let Some(d) = target.parent() {
                fs::create_dir_all(d).map_err(io_err("create", d))?;
            }
            write_atomic(&target, text.as_bytes()).map_err(io_err("write", &target))?;
            report.notes.push(rel.clone());
        }
        self.refresh_paths(&report.notes)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_note_keeps_fields_and_raw_json() {
        let v = serde_json::json!({"name": "Zhang San", "impression": "直接", "tags": {"personality": ["calm"]}, "knowledge_sources": ["wiki"]});
        let n = meta_note("zhangsan", &v);
        assert!(n.contains("# Zhang San"));
        assert!(n.contains("## Impression\n\n直接"));
        assert!(n.contains("- personality: calm"));
        assert!(n.contains("```json"));
    }
}
