//! Writing a kernel. [`write_kernel`] runs the hash pass ([`VaultScan`]), snapshots `index.db`
//! with SQLite's online backup API, then streams manifest, folders, files and snapshot as a
//! tar through the age encryptor in bounded memory: one thread builds and encrypts the tar
//! while the caller's thread hashes and writes the ciphertext. [`backup`] is the path layer:
//! it refuses unsafe targets, writes a temp file in the target folder, verifies it while it
//! is fsynced, renames it to an unguessable name and fsyncs the folder.

use super::error::KernelError;
use super::fsutil;
use super::keys::{self, Key, Lock};
use super::manifest::{Manifest, ManifestFile, FORMAT, FORMAT_VERSION, INDEX_NAME, MANIFEST_NAME};
use super::read;
use super::readback::{read_back, HashingWriter, Written};
use super::retention::Verified;
use super::scan::{open_regular, Content, ScannedFile, VaultScan, BUF};
use super::time;
use super::{joined, Phase, Progress, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::SystemTime;

/// Size of the ciphertext buffers passed from the encrypting thread to the writing thread (one
/// `write` call each).
const CHUNK: usize = 1 << 20;

/// Ciphertext buffers queued between the two threads of the write pass.
const CHUNKS_QUEUED: usize = 3;

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
    let snap_err =
        |e: rusqlite::Error| KernelError::Snapshot { path: src_path.clone(), message: e.to_string() };
    let tmp = tempfile::Builder::new()
        .prefix(".husk-tmp-")
        .suffix(".db")
        .tempfile_in(scratch)
        .map_err(|e| KernelError::io("create a temp file in", scratch, e))?;
    let lock = tmp.as_file().try_clone().map_err(|e| KernelError::io("open", tmp.path(), e))?;
    fsutil::try_lock(&lock);
    let tmp_path = tmp.into_temp_path();
    {
        let src = rusqlite::Connection::open_with_flags(
            &src_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(snap_err)?;
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
                _ => {
                    return Err(KernelError::Snapshot {
                        path: src_path.clone(),
                        message: "the index stayed locked for 5 s".into(),
                    })
                }
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

/// A reader that hashes and counts what passes through, keeping its own read error apart from
/// the stream's (a vault file read again in the write pass).
struct Recheck<R> {
    inner: R,
    hash: Sha256,
    n: u64,
    err: Option<io::Error>,
}

impl<R: Read> Read for Recheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(k) => {
                self.hash.update(&buf[..k]);
                self.n += k as u64;
                Ok(k)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let shown = io::Error::new(e.kind(), "a vault file could not be read");
                self.err = Some(e);
                Err(shown)
            }
        }
    }
}

/// The path shown in errors of the kernel output stream; [`backup`] puts the temp file's there.
const STREAM: &str = "<kernel stream>";

fn stream_err(e: io::Error) -> KernelError {
    KernelError::io("write", STREAM, e)
}

fn new_chunk() -> Vec<u8> {
    // Room for the age chunk that crosses the CHUNK mark, so that the buffer never grows.
    Vec::with_capacity(CHUNK + 2 * BUF)
}

/// The encrypting thread's output: ciphertext gathered into buffers of about [`CHUNK`] bytes
/// and queued for the writing thread, which hands them back for reuse. Every write is taken
/// whole (age treats a short write of its header as fatal).
struct ChunkSender {
    current: Vec<u8>,
    full: mpsc::SyncSender<Vec<u8>>,
    spare: mpsc::Receiver<Vec<u8>>,
}

impl ChunkSender {
    fn send_current(&mut self) -> io::Result<()> {
        let next = self.spare.try_recv().unwrap_or_else(|_| new_chunk());
        let full = std::mem::replace(&mut self.current, next);
        self.full
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the kernel writer stopped"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.current.extend_from_slice(buf);
        if self.current.len() >= CHUNK {
            self.send_current()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.current.is_empty() {
            return Ok(());
        }
        self.send_current()
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

/// Append the file listed as `entry`: held content from memory (the very bytes that were
/// hashed); a file that was not held is read again and checked against its hash.
fn append_file<T: Write>(
    tar: &mut tar::Builder<T>,
    entry: &ManifestFile,
    f: ScannedFile,
    slabs: &[Vec<u8>],
) -> Result<()> {
    let mut h = header(tar::EntryType::Regular, entry.size, f.mode, f.mtime);
    let abs = match f.content {
        Content::Held { slab, range } => {
            return tar.append_data(&mut h, &entry.path, &slabs[slab][range]).map_err(stream_err)
        }
        Content::OnDisk(abs) => abs,
    };
    let (file, _) = open_regular(&abs)?;
    let mut r = Recheck { inner: file.take(entry.size), hash: Sha256::new(), n: 0, err: None };
    let appended = tar.append_data(&mut h, &entry.path, &mut r);
    if let Some(e) = r.err {
        return Err(KernelError::io("read", &abs, e));
    }
    appended.map_err(stream_err)?;
    if r.n != entry.size || hex::encode(r.hash.finalize()) != entry.sha256 {
        return Err(KernelError::VaultChanged { path: abs });
    }
    Ok(())
}

/// The encrypting side of the write pass: manifest, folders and files (each with its manifest
/// entry, released once written) as a tar through the age encryptor into `sink`, adding each
/// file's size to `done`.
fn encrypt_tar<'a>(
    lock: &Lock,
    sink: ChunkSender,
    manifest_json: &[u8],
    now: u64,
    scan: &VaultScan,
    files: impl Iterator<Item = (&'a ManifestFile, ScannedFile)>,
    done: &AtomicU64,
) -> Result<()> {
    let enc = keys::encrypt_to(lock, sink)?;
    let mut tar = tar::Builder::new(enc);
    tar.append_data(
        &mut header(tar::EntryType::Regular, manifest_json.len() as u64, 0o600, now),
        MANIFEST_NAME,
        manifest_json,
    )
    .map_err(stream_err)?;
    for d in &scan.dirs {
        tar.append_data(&mut header(tar::EntryType::Directory, 0, d.mode, d.mtime), &d.tar_path, io::empty())
            .map_err(stream_err)?;
    }
    for (entry, f) in files {
        append_file(&mut tar, entry, f, &scan.slabs)?;
        done.fetch_add(entry.size, Ordering::Relaxed);
    }
    let mut sink = tar.into_inner().map_err(stream_err)?.finish().map_err(stream_err)?;
    sink.flush().map_err(stream_err)
}

/// Stream a kernel of `vault` into `out`: hash pass, index snapshot (a temp file in
/// `scratch`), then manifest, folders, files and snapshot through the age encryptor. Returns
/// `out` (after the age stream is finished; not flushed) and the manifest. Memory stays
/// bounded: at most [`HOLD_BUDGET`](super::HOLD_BUDGET) bytes of held content plus a few
/// ciphertext buffers.
///
/// The tar is built and encrypted on a second thread; `out` is written on the caller's.
pub fn write_kernel<W: Write>(
    vault: &Path,
    scratch: &Path,
    lock: &Lock,
    out: W,
    progress: &mut dyn FnMut(Progress),
) -> Result<(W, Manifest, VaultScan)> {
    let scan = VaultScan::new(vault, progress)?;
    write_scanned(scan, scratch, lock, out, progress)
}

/// [`write_kernel`] after its hash pass.
fn write_scanned<W: Write>(
    mut scan: VaultScan,
    scratch: &Path,
    lock: &Lock,
    mut out: W,
    progress: &mut dyn FnMut(Progress),
) -> Result<(W, Manifest, VaultScan)> {
    progress(Progress { phase: Phase::Snapshot, done: 0, total: 1 });
    let snapshot = snapshot_index(&scan.root, scratch)?;
    let now = time::unix_secs(SystemTime::now());
    if let Some(p) = &snapshot {
        scan.add_snapshot(p, now)?;
    }
    progress(Progress { phase: Phase::Snapshot, done: 1, total: 1 });
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        created: time::rfc3339(now),
        husk_version: env!("CARGO_PKG_VERSION").to_string(),
        dirs: scan.dirs.iter().map(|d| d.tar_path.clone()).collect(),
        files: std::mem::take(&mut scan.entries),
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| KernelError::not_kernel(format!("cannot encode the manifest: {e}")))?;
    let total = manifest.total_size();
    let done = AtomicU64::new(0);
    let (full_tx, full_rx) = mpsc::sync_channel(CHUNKS_QUEUED);
    let (spare_tx, spare_rx) = mpsc::channel();
    let sink = ChunkSender { current: new_chunk(), full: full_tx, spare: spare_rx };
    let (written, encrypted) = std::thread::scope(|s| {
        let files = manifest.files.iter().zip(std::mem::take(&mut scan.files));
        let encrypted = s.spawn(|| encrypt_tar(lock, sink, &json, now, &scan, files, &done));
        let mut written = Ok(());
        while let Ok(mut chunk) = full_rx.recv() {
            written = out.write_all(&chunk);
            if written.is_err() {
                break;
            }
            progress(Progress { phase: Phase::Write, done: done.load(Ordering::Relaxed), total });
            chunk.clear();
            let _ = spare_tx.send(chunk);
        }
        // Stops the encrypting thread if writing failed.
        drop(full_rx);
        (written, joined(encrypted, "encrypt"))
    });
    // A write error first: the encrypting thread then only saw the writer stop.
    written.map_err(stream_err)?;
    encrypted?;
    scan.slabs = Vec::new();
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
            return Err(KernelError::TargetRefused {
                path: dir.to_path_buf(),
                reason: "it is inside a skills folder",
            });
        }
    }
    for a in dir.ancestors() {
        if a.join("SKILL.md").exists() {
            return Err(KernelError::TargetRefused {
                path: dir.to_path_buf(),
                reason: "it is inside a skills folder (SKILL.md)",
            });
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
/// written. The final name is taken only after that check and the file's fsync succeeded;
/// on any error the temp file is gone.
pub fn backup(
    vault: &Path,
    dir: &Path,
    lock: &Lock,
    verify_with: Option<&Key>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BackupReport> {
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
    let tmp = tempfile::Builder::new()
        .prefix(".husk-tmp-")
        .suffix(".age")
        .tempfile_in(&dir)
        .map_err(|e| KernelError::io("create a temp file in", &dir, e))?;
    // Held until this process ends: marks the temp file as in use for other sweeps.
    fsutil::try_lock(tmp.as_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600))
            .map_err(|e| KernelError::io("chmod", tmp.path(), e))?;
    }
    let file = tmp.as_file().try_clone().map_err(|e| KernelError::io("open", tmp.path(), e))?;
    let sink = HashingWriter::new(wrap(file));
    let (mut sink, manifest, scan) =
        write_kernel(&vault, &dir, lock, sink, progress).map_err(|e| match e {
            KernelError::Io { action, path, source } if path.as_os_str() == STREAM => {
                KernelError::Io { action, path: tmp.path().to_path_buf(), source }
            }
            other => other,
        })?;
    sink.flush().map_err(|e| KernelError::io("write", tmp.path(), e))?;
    let written = sink.finish();
    // The check reads through the page cache whether or not the data has reached the disk yet,
    // so the fsync runs beside it rather than before it; both succeed before the rename.
    let (synced, verified) = std::thread::scope(|s| {
        let synced =
            s.spawn(|| tmp.as_file().sync_all().map_err(|e| KernelError::io("fsync", tmp.path(), e)));
        let verified = check_written(tmp.path(), verify_with, &manifest, &written, progress);
        (joined(synced, "fsync"), verified)
    });
    synced?;
    let verified = verified?;

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
        size: written.size,
        sha256: hex::encode(written.sha256),
        verified,
        files: manifest.files.len(),
        notes: manifest.note_count(),
        content_bytes: manifest.total_size(),
        has_index,
        skipped: scan.skipped.iter().map(|p| scan.root.join(p)).collect(),
    })
}

/// Reopen the kernel just written at `path` and check it. With `key`, decrypt it and check
/// every hash and the manifest; without, hash the bytes on disk and compare them with what was
/// `written`.
fn check_written(
    path: &Path,
    key: Option<&Key>,
    manifest: &Manifest,
    written: &Written,
    progress: &mut dyn FnMut(Progress),
) -> Result<Verified> {
    if let Some(key) = key {
        let report = read::verify_file_inner(path, key, progress)?;
        if report.manifest != *manifest {
            return Err(KernelError::Tampered {
                detail: "the kernel read back differs from what was written",
            });
        }
        return Ok(Verified::Full);
    }
    progress(Progress { phase: Phase::Verify, done: 0, total: written.size });
    read_back(path, written)?;
    progress(Progress { phase: Phase::Verify, done: written.size, total: written.size });
    Ok(Verified::Readback)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{no_progress, verify, HOLD_BUDGET};

    fn keys() -> (Lock, Key) {
        let id = age::x25519::Identity::generate();
        (Lock::Recipients(vec![id.to_public()]), Key::Identities(vec![id]))
    }

    fn vault() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("notes")).unwrap();
        for i in 0..20 {
            fs::write(t.path().join(format!("notes/n{i}.md")), format!("# note {i}\n").repeat(i * 50 + 1))
                .unwrap();
        }
        t
    }

    fn write(scan: VaultScan, lock: &Lock) -> Result<Vec<u8>> {
        let scratch = tempfile::tempdir().unwrap();
        write_scanned(scan, scratch.path(), lock, Vec::new(), &mut no_progress).map(|(out, ..)| out)
    }

    #[test]
    fn files_read_again_give_the_same_kernel_content() {
        let v = vault();
        let (lock, key) = keys();
        let held =
            write(VaultScan::with_budget(v.path(), HOLD_BUDGET, &mut no_progress).unwrap(), &lock).unwrap();
        let reread = write(VaultScan::with_budget(v.path(), 4000, &mut no_progress).unwrap(), &lock).unwrap();
        let a = verify(&held[..], &key, &mut no_progress).unwrap();
        let b = verify(&reread[..], &key, &mut no_progress).unwrap();
        assert_eq!(a.manifest.files, b.manifest.files);
        assert_eq!(b.files, 20);
    }

    /// A disk that stores one flipped bit while reporting the write as done.
    struct FlippingDisk(fs::File);

    impl Write for FlippingDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut copy = buf.to_vec();
            copy[buf.len() / 2] ^= 1;
            self.0.write_all(&copy)?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.0.flush()
        }
    }

    #[test]
    fn bytes_on_disk_that_differ_from_what_was_written_are_caught_with_or_without_a_key() {
        let v = vault();
        let out = tempfile::tempdir().unwrap();
        let (lock, key) = keys();
        for verify_with in [None, Some(&key)] {
            let err = backup_with_writer(v.path(), out.path(), &lock, verify_with, &mut no_progress, |f| {
                Box::new(FlippingDisk(f))
            })
            .unwrap_err();
            assert_eq!(err.code(), "tampered", "{err}");
            assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0, "nothing is left behind");
        }
        let report = backup(v.path(), out.path(), &lock, None, &mut no_progress).unwrap();
        assert_eq!(report.verified, Verified::Readback);
        assert_eq!(report.sha256, hex::encode(Sha256::digest(fs::read(&report.path).unwrap())));
    }

    #[test]
    fn a_file_changed_after_its_hash_is_refused_or_written_as_hashed() {
        let v = vault();
        let (lock, key) = keys();
        let note = v.path().join("notes/n3.md");
        let original = fs::read(&note).unwrap();
        for changed in [original.to_ascii_uppercase(), original[..original.len() - 1].to_vec()] {
            // Read again by the write pass: the change is caught.
            let scan = VaultScan::with_budget(v.path(), 0, &mut no_progress).unwrap();
            fs::write(&note, &changed).unwrap();
            match write(scan, &lock) {
                Err(KernelError::VaultChanged { path }) => assert_eq!(path, note),
                other => panic!("expected VaultChanged, got {:?}", other.map(|o| o.len())),
            }
            fs::write(&note, &original).unwrap();
        }
        // Held: the kernel carries the bytes that were hashed, and verifies.
        let scan = VaultScan::with_budget(v.path(), HOLD_BUDGET, &mut no_progress).unwrap();
        fs::write(&note, b"changed").unwrap();
        let kernel = write(scan, &lock).unwrap();
        let m = verify(&kernel[..], &key, &mut no_progress).unwrap().manifest;
        let entry = m.files.iter().find(|f| f.path == "vault/notes/n3.md").unwrap();
        assert_eq!(entry.sha256, hex::encode(Sha256::digest(&original)));
    }
}
