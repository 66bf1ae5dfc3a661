//! The kernel's one error type. Every variant carries context (a path, an entry name, a
//! number) and never note text, a passphrase or a key.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while writing, verifying or restoring a kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// A file-system operation failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What Husk was doing ("read", "write", "create", "rename", ...).
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// None of the given identities or passphrases opens this kernel.
    #[error("wrong key: no identity or passphrase given opens this file")]
    WrongKey,
    /// The input is not an age file, or its header is malformed.
    #[error("not an age file (or its header is damaged): {detail}")]
    NotAgeFile {
        /// Which part of the header was rejected.
        detail: &'static str,
    },
    /// The file ends early.
    #[error("the file is truncated: {detail}")]
    Truncated {
        /// Where the end came.
        detail: &'static str,
    },
    /// The file was altered: a MAC or a chunk failed authentication, or data follows the end.
    #[error("the file has been tampered with or damaged: {detail}")]
    Tampered {
        /// Which check failed.
        detail: &'static str,
    },
    /// The file decrypts, but its payload is not a Husk kernel.
    #[error("not a Husk kernel: {detail}")]
    NotKernel {
        /// Why the payload was rejected.
        detail: String,
    },
    /// An age format or kernel format version this Husk cannot read.
    #[error("unsupported version: {found}")]
    UnsupportedVersion {
        /// The version found.
        found: String,
    },
    /// The passphrase's scrypt work factor is above what Husk accepts.
    #[error("scrypt work factor {found} is too high (Husk accepts at most {max})")]
    WorkFactorTooHigh {
        /// The work factor in the file's header.
        found: u64,
        /// The largest work factor Husk accepts.
        max: u8,
    },
    /// An archive entry was refused (absolute, `..`, link, device, duplicate, not in the manifest).
    #[error("refused archive entry {entry:?}: {reason}")]
    Refused {
        /// The entry's path as stored in the archive.
        entry: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A file's size or SHA-256 differs from the manifest.
    #[error("archive entry {entry:?} does not match the manifest: {reason}")]
    Mismatch {
        /// The entry's path.
        entry: String,
        /// Size or hash.
        reason: &'static str,
    },
    /// The archive exceeds a cap (entries, sizes, manifest size).
    #[error("the archive exceeds a limit: {detail}")]
    TooLarge {
        /// Which limit.
        detail: String,
    },
    /// The restore target already holds files and `force` was not given.
    #[error("{} is not empty (use --force to replace its contents)", path.display())]
    TargetNotEmpty {
        /// The target folder.
        path: PathBuf,
    },
    /// Husk refuses to write a kernel (or restore) at this place.
    #[error("refusing to use {}: {reason}", path.display())]
    TargetRefused {
        /// The folder refused.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// A file changed while it was being backed up; run the backup again.
    #[error("{} changed during the backup; try again", path.display())]
    VaultChanged {
        /// The file that changed.
        path: PathBuf,
    },
    /// The SQLite snapshot of the index failed.
    #[error("cannot snapshot the index {}: {message}", path.display())]
    Snapshot {
        /// The index file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// A recipient could not be parsed.
    #[error("invalid recipient on line {line}: expected an age1… X25519 recipient")]
    InvalidRecipient {
        /// 1-based line number (1 for a single recipient).
        line: usize,
    },
    /// An identity file could not be parsed.
    #[error("invalid identity in {} on line {line}: expected an AGE-SECRET-KEY-1… line", path.display())]
    InvalidIdentity {
        /// The identity file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// No recipient, identity or passphrase was given.
    #[error("no key given: {detail}")]
    NoKey {
        /// What is missing.
        detail: &'static str,
    },
    /// The `[kernel]` table of the vault config is invalid.
    #[error("invalid [kernel] config in {}: {detail}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The age encryptor failed to start.
    #[error("cannot start encryption: {detail}")]
    Encrypt {
        /// age's message (never contains secrets).
        detail: String,
    },
}

impl KernelError {
    /// A stable code for the desktop app's IPC (`{code, message}`); never parse messages.
    pub fn code(&self) -> &'static str {
        match self {
            KernelError::Io { .. } => "io",
            KernelError::WrongKey => "wrong_key",
            KernelError::NotAgeFile { .. } => "not_age_file",
            KernelError::Truncated { .. } => "truncated",
            KernelError::Tampered { .. } => "tampered",
            KernelError::NotKernel { .. } => "not_kernel",
            KernelError::UnsupportedVersion { .. } => "unsupported_version",
            KernelError::WorkFactorTooHigh { .. } => "work_factor_too_high",
            KernelError::Refused { .. } => "refused_entry",
            KernelError::Mismatch { .. } => "manifest_mismatch",
            KernelError::TooLarge { .. } => "too_large",
            KernelError::TargetNotEmpty { .. } => "target_not_empty",
            KernelError::TargetRefused { .. } => "target_refused",
            KernelError::VaultChanged { .. } => "vault_changed",
            KernelError::Snapshot { .. } => "snapshot",
            KernelError::InvalidRecipient { .. } => "invalid_recipient",
            KernelError::InvalidIdentity { .. } => "invalid_identity",
            KernelError::NoKey { .. } => "no_key",
            KernelError::Config { .. } => "config",
            KernelError::Encrypt { .. } => "encrypt",
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        KernelError::Io { action, path: path.into(), source }
    }

    pub(crate) fn not_kernel(detail: impl Into<String>) -> Self {
        KernelError::NotKernel { detail: detail.into() }
    }
}
