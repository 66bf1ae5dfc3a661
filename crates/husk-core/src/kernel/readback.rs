//! Reading a kernel back right after writing it, when no key is at hand to decrypt it: every
//! byte on disk goes through SHA-256 and must give the digest of what was written.
//!
//! The writer ([`HashingWriter`]) hashes the ciphertext as it goes and keeps the hash state at a
//! few offsets. That lets the read-back be split between threads: the part of the file from one
//! kept offset to the next is hashed on from the state the writer had at its start, and must end
//! in the state the writer had at its end (compared as the digests of both). Since the bytes
//! before each part are the same on both sides, a part that differs on disk changes its digest
//! unless SHA-256 collides, just as with one hash of the whole file.

use super::error::KernelError;
use super::scan::{hash_into, BUF};
use super::{joined, worker_threads, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// Keep the writer's hash state about every this many bytes to begin with.
const MARK_EVERY: u64 = 4 << 20;

/// Most hash states kept: past this, every other one is dropped and the spacing doubles, so
/// that memory stays flat whatever the kernel size.
const MAX_MARKS: usize = 64;

/// A writer that hashes and counts the ciphertext, keeping the hash state at a few offsets.
pub(super) struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
    n: u64,
    /// (offset, hash state over the bytes before it), in increasing order.
    marks: Vec<(u64, Sha256)>,
    every: u64,
}

/// What went through a [`HashingWriter`].
pub(super) struct Written {
    /// Bytes written.
    pub size: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
    marks: Vec<(u64, Sha256)>,
}

impl<W> HashingWriter<W> {
    pub(super) fn new(inner: W) -> HashingWriter<W> {
        HashingWriter { inner, hash: Sha256::new(), n: 0, marks: Vec::new(), every: MARK_EVERY }
    }

    /// What was written (the output itself is dropped).
    pub(super) fn finish(self) -> Written {
        Written { size: self.n, sha256: self.hash.finalize().into(), marks: self.marks }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.hash.update(&buf[..k]);
        self.n += k as u64;
        if self.n >= self.marks.last().map_or(0, |m| m.0) + self.every {
            self.marks.push((self.n, self.hash.clone()));
            if self.marks.len() > MAX_MARKS {
                let mut keep = false;
                self.marks.retain(|_| {
                    keep = !keep;
                    !keep
                });
                self.every *= 2;
            }
        }
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A stretch of the file to read back: `len` bytes from `start`, hashed on from `from` (the
/// writer's state at `start`), must give `want` (the writer's digest at `start + len`).
struct Part {
    start: u64,
    len: u64,
    from: Sha256,
    want: [u8; 32],
}

impl Written {
    /// Split the file into at most `n` parts at kept offsets near equal shares.
    fn parts(&self, n: usize) -> Vec<Part> {
        let mut cuts: Vec<&(u64, Sha256)> = Vec::new();
        for i in 1..n as u64 {
            let target = self.size / n as u64 * i;
            let nearest = self
                .marks
                .iter()
                .filter(|m| m.0 > cuts.last().map_or(0, |c| c.0) && m.0 < self.size)
                .min_by_key(|m| m.0.abs_diff(target));
            cuts.extend(nearest);
        }
        let mut parts = Vec::with_capacity(cuts.len() + 1);
        let (mut start, mut from) = (0, Sha256::new());
        for (offset, state) in cuts {
            parts.push(Part { start, len: offset - start, from, want: state.clone().finalize().into() });
            (start, from) = (*offset, state.clone());
        }
        parts.push(Part { start, len: self.size - start, from, want: self.sha256 });
        parts
    }
}

/// Hash one part of the file at `path`; true when it gives the expected digest.
fn check_part(path: &Path, part: Part) -> Result<bool> {
    let read_err = |e: io::Error| KernelError::io("read", path, e);
    let mut f = fs::File::open(path).map_err(read_err)?;
    f.seek(io::SeekFrom::Start(part.start)).map_err(read_err)?;
    let mut hash = part.from;
    let n = hash_into(f.take(part.len), &mut vec![0u8; BUF], &mut hash).map_err(read_err)?;
    Ok(n == part.len && <[u8; 32]>::from(hash.finalize()) == part.want)
}

/// Read the kernel at `path` back, on as many threads as parts, and check that it holds exactly
/// what was `written`.
pub(super) fn read_back(path: &Path, written: &Written) -> Result<()> {
    let on_disk = fs::metadata(path).map_err(|e| KernelError::io("read", path, e))?.len();
    let parts = written.parts(worker_threads());
    let matched: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = parts.into_iter().map(|p| s.spawn(move || check_part(path, p))).collect();
        handles.into_iter().map(|h| joined(h, "read back")).collect::<Result<_>>()
    })?;
    if on_disk != written.size || matched.contains(&false) {
        return Err(KernelError::Tampered { detail: "the kernel on disk differs from what was written" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(data: &[u8], every: u64) -> Written {
        let mut w = HashingWriter::new(io::sink());
        w.every = every;
        for piece in data.chunks(1000) {
            w.write_all(piece).unwrap();
        }
        w.finish()
    }

    #[test]
    fn parts_cover_the_file_and_check_every_byte() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("k");
        let data: Vec<u8> = (0..100_000u32).map(|i| ((i * 7919) >> 5) as u8).collect();
        fs::write(&path, &data).unwrap();
        let w = written(&data, 10_000);
        assert_eq!(w.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        for n in 1..=4 {
            let parts = w.parts(n);
            assert_eq!(parts.len(), n);
            let mut at = 0;
            for p in &parts {
                assert_eq!(p.start, at);
                at += p.len;
            }
            assert_eq!(at, data.len() as u64);
        }
        read_back(&path, &w).unwrap();
        // One flipped bit in any part, a missing byte or an extra one is caught.
        for at in [0, 30_000, 60_000, 99_999] {
            let mut bad = data.clone();
            bad[at] ^= 1;
            fs::write(&path, &bad).unwrap();
            assert_eq!(read_back(&path, &w).unwrap_err().code(), "tampered", "flip at {at}");
        }
        fs::write(&path, &data[..data.len() - 1]).unwrap();
        assert!(read_back(&path, &w).is_err());
        fs::write(&path, [&data[..], b"x"].concat()).unwrap();
        assert!(read_back(&path, &w).is_err());
    }

    #[test]
    fn kept_states_stay_few_whatever_the_size() {
        let w = written(&vec![0u8; 1_000_000], 1_000);
        assert!(w.marks.len() <= MAX_MARKS && w.marks.len() > MAX_MARKS / 4, "{}", w.marks.len());
        assert!(w.marks.windows(2).all(|m| m[0].0 < m[1].0));
    }
}
