//! Watch: keep the index fresh while the user edits. File events come from `notify` through
//! `notify-debouncer-full`, which pairs renames and collapses editor save patterns
//! (write-then-rename, truncate-and-write, atomic replace) into one change per file. Each settled
//! batch re-indexes only the touched paths (deleted paths and folders are removed, new folders
//! scanned); a queue overflow, a watcher error or a rescan flag triggers a full incremental
//! rescan. After each batch a caller hook runs ([`WatchEvent::Settled`]), and about once a
//! second while idle ([`WatchEvent::Idle`]) — the place for automatic kernel backups.
//! The loop stops cleanly when the caller's stop flag is set.

use crate::index::RefreshReport;
use crate::vault::{is_hidden, rel_string, Result, Vault, STATE_DIR};
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why watching failed. Carries the path, never note text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    #[error("cannot watch {path}")]
    Notify { path: std::path::PathBuf, source: notify::Error },
}

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Quiet time before a burst of events is processed.
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { debounce: Duration::from_millis(150) }
    }
}

impl WatchOptions {
    /// Options from `config.toml` (`[watch] debounce_ms`), else the defaults.
    pub fn from_config(cfg: &toml::Table) -> Self {
        let mut o = Self::default();
        if let Some(ms) = cfg.get("watch").and_then(|w| w.get("debounce_ms")).and_then(|v| v.as_integer()) {
            o.debounce = Duration::from_millis(ms.clamp(10, 10_000) as u64);
        }
        o
    }
}

/// One settled batch of changes, handed to the caller's hook.
#[derive(Debug, Clone, Serialize)]
pub struct WatchBatch {
    /// Vault-relative paths that changed.
    pub paths: Vec<String>,
    /// True when the whole vault was rescanned (overflow, lost events, watcher error).
    pub rescanned: bool,
    pub report: RefreshReport,
    /// Time spent updating the index.
    pub index_ms: f64,
}

/// What the hook sees.
#[derive(Debug, Clone)]
pub enum WatchEvent<'a> {
    /// The watcher is running; the initial refresh is done.
    Ready { notes: usize, report: &'a RefreshReport },
    /// A batch changed the index. A kernel backup hook runs here.
    Settled(&'a WatchBatch),
    /// About once a second while nothing happens: lets a hook with its own, longer quiet time
    /// (the kernel's automatic backup, `[kernel] debounce_secs`) fire once the vault is quiet.
    Idle,
    /// Updating the index failed (for example a file vanished mid-read, or the index was busy);
    /// the watcher keeps going and rescans the whole vault on the next tick.
    Error(&'a crate::vault::VaultError),
}

impl Vault {
    /// Watch the vault until `stop` is set, calling `hook` when ready and after every batch that
    /// changed the index.
    pub fn watch(
        &mut self,
        opts: &WatchOptions,
        stop: &AtomicBool,
        hook: &mut dyn FnMut(&mut Vault, WatchEvent<'_>),
    ) -> Result<()> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let root = self.root().to_path_buf();
        let notify_err = |source| crate::watch::WatchError::Notify { path: root.clone(), source };
        let mut debouncer = new_debouncer(opts.debounce, None, tx).map_err(notify_err)?;
        debouncer.watch(&root, RecursiveMode::Recursive).map_err(notify_err)?;
        let initial = self.refresh()?;
        let notes = self.notes()?.len();
        hook(self, WatchEvent::Ready { notes, report: &initial });
        let mut retry = false;
        let mut last_idle = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let mut results = Vec::new();
            // The idle tick is paced by the clock, not by a silent queue: events about Husk's own
            // files (ignored below) may keep arriving, and the hook must still get its tick.
            if !retry && last_idle.elapsed() >= Duration::from_secs(1) {
                last_idle = Instant::now();
                hook(self, WatchEvent::Idle);
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(r) => results.push(r),
                Err(mpsc::RecvTimeoutError::Timeout) if retry => {}
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            // Drain whatever else is queued into the same batch.
            while let Ok(r) = rx.try_recv() {
                results.push(r);
            }
            match self.apply_events(results, std::mem::take(&mut retry)) {
                Ok(Some(batch)) => hook(self, WatchEvent::Settled(&batch)),
                Ok(None) => {}
                Err(e) => {
                    hook(self, WatchEvent::Error(&e));
                    retry = true;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        debouncer.stop();
        Ok(())
    }
}

impl Vault {
    /// Apply one batch of debounced results to the index: touched paths are re-indexed; a
    /// rescan flag (queue overflow), a watcher error or `rescan` makes it a full incremental
    /// rescan. `None` when nothing in the index changed.
    fn apply_events(
        &mut self,
        results: Vec<DebounceEventResult>,
        mut rescan: bool,
    ) -> Result<Option<WatchBatch>> {
        let root = self.root().to_path_buf();
        let mut paths: Vec<String> = Vec::new();
        for r in results {
            match r {
                Ok(events) => {
                    for ev in events {
                        if ev.event.need_rescan() {
                            rescan = true;
                        }
                        paths.extend(ev.event.paths.iter().filter_map(|p| vault_rel(&root, p)));
                    }
                }
                Err(_) => rescan = true,
            }
        }
        paths.sort();
        paths.dedup();
        if !rescan && paths.is_empty() {
            return Ok(None);
        }
        let t = Instant::now();
        let report = if rescan { self.refresh()? } else { self.refresh_paths(&paths)? };
        let batch =
            WatchBatch { paths, rescanned: rescan, index_ms: t.elapsed().as_secs_f64() * 1e3, report };
        Ok((batch.report.changed() || batch.rescanned).then_some(batch))
    }
}

/// The vault-relative form of an event path, or None for Husk's own state and hidden files.
fn vault_rel(root: &Path, p: &Path) -> Option<String> {
    let rel = p.strip_prefix(root).ok()?;
    if rel.as_os_str().is_empty() || rel.starts_with(STATE_DIR) || is_hidden(rel) {
        return None;
    }
    Some(rel_string(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_state_and_hidden_files_are_ignored() {
        let root = Path::new("/v");
        assert_eq!(vault_rel(root, Path::new("/v/.husk/index.db-wal")), None);
        assert_eq!(vault_rel(root, Path::new("/v/a/.n.md.swp")), None);
        assert_eq!(vault_rel(root, Path::new("/v/a/n.md")), Some("a/n.md".into()));
        assert_eq!(vault_rel(root, Path::new("/elsewhere/n.md")), None);
    }

    fn event(kind: notify::EventKind, paths: &[&Path]) -> notify_debouncer_full::DebouncedEvent {
        let mut e = notify::Event::new(kind);
        for p in paths {
            e = e.add_path(p.to_path_buf());
        }
        notify_debouncer_full::DebouncedEvent::new(e, Instant::now())
    }

    #[test]
    fn overflow_and_watcher_errors_rescan_the_whole_vault() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.md"), "# A\n\nalpha\n").unwrap();
        let (mut v, _) = Vault::init(d.path()).unwrap();
        let root = v.root().to_path_buf();
        // Changes the watcher never reported (lost with an overflowing queue).
        std::fs::write(root.join("lost.md"), "# Lost\n\nunreported\n").unwrap();
        std::fs::remove_file(root.join("a.md")).unwrap();
        let overflow = event(notify::EventKind::Other, &[]).event.set_flag(notify::event::Flag::Rescan);
        let b = v
            .apply_events(
                vec![Ok(vec![notify_debouncer_full::DebouncedEvent::new(overflow, Instant::now())])],
                false,
            )
            .unwrap()
            .unwrap();
        assert!(b.rescanned);
        assert_eq!((b.report.added, b.report.removed), (1, 1));
        assert_eq!(v.notes().unwrap(), vec!["lost.md"]);
        // A watcher error does the same.
        std::fs::write(root.join("second.md"), "# S\n").unwrap();
        let b = v
            .apply_events(vec![Err(vec![notify::Error::generic("queue overflow")])], false)
            .unwrap()
            .unwrap();
        assert!(b.rescanned && b.report.added == 1);
        // An ordinary event re-indexes only its path; Husk's own files are ignored.
        std::fs::write(root.join("lost.md"), "# Lost\n\nnow reported\n").unwrap();
        let modify = notify::EventKind::Modify(notify::event::ModifyKind::Any);
        let b = v
            .apply_events(
                vec![Ok(vec![event(modify, &[&root.join("lost.md"), &root.join(".husk/index.db-wal")])])],
                false,
            )
            .unwrap()
            .unwrap();
        assert!(!b.rescanned);
        assert_eq!(b.paths, vec!["lost.md"]);
        assert_eq!(b.report.updated, 1);
        assert!(v
            .apply_events(vec![Ok(vec![event(modify, &[&root.join(".husk/index.db")])])], false)
            .unwrap()
            .is_none());
    }

    #[test]
    fn debounce_comes_from_config() {
        let cfg: toml::Table =
            toml::from_str("[watch]\ndebounce_ms = 300\n[kernel]\nanything = 1\n").unwrap();
        assert_eq!(WatchOptions::from_config(&cfg).debounce, Duration::from_millis(300));
    }
}
