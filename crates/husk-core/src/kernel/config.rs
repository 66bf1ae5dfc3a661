//! The `[kernel]` table of `<vault>/.husk/config.toml` (other tables belong to other modules
//! and are ignored) and the debounce clock automatic backups use. Vault discovery lives in
//! [`crate::vault::Vault::discover`].

use super::error::KernelError;
use super::keys::{self, Lock};
use super::retention::Retention;
use super::Result;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Settings for automatic backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// X25519 recipients (`age1…`) automatic kernels are encrypted to.
    pub recipients: Vec<String>,
    /// Folder for automatic kernels (absolute, `~/…`, or relative to the vault's parent).
    pub dir: Option<PathBuf>,
    /// An identity file used to verify right after writing (optional: the secret may stay
    /// off this machine, in which case kernels are verified by reading the bytes back).
    pub identity: Option<PathBuf>,
    /// Keep at least this many newest kernels.
    pub keep_last: usize,
    /// Also keep the newest kernel of each of the last this-many days.
    pub keep_daily_days: u32,
    /// Quiet time after the last change before an automatic backup.
    pub debounce_secs: u64,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            recipients: Vec::new(),
            dir: None,
            identity: None,
            keep_last: 10,
            keep_daily_days: 30,
            debounce_secs: 300,
        }
    }
}

fn expand(p: &str, vault: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        vault.parent().unwrap_or(vault).join(p)
    }
}

impl KernelConfig {
    /// Read `<vault>/.husk/config.toml`; a missing file or table gives the defaults.
    pub fn load(vault: &Path) -> Result<KernelConfig> {
        let path = vault.join(".husk").join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => KernelConfig::from_toml(&text, vault, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KernelConfig::default()),
            Err(e) => Err(KernelError::io("read", &path, e)),
        }
    }

    /// Parse the `[kernel]` table of a config file's text, leniently: unknown keys and other
    /// tables are ignored, wrongly typed known keys are errors.
    pub fn from_toml(text: &str, vault: &Path, path: &Path) -> Result<KernelConfig> {
        let err = |detail: String| KernelError::Config { path: path.to_path_buf(), detail };
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| err(e.message().to_string()))?;
        let mut c = KernelConfig::default();
        let Some(t) = doc.get("kernel") else { return Ok(c) };
        let t = t.as_table().ok_or_else(|| err("kernel is not a table".into()))?;
        if let Some(v) = t.get("recipients") {
            let arr = v.as_array().ok_or_else(|| err("recipients must be a list of strings".into()))?;
            for r in arr {
                c.recipients.push(
                    r.as_str().ok_or_else(|| err("recipients must be a list of strings".into()))?.to_string(),
                );
            }
        }
        let path_of = |k: &str| -> Result<Option<PathBuf>> {
            match t.get(k) {
                None => Ok(None),
                Some(v) => {
                    Ok(Some(expand(v.as_str().ok_or_else(|| err(format!("{k} must be a string")))?, vault)))
                }
            }
        };
        c.dir = path_of("dir")?;
        c.identity = path_of("identity")?;
        let int_of = |k: &str| -> Result<Option<u64>> {
            match t.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_integer()
                    .and_then(|i| u64::try_from(i).ok())
                    .map(Some)
                    .ok_or_else(|| err(format!("{k} must be a non-negative integer"))),
            }
        };
        if let Some(v) = int_of("keep_last")? {
            c.keep_last = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = int_of("keep_daily_days")? {
            c.keep_daily_days = u32::try_from(v).unwrap_or(u32::MAX);
        }
        if let Some(v) = int_of("debounce_secs")? {
            c.debounce_secs = v;
        }
        Ok(c)
    }

    /// The lock for automatic kernels (the configured recipients).
    pub fn lock(&self) -> Result<Lock> {
        if self.recipients.is_empty() {
            return Err(KernelError::NoKey { detail: "no recipients in the [kernel] config" });
        }
        Ok(Lock::Recipients(keys::parse_recipients(&self.recipients.join("\n"))?))
    }

    /// The retention policy.
    pub fn retention(&self) -> Retention {
        Retention { keep_last: self.keep_last, keep_daily_days: self.keep_daily_days }
    }

    /// The debounce delay.
    pub fn debounce(&self) -> Duration {
        Duration::from_secs(self.debounce_secs)
    }
}

/// Debounce clock for automatic backups: call [`Debouncer::changed`] on every vault change
/// and [`Debouncer::take_due`] periodically; it fires once after `quiet` without changes.
#[derive(Debug, Clone)]
pub struct Debouncer {
    quiet: Duration,
    last_change: Option<Instant>,
}

impl Debouncer {
    /// A debouncer firing `quiet` after the last change.
    pub fn new(quiet: Duration) -> Self {
        Debouncer { quiet, last_change: None }
    }
    /// Record a change at `now`.
    pub fn changed(&mut self, now: Instant) {
        self.last_change = Some(now);
    }
    /// True (once) when changes are pending and `quiet` has passed since the last one.
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.last_change {
            Some(t) if now.saturating_duration_since(t) >= self.quiet => {
                self.last_change = None;
                true
            }
            _ => false,
        }
    }
    /// How long until the pending backup is due (None when nothing is pending).
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        self.last_change.map(|t| self.quiet.saturating_sub(now.saturating_duration_since(t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_table_leniently() {
        let text = "[index]\nfoo = 1\n[kernel]\nrecipients = [\"age1x\"]\ndir = \"/b\"\nidentity = \"k.txt\"\nkeep_last = 3\nkeep_daily_days = 7\ndebounce_secs = 60\nunknown = true\n";
        let c = KernelConfig::from_toml(text, Path::new("/v/vault"), Path::new("c")).unwrap();
        assert_eq!(c.recipients, vec!["age1x"]);
        assert_eq!(c.dir, Some(PathBuf::from("/b")));
        assert_eq!(c.identity, Some(PathBuf::from("/v/k.txt")));
        assert_eq!((c.keep_last, c.keep_daily_days, c.debounce_secs), (3, 7, 60));
        assert_eq!(
            KernelConfig::from_toml("[other]\n", Path::new("/v"), Path::new("c")).unwrap(),
            KernelConfig::default()
        );
        assert!(KernelConfig::from_toml("[kernel]\nkeep_last = \"x\"\n", Path::new("/v"), Path::new("c"))
            .is_err());
    }

    #[test]
    fn debouncer_fires_once_after_quiet() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(Duration::from_secs(5));
        assert!(!d.take_due(t0));
        d.changed(t0);
        assert!(!d.take_due(t0 + Duration::from_secs(4)));
        d.changed(t0 + Duration::from_secs(4));
        assert!(!d.take_due(t0 + Duration::from_secs(8)));
        assert!(d.take_due(t0 + Duration::from_secs(9)));
        assert!(!d.take_due(t0 + Duration::from_secs(20)));
    }
}
