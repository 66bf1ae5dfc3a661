//! The index: an ordinary SQLite file (`.husk/index.db`, WAL mode) holding what Husk derives from
//! the notes — each note's path, hash and mtime, its classified blocks, and a full-text table
//! (FTS5 with the `trigram` tokenizer, so Chinese works without segmentation; one- and
//! two-character queries fall back to `LIKE`). It also mirrors the overrides and the ledger, whose
//! source of truth is their own files. The schema is versioned with `PRAGMA user_version`. The
//! whole index is derived: when it is missing, unreadable or fails its integrity check, it is
//! deleted and rebuilt, and the caller is told why.

use crate::husk::{Classified, Overrides};
use crate::ledger::LedgerEntry;
use crate::markdown;
use crate::model::{Forced, Visibility};
use crate::vault::{is_hidden, is_note_name, mtime_ns, sha256_hex, text_of, NoteFile, MAX_NOTE_BYTES};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 4;

/// Why the index could not be used. Never carries note text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("index {path}: SQLite error")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("cannot remove the damaged index {path}")]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("cannot list {path}")]
    List { path: PathBuf, source: std::io::Error },
}

impl IndexError {
    /// One line with the SQLite cause, for a rebuild reason.
    pub fn describe(&self) -> String {
        match self {
            IndexError::Sqlite { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }

    /// True when SQLite says the file is damaged or not a database: the index is rebuilt.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, IndexError::Sqlite { source, .. }
            if matches!(source.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)))
    }
}

/// How the index was found when the vault was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum IndexState {
    /// Present and healthy.
    Ok,
    /// Did not exist; built from the notes.
    Created,
    /// Was damaged or from another schema; deleted and rebuilt from the notes.
    Rebuilt(String),
}

impl std::fmt::Display for IndexState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexState::Ok => f.write_str("ok"),
            IndexState::Created => f.write_str("created"),
            IndexState::Rebuilt(r) => write!(f, "rebuilt ({r})"),
        }
    }
}

/// What one refresh changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefreshReport {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Notes whose blocks were (re)classified.
    pub classified: usize,
    /// Notes that could not be indexed, with the reason (never their text).
    pub skipped: Vec<(String, String)>,
}

impl RefreshReport {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub path: String,
    /// 1-based line of the first match.
    pub line: usize,
    pub snippet: String,
    /// Higher is better.
    pub score: f64,
}

/// One note as the index knows it, for a note tree.
#[derive(Debug, Clone, Serialize)]
pub struct NoteInfo {
    /// Vault-relative, `/`-separated.
    pub path: String,
    /// The first heading, else the file name without `.md`.
    pub title: String,
    /// `auto`, `private` or `public` (front matter `husk:`).
    pub visibility: String,
    pub size: u64,
    /// Classified blocks per category (empty until the note's blocks are classified).
    pub categories: std::collections::BTreeMap<String, usize>,
}

/// Counters for `husk status`.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub notes: usize,
    pub private_notes: usize,
    pub blocks: usize,
    pub schema_version: i64,
}

pub(crate) struct Index {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA_V1: &str = "
CREATE TABLE notes(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  mtime INTEGER NOT NULL,
  size INTEGER NOT NULL,
  visibility TEXT NOT NULL,
  title TEXT NOT NULL
);
CREATE TABLE blocks(
  note_id INTEGER NOT NULL,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  line INTEGER NOT NULL,
  kind TEXT NOT NULL,
  category TEXT NOT NULL,
  rule TEXT NOT NULL,
  light TEXT NOT NULL,
  medium TEXT NOT NULL,
  heavy TEXT NOT NULL,
  forced TEXT,
  fingerprint TEXT NOT NULL
);
CREATE INDEX blocks_note ON blocks(note_id);
CREATE TABLE overrides(
  path TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  forced TEXT NOT NULL,
  PRIMARY KEY(path, fingerprint)
);
CREATE TABLE ledger(
  id TEXT PRIMARY KEY,
  time TEXT NOT NULL,
  level TEXT NOT NULL,
  format TEXT NOT NULL,
  entry TEXT NOT NULL
);
CREATE VIRTUAL TABLE notes_fts USING fts5(body, tokenize = 'trigram');
";

/// Version 2: `notes.classified` holds the hash the note's blocks were classified at, so block
/// classification (the slow part) can run as a second pass after the text is searchable.
const SCHEMA_V2: &str = "ALTER TABLE notes ADD COLUMN classified TEXT;";

/// Version 3: `mirror` records which version (mtime and size) of `overrides.json` and
/// `ledger.jsonl` the mirrored tables hold, so opening a vault re-mirrors only after a change.
const SCHEMA_V3: &str = "CREATE TABLE mirror(file TEXT PRIMARY KEY, stamp TEXT NOT NULL);";

/// Version 4: `notes_cjk` indexes every two-character run of Chinese, Japanese or Korean text
/// as a word, so two-character queries (most Chinese words) are ranked index lookups instead of
/// `LIKE` scans. Contentless: it stores only the index. Existing notes are re-read once.
const SCHEMA_V4: &str = "CREATE VIRTUAL TABLE notes_cjk USING fts5(bigrams, tokenize = 'unicode61', content = '', contentless_delete = 1);
UPDATE notes SET mtime = -1, hash = '';";

/// Migrations: entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

/// A note read and analysed, ready to store.
struct Parsed {
    rel: String,
    mtime_ns: i64,
    size: u64,
    hash: String,
    text: String,
    visibility: Visibility,
    title: String,
    /// Space-separated CJK bigrams of `text`, for `notes_cjk`.
    bigrams: String,
}

impl Index {
    /// Open (or create) the index at `path`, rebuilding it when it is damaged.
    pub(crate) fn open(path: &Path) -> Result<(Index, IndexState), IndexError> {
        let existed = path.exists();
        if existed {
            match Self::try_open(path) {
                Ok(ix) => return Ok((ix, IndexState::Ok)),
                Err(reason) => {
                    remove_files(path)?;
                    let ix = Self::try_open(path).map_err(|_| IndexError::Sqlite {
                        path: path.to_path_buf(),
                        source: rusqlite::Error::InvalidQuery,
                    })?;
                    return Ok((ix, IndexState::Rebuilt(reason)));
                }
            }
        }
        let ix = Self::try_open(path).map_err(|_| IndexError::Sqlite {
            path: path.to_path_buf(),
            source: rusqlite::Error::InvalidQuery,
        })?;
        Ok((ix, IndexState::Created))
    }

    /// Open, check and migrate; the error is a human reason for the rebuild.
    fn try_open(path: &Path) -> Result<Index, String> {
        let conn = Connection::open(path).map_err(|e| format!("cannot open: {e}"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| format!("not a SQLite database: {e}"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("cannot switch to WAL (journal mode {mode})"));
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(|e| e.to_string())?;
        // Opening checks only what is cheap (header, schema, that the tables answer); the full
        // `PRAGMA integrity_check` reads every page (about 1 s for 10,000 notes), so it runs in
        // `Vault::verify_index` (`husk status`, app start-up), which rebuilds on failure.
        let version: i64 =
            conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
        if version > SCHEMA_VERSION {
            return Err(format!("schema version {version} is newer than this Husk ({SCHEMA_VERSION})"));
        }
        if version < 0 {
            return Err(format!("bad schema version {version}"));
        }
        // Each step re-reads the version inside a write transaction, so two processes opening
        // an old index at once migrate it once.
        loop {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| format!("cannot lock for migration: {e}"))?;
            let current: i64 =
                conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
            let Some(sql) = usize::try_from(current).ok().and_then(|i| MIGRATIONS.get(i)) else {
                conn.execute_batch("COMMIT").map_err(|e| e.to_string())?;
                break;
            };
            let next = current + 1;
            if let Err(e) = conn.execute_batch(&format!("{sql}; PRAGMA user_version = {next}; COMMIT;")) {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(format!("migration to schema {next} failed: {e}"));
            }
        }
        if version == SCHEMA_VERSION {
            // Make sure the tables are really there (a foreign file with the right user_version).
            for sql in [
                "SELECT id FROM notes LIMIT 1",
                "SELECT rowid FROM notes_fts LIMIT 1",
                "SELECT note_id FROM blocks LIMIT 1",
                "SELECT id FROM ledger LIMIT 1",
                "SELECT path FROM overrides LIMIT 1",
                "SELECT file FROM mirror LIMIT 1",
                "SELECT rowid FROM notes_cjk LIMIT 1",
            ] {
                conn.query_row(sql, [], |_| Ok(())).optional().map_err(|e| format!("damaged tables: {e}"))?;
            }
        }
        Ok(Index { conn, path: path.to_path_buf() })
    }

    /// Delete the index files and start an empty index in their place.
    pub(crate) fn reset(&mut self) -> Result<(), IndexError> {
        let path = self.path.clone();
        let fresh = Connection::open_in_memory()
            .map_err(|source| IndexError::Sqlite { path: path.clone(), source })?;
        drop(std::mem::replace(&mut self.conn, fresh));
        remove_files(&path)?;
        *self = Self::try_open(&path)
            .map_err(|_| IndexError::Sqlite { path: path.clone(), source: rusqlite::Error::InvalidQuery })?;
        Ok(())
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> IndexError + '_ {
        move |source| IndexError::Sqlite { path: self.path.clone(), source }
    }

    /// `Ok(None)` when `PRAGMA integrity_check` says ok, else the first problem it reports.
    pub(crate) fn integrity(&self) -> Result<Option<String>, IndexError> {
        match self.conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get::<_, String>(0)) {
            Ok(s) if s == "ok" => Ok(None),
            Ok(s) => Ok(Some(s)),
            Err(e) => Ok(Some(e.to_string())),
        }
    }

    /// The stamp of the file version a mirrored table holds.
    pub(crate) fn mirror_stamp(&self, file: &str) -> Result<Option<String>, IndexError> {
        self.conn
            .query_row("SELECT stamp FROM mirror WHERE file = ?1", [file], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }

    pub(crate) fn set_overrides<'a>(
        &mut self,
        items: impl Iterator<Item = (&'a str, &'a str, Forced)>,
        stamp: &str,
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let e = |source| IndexError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        tx.execute("DELETE FROM overrides", []).map_err(e)?;
        {
            let mut st = tx
                .prepare("INSERT OR REPLACE INTO overrides(path, fingerprint, forced) VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            for (n, fp, f) in items {
                st.execute(params![n, fp, f.as_str()]).map_err(e)?;
            }
        }
        tx.execute("INSERT OR REPLACE INTO mirror(file, stamp) VALUES ('overrides.json', ?1)", [stamp])
            .map_err(e)?;
        tx.commit().map_err(e)
    }

    pub(crate) fn set_ledger(&mut self, entries: &[LedgerEntry], stamp: &str) -> Result<(), IndexError> {
        let path = self.path.clone();
        let e = |source| IndexError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        tx.execute("DELETE FROM ledger", []).map_err(e)?;
        {
            let mut st = tx.prepare("INSERT OR REPLACE INTO ledger(id, time, level, format, entry) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(e)?;
            for en in entries {
                let json = serde_json::to_string(en).unwrap_or_default();
                st.execute(params![en.id, en.time, en.level.as_str(), en.format.as_str(), json])
                    .map_err(e)?;
            }
        }
        tx.execute("INSERT OR REPLACE INTO mirror(file, stamp) VALUES ('ledger.jsonl', ?1)", [stamp])
            .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Bring the index in line with `files` (the full list of notes on disk).
    pub(crate) fn refresh(&mut self, root: &Path, files: Vec<NoteFile>) -> Result<RefreshReport, IndexError> {
        let known = self.known()?;
        let mut report = RefreshReport::default();
        let mut todo = Vec::new();
        let mut on_disk = std::collections::HashSet::new();
        for f in files {
            on_disk.insert(f.rel.clone());
            match known.get(&f.rel) {
                Some((_, m, s)) if *m == f.mtime_ns && *s == f.size as i64 => report.unchanged += 1,
                _ => todo.push(f),
            }
        }
        let gone: Vec<String> = known.keys().filter(|k| !on_disk.contains(*k)).cloned().collect();
        self.parse_and_store(root, todo, &gone, &mut report)?;
        Ok(report)
    }

    /// Re-index specific vault-relative paths: existing notes are (re)read; paths that no longer
    /// exist are removed, with everything below them; existing folders are scanned.
    pub(crate) fn refresh_paths(
        &mut self,
        root: &Path,
        rels: &[String],
    ) -> Result<RefreshReport, IndexError> {
        let known = self.known()?;
        let mut report = RefreshReport::default();
        let mut todo = Vec::new();
        let mut gone = Vec::new();
        for rel in rels {
            let abs = root.join(rel);
            match fs::symlink_metadata(&abs) {
                Ok(m) if m.is_file() => {
                    if !is_note_name(Path::new(rel)) || is_hidden(Path::new(rel)) {
                        continue;
                    }
                    let f = NoteFile { rel: rel.clone(), mtime_ns: mtime_ns(&m), size: m.len() };
                    match known.get(rel) {
                        Some((_, mt, s)) if *mt == f.mtime_ns && *s == f.size as i64 => report.unchanged += 1,
                        _ => todo.push(f),
                    }
                }
                Ok(m) if m.is_dir() => {
                    let files = crate::vault::scan_notes(&abs).map_err(|_| IndexError::List {
                        path: abs.clone(),
                        source: std::io::Error::other("scan failed"),
                    })?;
                    let prefix = format!("{rel}/");
                    let present: std::collections::HashSet<String> =
                        files.iter().map(|f| format!("{prefix}{}", f.rel)).collect();
                    gone.extend(
                        known.keys().filter(|k| k.starts_with(&prefix) && !present.contains(*k)).cloned(),
                    );
                    for f in files {
                        let full = format!("{prefix}{}", f.rel);
                        match known.get(&full) {
                            Some((_, mt, s)) if *mt == f.mtime_ns && *s == f.size as i64 => {
                                report.unchanged += 1
                            }
                            _ => todo.push(NoteFile { rel: full, ..f }),
                        }
                    }
                }
                _ => {
                    let prefix = format!("{rel}/");
                    gone.extend(known.keys().filter(|k| *k == rel || k.starts_with(&prefix)).cloned());
                }
            }
        }
        gone.sort();
        gone.dedup();
        self.parse_and_store(root, todo, &gone, &mut report)?;
        Ok(report)
    }

    fn known(&self) -> Result<HashMap<String, (i64, i64, i64)>, IndexError> {
        let mut st =
            self.conn.prepare_cached("SELECT path, id, mtime, size FROM notes").map_err(self.err())?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Write parsed notes and removals in one transaction.
    /// Read and hash `todo` on worker threads while this thread writes the results, all in one
    /// transaction: file reading and SQLite work overlap. Blocks are classified afterwards by
    /// [`Index::classify_pending`].
    fn parse_and_store(
        &mut self,
        root: &Path,
        todo: Vec<NoteFile>,
        gone: &[String],
        report: &mut RefreshReport,
    ) -> Result<(), IndexError> {
        if todo.is_empty() && gone.is_empty() {
            return Ok(());
        }
        if todo.len() < 8 {
            let parsed: Vec<_> = todo.iter().map(|f| parse_one(root, f)).collect();
            return self.store(parsed.into_iter(), gone, report);
        }
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Parsed, (String, String)>>(512);
        std::thread::scope(|s| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (todo, next) = (&todo, &next);
                s.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = todo.get(i) else { break };
                    if tx.send(parse_one(root, f)).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let r = self.store(rx.iter(), gone, report);
            if r.is_err() {
                // Stop the workers: they see the closed channel on their next send.
                next.store(usize::MAX / 2, std::sync::atomic::Ordering::Relaxed);
                for _ in rx.try_iter() {}
            }
            r
        })
    }

    /// Ids are looked up again inside the (immediate) write transaction, so another process
    /// indexing at the same time cannot make this one insert a duplicate or miss a row.
    fn store(
        &mut self,
        parsed: impl Iterator<Item = Result<Parsed, (String, String)>>,
        gone: &[String],
        report: &mut RefreshReport,
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let e = |source| IndexError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        {
            let mut get = tx.prepare_cached("SELECT id, hash FROM notes WHERE path = ?1").map_err(e)?;
            let mut touch =
                tx.prepare_cached("UPDATE notes SET mtime = ?2, size = ?3 WHERE id = ?1").map_err(e)?;
            let mut del_blocks = tx.prepare_cached("DELETE FROM blocks WHERE note_id = ?1").map_err(e)?;
            let mut del_fts = tx.prepare_cached("DELETE FROM notes_fts WHERE rowid = ?1").map_err(e)?;
            let mut del_cjk = tx.prepare_cached("DELETE FROM notes_cjk WHERE rowid = ?1").map_err(e)?;
            let mut ins_cjk =
                tx.prepare_cached("INSERT INTO notes_cjk(rowid, bigrams) VALUES (?1, ?2)").map_err(e)?;
            let mut del_note = tx.prepare_cached("DELETE FROM notes WHERE id = ?1").map_err(e)?;
            let mut upd = tx.prepare_cached("UPDATE notes SET hash = ?2, mtime = ?3, size = ?4, visibility = ?5, title = ?6 WHERE id = ?1").map_err(e)?;
            let mut ins = tx.prepare_cached("INSERT INTO notes(path, hash, mtime, size, visibility, title) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").map_err(e)?;
            let mut ins_fts =
                tx.prepare_cached("INSERT INTO notes_fts(rowid, body) VALUES (?1, ?2)").map_err(e)?;
            for p in parsed {
                let p = match p {
                    Ok(p) => p,
                    Err(skip) => {
                        report.skipped.push(skip);
                        continue;
                    }
                };
                let vis = match p.visibility {
                    Visibility::Auto => "auto",
                    Visibility::Private => "private",
                    Visibility::Public => "public",
                };
                let current: Option<(i64, String)> =
                    get.query_row([&p.rel], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(e)?;
                if let Some((id, old)) = current {
                    if old == p.hash {
                        // Same content (touched, or rewritten identically): only the stat changed.
                        touch.execute(params![id, p.mtime_ns, p.size as i64]).map_err(e)?;
                        report.unchanged += 1;
                    } else {
                        upd.execute(params![id, p.hash, p.mtime_ns, p.size as i64, vis, p.title])
                            .map_err(e)?;
                        del_fts.execute([id]).map_err(e)?;
                        ins_fts.execute(params![id, p.text]).map_err(e)?;
                        del_cjk.execute([id]).map_err(e)?;
                        if !p.bigrams.is_empty() {
                            ins_cjk.execute(params![id, p.bigrams]).map_err(e)?;
                        }
                        del_blocks.execute([id]).map_err(e)?;
                        report.updated += 1;
                    }
                } else {
                    ins.execute(params![p.rel, p.hash, p.mtime_ns, p.size as i64, vis, p.title])
                        .map_err(e)?;
                    let id = tx.last_insert_rowid();
                    ins_fts.execute(params![id, p.text]).map_err(e)?;
                    if !p.bigrams.is_empty() {
                        ins_cjk.execute(params![id, p.bigrams]).map_err(e)?;
                    }
                    report.added += 1;
                }
            }
            for g in gone {
                let id: Option<i64> = get.query_row([g], |r| r.get(0)).optional().map_err(e)?;
                if let Some(id) = id {
                    del_blocks.execute([id]).map_err(e)?;
                    del_fts.execute([id]).map_err(e)?;
                    del_cjk.execute([id]).map_err(e)?;
                    del_note.execute([id]).map_err(e)?;
                    report.removed += 1;
                }
            }
        }
        tx.commit().map_err(e)
    }

    /// Mark a note's blocks stale (its overrides changed), for [`Index::classify_pending`].
    pub(crate) fn invalidate_blocks(&mut self, rel: &str) -> Result<(), IndexError> {
        self.conn.execute("UPDATE notes SET classified = NULL WHERE path = ?1", [rel]).map_err(self.err())?;
        Ok(())
    }

    /// Number of notes whose blocks are not classified at their current text.
    pub(crate) fn pending(&self) -> Result<usize, IndexError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM notes WHERE classified IS NULL OR classified <> hash", [], |r| {
                r.get(0)
            })
            .map_err(self.err())?;
        Ok(n as usize)
    }

    /// Classify the blocks of every note whose text changed since its blocks were last
    /// classified (or whose overrides changed), on worker threads, writing as results arrive.
    /// The text comes from the index itself, so it is exactly the indexed version.
    pub(crate) fn classify_pending(
        &mut self,
        overrides: &(dyn Fn(&str) -> Overrides + Sync),
    ) -> Result<usize, IndexError> {
        let pending: Vec<(i64, String, String, String)> = {
            let mut st = self
                .conn
                .prepare("SELECT n.id, n.path, n.hash, f.body FROM notes n JOIN notes_fts f ON f.rowid = n.id WHERE n.classified IS NULL OR n.classified <> n.hash")
                .map_err(self.err())?;
            let rows =
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(self.err())?;
            rows.collect::<Result<_, _>>().map_err(self.err())?
        };
        if pending.is_empty() {
            return Ok(0);
        }
        let workers =
            std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(pending.len());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Classified>)>(512);
        let path = self.path.clone();
        let conn = &mut self.conn;
        std::thread::scope(|s| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (pending, next) = (&pending, &next);
                s.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((_, rel, _, body)) = pending.get(i) else { break };
                    if tx.send((i, crate::husk::classify_note(body, &overrides(rel)))).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let e = |source| IndexError::Sqlite { path: path.clone(), source };
            let result = (|| {
                let txn =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
                let mut done = 0;
                {
                    let mut still =
                        txn.prepare_cached("SELECT 1 FROM notes WHERE id = ?1 AND hash = ?2").map_err(e)?;
                    let mut del = txn.prepare_cached("DELETE FROM blocks WHERE note_id = ?1").map_err(e)?;
                    let mut mark =
                        txn.prepare_cached("UPDATE notes SET classified = ?2 WHERE id = ?1").map_err(e)?;
                    let mut ins = txn
                        .prepare_cached("INSERT INTO blocks(note_id, start, end, line, kind, category, rule, light, medium, heavy, forced, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
                        .map_err(e)?;
                    for (i, blocks) in rx.iter() {
                        let (id, _, hash, _) = &pending[i];
                        // Another writer may have changed the note meanwhile: its turn will come.
                        if still.query_row(params![id, hash], |_| Ok(())).optional().map_err(e)?.is_none() {
                            continue;
                        }
                        del.execute([id]).map_err(e)?;
                        for b in &blocks {
                            ins.execute(params![
                                id,
                                b.start as i64,
                                b.end as i64,
                                b.line as i64,
                                b.kind.name(),
                                b.category.as_str(),
                                b.rule,
                                b.actions[0].as_str(),
                                b.actions[1].as_str(),
                                b.actions[2].as_str(),
                                b.forced.map(|f| f.as_str()),
                                b.fingerprint.as_str()
                            ])
                            .map_err(e)?;
                        }
                        mark.execute(params![id, hash]).map_err(e)?;
                        done += 1;
                    }
                }
                txn.commit().map_err(e)?;
                Ok(done)
            })();
            if result.is_err() {
                next.store(usize::MAX / 2, std::sync::atomic::Ordering::Relaxed);
                for _ in rx.try_iter() {}
            }
            result
        })
    }

    pub(crate) fn note_paths(&self) -> Result<Vec<String>, IndexError> {
        let mut st = self.conn.prepare_cached("SELECT path FROM notes ORDER BY path").map_err(self.err())?;
        let rows = st.query_map([], |r| r.get(0)).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    pub(crate) fn note_infos(&self) -> Result<Vec<NoteInfo>, IndexError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT path, title, visibility, size FROM notes ORDER BY path")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                Ok(NoteInfo {
                    path: r.get(0)?,
                    title: r.get(1)?,
                    visibility: r.get(2)?,
                    size: r.get::<_, i64>(3)? as u64,
                    categories: Default::default(),
                })
            })
            .map_err(self.err())?;
        let mut infos: Vec<NoteInfo> = rows.collect::<Result<_, _>>().map_err(self.err())?;
        let mut st = self
            .conn
            .prepare_cached("SELECT notes.path, blocks.category, count(*) FROM blocks JOIN notes ON notes.id = blocks.note_id GROUP BY notes.path, blocks.category")
            .map_err(self.err())?;
        let counts = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
            .map_err(self.err())?;
        let mut by_path: std::collections::HashMap<String, std::collections::BTreeMap<String, usize>> =
            Default::default();
        for row in counts {
            let (path, cat, n) = row.map_err(self.err())?;
            by_path.entry(path).or_default().insert(cat, n as usize);
        }
        for info in &mut infos {
            if let Some(c) = by_path.remove(&info.path) {
                info.categories = c;
            }
        }
        Ok(infos)
    }

    pub(crate) fn note_hashes(&self) -> Result<Vec<(String, String)>, IndexError> {
        let mut st =
            self.conn.prepare_cached("SELECT path, hash FROM notes ORDER BY path").map_err(self.err())?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The indexed text of every note, for trace.
    pub(crate) fn for_each_body(&self, mut f: impl FnMut(&str, &str)) -> Result<(), IndexError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT notes.path, notes_fts.body FROM notes JOIN notes_fts ON notes_fts.rowid = notes.id",
            )
            .map_err(self.err())?;
        let mut rows = st.query([]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let p: String = r.get(0).map_err(self.err())?;
            let b: String = r.get(1).map_err(self.err())?;
            f(&p, &b);
        }
        Ok(())
    }

    pub(crate) fn counts(&self) -> Result<Counts, IndexError> {
        let c = |sql: &str| self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(self.err());
        Ok(Counts {
            notes: c("SELECT count(*) FROM notes")? as usize,
            private_notes: c("SELECT count(*) FROM notes WHERE visibility = 'private'")? as usize,
            blocks: c("SELECT count(*) FROM blocks")? as usize,
            schema_version: c("PRAGMA user_version")?,
        })
    }

    /// Ranked full-text search. Terms of three or more characters go through the trigram index
    /// (all must match); shorter terms (common in Chinese) are matched with `LIKE`.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, IndexError> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let long: Vec<&str> = terms.iter().copied().filter(|t| t.chars().count() >= 3).collect();
        // Two-character CJK terms go through the bigram index; other short terms use LIKE.
        let cjk: Vec<&str> =
            terms.iter().copied().filter(|t| t.chars().count() == 2 && t.chars().all(is_cjk)).collect();
        let short: Vec<&str> =
            terms.iter().copied().filter(|t| t.chars().count() < 3 && !cjk.contains(t)).collect();
        let phrase = |ts: &[&str]| {
            ts.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
        };
        // The ranked part runs on rowids only (FTS5 sorts `ORDER BY rank LIMIT n` cheaply);
        // bodies are read for the few rows kept.
        let mut args: Vec<String> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        let table = if !long.is_empty() {
            conds.push("notes_fts MATCH ?".into());
            args.push(phrase(&long));
            if !cjk.is_empty() {
                conds.push("rowid IN (SELECT rowid FROM notes_cjk WHERE notes_cjk MATCH ?)".into());
                args.push(phrase(&cjk));
            }
            "notes_fts"
        } else if !cjk.is_empty() {
            conds.push("notes_cjk MATCH ?".into());
            args.push(phrase(&cjk));
            "notes_cjk"
        } else {
            "notes_fts"
        };
        for t in &short {
            let like = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            if table == "notes_fts" {
                conds.push("body LIKE ? ESCAPE '\\'".into());
            } else {
                conds.push("rowid IN (SELECT rowid FROM notes_fts WHERE body LIKE ? ESCAPE '\\')".into());
            }
            args.push(like);
        }
        let ranked = !long.is_empty() || !cjk.is_empty();
        // LIKE-only queries have no rank from FTS: take the first matches and rank them by
        // occurrences below.
        let (score, order, fetch) = if ranked {
            ("rank", " ORDER BY rank", limit)
        } else {
            ("0.0", "", limit.saturating_mul(10).max(100))
        };
        let sql = format!(
            "SELECT notes.path, f.body, r.score FROM (SELECT rowid AS id, {score} AS score FROM {table} WHERE {}{order} LIMIT {fetch}) r \
             JOIN notes ON notes.id = r.id JOIN notes_fts f ON f.rowid = r.id ORDER BY r.score",
            conds.join(" AND ")
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let mut rows = st.query(rusqlite::params_from_iter(args.iter())).map_err(self.err())?;
        let lowered: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
        let mut hits = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let path: String = r.get(0).map_err(self.err())?;
            let body: String = r.get(1).map_err(self.err())?;
            let rank: f64 = r.get(2).map_err(self.err())?;
            let (line, snippet, count) = locate_match(&body, &lowered);
            let score = if ranked { -rank } else { count as f64 };
            hits.push(SearchHit { path, line, snippet, score });
        }
        if !ranked {
            hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
            hits.truncate(limit);
        }
        Ok(hits)
    }
}

/// True for Han, kana and Hangul: scripts written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Every overlapping two-character run inside runs of CJK text, space-separated.
fn cjk_bigrams(text: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if is_cjk(c) {
            if let Some(p) = prev {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push(p);
                out.push(c);
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    out
}

/// Remove an index and its WAL and shared-memory files.
fn remove_files(path: &Path) -> Result<(), IndexError> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(IndexError::Remove { path: p, source }),
        }
    }
    Ok(())
}

/// The first line that holds a query term, a snippet of it, and how often the terms occur.
fn locate_match(body: &str, terms: &[String]) -> (usize, String, usize) {
    let mut first: Option<(usize, &str, usize)> = None;
    let mut count = 0;
    for (i, line) in body.lines().enumerate() {
        let low = line.to_lowercase();
        for t in terms {
            let n = low.matches(t.as_str()).count();
            if n > 0 {
                count += n;
                if first.is_none() {
                    let at = low.find(t.as_str()).unwrap_or(0);
                    first = Some((i + 1, line, at));
                }
            }
        }
    }
    match first {
        Some((line, text, at)) => (line, snippet_of(text, at), count),
        None => (1, snippet_of(body.lines().next().unwrap_or(""), 0), count),
    }
}

/// About 100 characters of `line` around byte `at` (of its lowercased form; clamped).
fn snippet_of(line: &str, at: usize) -> String {
    let chars: Vec<char> = line.trim_end().chars().collect();
    let approx = line.get(..at.min(line.len())).map_or(0, |s| s.chars().count()).min(chars.len());
    let start = approx.saturating_sub(40);
    let end = (start + 100).min(chars.len());
    let mut s: String = chars[start..end].iter().collect();
    s = s.trim().to_string();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < chars.len() {
        s.push('…');
    }
    s
}

fn parse_one(root: &Path, f: &NoteFile) -> Result<Parsed, (String, String)> {
    let abs = root.join(&f.rel);
    if f.size > MAX_NOTE_BYTES {
        return Err((f.rel.clone(), "larger than 64 MiB".into()));
    }
    // Stat before reading: if the file changes after the stat, the stored mtime is older than
    // the file's and the next refresh reads it again (stat after reading could miss a change).
    let meta = fs::metadata(&abs).ok();
    let bytes = fs::read(&abs).map_err(|e| (f.rel.clone(), format!("cannot read: {e}")))?;
    let hash = sha256_hex(&bytes);
    let size = meta.as_ref().map_or(bytes.len() as u64, |m| m.len());
    let text = text_of(bytes).map_err(|r| (f.rel.clone(), r.trim_start_matches("is ").to_string()))?;
    let map = markdown::block_map(&text);
    let title = map
        .headings
        .first()
        .map(|r| text[r.clone()].trim_start_matches('#').trim().to_string())
        .unwrap_or_else(|| {
            Path::new(&f.rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        });
    let bigrams = cjk_bigrams(&text);
    Ok(Parsed {
        bigrams,
        rel: f.rel.clone(),
        mtime_ns: meta.as_ref().map_or(f.mtime_ns, mtime_ns),
        size,
        hash,
        text,
        visibility: map.visibility,
        title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_cover_cjk_runs_only() {
        assert_eq!(cjk_bigrams("先做备份, then 回滚"), "先做 做备 备份 回滚");
        assert_eq!(cjk_bigrams("a 字 b"), "");
    }

    #[test]
    fn snippets_and_lines() {
        let body = "# T\n\nfirst line\nthe 发布流程 is here\n";
        let (line, snip, n) = locate_match(body, &["发布".to_string()]);
        assert_eq!((line, n), (4, 1));
        assert!(snip.contains("发布流程"));
    }

    #[test]
    fn corrupt_file_is_rebuilt_with_reason() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("index.db");
        fs::write(&p, b"this is not a database at all, not even close; padding padding padding").unwrap();
        let (ix, state) = Index::open(&p).unwrap();
        assert!(matches!(state, IndexState::Rebuilt(_)), "{state:?}");
        assert_eq!(ix.integrity().unwrap(), None);
        drop(ix);
        let (_, again) = Index::open(&p).unwrap();
        assert_eq!(again, IndexState::Ok);
    }

    #[test]
    fn a_version_1_index_is_migrated_in_place() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("index.db");
        let c = Connection::open(&p).unwrap();
        c.execute_batch(&format!("{SCHEMA_V1}; PRAGMA user_version = 1;")).unwrap();
        c.execute("INSERT INTO notes(path, hash, mtime, size, visibility, title) VALUES ('a.md', 'h', 0, 0, 'auto', 'A')", []).unwrap();
        drop(c);
        let (ix, state) = Index::open(&p).unwrap();
        assert_eq!(state, IndexState::Ok);
        assert_eq!(ix.counts().unwrap().schema_version, SCHEMA_VERSION);
        assert_eq!(ix.note_paths().unwrap(), vec!["a.md"], "data survives the migration");
        assert_eq!(ix.pending().unwrap(), 1, "the new column starts unclassified");
    }

    #[test]
    fn newer_schema_is_rebuilt() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("index.db");
        let c = Connection::open(&p).unwrap();
        c.execute_batch("PRAGMA user_version = 99;").unwrap();
        drop(c);
        let (_, state) = Index::open(&p).unwrap();
        assert!(matches!(state, IndexState::Rebuilt(r) if r.contains("newer")));
    }
}
