//! The one error type that crosses IPC: `{code, message}`. `code` is a stable snake_case name the
//! UI switches on (it never matches on message text); `message` is one human line that names
//! paths and positions but never note text, so it is safe to show and to log.

use serde::Serialize;

/// Stable error codes. Adding one is fine; renaming one breaks the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A command that needs a vault ran before one was opened.
    NoVault,
    /// The folder is not a Husk vault (it has no `.husk/`).
    NotAVault,
    /// A path was empty, relative, outside the vault, or of the wrong kind.
    InvalidPath,
    /// A file or folder that should exist does not.
    NotFound,
    /// A field the user typed is not acceptable (level, format, date, recipient…).
    InvalidInput,
    /// The target already exists and Husk will not overwrite it without consent.
    Exists,
    /// The note is marked `husk: private` and is never exported.
    PrivateNote,
    /// Withheld content still shows in the husk; nothing was exported.
    Leak,
    /// The key or passphrase does not open this kernel.
    WrongKey,
    /// A kernel or export failed its integrity check.
    Corrupt,
    /// Reading or writing a file failed.
    Io,
    /// A backup was asked for before a backup folder was set in Settings.
    NoBackupFolder,
}

/// An error as the UI sees it.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<husk_core::SanitizeError> for IpcError {
    fn from(e: husk_core::SanitizeError) -> Self {
        let code = match e {
            husk_core::SanitizeError::PrivateNote => ErrorCode::PrivateNote,
            husk_core::SanitizeError::Leak { .. } => ErrorCode::Leak,
            #[allow(unreachable_patterns)]
            _ => ErrorCode::InvalidInput,
        };
        Self::new(code, e.to_string())
    }
}

impl From<husk_core::model::UnknownName> for IpcError {
    fn from(e: husk_core::model::UnknownName) -> Self {
        Self::new(ErrorCode::InvalidInput, e.to_string())
    }
}

impl From<husk_core::VaultError> for IpcError {
    fn from(e: husk_core::VaultError) -> Self {
        use husk_core::export::ExportError as X;
        use husk_core::VaultError as V;
        let code = match &e {
            V::NotFound { .. } | V::NotAVault { .. } => ErrorCode::NotAVault,
            V::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorCode::NotFound,
            V::UnknownNote { .. } | V::UnknownExport { .. } => ErrorCode::NotFound,
            V::BadNote { .. } | V::Config { .. } | V::NoBlockAtLine { .. } | V::Import(_) => {
                ErrorCode::InvalidInput
            }
            V::StateFile { .. } => ErrorCode::Corrupt,
            V::Export(X::InsideVault { .. }) => ErrorCode::InvalidPath,
            V::Export(X::Exists { .. }) => ErrorCode::Exists,
            V::Export(X::Sanitize { source: husk_core::SanitizeError::PrivateNote, .. }) => {
                ErrorCode::PrivateNote
            }
            V::Export(X::Sanitize { source: husk_core::SanitizeError::Leak { .. }, .. }) => ErrorCode::Leak,
            V::Export(_) => ErrorCode::InvalidInput,
            _ => ErrorCode::Io,
        };
        Self::new(code, chain(&e))
    }
}

impl From<husk_core::kernel::KernelError> for IpcError {
    fn from(e: husk_core::kernel::KernelError) -> Self {
        use husk_core::kernel::KernelError as K;
        let code = match &e {
            K::WrongKey => ErrorCode::WrongKey,
            K::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorCode::NotFound,
            K::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => ErrorCode::Exists,
            K::Io { .. } | K::Snapshot { .. } | K::Encrypt { .. } => ErrorCode::Io,
            K::TargetNotEmpty { .. } => ErrorCode::Exists,
            K::TargetRefused { .. } => ErrorCode::InvalidPath,
            K::NoKey { .. }
            | K::InvalidRecipient { .. }
            | K::InvalidIdentity { .. }
            | K::Config { .. }
            | K::VaultChanged { .. } => ErrorCode::InvalidInput,
            _ => ErrorCode::Corrupt,
        };
        Self::new(code, chain(&e))
    }
}

/// An error and its causes on one line (paths and positions only: core errors carry no note text).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

pub type IpcResult<T> = Result<T, IpcError>;
