//! The kernel: the private, age-encrypted backup of a whole vault, its verification and its
//! restore.
//!
//! A kernel is an age v1 file (X25519 recipients or an scrypt passphrase) wrapping a POSIX tar
//! that holds, in order, `husk-backup.json` (the [`Manifest`]: format version, time, every file
//! with its size and SHA-256), the notes under `vault/`, and an `index.db` snapshot taken with
//! SQLite's online backup API. The stock `age -d | tar -x` gives the vault back.
//!
//! The streaming layer works on `Read`/`Write` ([`write_kernel`], [`verify`], [`read_kernel`]);
//! the path layer over it ([`backup`], [`verify_file`], [`restore`], [`auto_backup`]) owns the
//! file-system promises: temp file, fsync, rename, fsync the folder, mode 0600; restore goes
//! through a staging folder next to the target and renames into place only after every hash
//! matched, so that a failure leaves nothing behind. Secrets live in `secrecy` types and never
//! reach an error message or a log line.

mod config;
mod error;
mod fsutil;
mod keys;
mod manifest;
mod read;
mod readback;
mod restore;
mod retention;
mod scan;
pub(crate) mod time;
mod write;

pub use config::{Debouncer, KernelConfig};
pub use error::KernelError;
pub use keys::{
    generate_identity, parse_identities, parse_recipients, read_identity_file, write_identity_file, Key,
    Lock, MAX_WORK_FACTOR, WRITE_WORK_FACTOR,
};
pub use manifest::{Manifest, ManifestFile, FORMAT, FORMAT_VERSION};
pub use read::{read_kernel, verify, verify_file, EntrySink, Limits, VerifyReport};
pub use restore::{restore, RestoreOptions, RestoreReport};
pub use retention::{
    auto_backup, list_kernels, prune, record_verification, select_prunable, AutoBackupReport, KernelFile,
    Retention, Verified,
};
pub use scan::{VaultScan, HOLD_BUDGET};
pub use write::{backup, backup_with_writer, check_target_dir, kernel_file_name, write_kernel, BackupReport};

/// What a long-running kernel operation is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Reading and hashing the vault's files.
    Scan,
    /// Taking the SQLite snapshot of `index.db`.
    Snapshot,
    /// Streaming the tar through the age encryptor.
    Write,
    /// Checking a kernel: decrypting it and checking every hash, or (right after a backup
    /// without a key) reading it back and comparing its hash with what was written.
    Verify,
    /// Decrypting into the staging folder.
    Restore,
}

/// One progress event: `done` of `total` bytes in `phase` (`total` is 0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

/// A progress callback that ignores every event.
pub fn no_progress(_: Progress) {}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, KernelError>;

/// Threads for work that splits: one per core, at most four.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4)
}

/// Wait for a scoped thread's result (`what` names its work); a panic becomes an error.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>, what: &'static str) -> Result<T> {
    handle.join().unwrap_or_else(|_| {
        Err(KernelError::io(what, "<kernel thread>", std::io::Error::other("a kernel thread panicked")))
    })
}
