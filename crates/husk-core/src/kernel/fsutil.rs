//! File-system primitives the kernel's promises rest on: private new files, folder fsync,
//! atomic exchange of two folders, and a whole-filesystem sync before a rename.

use super::error::KernelError;
use super::Result;
use std::fs;
use std::io::Write;
use std::path::Path;

/// Create `path` (which must not exist) with mode 0600, write `data`, fsync, fsync the folder.
pub(crate) fn write_new_private(path: &Path, data: &[u8]) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| KernelError::io("create", path, e))?;
    let res = f.write_all(data).and_then(|_| f.sync_all());
    if let Err(e) = res {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(KernelError::io("write", path, e));
    }
    sync_parent(path);
    Ok(())
}

/// fsync a folder so that a rename or create inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = fs::File::open(dir).map_err(|e| KernelError::io("open", dir, e))?;
    d.sync_all().map_err(|e| KernelError::io("fsync", dir, e))
}

/// Best-effort fsync of `path`'s parent folder.
pub(crate) fn sync_parent(path: &Path) {
    if let Some(p) = path.parent() {
        let p = if p.as_os_str().is_empty() { Path::new(".") } else { p };
        let _ = sync_dir(p);
    }
}

/// Flush every dirty page of the file system holding `dir` (one call instead of one fsync per
/// restored file).
pub(crate) fn sync_filesystem(dir: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        let d = fs::File::open(dir).map_err(|e| KernelError::io("open", dir, e))?;
        // SAFETY: syncfs takes a valid open file descriptor, which `d` owns for this call.
        let rc = unsafe { libc::syncfs(d.as_raw_fd()) };
        if rc != 0 {
            return Err(KernelError::io("sync", dir, std::io::Error::last_os_error()));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        sync_dir(dir)
    }
}

/// Atomically swap two paths (both must exist). Returns false when the platform or file
/// system cannot, so that the caller falls back to two renames.
pub(crate) fn exchange(a: &Path, b: &Path) -> Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes()).map_err(|e| {
            KernelError::io("rename", a, std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
        })?;
        let cb = CString::new(b.as_os_str().as_bytes()).map_err(|e| {
            KernelError::io("rename", b, std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
        })?;
        // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE)
        };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::ENOTSUP) => Ok(false),
            _ => Err(KernelError::io("swap into place", b, err)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// True when `dir` is empty (or does not exist).
pub(crate) fn is_empty_dir(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(KernelError::io("read", dir, e)),
    }
}

/// Take an exclusive advisory lock on `f` without waiting; true when taken. The lock lives as
/// long as the open file, so a killed process releases it: that is how stale temp files and
/// staging folders are told apart from ones in use.
pub(crate) fn try_lock(f: &fs::File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a valid descriptor owned by `f`.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        false
    }
}

/// Remove entries of `dir` named `prefix…` that no live Husk process holds locked: temp files
/// and staging folders left by a crash. Best effort; returns how many were removed.
pub(crate) fn sweep_stale(dir: &Path, prefix: &str) -> usize {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(prefix) {
            continue;
        }
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        let Ok(f) = fs::File::open(&p) else { continue };
        if !try_lock(&f) {
            continue;
        }
        let removed = if ft.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
        if removed.is_ok() {
            n += 1;
        }
    }
    n
}
