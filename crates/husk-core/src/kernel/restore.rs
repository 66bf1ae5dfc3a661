//! Restoring a kernel: decrypt into a staging folder next to the target, check every entry and
//! hash, sync, then rename into place (or, with `force`, atomically exchange with the old
//! folder and remove the old contents only after success). On any failure the staging folder
//! is removed and the target is untouched.

use super::error::KernelError;
use super::fsutil;
use super::keys::Key;
use super::manifest::{INDEX_NAME, VAULT_DIR};
use super::read::{self, EntrySink, Limits};
use super::{Phase, Progress, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How [`restore`] treats an existing target.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// Replace a non-empty target (its old contents are removed only after success).
    pub force: bool,
}

/// What a successful restore did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    /// The restored vault.
    pub target: PathBuf,
    /// Files restored.
    pub files: usize,
    /// Notes restored.
    pub notes: usize,
    /// Bytes of file content restored.
    pub content_bytes: u64,
    /// Whether old contents were replaced.
    pub replaced: bool,
    /// Set when the old contents could not be removed after success (they are here).
    pub old_contents_left: Option<PathBuf>,
}

struct Staging {
    root: PathBuf,
    made: std::collections::HashSet<PathBuf>,
    current: Option<(fs::File, PathBuf, u32, u64)>,
    dirs: Vec<(PathBuf, u32, u64)>,
}

impl Staging {
    fn map(&self, tar_path: &str) -> PathBuf {
        if tar_path == VAULT_DIR {
            return self.root.clone();
        }
        if tar_path == INDEX_NAME {
            return self.root.join(".husk").join("index.db");
        }
        let rel = tar_path.strip_prefix("vault/").unwrap_or(tar_path);
        let mut p = self.root.clone();
        for c in rel.split('/') {
            p.push(c);
        }
        p
    }
}

impl Staging {
    /// Create `p` and its parents inside the staging folder, once.
    fn create_dirs(&mut self, p: &Path) -> Result<()> {
        if self.made.contains(p) {
            return Ok(());
        }
        fs::create_dir_all(p).map_err(|e| KernelError::io("create", p, e))?;
        self.made.insert(p.to_path_buf());
        Ok(())
    }
}

impl EntrySink for Staging {
    fn dir(&mut self, tar_path: &str, mode: u32, mtime: u64) -> Result<()> {
        let p = self.map(tar_path);
        self.create_dirs(&p)?;
        self.dirs.push((p, mode, mtime));
        Ok(())
    }

    fn begin_file(&mut self, tar_path: &str, mode: u32, mtime: u64) -> Result<()> {
        let p = self.map(tar_path);
        if let Some(parent) = p.parent() {
            self.create_dirs(parent)?;
        }
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let f = o.open(&p).map_err(|e| KernelError::io("create", &p, e))?;
        self.current = Some((f, p, mode, mtime));
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        if let Some((f, p, _, _)) = &mut self.current {
            f.write_all(data).map_err(|e| KernelError::io("write", p.clone(), e))?;
        }
        Ok(())
    }

    fn end_file(&mut self) -> Result<()> {
        if let Some((f, p, mode, mtime)) = self.current.take() {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
            f.set_modified(t).map_err(|e| KernelError::io("set the time of", &p, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(fs::Permissions::from_mode(mode | 0o600))
                    .map_err(|e| KernelError::io("chmod", &p, e))?;
            }
            #[cfg(not(unix))]
            let _ = mode;
        }
        Ok(())
    }
}

/// Restore the kernel at `kernel` into the folder `target` (whose parent must exist).
pub fn restore(
    kernel: &Path,
    target: &Path,
    key: &Key,
    opts: &RestoreOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<RestoreReport> {
    let target = if target.is_absolute() {
        target.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| KernelError::io("resolve", target, e))?.join(target)
    };
    let name = target
        .file_name()
        .ok_or(KernelError::TargetRefused { path: target.clone(), reason: "it has no folder name" })?
        .to_owned();
    let parent = target
        .parent()
        .ok_or(KernelError::TargetRefused { path: target.clone(), reason: "it has no parent folder" })?;
    let parent =
        parent.canonicalize().map_err(|e| KernelError::io("open the parent folder of", &target, e))?;
    let target = parent.join(name);

    let existed = match fs::symlink_metadata(&target) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            return Err(KernelError::TargetRefused { path: target, reason: "it exists and is not a folder" })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(KernelError::io("read", &target, e)),
    };
    let empty = !existed || fsutil::is_empty_dir(&target)?;
    if !empty && !opts.force {
        return Err(KernelError::TargetNotEmpty { path: target });
    }
    if !empty {
        if let Ok(k) = kernel.canonicalize() {
            if k.starts_with(&target) {
                return Err(KernelError::TargetRefused {
                    path: target,
                    reason: "the kernel file is inside it",
                });
            }
        }
    }

    let file = fs::File::open(kernel).map_err(|e| KernelError::io("open", kernel, e))?;
    fsutil::sweep_stale(&parent, ".husk-restore-");
    let staging_dir = tempfile::Builder::new()
        .prefix(".husk-restore-")
        .tempdir_in(&parent)
        .map_err(|e| KernelError::io("create a staging folder in", &parent, e))?;
    // Held until this process ends: marks the staging folder as in use for other sweeps.
    let staging_lock =
        fs::File::open(staging_dir.path()).map_err(|e| KernelError::io("open", staging_dir.path(), e))?;
    fsutil::try_lock(&staging_lock);
    let mut sink = Staging {
        root: staging_dir.path().to_path_buf(),
        made: std::collections::HashSet::new(),
        current: None,
        dirs: Vec::new(),
    };
    let manifest = read::read_kernel(file, key, &Limits::default(), &mut sink, Phase::Restore, progress)
        .map_err(|e| read::with_path(e, kernel));
    sink.current = None;
    let manifest = manifest?; // on error `staging_dir` is dropped: the staging folder is removed.

    // Folder modes and times last, deepest first, so that a read-only folder does not block
    // writing its files.
    sink.dirs.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.components().count()));
    for (p, mode, mtime) in &sink.dirs {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(p, fs::Permissions::from_mode(mode | 0o700))
                .map_err(|e| KernelError::io("chmod", p, e))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        if let Ok(d) = fs::File::open(p) {
            let _ = d.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(*mtime));
        }
    }
    fsutil::sync_filesystem(staging_dir.path())?;

    let staging = staging_dir.path().to_path_buf();
    let mut old_left = None;
    if empty {
        fs::rename(&staging, &target).map_err(|e| KernelError::io("rename into place", &target, e))?;
        let _ = staging_dir.keep();
    } else if fsutil::exchange(&staging, &target)? {
        // The staging path now holds the old contents; dropping `staging_dir` removes them.
        if let Err(_e) = staging_dir.close() {
            old_left = Some(staging);
        }
    } else {
        let aside = tempfile::Builder::new()
            .prefix(".husk-old-")
            .tempdir_in(&parent)
            .map_err(|e| KernelError::io("create a folder in", &parent, e))?
            .keep();
        fs::remove_dir(&aside).map_err(|e| KernelError::io("remove", &aside, e))?;
        fs::rename(&target, &aside).map_err(|e| KernelError::io("move aside", &target, e))?;
        if let Err(e) = fs::rename(&staging, &target) {
            let _ = fs::rename(&aside, &target);
            return Err(KernelError::io("rename into place", &target, e));
        }
        let _ = staging_dir.keep();
        if fs::remove_dir_all(&aside).is_err() {
            old_left = Some(aside);
        }
    }
    fsutil::sync_dir(&parent)?;
    Ok(RestoreReport {
        target,
        files: manifest.files.len(),
        notes: manifest.note_count(),
        content_bytes: manifest.total_size(),
        replaced: !empty,
        old_contents_left: old_left,
    })
}
