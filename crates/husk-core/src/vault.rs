//! The vault: a folder of markdown notes plus Husk's own state in `<vault>/.husk/`. [`Vault`] is
//! the one entry point the CLI and the desktop app use for everything that touches the disk:
//! creating and finding a vault (the way git finds a repository), reading notes safely, keeping
//! the index fresh, search, overrides, exports and the ledger, import, trace and status. The
//! index (`index.db`) is derived data and is rebuilt whenever it is missing or damaged; the
//! overrides (`overrides.json`) and the ledger (`ledger.jsonl`) are not derivable, so they live in
//! their own files, written atomically, and the index only mirrors them.

use crate::husk::{Classified, Overrides};
use crate::index::{Index, IndexError, IndexState, RefreshReport, SearchHit};
use crate::markdown;
use crate::model::Forced;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Name of Husk's state folder inside a vault.
pub const STATE_DIR: &str = ".husk";
/// Largest note Husk reads.
pub const MAX_NOTE_BYTES: u64 = 64 * 1024 * 1024;
/// The environment variable that names a vault when `--vault` is not given.
pub const VAULT_ENV: &str = "HUSK_VAULT";

const CONFIG_TEMPLATE: &str = "# Husk vault settings. Unknown tables are kept and ignored.\n\
[vault]\nversion = 1\n\n[watch]\n# How long a burst of file events must be quiet before the index is updated.\ndebounce_ms = 150\n";

/// Why a vault operation failed. Carries paths and ids, never note text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No `.husk/` folder in the given folder or any folder above it.
    #[error("not inside a Husk vault (searched {start} and every folder above it; run `husk init` or pass --vault)")]
    NotFound { start: PathBuf },
    /// `--vault` or `HUSK_VAULT` names a folder that is not a vault.
    #[error("{path} is not a Husk vault (it has no .husk/ folder; run `husk init {path}`)")]
    NotAVault { path: PathBuf },
    /// A filesystem operation failed.
    #[error("cannot {op} {path}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    /// The note is not in the vault (or not a `.md` file).
    #[error("unknown note {path} (no such markdown note in the vault at {vault})")]
    UnknownNote { path: PathBuf, vault: PathBuf },
    /// The note exists but cannot be read as markdown text.
    #[error("{path} {reason}")]
    BadNote { path: PathBuf, reason: String },
    /// `config.toml` is not valid TOML.
    #[error("{path} is not valid TOML")]
    Config { path: PathBuf, source: toml::de::Error },
    /// `overrides.json` or `ledger.jsonl` is damaged.
    #[error("{path} is damaged (line {line}); it is not derivable, so Husk will not overwrite it: fix or restore it from the kernel")]
    StateFile { path: PathBuf, line: usize },
    /// No block starts on or spans the given line.
    #[error("no block at line {line} of {path} (headings, front matter keys and blank lines are never classified)")]
    NoBlockAtLine { path: PathBuf, line: usize },
    /// No ledger entry has this id (or the prefix is ambiguous).
    #[error("unknown export {id:?} (see `husk ledger` for the ids)")]
    UnknownExport { id: String },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
}

impl VaultError {
    /// A stable, machine-readable code for this error (the desktop app sends `{code, message}`
    /// over IPC, so the UI never matches on message text).
    pub fn code(&self) -> &'static str {
        use crate::export::ExportError as E;
        use crate::import::ImportError as I;
        match self {
            VaultError::NotFound { .. } => "vault_not_found",
            VaultError::NotAVault { .. } => "not_a_vault",
            VaultError::Io { .. } => "io",
            VaultError::UnknownNote { .. } => "unknown_note",
            VaultError::BadNote { .. } => "bad_note",
            VaultError::Config { .. } => "bad_config",
            VaultError::StateFile { .. } => "damaged_state_file",
            VaultError::NoBlockAtLine { .. } => "no_block_at_line",
            VaultError::UnknownExport { .. } => "unknown_export",
            VaultError::Index(_) => "index",
            VaultError::Export(E::InsideVault { .. }) => "export_inside_vault",
            VaultError::Export(E::Exists { .. }) => "export_exists",
            VaultError::Export(E::NotAnExport { .. }) => "not_an_export",
            VaultError::Export(E::BadDate { .. }) => "bad_date",
            VaultError::Export(E::BadSkillName { .. }) => "bad_skill_name",
            VaultError::Export(E::NoNotes) => "no_notes",
            VaultError::Export(E::Sanitize { source: crate::husk::SanitizeError::PrivateNote, .. }) => {
                "private_note"
            }
            VaultError::Export(E::Sanitize { .. }) => "sanitize_refused",
            VaultError::Import(I::NotAFolder { .. }) => "not_a_folder",
            VaultError::Import(I::NothingToImport { .. }) => "nothing_to_import",
            VaultError::Import(I::BadMeta { .. }) => "bad_meta_json",
            VaultError::Import(I::Exists { .. }) => "import_exists",
            VaultError::Watch(_) => "watch",
        }
    }
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

pub(crate) fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> VaultError + 'a {
    move |source| VaultError::Io { op, path: path.to_path_buf(), source }
}

/// How an override command changes one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Force(Forced),
    /// Remove the override: the classifier decides again.
    Auto,
}

impl Mark {
    /// The override this sets, `None` for `Auto`.
    pub fn forced(self) -> Option<Forced> {
        match self {
            Mark::Force(f) => Some(f),
            Mark::Auto => None,
        }
    }
}

impl std::str::FromStr for Mark {
    type Err = crate::model::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            return Ok(Mark::Auto);
        }
        s.parse::<Forced>().map(Mark::Force).map_err(|mut e| {
            e.expected = "keep, hollow, private, auto";
            e
        })
    }
}

/// The result of [`Vault::mark`]: the blocks that changed.
#[derive(Debug, Clone, Serialize)]
pub struct MarkOutcome {
    pub note: String,
    pub line: usize,
    pub blocks: usize,
    pub forced: Option<Forced>,
}

/// What [`Vault::open`] found about the index.
#[derive(Debug, Clone, Serialize)]
pub struct OpenReport {
    pub index: IndexState,
}

/// `husk status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub root: PathBuf,
    pub notes: usize,
    pub private_notes: usize,
    pub blocks: usize,
    /// Notes whose blocks are not yet classified at their current text.
    pub unclassified: usize,
    pub overrides: usize,
    pub exports: usize,
    pub index: IndexState,
    pub index_bytes: u64,
    pub schema_version: i64,
    /// Notes changed since the last export that covered them.
    pub changed_since_export: Vec<String>,
    /// Notes no export has covered yet.
    pub never_exported: usize,
    /// The last kernel (private backup), when the kernel module has recorded one in
    /// The newest kernel in the configured backup folder (`{"path", "time", "size", "verified"}`).
    pub last_kernel: Option<serde_json::Value>,
}

/// A vault on disk with its open index.
pub struct Vault {
    root: PathBuf,
    index: Index,
    overrides: OverrideStore,
    open_state: IndexState,
    /// The refresh that [`Vault::open`] ran after creating or rebuilding the index.
    open_refresh: Option<RefreshReport>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("root", &self.root).finish()
    }
}

impl Vault {
    /// Create a vault in `dir` (created if missing): `.husk/config.toml` and `index.db`, then
    /// index the notes already there. Initialising an existing vault is harmless.
    pub fn init(dir: &Path) -> Result<(Vault, RefreshReport)> {
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        let root = dir.canonicalize().map_err(io_err("open", dir))?;
        let state = root.join(STATE_DIR);
        fs::create_dir_all(&state).map_err(io_err("create", &state))?;
        let cfg = state.join("config.toml");
        if !cfg.exists() {
            write_atomic(&cfg, CONFIG_TEMPLATE.as_bytes()).map_err(io_err("write", &cfg))?;
        }
        let mut v = Vault::open(&root)?;
        let mut report = match v.open_refresh.take() {
            Some(r) => r,
            None => v.refresh_text()?,
        };
        report.classified += v.classify_pending()?;
        Ok((v, report))
    }

    /// Find the vault: `explicit` (from `--vault`), else `HUSK_VAULT`, else the nearest folder
    /// from `cwd` upward that holds `.husk/`.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(VAULT_ENV).filter(|s| !s.is_empty()).map(PathBuf::from));
        if let Some(p) = named {
            let p = if p.is_absolute() { p } else { cwd.join(p) };
            if p.join(STATE_DIR).is_dir() {
                return p.canonicalize().map_err(io_err("open", &p));
            }
            return Err(VaultError::NotAVault { path: p });
        }
        let start = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
        let mut cur = Some(start.as_path());
        while let Some(d) = cur {
            if d.join(STATE_DIR).is_dir() {
                return Ok(d.to_path_buf());
            }
            cur = d.parent();
        }
        Err(VaultError::NotFound { start })
    }

    /// Open the vault at `root` (a folder holding `.husk/`). A missing or damaged index is rebuilt
    /// from the notes (text pass only: search works at once; call [`Vault::refresh`] or
    /// [`Vault::classify_pending`] for the blocks); [`Vault::open_state`] says whether that
    /// happened and why.
    pub fn open(root: &Path) -> Result<Vault> {
        let root = root.canonicalize().map_err(io_err("open", root))?;
        let state = root.join(STATE_DIR);
        if !state.is_dir() {
            return Err(VaultError::NotAVault { path: root });
        }
        let overrides = OverrideStore::load(&state.join("overrides.json"))?;
        let (index, open_state) = Index::open(&state.join("index.db"))?;
        let mut v = Vault { root, index, overrides, open_state, open_refresh: None };
        // The index mirrors the non-derivable files; re-mirror whichever changed since.
        match v.mirror(false) {
            Ok(()) => {}
            Err(e) if e.is_corrupt() => {
                v.rebuild(e.describe())?;
                return Ok(v);
            }
            Err(e) => return Err(e.into()),
        }
        if !matches!(v.open_state, IndexState::Ok) {
            v.open_refresh = Some(v.refresh_text()?);
        }
        Ok(v)
    }

    /// Copy `overrides.json` and `ledger.jsonl` into their index tables when they changed since
    /// the last copy (or always, with `force`).
    fn mirror(&mut self, force: bool) -> Result<(), IndexError> {
        let ov_path = self.state_dir().join("overrides.json");
        let stamp = stamp_of(&ov_path);
        if force || self.index.mirror_stamp("overrides.json")?.as_deref() != Some(stamp.as_str()) {
            self.index.set_overrides(self.overrides.iter(), &stamp)?;
        }
        self.mirror_ledger(force)
    }

    pub(crate) fn mirror_ledger(&mut self, force: bool) -> Result<(), IndexError> {
        let path = self.state_dir().join("ledger.jsonl");
        let stamp = stamp_of(&path);
        if force || self.index.mirror_stamp("ledger.jsonl")?.as_deref() != Some(stamp.as_str()) {
            // A damaged ledger is reported by the commands that read it; the mirror stays as is.
            if let Ok(entries) = crate::ledger::load(&path) {
                self.index.set_ledger(&entries, &stamp)?;
            }
        }
        Ok(())
    }

    /// Throw the index away and build it again from the notes, the overrides and the ledger.
    fn rebuild(&mut self, reason: String) -> Result<()> {
        self.index.reset()?;
        self.mirror(true)?;
        let files = scan_notes(&self.root)?;
        self.open_refresh = Some(self.index.refresh(&self.root, files)?);
        self.open_state = IndexState::Rebuilt(reason);
        Ok(())
    }

    /// Discover and open in one step.
    pub fn open_from(explicit: Option<&Path>, cwd: &Path) -> Result<Vault> {
        let root = Vault::discover(explicit, cwd)?;
        Vault::open(&root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    pub fn index_path(&self) -> PathBuf {
        self.state_dir().join("index.db")
    }

    /// What opening found: `Ok`, `Created`, or `Rebuilt` with the reason.
    pub fn open_state(&self) -> &IndexState {
        &self.open_state
    }

    /// The parsed `config.toml`, leniently: any table is allowed (the kernel reads `[kernel]`).
    pub fn config(&self) -> Result<toml::Table> {
        let p = self.state_dir().join("config.toml");
        match fs::read_to_string(&p) {
            Ok(s) => toml::from_str(&s).map_err(|source| VaultError::Config { path: p, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
            Err(e) => Err(VaultError::Io { op: "read", path: p, source: e }),
        }
    }

    /// Replace one table of `.husk/config.toml` (other tables untouched), atomically.
    pub fn set_config_table(&self, name: &str, table: toml::Table) -> Result<()> {
        let mut doc = self.config()?;
        doc.insert(name.to_string(), toml::Value::Table(table));
        let p = self.state_dir().join("config.toml");
        let text = toml::to_string_pretty(&doc).map_err(|e| VaultError::Io {
            op: "write",
            path: p.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&p, text.as_bytes()).map_err(|e| VaultError::Io { op: "write", path: p, source: e })
    }

    /// Save a note's new text atomically (temp file, fsync, rename) and re-index it at once.
    pub fn save_note(&mut self, rel: &str, text: &str) -> Result<()> {
        let file = self.note_path(rel);
        write_atomic(&file, text.as_bytes()).map_err(|e| VaultError::Io {
            op: "write",
            path: file.clone(),
            source: e,
        })?;
        self.refresh_paths(&[rel.to_string()])?;
        Ok(())
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// Bring the index up to date with the notes on disk: [`Vault::refresh_text`], then
    /// [`Vault::classify_pending`]. Only changed files are read.
    pub fn refresh(&mut self) -> Result<RefreshReport> {
        let mut r = self.refresh_text()?;
        r.classified += self.classify_pending()?;
        Ok(r)
    }

    /// First pass: read changed notes and update their text, hash and full-text entry in one
    /// transaction. Search is up to date when it returns; block classification (the slow part,
    /// about 0.4 ms a note) is left to [`Vault::classify_pending`], which the desktop app can run
    /// in the background. A damaged index found on the way is rebuilt (see [`Vault::open_state`]).
    pub fn refresh_text(&mut self) -> Result<RefreshReport> {
        let files = scan_notes(&self.root)?;
        match self.index.refresh(&self.root, files) {
            Ok(r) => Ok(r),
            Err(e) if e.is_corrupt() => {
                self.rebuild(e.describe())?;
                Ok(self.open_refresh.clone().unwrap_or_default())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Second pass: classify the blocks of every note whose text or overrides changed since its
    /// blocks were stored. Returns how many notes were classified.
    pub fn classify_pending(&mut self) -> Result<usize> {
        self.sync_overrides()?;
        let ov = &self.overrides;
        Ok(self.index.classify_pending(&|p| ov.for_note(p))?)
    }

    /// Notes whose blocks are waiting for [`Vault::classify_pending`].
    pub fn pending_classification(&self) -> Result<usize> {
        Ok(self.index.pending()?)
    }

    /// Re-index the given vault-relative paths (files or folders; missing ones are removed),
    /// both passes.
    pub fn refresh_paths(&mut self, rels: &[String]) -> Result<RefreshReport> {
        let mut r = self.index.refresh_paths(&self.root, rels)?;
        r.classified += self.classify_pending()?;
        Ok(r)
    }

    /// Every note in the index, as vault-relative paths with `/` separators, sorted.
    pub fn notes(&self) -> Result<Vec<String>> {
        Ok(self.index.note_paths()?)
    }

    /// Every note with its title and visibility, sorted by path (the desktop note tree).
    pub fn note_list(&self) -> Result<Vec<crate::index::NoteInfo>> {
        Ok(self.index.note_infos()?)
    }

    /// The husk of one note at `level` with its stored overrides, without writing anything
    /// (the desktop's side-by-side preview). A `husk: private` note is refused.
    pub fn preview(&self, rel: &str, level: crate::model::Level) -> Result<crate::husk::Husk> {
        let src = self.read_note(rel)?;
        let mut opts = crate::husk::SanitizeOptions::new(level);
        opts.overrides = self.overrides_for(rel);
        crate::husk::sanitize(&src, &opts)
            .map_err(|source| crate::export::ExportError::Sanitize { note: rel.to_string(), source }.into())
    }

    /// Full-text search, ranked best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        Ok(self.index.search(query, limit)?)
    }

    /// Resolve a user-given note path (relative to `cwd`, or to the vault root) to its
    /// vault-relative form. The note must exist and be a `.md` file inside the vault.
    pub fn resolve_note(&self, given: &Path, cwd: &Path) -> Result<String> {
        let unknown = || VaultError::UnknownNote { path: given.to_path_buf(), vault: self.root.clone() };
        let candidates = if given.is_absolute() {
            vec![given.to_path_buf()]
        } else {
            vec![cwd.join(given), self.root.join(given)]
        };
        for c in candidates {
            if let Ok(abs) = c.canonicalize() {
                if let Ok(rel) = abs.strip_prefix(&self.root) {
                    if abs.is_file() && is_note_name(rel) && !is_hidden(rel) {
                        return Ok(rel_string(rel));
                    }
                }
            }
        }
        Err(unknown())
    }

    /// Resolve paths that may name notes or folders of notes; folders expand to every note below.
    pub fn resolve_selection(&self, given: &[PathBuf], cwd: &Path) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for g in given {
            let abs = if g.is_absolute() { g.clone() } else { cwd.join(g) };
            let abs = abs.canonicalize().or_else(|_| self.root.join(g).canonicalize());
            match abs {
                Ok(a) if a.is_dir() => {
                    let rel = a
                        .strip_prefix(&self.root)
                        .map_err(|_| VaultError::UnknownNote { path: g.clone(), vault: self.root.clone() })?;
                    let prefix = rel_string(rel);
                    let mut found: Vec<String> = scan_notes(&self.root)?
                        .into_iter()
                        .map(|f| f.rel)
                        .filter(|r| prefix.is_empty() || r.starts_with(&format!("{prefix}/")))
                        .collect();
                    if found.is_empty() {
                        return Err(VaultError::UnknownNote { path: g.clone(), vault: self.root.clone() });
                    }
                    found.sort();
                    out.extend(found);
                }
                _ => out.push(self.resolve_note(g, cwd)?),
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        Ok(out)
    }

    /// Absolute path of a vault-relative note path.
    pub fn note_path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Read a note (vault-relative path) as text, refusing folders, huge, binary and non-UTF-8 files.
    pub fn read_note(&self, rel: &str) -> Result<String> {
        read_note_file(&self.note_path(rel))
    }

    /// The user's overrides for one note.
    pub fn overrides_for(&self, rel: &str) -> Overrides {
        self.overrides.for_note(rel)
    }

    /// Every block of a note with the stored overrides applied.
    pub fn classify(&self, rel: &str) -> Result<Vec<Classified>> {
        let src = self.read_note(rel)?;
        Ok(crate::husk::classify_note(&src, &self.overrides_for(rel)))
    }

    /// Force every block on `line` (1-based) of note `rel` to keep, hollow or private, or remove
    /// the override (`Mark::Auto`). Saved to `.husk/overrides.json` atomically, then mirrored.
    pub fn mark(&mut self, rel: &str, line: usize, mark: Mark) -> Result<MarkOutcome> {
        let src = self.read_note(rel)?;
        let map = markdown::block_map(&src);
        let li = markdown::LineIndex::new(&src);
        let line_range = li
            .line_range(line)
            .ok_or_else(|| VaultError::NoBlockAtLine { path: PathBuf::from(rel), line })?;
        let fps: Vec<String> = map
            .blocks
            .iter()
            .filter(|b| {
                let (end_line, _) = li.locate(b.range.end.saturating_sub(1).max(b.range.start));
                (b.line <= line && line <= end_line)
                    || (b.range.start < line_range.end.max(line_range.start + 1)
                        && b.range.end > line_range.start)
            })
            .map(|b| markdown::fingerprint(&map.sections[b.section].path, &src[b.range.clone()]).to_string())
            .collect();
        if fps.is_empty() {
            return Err(VaultError::NoBlockAtLine { path: PathBuf::from(rel), line });
        }
        self.apply_marks(rel, &fps, mark)?;
        Ok(MarkOutcome { note: rel.to_string(), line, blocks: fps.len(), forced: mark.forced() })
    }

    /// Override one block by its fingerprint (as given by [`Vault::classify`]): what the
    /// desktop app calls when the user clicks a block.
    pub fn mark_block(&mut self, rel: &str, fingerprint: &str, mark: Mark) -> Result<()> {
        self.read_note(rel)?;
        self.apply_marks(rel, &[fingerprint.to_string()], mark)
    }

    fn apply_marks(&mut self, rel: &str, fps: &[String], mark: Mark) -> Result<()> {
        self.sync_overrides()?;
        let mut next = self.overrides.clone();
        for fp in fps {
            next.set(rel, fp, mark.forced());
        }
        next.save()?;
        self.overrides = next;
        let stamp = stamp_of(&self.state_dir().join("overrides.json"));
        self.index.set_overrides(self.overrides.iter(), &stamp)?;
        self.index.invalidate_blocks(rel)?;
        self.refresh_paths(&[rel.to_string()])?;
        Ok(())
    }

    /// Reload `overrides.json` when another process changed it (and re-mirror it, marking the
    /// affected notes for reclassification). Returns true when it did.
    pub fn sync_overrides(&mut self) -> Result<bool> {
        if !self.overrides.changed_on_disk() {
            return Ok(false);
        }
        let fresh = OverrideStore::load(&self.state_dir().join("overrides.json"))?;
        let touched: std::collections::BTreeSet<String> =
            self.overrides.notes.keys().chain(fresh.notes.keys()).cloned().collect();
        self.overrides = fresh;
        let stamp = stamp_of(&self.state_dir().join("overrides.json"));
        self.index.set_overrides(self.overrides.iter(), &stamp)?;
        for rel in touched {
            self.index.invalidate_blocks(&rel)?;
        }
        Ok(true)
    }

    /// Number of overrides stored.
    pub fn override_count(&self) -> usize {
        self.overrides.iter().count()
    }

    /// Notes, index state, changes since the last export, and the last kernel.
    pub fn status(&self) -> Result<Status> {
        let counts = self.index.counts()?;
        let ledger = crate::ledger::load(&self.state_dir().join("ledger.jsonl"))?;
        let mut last_hash: BTreeMap<&str, &str> = BTreeMap::new();
        for e in &ledger {
            for n in &e.notes {
                last_hash.insert(n.path.as_str(), n.sha256.as_str());
            }
        }
        let mut changed = Vec::new();
        let mut never = 0;
        for (path, hash) in self.index.note_hashes()? {
            match last_hash.get(path.as_str()) {
                Some(h) if *h != hash => changed.push(path),
                Some(_) => {}
                None => never += 1,
            }
        }
        // The newest kernel in the configured backup folder (nothing is written into the vault
        // after a backup, so a restore stays byte-identical to what was backed up).
        let last_kernel = crate::kernel::KernelConfig::load(&self.root)
            .ok()
            .and_then(|cfg| cfg.dir)
            .and_then(|dir| crate::kernel::list_kernels(&dir).ok())
            .and_then(|files| files.into_iter().max_by_key(|f| f.created))
            .map(|f| {
                let size = fs::metadata(&f.path).map_or(0, |m| m.len());
                serde_json::json!({
                    "path": f.path,
                    "time": rfc3339(f.created as i64),
                    "size": size,
                    "verified": f.verified,
                })
            });
        Ok(Status {
            root: self.root.clone(),
            notes: counts.notes,
            private_notes: counts.private_notes,
            blocks: counts.blocks,
            unclassified: self.index.pending()?,
            overrides: self.override_count(),
            exports: ledger.len(),
            index: self.open_state.clone(),
            index_bytes: fs::metadata(self.index_path()).map(|m| m.len()).unwrap_or(0),
            schema_version: counts.schema_version,
            changed_since_export: changed,
            never_exported: never,
            last_kernel,
        })
    }

    /// Run the full `PRAGMA integrity_check` (it reads every page: about 1 s for 10,000 notes).
    /// A failing index is deleted and rebuilt from the notes, keeping overrides and the ledger;
    /// the returned state (also [`Vault::open_state`]) says whether that happened and why.
    pub fn verify_index(&mut self) -> Result<IndexState> {
        if let Some(problem) = self.index.integrity()? {
            self.rebuild(format!("integrity check failed: {problem}"))?;
        }
        Ok(self.open_state.clone())
    }
}

/// The overrides of every note, stored in `.husk/overrides.json`.
#[derive(Debug, Clone)]
pub(crate) struct OverrideStore {
    path: PathBuf,
    /// note path → fingerprint → forced
    notes: BTreeMap<String, BTreeMap<String, Forced>>,
    /// Modification time and size of the file when last read or written, to notice another
    /// process (the CLI, the desktop app, a watcher) changing it.
    stamp: Option<(SystemTime, u64)>,
}

/// A file's version as text (mtime in ns and size), "none" when missing.
fn stamp_of(path: &Path) -> String {
    match fs::metadata(path) {
        Ok(m) => format!("{}:{}", mtime_ns(&m), m.len()),
        Err(_) => "none".into(),
    }
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
}

#[derive(serde::Deserialize, Serialize)]
struct OverrideFile {
    version: u32,
    notes: BTreeMap<String, BTreeMap<String, Forced>>,
}

impl OverrideStore {
    fn load(path: &Path) -> Result<Self> {
        let stamp = file_stamp(path);
        let notes = match fs::read(path) {
            Ok(b) => {
                serde_json::from_slice::<OverrideFile>(&b)
                    .map_err(|e| VaultError::StateFile { path: path.to_path_buf(), line: e.line() })?
                    .notes
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(VaultError::Io { op: "read", path: path.to_path_buf(), source: e }),
        };
        Ok(Self { path: path.to_path_buf(), notes, stamp })
    }
    fn changed_on_disk(&self) -> bool {
        file_stamp(&self.path) != self.stamp
    }
    fn save(&mut self) -> Result<()> {
        let f = OverrideFile { version: 1, notes: self.notes.clone() };
        let mut s = serde_json::to_string_pretty(&f).map_err(|e| VaultError::Io {
            op: "write",
            path: self.path.clone(),
            source: e.into(),
        })?;
        s.push('\n');
        write_atomic(&self.path, s.as_bytes()).map_err(io_err("write", &self.path))?;
        self.stamp = file_stamp(&self.path);
        Ok(())
    }
    fn set(&mut self, note: &str, fp: &str, forced: Option<Forced>) {
        match forced {
            Some(f) => {
                self.notes.entry(note.to_string()).or_default().insert(fp.to_string(), f);
            }
            None => {
                if let Some(m) = self.notes.get_mut(note) {
                    m.remove(fp);
                    if m.is_empty() {
                        self.notes.remove(note);
                    }
                }
            }
        }
    }
    pub(crate) fn for_note(&self, note: &str) -> Overrides {
        let mut o = Overrides::new();
        if let Some(m) = self.notes.get(note) {
            for (fp, f) in m {
                o.insert(fp.clone(), *f);
            }
        }
        o
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, Forced)> {
        self.notes.iter().flat_map(|(n, m)| m.iter().map(move |(fp, f)| (n.as_str(), fp.as_str(), *f)))
    }
}

/// A note file found on disk.
#[derive(Debug, Clone)]
pub struct NoteFile {
    /// Vault-relative path with `/` separators.
    pub rel: String,
    pub mtime_ns: i64,
    pub size: u64,
}

/// True for `*.md` names.
pub(crate) fn is_note_name(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("md"))
}

/// True when any component is hidden (`.husk`, `.obsidian`, `.git`, editor temp files).
pub(crate) fn is_hidden(rel: &Path) -> bool {
    rel.components()
        .any(|c| matches!(c, Component::Normal(s) if s.to_str().is_none_or(|s| s.starts_with('.'))))
}

pub(crate) fn rel_string(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

pub(crate) fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64)
}

/// Every note under `root`, skipping hidden entries and symlinks.
pub fn scan_notes(root: &Path) -> Result<Vec<NoteFile>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if dir != root && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(VaultError::Io { op: "list", path: dir, source: e }),
        };
        for ent in rd.flatten() {
            let name = ent.file_name();
            if name.to_str().is_none_or(|n| n.starts_with('.')) {
                continue;
            }
            let Ok(ft) = ent.file_type() else { continue };
            let p = ent.path();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() && is_note_name(&p) {
                let Ok(meta) = ent.metadata() else { continue };
                let rel = p.strip_prefix(root).map(rel_string).unwrap_or_default();
                out.push(NoteFile { rel, mtime_ns: mtime_ns(&meta), size: meta.len() });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Read a markdown file as text, refusing folders, huge files, binary files and invalid UTF-8.
pub fn read_note_file(path: &Path) -> Result<String> {
    let bad = |reason: String| VaultError::BadNote { path: path.to_path_buf(), reason };
    let meta = fs::metadata(path).map_err(io_err("read", path))?;
    if meta.is_dir() {
        return Err(bad("is a folder, not a markdown file".into()));
    }
    if meta.len() > MAX_NOTE_BYTES {
        return Err(bad(format!("is {} bytes; Husk reads notes up to 64 MiB", meta.len())));
    }
    let bytes = fs::read(path).map_err(io_err("read", path))?;
    text_of(bytes).map_err(bad)
}

/// Check that bytes are markdown text; the error is a reason without content.
pub(crate) fn text_of(bytes: Vec<u8>) -> std::result::Result<String, String> {
    if bytes.contains(&0) {
        return Err("is a binary file, not markdown".into());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!("is not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to())
    })
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Write `data` to `path` atomically: temp file in the same folder, fsync, rename, fsync folder.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".husk-tmp-").tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The current time as RFC 3339 UTC (`2026-11-29T20:05:44Z`).
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    rfc3339(secs)
}

/// RFC 3339 UTC for Unix seconds (times before 1970 clamp to the epoch); one date algorithm
/// for the whole crate, in `kernel::time`.
pub(crate) fn rfc3339(secs: i64) -> String {
    crate::kernel::time::rfc3339(secs.max(0) as u64)
}

/// True for a real calendar date written `YYYY-MM-DD`.
pub fn is_valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse::<u32>().ok())
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=max).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_stable_names() {
        let e = VaultError::from(crate::export::ExportError::BadDate { value: "x".into() });
        assert_eq!(e.code(), "bad_date");
        let e = VaultError::from(crate::export::ExportError::Sanitize {
            note: "n.md".into(),
            source: crate::husk::SanitizeError::PrivateNote,
        });
        assert_eq!(e.code(), "private_note");
        assert_eq!(VaultError::NotFound { start: PathBuf::new() }.code(), "vault_not_found");
    }

    #[test]
    fn dates_are_checked() {
        assert!(is_valid_date("2027-12-31"));
        assert!(is_valid_date("2028-02-29"));
        assert!(!is_valid_date("2027-02-29"));
        assert!(!is_valid_date("2027-13-01"));
        assert!(!is_valid_date("next week"));
        assert!(!is_valid_date("2027-1-01"));
    }

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn hidden_paths_are_skipped() {
        assert!(is_hidden(Path::new(".obsidian/x.md")));
        assert!(is_hidden(Path::new("a/.x.md")));
        assert!(!is_hidden(Path::new("a/x.md")));
    }

    fn vault_with(notes: &[(&str, &str)]) -> (tempfile::TempDir, Vault) {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in notes {
            let f = d.path().join(p);
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            fs::write(f, text).unwrap();
        }
        let (v, r) = Vault::init(d.path()).unwrap();
        assert_eq!(r.added, notes.len());
        assert_eq!(r.classified, notes.len());
        (d, v)
    }

    #[test]
    fn two_handles_see_each_others_overrides() {
        let (d, mut a) = vault_with(&[("n.md", "# T\n\nFirst sentence here.\n\n- an item\n")]);
        let mut b = Vault::open(d.path()).unwrap();
        let rows = a.classify("n.md").unwrap();
        let item = rows.iter().find(|r| r.line == 5).unwrap();
        a.mark_block("n.md", &item.fingerprint, Mark::Force(Forced::Hollow)).unwrap();
        // b notices the file changed and re-mirrors it before using it.
        assert!(b.sync_overrides().unwrap());
        assert_eq!(b.overrides_for("n.md").get(&item.fingerprint), Some(Forced::Hollow));
        let row = b.classify("n.md").unwrap().into_iter().find(|r| r.line == 5).unwrap();
        assert_eq!(row.forced, Some(Forced::Hollow));
        a.mark_block("n.md", &item.fingerprint, Mark::Auto).unwrap();
        assert!(b.sync_overrides().unwrap());
        assert_eq!(b.override_count(), 0);
        assert!(matches!(a.mark("n.md", 2, Mark::Auto), Err(VaultError::NoBlockAtLine { line: 2, .. })));
    }

    #[test]
    fn note_list_and_preview() {
        let (_d, v) = vault_with(&[
            ("b/n.md", "# Runbook\n\nA sentence.\n"),
            ("p.md", "---\nhusk: private\n---\n# P\n\nx\n"),
        ]);
        let list = v.note_list().unwrap();
        assert_eq!(
            list.iter()
                .map(|n| (n.path.as_str(), n.title.as_str(), n.visibility.as_str()))
                .collect::<Vec<_>>(),
            vec![("b/n.md", "Runbook", "auto"), ("p.md", "P", "private")]
        );
        let h = v.preview("b/n.md", crate::model::Level::Medium).unwrap();
        assert!(h.text.starts_with("# Runbook\n"));
        assert_eq!(v.preview("p.md", crate::model::Level::Light).unwrap_err().code(), "private_note");
    }

    #[test]
    fn watch_runs_the_hook_after_a_save_and_stops_on_the_flag() {
        use crate::watch::{WatchEvent, WatchOptions};
        use std::sync::atomic::{AtomicBool, Ordering};
        let (d, _v) = vault_with(&[("a.md", "# A\n\nalpha\n")]);
        let root = d.path().to_path_buf();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let h = {
            let (root, stop) = (root.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut w = Vault::open(&root).unwrap();
                let opts = WatchOptions { debounce: std::time::Duration::from_millis(50) };
                w.watch(&opts, &stop, &mut |v, ev| match ev {
                    WatchEvent::Ready { notes, .. } => tx.send(format!("ready {notes}")).unwrap(),
                    WatchEvent::Settled(b) => {
                        tx.send(format!("settled {} {}", b.report.added, v.notes().unwrap().len())).unwrap()
                    }
                    WatchEvent::Error(e) => tx.send(format!("error {e}")).unwrap(),
                    WatchEvent::Idle => {}
                })
            })
        };
        let wait = std::time::Duration::from_secs(30);
        assert_eq!(rx.recv_timeout(wait).unwrap(), "ready 1");
        fs::write(root.join("b.md"), "# B\n\nbeta gamma delta\n").unwrap();
        assert_eq!(rx.recv_timeout(wait).unwrap(), "settled 1 2");
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap().unwrap();
        let v = Vault::open(&root).unwrap();
        assert_eq!(v.search("gamma", 5).unwrap()[0].path, "b.md");
    }

    #[test]
    fn discovery_walks_upward_and_reports_misses() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("v/.husk")).unwrap();
        fs::create_dir_all(d.path().join("v/a/b")).unwrap();
        let found = Vault::discover(Some(&d.path().join("v")), d.path()).unwrap();
        assert_eq!(found, d.path().join("v").canonicalize().unwrap());
        let up = Vault::discover(None, &d.path().join("v/a/b"));
        if std::env::var_os(VAULT_ENV).is_none() {
            assert_eq!(up.unwrap(), found);
            assert!(matches!(Vault::discover(None, d.path()), Err(VaultError::NotFound { .. })));
        }
        assert!(matches!(Vault::discover(Some(d.path()), d.path()), Err(VaultError::NotAVault { .. })));
    }
}
