//! Writing a kernel: scan and hash the vault, snapshot `index.db` with SQLite's online backup
//! API, then stream manifest, folders, notes and snapshot as a tar through the age encryptor
//! ([`write_kernel`], flat memory). [`backup`] is the path layer: refuse unsafe targets, write
//! a temp file in the target folder, verify it, fsync, rename to an unguessable name, fsync
//! the folder.

use super::error::KernelError;
use super::fsutil;
use super::keys::{self, Key, Lock};
use super::manifest::{Manifest, ManifestFile, FORMAT, FORMAT_VERSION, INDEX_NAME, MANIFEST_NAME, VAULT_DIR};
use super::read;
use super::retention::Verified;
use super::time;
use super::{Phase, Progress, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const BUF: usize = 64 * 1024;

/// What a finished backup produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupReport {
    /// The kernel's final path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the kernel file (the ciphertext).
    pub sha256: String,
    /// How it was verified before it got its final name.
    pub verified: Verified,
    /// Number of files in the kernel (notes, attachments, config, index snapshot).
    pub files: usize,
    /// Number of `*.md` notes.
    pub notes: usize,
    /// Bytes of file content.
    pub content_bytes: u64,
    /// Whether an `index.db` snapshot is included.
    pub has_index: bool,
    /// Paths left out because they are neither files nor folders (symlinks, sockets, ...).
    pub skipped: Vec<PathBuf>,
}

struct ScannedDir {
    tar_path: String,
    mode: u32,
    mtime: u64,
}

struct ScannedFile {
    tar_path: String,
    abs: PathBuf,
    size: u64,
    sha256: String,
    mode: u32,
    mtime: u64,
}

/// A hashed listing of a vault, ready to be written (the first of the two passes).
pub struct VaultScan {
    root: PathBuf,
    dirs: Vec<ScannedDir>,
    files: Vec<ScannedFile>,
    /// Paths left out: symlinks, sockets, devices.
    pub skipped: Vec<PathBuf>,
}

/// Files that are state of a running Husk rather than content: the live index (its snapshot
/// goes in as `index.db`) and its journal files, and Husk's own temp files.
fn is_transient(rel: &Path, name: &str) -> bool {
    let in_husk = rel.parent().map(|p| p == Path::new(".husk")).unwrap_or(false);
    if in_husk && (name == "index.db" || name.starts_with("index.db-")) {
        return true;
    }
    name.starts_with(".husk-tmp-") || name.starts_with(".husk-restore-")
}

#[cfg(unix)]
fn mode_of(m: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o777
}
#[cfg(not(unix))]
fn mode_of(m: &fs::Metadata) -> u32 {
    if m.is_dir() {
        0o755
    } else {
        0o644
    }
}

fn mtime_of(m: &fs::Metadata) -> u64 {
    m.modified().map(time::unix_secs).unwrap_or(0)
}

fn tar_path_of(rel: &Path) -> Result<String> {
    let mut s = String::from(VAULT_DIR);
    for c in rel.components() {
        let part = c.as_os_str().to_str().ok_or_else(|| KernelError::TargetRefused { path: rel.to_path_buf(), reason: "a file name in the vault is not valid UTF-8" })?;
        s.push('/');
        s.push_str(part);
    }
    Ok(s)
}

/// Hash a reader fully: (size, hex sha256).
pub(crate) fn hash_reader<R: Read>(mut r: R, buf: &mut [u8], mut on_bytes: impl FnMut(u64)) -> io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    loop {
        let k = match r.read(buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..k]);
        n += k as u64;
        on_bytes(k as u64);
    }
    Ok((n, hex::encode(h.finalize())))
}

impl VaultScan {
    /// Walk `vault` (sorted, symlinks not followed) and hash every file.
    pub fn new(vault: &Path, progress: &mut dyn FnMut(Progress)) -> Result<VaultScan> {
        let mut scan = VaultScan { root: vault.to_path_buf(), dirs: Vec::new(), files: Vec::new(), skipped: Vec::new() };
        let meta = fs::metadata(vault).map_err(|e| KernelError::io("read", vault, e))?;
        scan.dirs.push(ScannedDir { tar_path: VAULT_DIR.to_string(), mode: mode_of(&meta), mtime: mtime_of(&meta) });
        let mut pending: Vec<(PathBuf, u64, u32, u64)> = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let abs = vault.join(&rel);
            let mut entries: Vec<_> = fs::read_dir(&abs)
                .map_err(|e| KernelError::io("read", &abs, e))?
                .collect::<io::Result<Vec<_>>>()
                .map_err(|e| KernelError::io("read", &abs, e))?;
            entries.sort_by_key(|e| e.file_name());
            let mut subdirs = Vec::new();
            for e in entries {
                let name = e.file_name();
                let child_rel = rel.join(&name);
                let name_s = name.to_string_lossy();
                if is_transient(&child_rel, &name_s) {
                    continue;
                }
                let m = fs::symlink_metadata(e.path()).map_err(|err| KernelError::io("read", e.path(), err))?;
                if m.is_dir() {
                    scan.dirs.push(ScannedDir { tar_path: tar_path_of(&child_rel)?, mode: mode_of(&m), mtime: mtime_of(&m) });
                    subdirs.push(child_rel);
                } else if m.is_file() {
                    pending.push((child_rel, m.len(), mode_of(&m), mtime_of(&m)));
                } else {
                    scan.skipped.push(child_rel);
                }
            }
            // Depth-first, in name order.
            stack.extend(subdirs.into_iter().rev());
        }
        let total: u64 = pending.iter().map(|p| p.1).sum();
        // Hash on two threads (each file is opened, read and hashed independently); results
        // keep the walk's order.
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
        let per = pending.len().div_ceil(workers).max(1);
        let hash_one = |rel: &Path, buf: &mut [u8]| -> Result<(u64, String)> {
            let abs = vault.join(rel);
            let f = fs::File::open(&abs).map_err(|e| KernelError::io("read", &abs, e))?;
            hash_reader(f, buf, |_| {}).map_err(|e| KernelError::io("read", &abs, e))
        };
        let done = std::sync::atomic::AtomicU64::new(0);
        let results: Vec<Result<Vec<(u64, String)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = pending
                .chunks(per)
                .map(|chunk| {
                    let done = &done;
                    let hash_one = &hash_one;
                    s.spawn(move || {
                        let mut buf = vec![0u8; BUF];
                        let mut out = Vec::with_capacity(chunk.len());
                        for (rel, ..) in chunk {
                            let r = hash_one(rel, &mut buf)?;
                            done.fetch_add(r.0, std::sync::atomic::Ordering::Relaxed);
                            out.push(r);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(KernelError::io("hash", vault, io::Error::other("a hashing thread panicked"))))).collect()
        });
        progress(Progress { phase: Phase::Scan, done: done.load(std::sync::atomic::Ordering::Relaxed), total });
        let mut hashed = Vec::with_capacity(pending.len());
        for r in results {
            hashed.extend(r?);
        }
        for ((rel, _, mode, mtime), (size, sha256)) in pending.into_iter().zip(hashed) {
            let abs = vault.join(&rel);
            scan.files.push(ScannedFile { tar_path: tar_path_of(&rel)?, abs, size, sha256, mode, mtime });
        }
        Ok(scan)
    }

    /// Bytes of file content found.
    pub fn content_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Copy `<vault>/.husk/index.db` (when present) into a new file in `scratch` through SQLite's
/// online backup API, in one step so that the copy is one consistent snapshot even while
/// another connection writes.
fn snapshot_index(vault: &Path, scratch: &Path) -> Result<Option<Snapshot>> {
    let src_path = vault.join(".husk").join("index.db");
    match fs::symlink_metadata(&src_path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(KernelError::io("read", &src_path, e)),
    }
    let snap_err = |e: rusqlite::Error| KernelError::Snapshot { path: src_path.clone(), message: e.to_string() };
    let tmp = tempfile::Builder::new().prefix(".husk-tmp-").suffix(".db").tempfile_in(scratch).map_err(|e| KernelError::io("create a temp file in", scratch, e))?;
    let lock = tmp.as_file().try_clone().map_err(|e| KernelError::io("open", tmp.path(), e))?;
    fsutil::try_lock(&lock);
    let tmp_path = tmp.into_temp_path();
    {
        let src = rusqlite::Connection::open_with_flags(&src_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(snap_err)?;
        src.busy_timeout(std::time::Duration::from_secs(5)).map_err(snap_err)?;
        let mut dst = rusqlite::Connection::open(&tmp_path).map_err(snap_err)?;
        let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(snap_err)?;
        let mut tries = 0;
        loop {
            // -1 copies every page in one step: a single consistent read transaction.
            match backup.step(-1).map_err(snap_err)? {
                rusqlite::backup::StepResult::Done => break,
                _ if tries < 500 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => return Err(KernelError::Snapshot { path: src_path.clone(), message: "the index stayed locked for 5 s".into() }),
            }
        }
    }
    Ok(Some(Snapshot { path: tmp_path, _lock: lock }))
}

/// The snapshot file, locked against stale-file sweeps while it exists.
struct Snapshot {
    path: tempfile::TempPath,
    _lock: fs::File,
}

impl std::ops::Deref for Snapshot {
    type Target = tempfile::TempPath;
    fn deref(&self) -> &tempfile::TempPath {
        &self.path
    }
}

/// A reader that hashes and counts what passes through.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    n: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.hash.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
}

/// A writer that hashes and counts what passes through (the ciphertext hash).
pub(crate) struct HashingWriter<W> {
    pub inner: W,
    pub hash: Sha256,
    pub n: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.hash.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Keeps the first write error of the output, because age turns some of them into strings and
/// the caller deserves the real one (ENOSPC, EIO).
struct WriteTap<W> {
    inner: W,
    first_err: std::rc::Rc<std::cell::RefCell<Option<io::Error>>>,
}

impl<W: Write> Write for WriteTap<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.keep(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.keep(e))
    }
}

impl<W> WriteTap<W> {
    fn keep(&self, e: io::Error) -> io::Error {
        let copy = match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        let mut slot = self.first_err.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
        copy
    }
}

fn header(kind: tar::EntryType, size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Stream a kernel of `vault` into `out`: hash pass, index snapshot (a temp file in
/// `scratch`), then manifest, folders, files and snapshot through the age encryptor. Returns
/// `out` (after the age stream is finished) and the manifest. Memory stays flat.
pub fn write_kernel<W: Write>(vault: &Path, scratch: &Path, lock: &Lock, out: W, progress: &mut dyn FnMut(Progress)) -> Result<(W, Manifest, VaultScan)> {
    let scan = VaultScan::new(vault, progress)?;
    progress(Progress { phase: Phase::Snapshot, done: 0, total: 1 });
    let snapshot = snapshot_index(vault, scratch)?;
    let mut index_entry = None;
    if let Some(p) = &snapshot {
        let f = fs::File::open(&p.path).map_err(|e| KernelError::io("read", p.to_path_buf(), e))?;
        let mut buf = vec![0u8; BUF];
        let (size, sha256) = hash_reader(f, &mut buf, |_| {}).map_err(|e| KernelError::io("read", p.to_path_buf(), e))?;
        index_entry = Some(ManifestFile { path: INDEX_NAME.to_string(), size, sha256 });
    }
    progress(Progress { phase: Phase::Snapshot, done: 1, total: 1 });
    let now = time::unix_secs(SystemTime::now());
    let mut files: Vec<ManifestFile> = scan.files.iter().map(|f| ManifestFile { path: f.tar_path.clone(), size: f.size, sha256: f.sha256.clone() }).collect();
    files.extend(index_entry.clone());
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        created: time::rfc3339(now),
        husk_version: env!("CARGO_PKG_VERSION").to_string(),
        dirs: scan.dirs.iter().map(|d| d.tar_path.clone()).collect(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| KernelError::not_kernel(format!("cannot encode the manifest: {e}")))?;

    let first_err = std::rc::Rc::new(std::cell::RefCell::new(None));
    // Buffered so that age's header always goes out whole (age treats a short write as fatal).
    let tap = io::BufWriter::with_capacity(BUF, WriteTap { inner: out, first_err: first_err.clone() });
    let werr = |e: io::Error| KernelError::io("write", "<kernel stream>", first_err.borrow_mut().take().unwrap_or(e));
    let enc = match keys::encrypt_to(lock, tap) {
        Ok(enc) => enc,
        Err(KernelError::Io { source, .. }) => return Err(werr(source)),
        Err(e) => return Err(e),
    };
    let mut tar = tar::Builder::new(enc);
    tar.append_data(&mut header(tar::EntryType::Regular, json.len() as u64, 0o600, now), MANIFEST_NAME, &json[..]).map_err(werr)?;
    for d in &scan.dirs {
        tar.append_data(&mut header(tar::EntryType::Directory, 0, d.mode, d.mtime), &d.tar_path, io::empty()).map_err(werr)?;
    }
    let total = manifest.total_size();
    let mut done = 0u64;
    for f in &scan.files {
        let file = fs::File::open(&f.abs).map_err(|e| KernelError::io("read", &f.abs, e))?;
        let mut r = Hashing { inner: file.take(f.size), hash: Sha256::new(), n: 0 };
        tar.append_data(&mut header(tar::EntryType::Regular, f.size, f.mode, f.mtime), &f.tar_path, &mut r).map_err(werr)?;
        if r.n != f.size || hex::encode(r.hash.finalize()) != f.sha256 {
            return Err(KernelError::VaultChanged { path: f.abs.clone() });
        }
        done += f.size;
        progress(Progress { phase: Phase::Write, done, total });
    }
    if let (Some(p), Some(entry)) = (&snapshot, &index_entry) {
        let file = fs::File::open(&p.path).map_err(|e| KernelError::io("read", p.to_path_buf(), e))?;
        let mut r = Hashing { inner: file.take(entry.size), hash: Sha256::new(), n: 0 };
        tar.append_data(&mut header(tar::EntryType::Regular, entry.size, 0o600, now), INDEX_NAME, &mut r).map_err(werr)?;
        if r.n != entry.size || hex::encode(r.hash.finalize()) != entry.sha256 {
            return Err(KernelError::VaultChanged { path: p.to_path_buf() });
        }
        done += entry.size;
        progress(Progress { phase: Phase::Write, done, total });
    }
    let enc = tar.into_inner().map_err(werr)?;
    let out = enc.finish().map_err(werr)?.into_inner().map_err(|e| werr(e.into_error()))?.inner;
    Ok((out, manifest, scan))
}

/// Refuse kernel folders inside the vault or inside a skills folder (one that holds a
/// `SKILL.md`, or any path with a component named `skills`). Both paths must be canonical.
pub fn check_target_dir(vault: &Path, dir: &Path) -> Result<()> {
    if dir.starts_with(vault) {
        return Err(KernelError::TargetRefused { path: dir.to_path_buf(), reason: "it is inside the vault" });
    }
    for c in dir.components() {
        if c.as_os_str().to_string_lossy().eq_ignore_ascii_case("skills") {
            return Err(KernelError::TargetRefused { path: dir.to_path_buf(), reason: "it is inside a skills folder" });
        }
    }
    for a in dir.ancestors() {
        if a.join("SKILL.md").exists() {
            return Err(KernelError::TargetRefused { path: dir.to_path_buf(), reason: "it is inside a skills folder (SKILL.md)" });
        }
    }
    Ok(())
}

/// `husk-<UTC timestamp>-<16 random hex digits>.age`: sorts by time, unguessable, and says
/// neither "backup" nor "private".
pub fn kernel_file_name(now: SystemTime) -> String {
    use rand::RngCore;
    let mut r = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut r);
    format!("husk-{}-{}.age", time::compact(time::unix_secs(now)), hex::encode(r))
}

/// Write a verified kernel of `vault` into the folder `dir` (created if missing).
///
/// With `verify_with` the temp file is decrypted and every hash checked before it gets its
/// final name; without it, the file is read back and its SHA-256 compared with what was
/// written. The final name is taken only after success; on any error the temp file is gone.
pub fn backup(vault: &Path, dir: &Path, lock: &Lock, verify_with: Option<&Key>, progress: &mut dyn FnMut(Progress)) -> Result<BackupReport> {
    backup_with_writer(vault, dir, lock, verify_with, progress, |f| Box::new(f))
}

/// [`backup`] with the temp file wrapped by `wrap` before writing (for fault injection: a
/// writer that fails like a full or broken disk).
pub fn backup_with_writer(
    vault: &Path,
    dir: &Path,
    lock: &Lock,
    verify_with: Option<&Key>,
    progress: &mut dyn FnMut(Progress),
    wrap: impl FnOnce(fs::File) -> Box<dyn Write>,
) -> Result<BackupReport> {
    let vault = vault.canonicalize().map_err(|e| KernelError::io("open the vault", vault, e))?;
    if !vault.is_dir() {
        return Err(KernelError::TargetRefused { path: vault, reason: "the vault is not a folder" });
    }
    create_private_dir(dir)?;
    let dir = dir.canonicalize().map_err(|e| KernelError::io("open", dir, e))?;
    check_target_dir(&vault, &dir)?;

    fsutil::sweep_stale(&dir, ".husk-tmp-");
    let tmp = tempfile::Builder::new().prefix(".husk-tmp-").suffix(".age").tempfile_in(&dir).map_err(|e| KernelError::io("create a temp file in", &dir, e))?;
    // Held until this process ends: marks the temp file as in use for other sweeps.
    fsutil::try_lock(tmp.as_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600)).map_err(|e| KernelError::io("chmod", tmp.path(), e))?;
    }
    let file = tmp.as_file().try_clone().map_err(|e| KernelError::io("open", tmp.path(), e))?;
    let sink = HashingWriter { inner: wrap(file), hash: Sha256::new(), n: 0 };
    let (mut sink, manifest, scan) = write_kernel(&vault, &dir, lock, sink, progress).map_err(|e| match e {
        KernelError::Io { action, path, source } if path.as_os_str() == "<kernel stream>" => KernelError::Io { action, path: tmp.path().to_path_buf(), source },
        other => other,
    })?;
    sink.flush().map_err(|e| KernelError::io("write", tmp.path(), e))?;
    let written_sha = hex::encode(sink.hash.clone().finalize());
    let size = sink.n;
    drop(sink);
    tmp.as_file().sync_all().map_err(|e| KernelError::io("fsync", tmp.path(), e))?;

    let verified = match verify_with {
        Some(key) => {
            let report = read::verify_file_inner(tmp.path(), key, progress)?;
            if report.manifest != manifest {
                return Err(KernelError::Tampered { detail: "the kernel read back differs from what was written" });
            }
            Verified::Full
        }
        None => Verified::Readback,
    };
    if verified == Verified::Readback {
        // No key at hand: read the bytes on disk back; what is there must be what was written.
        let f = fs::File::open(tmp.path()).map_err(|e| KernelError::io("read", tmp.path(), e))?;
        let mut buf = vec![0u8; BUF];
        let (disk_size, disk_sha) = hash_reader(f, &mut buf, |_| {}).map_err(|e| KernelError::io("read", tmp.path(), e))?;
        if disk_size != size || disk_sha != written_sha {
            return Err(KernelError::Tampered { detail: "the kernel on disk differs from what was written" });
        }
    }

    let mut path;
    let mut tmp = tmp;
    loop {
        path = dir.join(kernel_file_name(SystemTime::now()));
        match tmp.persist_noclobber(&path) {
            Ok(_) => break,
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(KernelError::io("rename", &path, e.error)),
        }
    }
    fsutil::sync_dir(&dir)?;
    let has_index = manifest.files.iter().any(|f| f.path == INDEX_NAME);
    Ok(BackupReport {
        path,
        size,
        sha256: written_sha,
        verified,
        files: manifest.files.len(),
        notes: manifest.note_count(),
        content_bytes: manifest.total_size(),
        has_index,
        skipped: scan.skipped.iter().map(|p| scan.root.join(p)).collect(),
    })
}

/// Create `dir` (and parents) with mode 0700 when missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| KernelError::io("create", dir, e))
}
