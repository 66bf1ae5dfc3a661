//! Automatic backups and retention: [`auto_backup`] writes a kernel to the configured
//! recipients, records its verification in a `<kernel>.verified` sidecar, then [`prune`]s old
//! kernels: keep the last N and the newest of each of the last M days, never the newest, and
//! never a kernel whose verification record is missing or no longer matches the file.

use super::config::KernelConfig;
use super::error::KernelError;
use super::fsutil;
use super::keys::read_identity_file;
use super::scan::hash_reader;
use super::time;
use super::write::{backup, BackupReport};
use super::{Progress, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How a kernel was verified before it got its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verified {
    /// Decrypted with the key at hand and every hash checked.
    Full,
    /// No key at hand: the file was read back and its SHA-256 matched what was written.
    Readback,
}

/// The retention policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep this many newest kernels.
    pub keep_last: usize,
    /// Keep the newest kernel of each of the last this-many days.
    pub keep_daily_days: u32,
}

/// A kernel file found in a backup folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelFile {
    /// Its path.
    pub path: PathBuf,
    /// Creation time from its name (Unix seconds).
    pub created: u64,
    /// Whether a matching verification record exists.
    pub verified: bool,
}

/// What [`auto_backup`] did.
#[derive(Debug, Clone, Serialize)]
pub struct AutoBackupReport {
    /// The new kernel.
    pub backup: BackupReport,
    /// Kernels removed by retention.
    pub pruned: Vec<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    sha256: String,
    size: u64,
    verified: Verified,
    at: String,
}

fn record_path(kernel: &Path) -> PathBuf {
    let mut s = kernel.as_os_str().to_owned();
    s.push(".verified");
    PathBuf::from(s)
}

/// Record that the kernel `report` describes was verified when it was written (a
/// `<kernel>.verified` sidecar that [`list_kernels`] checks against the kernel's bytes), so
/// retention may count it. [`auto_backup`] does this itself.
pub fn record_verification(report: &BackupReport) -> Result<()> {
    write_record(report)
}

/// Write the sidecar recording `report`'s verification.
fn write_record(report: &BackupReport) -> Result<()> {
    let rec = Record {
        sha256: report.sha256.clone(),
        size: report.size,
        verified: report.verified,
        at: time::rfc3339(time::unix_secs(SystemTime::now())),
    };
    let json = serde_json::to_vec_pretty(&rec)
        .map_err(|e| KernelError::Config { path: record_path(&report.path), detail: e.to_string() })?;
    let path = record_path(&report.path);
    let tmp = tempfile::Builder::new()
        .prefix(".husk-tmp-")
        .tempfile_in(path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| KernelError::io("create", &path, e))?;
    fsutil::try_lock(tmp.as_file());
    fs::write(tmp.path(), &json).map_err(|e| KernelError::io("write", &path, e))?;
    tmp.as_file().sync_all().map_err(|e| KernelError::io("fsync", &path, e))?;
    tmp.persist(&path).map_err(|e| KernelError::io("rename", &path, e.error))?;
    fsutil::sync_parent(&path);
    Ok(())
}

/// True when `kernel` has a verification record that matches its current bytes.
fn is_verified(kernel: &Path) -> bool {
    let Ok(text) = fs::read(record_path(kernel)) else { return false };
    let Ok(rec) = serde_json::from_slice::<Record>(&text) else { return false };
    let Ok(f) = fs::File::open(kernel) else { return false };
    let mut buf = vec![0u8; 64 * 1024];
    matches!(hash_reader(f, &mut buf), Ok((size, sha)) if size == rec.size && sha == rec.sha256)
}

/// Which of `files` the policy lets go (indexes into `files`). Pure: no I/O, `now` given.
pub fn select_prunable(files: &[KernelFile], policy: &Retention, now: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| {
        files[b].created.cmp(&files[a].created).then_with(|| files[b].path.cmp(&files[a].path))
    });
    let mut keep: HashSet<usize> = HashSet::new();
    keep.extend(order.iter().take(policy.keep_last.max(1)).copied());
    let today = now / 86_400;
    let mut days_seen = HashSet::new();
    for &i in &order {
        let day = files[i].created / 86_400;
        if files[i].created > now
            || today.saturating_sub(day) < u64::from(policy.keep_daily_days) && days_seen.insert(day)
        {
            keep.insert(i);
        }
    }
    let mut out: Vec<usize> = order.into_iter().filter(|i| !keep.contains(i) && files[*i].verified).collect();
    out.sort_unstable();
    out
}

/// List the kernels (`husk-<timestamp>-<random>.age`) in `dir`.
pub fn list_kernels(dir: &Path) -> Result<Vec<KernelFile>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| KernelError::io("read", dir, e))? {
        let e = e.map_err(|err| KernelError::io("read", dir, err))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_prefix("husk-").and_then(|s| s.strip_suffix(".age")) else { continue };
        let Some(created) = stem.get(..16).and_then(time::parse_compact) else { continue };
        if !e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        let path = e.path();
        let verified = is_verified(&path);
        out.push(KernelFile { path, created, verified });
    }
    Ok(out)
}

/// Apply `policy` to the kernels in `dir`; returns what was removed.
pub fn prune(dir: &Path, policy: &Retention, now: SystemTime) -> Result<Vec<PathBuf>> {
    let files = list_kernels(dir)?;
    let mut removed = Vec::new();
    for i in select_prunable(&files, policy, time::unix_secs(now)) {
        let p = &files[i].path;
        fs::remove_file(p).map_err(|e| KernelError::io("remove", p, e))?;
        let _ = fs::remove_file(record_path(p));
        removed.push(p.clone());
    }
    if !removed.is_empty() {
        fsutil::sync_dir(dir)?;
    }
    Ok(removed)
}

/// Write a kernel of `vault` to the configured recipients and folder, verify it (fully when an
/// identity is configured, else by reading it back), record that, then apply retention.
/// `husk watch` calls this once changes have settled (see [`super::Debouncer`]).
pub fn auto_backup(
    vault: &Path,
    cfg: &KernelConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<AutoBackupReport> {
    let dir = cfg
        .dir
        .clone()
        .ok_or(KernelError::NoKey { detail: "no backup folder (dir) in the [kernel] config" })?;
    let lock = cfg.lock()?;
    let key = match &cfg.identity {
        Some(p) => Some(read_identity_file(p)?),
        None => None,
    };
    let report = backup(vault, &dir, &lock, key.as_ref(), progress)?;
    write_record(&report)?;
    let pruned = prune(
        &report.path.parent().map(Path::to_path_buf).unwrap_or(dir),
        &cfg.retention(),
        SystemTime::now(),
    )?;
    Ok(AutoBackupReport { backup: report, pruned })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(name: &str, created: u64, verified: bool) -> KernelFile {
        KernelFile { path: PathBuf::from(name), created, verified }
    }

    #[test]
    fn keeps_last_n_daily_and_newest_and_unverified() {
        let day = 86_400;
        let now = 100 * day;
        let files = vec![
            k("a", now - 1, true),            // newest
            k("b", now - 2, true),            // last 2
            k("c", now - 3, true),            // same day as a: prunable
            k("d", now - day - 5, true),      // newest of yesterday: kept (daily)
            k("e", now - day - 6, true),      // prunable
            k("f", now - 10 * day, false),    // outside daily window, unverified: kept
            k("g", now - 10 * day - 1, true), // outside: prunable
        ];
        let p = select_prunable(&files, &Retention { keep_last: 2, keep_daily_days: 3 }, now);
        let names: Vec<_> = p.iter().map(|&i| files[i].path.to_str().unwrap()).collect();
        assert_eq!(names, vec!["c", "e", "g"]);
    }

    #[test]
    fn never_deletes_the_newest_even_with_zero_policy() {
        let files = vec![k("a", 10, true), k("b", 5, true)];
        let p = select_prunable(&files, &Retention { keep_last: 0, keep_daily_days: 0 }, 1_000_000);
        assert_eq!(p, vec![1]);
    }
}
