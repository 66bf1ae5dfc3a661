//! Exports: turn selected vault notes into husks in a real skill format — an Agent Skills folder
//! (`skill`), colleague-skill's layout (`colleague`) or a plain mirror (`markdown`) — write them
//! atomically outside the vault (staged in a sibling folder, then renamed into place), and record
//! the export in the ledger. Every piece of free text that leaves the vault (bodies, the skill
//! `description`, meta.json content fields) goes through the sanitizer; a `husk: private` note
//! stops the export before anything is written.

use crate::husk::{sanitize, sanitize_fragment, Husk, SanitizeError, SanitizeOptions};
use crate::ledger::{self, Format, LedgerEntry, LedgerFile, LedgerNote, Withheld};
use crate::markdown::{self, BlockKind, Region};
use crate::model::{Forced, Level};
use crate::vault::{io_err, is_valid_date, now_rfc3339, sha256_hex, sync_dir, Result, Vault, VaultError};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an export was refused. Carries paths and names, never note text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("refusing to export into the vault ({to} is inside {vault}); exports go outside the vault")]
    InsideVault { to: PathBuf, vault: PathBuf },
    #[error("{to} already exists; pass --force to replace it")]
    Exists { to: PathBuf },
    #[error("{to} exists and is not an earlier Husk export; refusing to replace it, even with --force")]
    NotAnExport { to: PathBuf },
    #[error("invalid --until date {value:?}: expected a real date written YYYY-MM-DD")]
    BadDate { value: String },
    #[error("the skill folder name {name:?} is not a valid skill name: use 1-64 characters of a-z, 0-9 and single hyphens, not at either end (for example {suggestion:?})")]
    BadSkillName { name: String, suggestion: String },
    #[error("nothing to export: name at least one note")]
    NoNotes,
    #[error("cannot export {note}")]
    Sanitize { note: String, source: SanitizeError },
}

/// What to export and where (also accepted as JSON from the desktop app; missing optional
/// fields default).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ExportRequest {
    /// Vault-relative note paths (see [`Vault::resolve_selection`]).
    pub notes: Vec<String>,
    pub level: Level,
    pub format: Format,
    /// The export folder. For `skill` its name is the skill's `name`.
    pub to: PathBuf,
    #[serde(default)]
    pub force: bool,
    #[serde(flatten, default)]
    pub terms: crate::ledger::Terms,
    #[serde(default)]
    pub seed: u64,
}

impl ExportRequest {
    pub fn new(notes: Vec<String>, level: Level, format: Format, to: PathBuf) -> Self {
        Self { notes, level, format, to, force: false, terms: Default::default(), seed: 0 }
    }
}

/// True for an Agent Skills `name`: 1–64 of `[a-z0-9-]`, no leading, trailing or double hyphen.
pub fn is_valid_skill_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The closest valid skill name to `s` (lowercased, other characters become single hyphens).
pub fn skill_name_from(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(64).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "notes".into()
    } else {
        out
    }
}

/// One note made into a husk.
struct Done {
    rel: String,
    src: String,
    husk: Husk,
}

/// Remove the front matter from a markdown text.
fn body_of(text: &str) -> &str {
    match markdown::block_map(text).front_matter {
        Some(r) => text[r.end..].trim_start_matches(['\n', '\r']),
        None => text,
    }
}

fn stem(rel: &str) -> String {
    Path::new(rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn title_of(src: &str, rel: &str) -> String {
    let map = markdown::block_map(src);
    map.headings
        .first()
        .map(|r| src[r.clone()].trim_start_matches('#').trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| stem(rel))
}

/// A one-line description for a skill: the note's front matter `description`, else its first
/// sentences or list items — only blocks the husk keeps verbatim, never a private region or an
/// overridden block — then sanitized again as a fragment.
fn description_of(
    d: &Done,
    overrides: &crate::husk::Overrides,
    level: Level,
    seed: u64,
    fallback: &str,
) -> String {
    let map = markdown::block_map(&d.src);
    let kept: std::collections::HashSet<usize> =
        d.husk.blocks.iter().filter(|o| o.action == crate::model::Action::Keep).map(|o| o.start).collect();
    let mut text = String::new();
    for b in &map.blocks {
        if b.region == Region::Private
            || !matches!(b.kind, BlockKind::Description | BlockKind::Sentence | BlockKind::ListItem { .. })
        {
            continue;
        }
        // Only text the husk itself keeps verbatim may describe it.
        if !kept.contains(&b.range.start) {
            continue;
        }
        let t = &d.src[b.range.clone()];
        if matches!(
            overrides.get(&markdown::fingerprint(&map.sections[b.section].path, t)),
            Some(Forced::Private | Forced::Hollow)
        ) {
            continue;
        }
        if map.private.iter().any(|r| r.contains(&b.range.start)) {
            continue;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(t);
        if matches!(b.kind, BlockKind::Description | BlockKind::ListItem { .. }) || text.chars().count() > 160
        {
            break;
        }
    }
    let mut desc = sanitize_fragment(&text, level, seed).split_whitespace().collect::<Vec<_>>().join(" ");
    // Agent Skills loaders reject XML-like tags in descriptions.
    desc = desc.replace(['<', '>'], "");
    if desc.trim().is_empty() {
        desc = fallback.split_whitespace().collect::<Vec<_>>().join(" ").replace(['<', '>'], "");
    }
    if desc.chars().count() > 1024 {
        desc = desc.chars().take(1023).collect::<String>().trim_end().to_string();
        desc.push('…');
    }
    desc
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn skill_md(name: &str, description: &str, body: &str) -> String {
    let mut s = format!("---\nname: {name}\ndescription: {}\n---\n\n", yaml_str(description));
    s.push_str(body.trim_end());
    s.push('\n');
    s
}

fn sanitize_json(v: &mut serde_json::Value, key: Option<&str>, level: Level, seed: u64) {
    match v {
        serde_json::Value::String(s)
            if !key.is_some_and(|k| crate::lexicon::lexicon().meta.structural.iter().any(|x| x == k))
                && !s.trim().is_empty() =>
        {
            *s = sanitize_fragment(s, level, seed);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| sanitize_json(x, key, level, seed)),
        serde_json::Value::Object(o) => {
            o.iter_mut().for_each(|(k, x)| sanitize_json(x, Some(k), level, seed))
        }
        _ => {}
    }
}

/// The raw meta.json kept in an imported `meta.md` note (its first ```json block).
fn meta_json_of(src: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let start = src.find("```json")?;
    let rest = &src[start + 7..];
    let body_start = rest.find('\n')? + 1;
    let end = rest[body_start..].find("```")?;
    serde_json::from_str::<serde_json::Value>(&rest[body_start..body_start + end]).ok()?.as_object().cloned()
}

impl Vault {
    /// Make a husk of the selected notes in the requested format, write it atomically to
    /// `req.to`, and record it in the ledger. Nothing is written when any check fails.
    pub fn export(&mut self, req: &ExportRequest) -> Result<LedgerEntry> {
        if req.notes.is_empty() {
            return Err(ExportError::NoNotes.into());
        }
        self.sync_overrides()?;
        if let Some(u) = &req.terms.until {
            if !is_valid_date(u) {
                return Err(ExportError::BadDate { value: u.clone() }.into());
            }
        }
        let to = absolute(&req.to);
        let real = resolved(&to);
        if real.starts_with(self.root()) || self.root().starts_with(&real) {
            return Err(ExportError::InsideVault { to, vault: self.root().to_path_buf() }.into());
        }
        let (exists, is_dir) = match fs::symlink_metadata(&to) {
            Ok(m) if m.is_dir() => (fs::read_dir(&to).map_err(io_err("open", &to))?.next().is_some(), true),
            Ok(_) => (true, false),
            Err(_) => (false, false),
        };
        if exists && !req.force {
            return Err(ExportError::Exists { to }.into());
        }
        // --force replaces only an earlier export: never a file, never some other folder.
        if exists && !(is_dir && self.ledger()?.iter().any(|e| resolved(&e.to) == real)) {
            return Err(ExportError::NotAnExport { to }.into());
        }
        let folder = to.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = match req.format {
            Format::Skill => {
                if !is_valid_skill_name(&folder) {
                    return Err(ExportError::BadSkillName {
                        suggestion: skill_name_from(&folder),
                        name: folder,
                    }
                    .into());
                }
                folder.clone()
            }
            _ => skill_name_from(&folder),
        };

        // Make every husk first: a private note or a leak stops the export before any write.
        let mut done = Vec::new();
        for rel in &req.notes {
            let src = self.read_note(rel)?;
            // Checked here as well as in the engine: a private note never leaves the vault.
            if markdown::block_map(&src).visibility == crate::model::Visibility::Private {
                return Err(
                    ExportError::Sanitize { note: rel.clone(), source: SanitizeError::PrivateNote }.into()
                );
            }
            let mut opts = SanitizeOptions::new(req.level);
            opts.seed = req.seed;
            opts.overrides = self.overrides_for(rel);
            let husk = sanitize(&src, &opts)
                .map_err(|source| ExportError::Sanitize { note: rel.clone(), source })?;
            done.push(Done { rel: rel.clone(), src, husk });
        }

        let files = match req.format {
            Format::Markdown => {
                done.iter().map(|d| (d.rel.clone(), d.husk.text.clone().into_bytes())).collect()
            }
            Format::Skill => self.skill_files(&name, &done, req),
            Format::Colleague => self.colleague_files(&name, &done, req),
        };

        write_folder(&to, &files)?;

        let time = now_rfc3339();
        let mut all_shingles = Vec::new();
        for (_, bytes) in &files {
            all_shingles
                .extend(crate::trace::sample(&crate::trace::shingles(&String::from_utf8_lossy(bytes))));
        }
        all_shingles.sort_unstable();
        all_shingles.dedup();
        let mut withheld = Vec::new();
        for d in &done {
            let mut shown = crate::trace::HuskShingles::new(&d.husk.text);
            for b in &d.husk.blocks {
                if !b.action.withholds() {
                    continue;
                }
                let original = d.src.get(b.start..b.end).unwrap_or("");
                let (shingles, tokens) = crate::trace::withheld_shingles(original, &mut shown);
                withheld.push(Withheld {
                    note: d.rel.clone(),
                    start: b.start,
                    end: b.end,
                    line: b.line,
                    category: b.category,
                    action: b.action,
                    rule: b.rule.to_string(),
                    sha256: b.sha256.to_string(),
                    shingles,
                    tokens,
                });
            }
        }
        let entry = LedgerEntry {
            id: ledger::new_id(&time, &to.display().to_string()),
            time,
            level: req.level,
            format: req.format,
            to: to.clone(),
            notes: done
                .iter()
                .map(|d| LedgerNote { path: d.rel.clone(), sha256: sha256_hex(d.src.as_bytes()) })
                .collect(),
            terms: req.terms.clone(),
            files: files
                .iter()
                .map(|(p, b)| LedgerFile { path: p.clone(), size: b.len() as u64, sha256: sha256_hex(b) })
                .collect(),
            withheld,
            shingles: all_shingles,
        };
        ledger::append(&self.state_dir().join("ledger.jsonl"), &entry)?;
        self.mirror_ledger(false)?;
        Ok(entry)
    }

    fn skill_files(&self, name: &str, done: &[Done], req: &ExportRequest) -> Vec<(String, Vec<u8>)> {
        let main = &done[0];
        let fallback = format!("Working notes on {}.", title_of(&main.src, &main.rel));
        let desc = description_of(main, &self.overrides_for(&main.rel), req.level, req.seed, &fallback);
        let mut body = body_of(&main.husk.text).to_string();
        let mut files = Vec::new();
        if done.len() > 1 {
            let mut used = std::collections::HashSet::new();
            let mut links = String::from("\n\n## References\n\n");
            for d in &done[1..] {
                let mut file = skill_name_from(&stem(&d.rel));
                let base = file.clone();
                let mut n = 2;
                while !used.insert(file.clone()) {
                    file = format!("{base}-{n}");
                    n += 1;
                }
                let path = format!("references/{file}.md");
                links.push_str(&format!("- [{}]({path})\n", title_of(&d.src, &d.rel)));
                files.push((path, body_of(&d.husk.text).to_string().into_bytes()));
            }
            body = format!("{}{}", body.trim_end(), links);
        }
        files.insert(0, ("SKILL.md".to_string(), skill_md(name, &desc, &body).into_bytes()));
        files
    }

    fn colleague_files(&self, name: &str, done: &[Done], req: &ExportRequest) -> Vec<(String, Vec<u8>)> {
        let mut work = Vec::new();
        let mut persona = Vec::new();
        let mut meta: Option<&Done> = None;
        for d in done {
            match stem(&d.rel).to_lowercase().as_str() {
                "persona" => persona.push(body_of(&d.husk.text).trim_end().to_string()),
                "meta" => meta = Some(d),
                "skill" => {}
                _ => work.push(body_of(&d.husk.text).trim_end().to_string()),
            }
        }
        let work_md = if work.is_empty() {
            "# Work\n\nNo work notes were included in this export.".to_string()
        } else {
            work.join("\n\n")
        };
        let persona_md = if persona.is_empty() {
            "# Persona\n\nNo persona notes were included in this export.".to_string()
        } else {
            persona.join("\n\n")
        };
        let role = |d: &&Done| match stem(&d.rel).to_lowercase().as_str() {
            "work" => 0,
            "meta" | "skill" => 3,
            "persona" => 2,
            _ => 1,
        };
        let first = done.iter().min_by_key(role).unwrap_or(&done[0]);
        let desc = description_of(
            first,
            &self.overrides_for(&first.rel),
            req.level,
            req.seed,
            &format!("Work methods and persona of {name}."),
        );
        let display = name.to_string();
        let body = format!(
            "# {display}\n\n## PART A: Work\n\n{}\n\n## PART B: Persona\n\n{}\n\n## How to use\n\nUse PART A for how the work is done and PART B for how to communicate while doing it.\n",
            demote(&work_md),
            demote(&persona_md)
        );
        let now = now_rfc3339();
        let mut m = meta.and_then(|d| meta_json_of(&d.src)).unwrap_or_default();
        m.remove("artifacts");
        m.remove("lifecycle");
        m.remove("generation");
        sanitize_meta(&mut m, req.level, req.seed);
        let mut out = serde_json::Map::new();
        out.insert("name".into(), name.into());
        out.insert("slug".into(), name.into());
        out.insert("created_at".into(), m.remove("created_at").unwrap_or_else(|| now.clone().into()));
        out.insert("updated_at".into(), now.into());
        out.insert("version".into(), m.remove("version").unwrap_or_else(|| "v1".into()));
        out.insert("profile".into(), m.remove("profile").unwrap_or_else(|| serde_json::json!({})));
        out.insert(
            "tags".into(),
            m.remove("tags").unwrap_or_else(|| serde_json::json!({"personality": [], "culture": []})),
        );
        out.insert("impression".into(), m.remove("impression").unwrap_or_else(|| "".into()));
        out.insert(
            "knowledge_sources".into(),
            m.remove("knowledge_sources").unwrap_or_else(|| serde_json::json!([])),
        );
        out.insert("corrections_count".into(), serde_json::json!(0));
        for k in ["name", "slug", "corrections_count"] {
            m.remove(k);
        }
        for (k, v) in m {
            out.insert(k, v);
        }
        let meta_json = serde_json::to_string_pretty(&serde_json::Value::Object(out))
            .unwrap_or_else(|_| "{}".into())
            + "\n";
        vec![
            ("SKILL.md".into(), skill_md(name, &desc, &body).into_bytes()),
            ("work.md".into(), (work_md + "\n").into_bytes()),
            ("persona.md".into(), (persona_md + "\n").into_bytes()),
            ("meta.json".into(), meta_json.into_bytes()),
        ]
    }

    /// Every export, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        ledger::load(&self.state_dir().join("ledger.jsonl"))
    }

    /// One export by id (or unique id prefix).
    pub fn ledger_entry(&self, id: &str) -> Result<LedgerEntry> {
        let all = self.ledger()?;
        let mut hits = all.into_iter().filter(|e| e.id == id || (!id.is_empty() && e.id.starts_with(id)));
        match (hits.next(), hits.next()) {
            (Some(e), None) => Ok(e),
            _ => Err(VaultError::UnknownExport { id: id.to_string() }),
        }
    }

    /// Check a folder against what export `id` wrote.
    pub fn verify_export(&self, id: &str, dir: &Path) -> Result<ledger::VerifyReport> {
        let e = self.ledger_entry(id)?;
        ledger::verify(&e, dir)
    }
}

/// Sanitize meta.json's content fields: every string goes through the sanitizer, then the rules
/// in `assets/rules/export.toml` replace or empty person-describing fields from their level up.
fn sanitize_meta(m: &mut serde_json::Map<String, serde_json::Value>, level: Level, seed: u64) {
    for (k, v) in m.iter_mut() {
        sanitize_json(v, Some(k), level, seed);
    }
    let rules = &crate::lexicon::lexicon().meta;
    let mut root = serde_json::Value::Object(std::mem::take(m));
    for r in rules.replace.iter().filter(|r| level >= r.level) {
        at_path(&mut root, &r.path.split('.').collect::<Vec<_>>(), &mut |v| {
            if v.as_str().is_some_and(|s| !s.trim().is_empty()) {
                let zh = v
                    .as_str()
                    .is_some_and(|s| crate::classify::detect_lang(s) == Some(crate::lexicon::Lang::Zh));
                *v = serde_json::Value::from(if zh { r.zh.as_str() } else { r.en.as_str() });
            }
        });
    }
    for c in rules.clear.iter().filter(|c| level >= c.level) {
        for p in &c.paths {
            at_path(&mut root, &p.split('.').collect::<Vec<_>>(), &mut empty_value);
        }
    }
    if let serde_json::Value::Object(o) = root {
        *m = o;
    }
}

/// Apply `f` to every value at a dotted path (`*` = every element or value).
fn at_path(v: &mut serde_json::Value, path: &[&str], f: &mut dyn FnMut(&mut serde_json::Value)) {
    use serde_json::Value;
    let Some((head, rest)) = path.split_first() else {
        f(v);
        return;
    };
    match (v, *head) {
        (Value::Array(a), "*") => a.iter_mut().for_each(|x| at_path(x, rest, f)),
        (Value::Object(o), "*") => o.values_mut().for_each(|x| at_path(x, rest, f)),
        (Value::Object(o), key) => {
            if let Some(x) = o.get_mut(key) {
                at_path(x, rest, f);
            }
        }
        _ => {}
    }
}

/// Empty a value but keep its shape: "" for strings, [] for arrays, objects emptied member-wise.
fn empty_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => s.clear(),
        Value::Array(a) => a.clear(),
        Value::Object(o) => o.values_mut().for_each(empty_value),
        _ => {}
    }
}

/// Push every heading of a section body two levels down so it nests under the PART headings.
fn demote(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + 32);
    let mut in_code = false;
    for line in md.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_code = !in_code;
        }
        if !in_code
            && t.starts_with('#')
            && t.trim_start_matches('#').starts_with([' ', '\t', '\n'])
            && t.chars().take_while(|c| *c == '#').count() <= 4
        {
            out.push_str("##");
        }
        out.push_str(line);
    }
    out
}

/// `p` made absolute, with `.` and `..` resolved lexically.
fn absolute(p: &Path) -> PathBuf {
    use std::path::Component;
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|c| c.join(p)).unwrap_or_else(|_| p.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `p` with its longest existing ancestor canonicalized (symlinks resolved).
fn resolved(p: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = p.to_path_buf();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (cur.file_name().map(|s| s.to_os_string()), cur.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                cur = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// Write `files` into a staging folder beside `to`, fsync everything, then rename it into place
/// (an existing `to` is moved aside first and removed after).
fn write_folder(to: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let parent = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err("create", parent))?;
    let stage = tempfile::Builder::new()
        .prefix(".husk-export-")
        .tempdir_in(parent)
        .map_err(io_err("write into", parent))?;
    for (rel, bytes) in files {
        let p = stage.path().join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io_err("create", d))?;
        }
        let mut f = fs::File::create(&p).map_err(io_err("write", &p))?;
        f.write_all(bytes).map_err(io_err("write", &p))?;
        f.sync_all().map_err(io_err("write", &p))?;
    }
    let mut dirs: Vec<PathBuf> =
        files.iter().filter_map(|(r, _)| stage.path().join(r).parent().map(Path::to_path_buf)).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        sync_dir(&d);
    }
    let old = if fs::symlink_metadata(to).is_ok() {
        let aside = tempfile::Builder::new()
            .prefix(".husk-old-")
            .tempdir_in(parent)
            .map_err(io_err("write into", parent))?
            .keep();
        fs::remove_dir(&aside).map_err(io_err("write into", parent))?;
        fs::rename(to, &aside).map_err(io_err("replace", to))?;
        Some(aside)
    } else {
        None
    };
    let staged = stage.keep();
    if let Err(e) = fs::rename(&staged, to) {
        if let Some(o) = &old {
            let _ = fs::rename(o, to);
        }
        let _ = fs::remove_dir_all(&staged);
        return Err(VaultError::Io { op: "write", path: to.to_path_buf(), source: e });
    }
    sync_dir(parent);
    if let Some(o) = old {
        if o.is_dir() {
            let _ = fs::remove_dir_all(&o);
        } else {
            let _ = fs::remove_file(&o);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_names() {
        for ok in ["a", "deploy-runbook", "x1-2-3", &"a".repeat(64)] {
            assert!(is_valid_skill_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "发布", &"a".repeat(65)] {
            assert!(!is_valid_skill_name(bad), "{bad}");
        }
        assert_eq!(skill_name_from("Deploy Runbook (v2)"), "deploy-runbook-v2");
        assert_eq!(skill_name_from("发布"), "notes");
        assert!(is_valid_skill_name(&skill_name_from(&"ab-".repeat(40))));
    }

    #[test]
    fn demote_skips_code() {
        assert_eq!(demote("# A\n```\n# not\n```\n## B\n"), "### A\n```\n# not\n```\n#### B\n");
    }

    #[test]
    fn meta_json_is_found_in_an_imported_note() {
        let src = "# meta\n\n```json\n{\"impression\": \"x\", \"slug\": \"s\"}\n```\n";
        let m = meta_json_of(src).unwrap();
        assert_eq!(m["slug"], "s");
    }
}
