//! Reading a kernel: decrypt, parse the tar, check every entry against the manifest (path
//! shape, type, duplicates, size, SHA-256) and hand the content to an [`EntrySink`]. Verify
//! uses a sink that keeps nothing; restore uses one that writes into a staging folder.
//!
//! age releases plaintext before it has authenticated the end of the stream, so a reader must
//! treat everything as provisional until [`read_kernel`] returns `Ok`: by then the stream has
//! been read to its authenticated end and every manifest entry has been seen exactly once.

use super::error::KernelError;
use super::keys::{self, Key};
use super::manifest::{check_path, Manifest, MANIFEST_NAME};
use super::{Phase, Progress, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Caps applied to every kernel read, before and beyond the manifest's own figures.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most tar entries (manifest, folders and files) a manifest may declare.
    pub max_entries: u64,
    /// Most bytes of file content a manifest may declare.
    pub max_total_bytes: u64,
    /// Largest manifest accepted.
    pub max_manifest_bytes: u64,
    /// Most zero padding accepted after the tar's end marker.
    pub max_trailing_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 200_000,
            max_total_bytes: 256 << 30,
            max_manifest_bytes: 32 << 20,
            max_trailing_bytes: 1 << 20,
        }
    }
}

/// Where checked archive content goes. Calls come in archive order; nothing handed to a sink
/// is trustworthy until [`read_kernel`] returns `Ok`.
pub trait EntrySink {
    /// A folder (tar path such as `vault/notes`).
    fn dir(&mut self, tar_path: &str, mode: u32, mtime: u64) -> Result<()>;
    /// A file starts.
    fn begin_file(&mut self, tar_path: &str, mode: u32, mtime: u64) -> Result<()>;
    /// More content of the current file.
    fn write(&mut self, data: &[u8]) -> Result<()>;
    /// The current file ended and matched the manifest.
    fn end_file(&mut self) -> Result<()>;
}

/// A sink that keeps nothing (verify).
struct Discard;

impl EntrySink for Discard {
    fn dir(&mut self, _: &str, _: u32, _: u64) -> Result<()> {
        Ok(())
    }
    fn begin_file(&mut self, _: &str, _: u32, _: u64) -> Result<()> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn end_file(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The kernel's manifest.
    pub manifest: Manifest,
    /// Number of files checked.
    pub files: usize,
    /// Bytes of file content checked.
    pub content_bytes: u64,
}

/// Records the first error the decrypting stream raised, so that errors surfacing through the
/// tar parser are classed by their real cause (truncated, tampered) rather than as bad tar.
struct Tap<R> {
    inner: R,
    err: Option<KernelError>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                if self.err.is_none() {
                    self.err = Some(keys::map_stream_error(&e, "<kernel>"));
                }
                Err(e)
            }
        }
    }
}

/// Decrypt and check the kernel read from `input`, writing nothing.
pub fn verify<R: Read>(input: R, key: &Key, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
    let manifest = read_kernel(input, key, &Limits::default(), &mut Discard, Phase::Verify, progress)?;
    Ok(VerifyReport { files: manifest.files.len(), content_bytes: manifest.total_size(), manifest })
}

/// [`verify`] a kernel file.
pub fn verify_file(path: &Path, key: &Key, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
    verify_file_inner(path, key, progress)
}

pub(crate) fn verify_file_inner(
    path: &Path,
    key: &Key,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport> {
    let f = std::fs::File::open(path).map_err(|e| KernelError::io("open", path, e))?;
    verify(f, key, progress).map_err(|e| with_path(e, path))
}

/// Put the real path into I/O errors raised on the anonymous input stream.
pub(crate) fn with_path(e: KernelError, path: &Path) -> KernelError {
    match e {
        KernelError::Io { action, path: p, source } if p.as_os_str() == "<kernel>" => {
            KernelError::Io { action, path: path.to_path_buf(), source }
        }
        other => other,
    }
}

fn mode_mtime(h: &tar::Header) -> (u32, u64) {
    (h.mode().unwrap_or(0o600) & 0o777, h.mtime().unwrap_or(0))
}

/// The streaming reader behind verify and restore. `input` is the kernel (binary or armored
/// age); checked content goes to `sink`. Returns the manifest once the whole stream has been
/// authenticated and every manifest entry was seen exactly once.
pub fn read_kernel<R: Read>(
    input: R,
    key: &Key,
    limits: &Limits,
    sink: &mut dyn EntrySink,
    phase: Phase,
    progress: &mut dyn FnMut(Progress),
) -> Result<Manifest> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let scan = keys::precheck_header(&mut input)?;
    std::io::BufRead::consume(&mut input, scan.skip);
    let stream = keys::open(input, key, scan.binary_v1)?;
    let mut tap = Tap { inner: stream, err: None };
    let res = read_entries(&mut tap, limits, sink, phase, progress);
    match res {
        Ok(m) => Ok(m),
        Err(e) => {
            if let Some(stream_err) = tap.err.take() {
                return Err(stream_err);
            }
            if matches!(e, KernelError::NotKernel { .. }) {
                // A payload that is not a kernel may also be damaged further on: report the
                // damage, which is the more fundamental fault.
                let _ = io::copy(&mut tap, &mut io::sink());
                if let Some(stream_err) = tap.err.take() {
                    return Err(stream_err);
                }
            }
            Err(e)
        }
    }
}

fn read_entries<R: Read>(
    tap: &mut Tap<R>,
    limits: &Limits,
    sink: &mut dyn EntrySink,
    phase: Phase,
    progress: &mut dyn FnMut(Progress),
) -> Result<Manifest> {
    let bad_tar =
        |e: io::Error| KernelError::not_kernel(format!("the payload is not a valid tar archive ({e})"));
    let manifest;
    {
        let mut archive = tar::Archive::new(&mut *tap);
        let mut entries = archive.entries().map_err(bad_tar)?;
        // 1. The manifest, first.
        let mut first = match entries.next() {
            None => return Err(KernelError::not_kernel("the archive is empty")),
            Some(e) => e.map_err(bad_tar)?,
        };
        let name = first.path_bytes().into_owned();
        if name != MANIFEST_NAME.as_bytes() || first.header().entry_type() != tar::EntryType::Regular {
            return Err(KernelError::not_kernel("the archive does not start with husk-backup.json"));
        }
        let declared = first.header().size().map_err(bad_tar)?;
        if declared > limits.max_manifest_bytes {
            return Err(KernelError::TooLarge {
                detail: format!("a {declared}-byte manifest (at most {})", limits.max_manifest_bytes),
            });
        }
        let mut json = Vec::with_capacity(declared as usize);
        (&mut first).take(declared).read_to_end(&mut json).map_err(bad_tar)?;
        if json.len() as u64 != declared {
            return Err(KernelError::not_kernel("the archive ends inside husk-backup.json"));
        }
        let m: Manifest = match serde_json::from_slice(&json) {
            Ok(m) => m,
            Err(_) => {
                // Tell a newer format apart from garbage.
                let v: Option<serde_json::Value> = serde_json::from_slice(&json).ok();
                if let Some(v) = v {
                    if v.get("format").and_then(|f| f.as_str()) == Some(super::FORMAT) {
                        if let Some(ver) = v.get("version").and_then(|x| x.as_u64()) {
                            if ver > u64::from(super::FORMAT_VERSION) {
                                return Err(KernelError::UnsupportedVersion {
                                    found: format!("kernel format version {ver}"),
                                });
                            }
                        }
                    }
                }
                return Err(KernelError::not_kernel("husk-backup.json is not a valid manifest"));
            }
        };
        drop(first);
        m.validate(limits)?;
        let total = m.total_size();

        // 2. Every other entry must be listed, once, with the listed type, size and hash.
        let mut dirs: HashMap<&str, bool> = m.dirs.iter().map(|d| (d.as_str(), false)).collect();
        let mut files: HashMap<&str, (u64, &str, bool)> =
            m.files.iter().map(|f| (f.path.as_str(), (f.size, f.sha256.as_str(), false))).collect();
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0u64;
        let mut count = 1u64;
        for entry in entries {
            let mut entry = entry.map_err(bad_tar)?;
            count += 1;
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let kind = entry.header().entry_type();
            let refuse = |reason: &'static str| KernelError::Refused { entry: shown.clone(), reason };
            let path = std::str::from_utf8(&raw).map_err(|_| refuse("the path is not valid UTF-8"))?;
            let path =
                if kind == tar::EntryType::Directory { path.strip_suffix('/').unwrap_or(path) } else { path };
            check_path(path).map_err(refuse)?;
            match kind {
                tar::EntryType::Regular | tar::EntryType::Directory => {}
                tar::EntryType::Symlink => return Err(refuse("symbolic links are refused")),
                tar::EntryType::Link => return Err(refuse("hard links are refused")),
                tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                    return Err(refuse("devices and fifos are refused"))
                }
                _ => return Err(refuse("this entry type is refused")),
            }
            let already = if kind == tar::EntryType::Directory {
                dirs.get(path) == Some(&true)
            } else {
                files.get(path).map(|f| f.2) == Some(true)
            };
            if already {
                return Err(refuse("duplicate entry"));
            }
            if count > m.entry_count() {
                return Err(KernelError::TooLarge {
                    detail: format!("more entries than the {} the manifest declares", m.entry_count()),
                });
            }
            let (mode, mtime) = mode_mtime(entry.header());
            if kind == tar::EntryType::Directory {
                match dirs.get_mut(path) {
                    None => return Err(refuse("not listed in the manifest")),
                    Some(true) => return Err(refuse("duplicate entry")),
                    Some(seen) => *seen = true,
                }
                sink.dir(path, mode, mtime)?;
                continue;
            }
            let (size, want_sha) = match files.get_mut(path) {
                None => return Err(refuse("not listed in the manifest")),
                Some((_, _, true)) => return Err(refuse("duplicate entry")),
                Some((size, sha, seen)) => {
                    *seen = true;
                    (*size, *sha)
                }
            };
            let header_size = entry.header().size().map_err(bad_tar)?;
            if header_size != size {
                return Err(KernelError::Mismatch {
                    entry: shown,
                    reason: "its size differs from the manifest",
                });
            }
            sink.begin_file(path, mode, mtime)?;
            let mut h = Sha256::new();
            let mut got = 0u64;
            loop {
                let want = buf.len().min((size - got) as usize);
                if want == 0 {
                    break;
                }
                let k = match entry.read(&mut buf[..want]) {
                    Ok(0) => {
                        return Err(KernelError::not_kernel(format!("the archive ends inside {shown:?}")))
                    }
                    Ok(k) => k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(bad_tar(e)),
                };
                h.update(&buf[..k]);
                sink.write(&buf[..k])?;
                got += k as u64;
                done += k as u64;
                if done & 0xF_FFFF < k as u64 || got == size {
                    progress(Progress { phase, done, total });
                }
            }
            if hex::encode(h.finalize()) != want_sha {
                return Err(KernelError::Mismatch {
                    entry: shown,
                    reason: "its SHA-256 differs from the manifest",
                });
            }
            sink.end_file()?;
        }
        if let Some((p, _)) = dirs.iter().find(|(_, seen)| !**seen) {
            return Err(KernelError::Mismatch {
                entry: p.to_string(),
                reason: "listed in the manifest but missing from the archive",
            });
        }
        if let Some((p, _)) = files.iter().find(|(_, v)| !v.2) {
            return Err(KernelError::Mismatch {
                entry: p.to_string(),
                reason: "listed in the manifest but missing from the archive",
            });
        }
        manifest = m.clone();
    }
    // 3. Read to the authenticated end: only zero padding may follow the tar's end marker.
    let mut rest = 0u64;
    let mut buf = [0u8; 8192];
    loop {
        let k = match tap.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(keys::map_stream_error(&e, "<kernel>")),
        };
        rest += k as u64;
        if buf[..k].iter().any(|&b| b != 0) {
            return Err(KernelError::not_kernel("data follows the end of the archive"));
        }
        if rest > limits.max_trailing_bytes {
            return Err(KernelError::TooLarge { detail: "padding after the end of the archive".into() });
        }
    }
    Ok(manifest)
}
