//! The hash pass of a backup: walk the vault (sorted, symlinks not followed), then open, read
//! and hash every file on a few threads ([`VaultScan`]). Content is kept in memory up to
//! [`HOLD_BUDGET`] bytes in all, whatever the vault size, so that the write pass streams the
//! very bytes that were hashed without reading those files again; files beyond the budget are
//! read again by the write pass, which checks them against their hash.

use super::error::KernelError;
use super::manifest::{ManifestFile, INDEX_NAME, VAULT_DIR};
use super::time;
use super::{joined, worker_threads, Phase, Progress, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};

/// Most file content, in bytes, the hash pass keeps in memory for the write pass (the rest is
/// read a second time).
pub const HOLD_BUDGET: u64 = 24 << 20;

/// Read buffer of a hashing thread.
pub(super) const BUF: usize = 64 * 1024;

/// Size of the buffers that held content is packed into (a file above a quarter of it gets a
/// buffer of its own).
const SLAB: usize = 4 << 20;

/// Files one hashing thread takes at a time.
const BATCH: usize = 64;

/// A folder of the vault as it goes into the tar.
pub(super) struct ScannedDir {
    pub tar_path: String,
    pub mode: u32,
    pub mtime: u64,
}

/// What the write pass needs of a hashed file besides its manifest entry (tar path, size as
/// read up to the end of the file, SHA-256).
pub(super) struct ScannedFile {
    pub mode: u32,
    pub mtime: u64,
    pub content: Content,
}

/// A hashed file: its manifest entry, and what the write pass needs besides.
type Hashed = (ManifestFile, ScannedFile);

/// What one hashing thread produced: numbered batches of hashed files, and the slabs holding
/// their content.
struct Share {
    batches: Vec<(usize, Vec<Hashed>)>,
    slabs: Vec<Vec<u8>>,
}

/// Where the write pass takes a file's bytes from.
pub(super) enum Content {
    /// The bytes that were hashed, kept within the budget: a range of one of the scan's slabs.
    Held { slab: usize, range: Range<usize> },
    /// The file at this path, read again and checked against its hash.
    OnDisk(PathBuf),
}

/// A hashed listing of a vault, ready to be written (the first of the two passes), holding
/// the content of the files that fit in [`HOLD_BUDGET`]. The write pass takes its entries and
/// files.
pub struct VaultScan {
    pub(super) root: PathBuf,
    pub(super) dirs: Vec<ScannedDir>,
    /// The manifest entries in tar order: the vault's files, then the index snapshot once added.
    pub(super) entries: Vec<ManifestFile>,
    /// The same files, in the same order.
    pub(super) files: Vec<ScannedFile>,
    content_bytes: u64,
    budget: HoldBudget,
    /// The held content ([`Content::Held`] points into it).
    pub(super) slabs: Vec<Vec<u8>>,
    /// Paths left out: symlinks, sockets, devices.
    pub skipped: Vec<PathBuf>,
}

/// The content bytes the hashing threads may still keep.
struct HoldBudget(AtomicU64);

impl HoldBudget {
    /// Reserve `n` bytes; false when fewer are left.
    fn take(&self, n: u64) -> bool {
        self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n)).is_ok()
    }

    /// Return `n` reserved bytes that were not kept.
    fn give_back(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// One hashing thread's held content, packed one file after another into slabs: thousands of
/// notes cost a few large allocations rather than one each (which made the thread's heap grow
/// a page at a time, one `mprotect` per page, contending with the other thread's page faults).
struct Holder<'a> {
    budget: &'a HoldBudget,
    slabs: Vec<Vec<u8>>,
}

impl Holder<'_> {
    /// Read up to `n` bytes of `r` into a slab when the budget allows (`None` otherwise); fewer
    /// are held when `r` ends early. Returns the slab and the range the bytes are at.
    fn hold<R: Read>(&mut self, r: R, n: u64) -> Option<io::Result<(usize, Range<usize>)>> {
        if !self.budget.take(n) {
            return None;
        }
        // At most HOLD_BUDGET, so it fits in memory's address range.
        let len = n as usize;
        let own = len > SLAB / 4;
        if own || self.slabs.last().is_none_or(|s| s.capacity() - s.len() < len) {
            self.slabs.push(Vec::with_capacity(if own { len } else { SLAB }));
        }
        let slab = self.slabs.len() - 1;
        let start = self.slabs[slab].len();
        let read = r.take(n).read_to_end(&mut self.slabs[slab]);
        let range = start..self.slabs[slab].len();
        self.budget.give_back(n - range.len() as u64);
        Some(match read {
            Ok(_) => Ok((slab, range)),
            Err(e) => {
                self.release(slab, range);
                Err(e)
            }
        })
    }

    /// Give back the bytes just held at `range` of `slab` (and the slab when that empties it, so
    /// that memory stays within the budget).
    fn release(&mut self, slab: usize, range: Range<usize>) {
        self.budget.give_back(range.len() as u64);
        self.slabs[slab].truncate(range.start);
        if range.start == 0 && slab + 1 == self.slabs.len() {
            self.slabs.pop();
        }
    }
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
        let part = c.as_os_str().to_str().ok_or_else(|| KernelError::TargetRefused {
            path: rel.to_path_buf(),
            reason: "a file name in the vault is not valid UTF-8",
        })?;
        s.push('/');
        s.push_str(part);
    }
    Ok(s)
}

/// One `read`, retried when interrupted; 0 at the end.
fn read_some<R: Read>(mut r: R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Feed everything `r` yields to `hash`; returns the number of bytes.
pub(super) fn hash_into<R: Read>(mut r: R, buf: &mut [u8], hash: &mut Sha256) -> io::Result<u64> {
    let mut n = 0u64;
    loop {
        let k = read_some(&mut r, buf)?;
        if k == 0 {
            return Ok(n);
        }
        hash.update(&buf[..k]);
        n += k as u64;
    }
}

/// Hash a reader fully: (size, hex sha256).
pub(crate) fn hash_reader<R: Read>(r: R, buf: &mut [u8]) -> io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let n = hash_into(r, buf, &mut h)?;
    Ok((n, hex::encode(h.finalize())))
}

/// Open a file of the vault for reading, refusing anything but a regular file: a symlink or a
/// fifo put in place of a file after the walk is a change during the backup (and a fifo does
/// not block the open).
pub(super) fn open_regular(abs: &Path) -> Result<(fs::File, fs::Metadata)> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match opts.open(abs) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(KernelError::VaultChanged { path: abs.to_path_buf() })
        }
        Err(e) => return Err(KernelError::io("read", abs, e)),
    };
    let meta = file.metadata().map_err(|e| KernelError::io("read", abs, e))?;
    if !meta.is_file() {
        return Err(KernelError::VaultChanged { path: abs.to_path_buf() });
    }
    Ok((file, meta))
}

impl ScannedFile {
    /// Open and hash the file at `abs`, keeping its content in `holder` when the budget allows.
    fn read(abs: PathBuf, tar_path: String, holder: &mut Holder, buf: &mut [u8]) -> Result<Hashed> {
        let (mut file, meta) = open_regular(&abs)?;
        let (mode, mtime) = (mode_of(&meta), mtime_of(&meta));
        let read_err = |e: io::Error| KernelError::io("read", &abs, e);
        let mut hash = Sha256::new();
        let mut size = 0u64;
        let expected = meta.len();
        if let Some(held) = holder.hold(&mut file, expected) {
            let (slab, range) = held.map_err(read_err)?;
            // Still read to the end: a file that grew since its fstat is hashed in full.
            let more = if range.len() as u64 == expected {
                read_some(&mut file, buf).map_err(read_err)?
            } else {
                0
            };
            let bytes = &holder.slabs[slab][range.clone()];
            if more == 0 {
                let entry = ManifestFile {
                    path: tar_path,
                    size: bytes.len() as u64,
                    sha256: hex::encode(Sha256::digest(bytes)),
                };
                return Ok((entry, ScannedFile { mode, mtime, content: Content::Held { slab, range } }));
            }
            // It grew while being read: hash all of it, and let the write pass read it again.
            hash.update(bytes);
            hash.update(&buf[..more]);
            size = (bytes.len() + more) as u64;
            holder.release(slab, range);
        }
        size += hash_into(&mut file, buf, &mut hash).map_err(read_err)?;
        let entry = ManifestFile { path: tar_path, size, sha256: hex::encode(hash.finalize()) };
        Ok((entry, ScannedFile { mode, mtime, content: Content::OnDisk(abs) }))
    }
}

impl VaultScan {
    /// Walk `vault` (sorted, symlinks not followed), then hash every file on up to four threads,
    /// keeping content within [`HOLD_BUDGET`].
    pub fn new(vault: &Path, progress: &mut dyn FnMut(Progress)) -> Result<VaultScan> {
        Self::with_budget(vault, HOLD_BUDGET, progress)
    }

    /// [`VaultScan::new`] keeping at most `budget` bytes of content.
    pub(super) fn with_budget(
        vault: &Path,
        budget: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<VaultScan> {
        let mut scan = VaultScan {
            root: vault.to_path_buf(),
            dirs: Vec::new(),
            entries: Vec::new(),
            files: Vec::new(),
            content_bytes: 0,
            budget: HoldBudget(AtomicU64::new(budget)),
            slabs: Vec::new(),
            skipped: Vec::new(),
        };
        // The walk hands out numbered batches as it goes, so hashing starts with the first
        // folder rather than after the last; threads take batches in turn, and results are put
        // back in the walk's order.
        let threads = worker_threads();
        let done = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<(usize, Vec<PathBuf>)>();
        let rx = Mutex::new(rx);
        let VaultScan { root, dirs, skipped, budget, .. } = &mut scan;
        let budget = &*budget;
        let hash_batches = || -> Result<Share> {
            let mut holder = Holder { budget, slabs: Vec::new() };
            let mut buf = vec![0u8; BUF];
            let mut batches = Vec::new();
            loop {
                // A poisoned lock only means another hashing thread panicked; that is reported
                // when it is joined.
                let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((b, batch)) = next else { return Ok(Share { batches, slabs: holder.slabs }) };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let mut files = Vec::with_capacity(batch.len());
                for rel in &batch {
                    let f = tar_path_of(rel)
                        .and_then(|tar_path| {
                            ScannedFile::read(vault.join(rel), tar_path, &mut holder, &mut buf)
                        })
                        .inspect_err(|_| stop.store(true, Ordering::Relaxed))?;
                    done.fetch_add(f.0.size, Ordering::Relaxed);
                    files.push(f);
                }
                batches.push((b, files));
            }
        };
        let (walked, results): (Result<()>, Vec<Result<_>>) = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(hash_batches)).collect();
            let mut n = 0;
            let walked = walk(root, dirs, skipped, &stop, |batch| {
                // The receiver lives until the threads are joined, so sending cannot fail.
                let _ = tx.send((n, batch));
                n += 1;
            });
            if walked.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            drop(tx);
            (walked, handles.into_iter().map(|h| joined(h, "hash")).collect())
        });
        walked?;
        let mut batches = Vec::new();
        for r in results {
            let mut share = r?;
            scan.adopt(
                share.slabs,
                share.batches.iter_mut().flat_map(|(_, files)| files.iter_mut().map(|f| &mut f.1)),
            );
            batches.extend(share.batches);
        }
        batches.sort_unstable_by_key(|(b, _)| *b);
        (scan.entries, scan.files) = batches.into_iter().flat_map(|(_, files)| files).unzip();
        let total = done.load(Ordering::Relaxed);
        scan.content_bytes = total;
        progress(Progress { phase: Phase::Scan, done: total, total });
        Ok(scan)
    }

    /// Bytes of file content found.
    pub fn content_bytes(&self) -> u64 {
        self.content_bytes
    }

    /// Take over a hashing thread's `slabs`, renumbering the held content of its `files`.
    fn adopt<'a>(&mut self, slabs: Vec<Vec<u8>>, files: impl Iterator<Item = &'a mut ScannedFile>) {
        let first = self.slabs.len();
        self.slabs.extend(slabs);
        for f in files {
            if let Content::Held { slab, .. } = &mut f.content {
                *slab += first;
            }
        }
    }

    /// Add the index snapshot at `path` as the last file (`index.db`, mode 0600, time `mtime`),
    /// read and hashed like a vault file within what is left of the budget.
    pub(super) fn add_snapshot(&mut self, path: &Path, mtime: u64) -> Result<()> {
        let mut holder = Holder { budget: &self.budget, slabs: Vec::new() };
        let (entry, mut f) =
            ScannedFile::read(path.to_path_buf(), INDEX_NAME.to_string(), &mut holder, &mut vec![0u8; BUF])?;
        let slabs = holder.slabs;
        self.adopt(slabs, std::iter::once(&mut f));
        (f.mode, f.mtime) = (0o600, mtime);
        self.content_bytes += entry.size;
        self.entries.push(entry);
        self.files.push(f);
        Ok(())
    }
}

/// List the folders of the vault at `root` into `dirs` (and what is neither file nor folder
/// into `skipped`), depth-first in name order, handing the files to hash to `emit` in batches of
/// [`BATCH`] as they are found; stops early once `stop` is set. The listing gives each entry's
/// type on most file systems, so files are not stat'ed here: their mode and time come from the
/// open file in the hash pass.
fn walk(
    root: &Path,
    dirs: &mut Vec<ScannedDir>,
    skipped: &mut Vec<PathBuf>,
    stop: &AtomicBool,
    mut emit: impl FnMut(Vec<PathBuf>),
) -> Result<()> {
    let meta = fs::metadata(root).map_err(|e| KernelError::io("read", root, e))?;
    dirs.push(ScannedDir { tar_path: VAULT_DIR.to_string(), mode: mode_of(&meta), mtime: mtime_of(&meta) });
    let mut files = Vec::with_capacity(BATCH);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let abs = root.join(&rel);
        let mut entries: Vec<_> = fs::read_dir(&abs)
            .map_err(|e| KernelError::io("read", &abs, e))?
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| KernelError::io("read", &abs, e))?;
        entries.sort_by_cached_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            let name = e.file_name();
            let child_rel = rel.join(&name);
            if is_transient(&child_rel, &name.to_string_lossy()) {
                continue;
            }
            let kind = e.file_type().map_err(|err| KernelError::io("read", e.path(), err))?;
            if kind.is_dir() {
                let m = e.metadata().map_err(|err| KernelError::io("read", e.path(), err))?;
                dirs.push(ScannedDir {
                    tar_path: tar_path_of(&child_rel)?,
                    mode: mode_of(&m),
                    mtime: mtime_of(&m),
                });
                subdirs.push(child_rel);
            } else if kind.is_file() {
                files.push(child_rel);
                if files.len() == BATCH {
                    emit(std::mem::replace(&mut files, Vec::with_capacity(BATCH)));
                }
            } else {
                skipped.push(child_rel);
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    if !files.is_empty() {
        emit(files);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (rel, content) in files {
            let p = t.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, content).unwrap();
        }
        t
    }

    fn scan(v: &Path, budget: u64) -> VaultScan {
        VaultScan::with_budget(v, budget, &mut super::super::no_progress).unwrap()
    }

    #[test]
    fn content_is_held_within_the_budget_only() {
        let v = vault(&[("a.md", b"0123456789"), ("b/c.md", b"abcdefghij"), ("d.md", b"")]);
        let held = |s: &VaultScan| {
            s.files.iter().map(|f| matches!(f.content, Content::Held { .. })).collect::<Vec<_>>()
        };
        let all = scan(v.path(), HOLD_BUDGET);
        let paths: Vec<_> = all.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["vault/a.md", "vault/d.md", "vault/b/c.md"]);
        assert_eq!(held(&all), [true, true, true]);
        assert!(
            matches!(&all.files[0].content, Content::Held { slab, range } if &all.slabs[*slab][range.clone()] == b"0123456789")
        );
        assert_eq!(all.entries[0].sha256, hex::encode(Sha256::digest(b"0123456789")));
        assert_eq!((all.content_bytes(), all.budget.0.load(Ordering::Relaxed)), (20, HOLD_BUDGET - 20));

        // Room for one ten-byte file: the other is left for the write pass, hashed the same.
        let some = scan(v.path(), 15);
        assert_eq!(held(&some).iter().filter(|h| **h).count(), 2, "{:?}", held(&some));
        assert_eq!(all.entries, some.entries);
        let none = scan(v.path(), 0);
        assert_eq!(held(&none), [false, true, false], "only the empty file fits");
        assert!(matches!(&none.files[0].content, Content::OnDisk(p) if p == &v.path().join("a.md")));
    }

    #[test]
    fn held_bytes_are_each_file_s_own_across_threads_and_slabs() {
        // Enough files for several batches (threads), and one large enough for its own slab.
        let names: Vec<String> = (0..300).map(|i| format!("n{i:03}.md")).collect();
        let mut files: Vec<(&str, Vec<u8>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), format!("note {i}\n").repeat(i + 1).into_bytes()))
            .collect();
        files.push(("big.bin", vec![7u8; SLAB / 2]));
        let v = vault(&files.iter().map(|(n, c)| (*n, &c[..])).collect::<Vec<_>>());
        let s = scan(v.path(), HOLD_BUDGET);
        assert_eq!(s.files.len(), 301);
        for (entry, f) in s.entries.iter().zip(&s.files) {
            let Content::Held { slab, range } = &f.content else { panic!("{} not held", entry.path) };
            let on_disk = fs::read(v.path().join(entry.path.strip_prefix("vault/").unwrap())).unwrap();
            assert_eq!(&s.slabs[*slab][range.clone()], &on_disk[..], "{}", entry.path);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_longer_than_its_stat_is_hashed_whole_and_not_held() {
        // procfs reports size 0 for files that have content: the case of a file that grew
        // between its fstat and its read.
        let budget = HoldBudget(AtomicU64::new(HOLD_BUDGET));
        let mut holder = Holder { budget: &budget, slabs: Vec::new() };
        let path = PathBuf::from("/proc/self/cmdline");
        let (entry, f) =
            ScannedFile::read(path.clone(), "vault/x".into(), &mut holder, &mut [0u8; 7]).unwrap();
        let want = fs::read(&path).unwrap();
        assert!(!want.is_empty());
        assert_eq!((entry.size, entry.sha256), (want.len() as u64, hex::encode(Sha256::digest(&want))));
        assert!(matches!(f.content, Content::OnDisk(_)));
        assert!(holder.slabs.is_empty(), "nothing is left held");
        assert_eq!(budget.0.load(Ordering::Relaxed), HOLD_BUDGET, "the reservation is given back");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_or_fifo_in_place_of_a_file_is_a_change() {
        let v = vault(&[("a.md", b"a")]);
        let link = v.path().join("link.md");
        std::os::unix::fs::symlink(v.path().join("a.md"), &link).unwrap();
        assert!(matches!(open_regular(&link), Err(KernelError::VaultChanged { .. })));
        let fifo = v.path().join("fifo.md");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        // Returns at once rather than waiting for a writer.
        assert!(matches!(open_regular(&fifo), Err(KernelError::VaultChanged { .. })));
        // The walk itself leaves both out.
        let s = scan(v.path(), HOLD_BUDGET);
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.skipped.len(), 2);
    }
}
