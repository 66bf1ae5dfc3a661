//! The Settings screen's data: the `[kernel]` table of `<vault>/.husk/config.toml` (backup
//! folder, recipients, identity used to verify, retention). Reading goes through husk-core's
//! `KernelConfig`; writing replaces only the keys shown here and keeps every other table and key.
//!
//! NOTE for core: `KernelConfig` has no writer yet; this is the one piece of persistence in the
//! shell and belongs in `husk_core::kernel::config` (e.g. `KernelConfig::save`).

use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::input::typed_path;
use husk_core::kernel::KernelConfig;
use husk_core::Vault;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Folder for kernels (outside the vault); empty when unset.
    pub backup_dir: String,
    /// X25519 recipients (`age1…`) kernels are encrypted to.
    pub recipients: Vec<String>,
    /// Identity file used to verify a kernel right after writing it; empty when unset.
    pub identity: String,
    /// Keep at least this many newest kernels.
    pub keep_last: u32,
}

impl From<&KernelConfig> for Settings {
    fn from(c: &KernelConfig) -> Self {
        let path =
            |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        Self {
            backup_dir: path(&c.dir),
            recipients: c.recipients.clone(),
            identity: path(&c.identity),
            keep_last: u32::try_from(c.keep_last).unwrap_or(u32::MAX),
        }
    }
}

impl Settings {
    /// Typed paths must be absolute; recipients, if any, must parse (none is fine: kernels can
    /// be locked with a passphrase instead).
    pub fn check(&self) -> IpcResult<()> {
        for p in [&self.backup_dir, &self.identity] {
            if !p.trim().is_empty() {
                typed_path(p)?;
            }
        }
        if !self.recipients.is_empty() {
            husk_core::kernel::parse_recipients(&self.recipients.join("\n"))?;
        }
        Ok(())
    }

    pub fn save(&self, v: &Vault) -> IpcResult<()> {
        let mut t = match v.config()?.remove("kernel") {
            Some(toml::Value::Table(t)) => t,
            Some(_) => {
                return Err(IpcError::new(
                    ErrorCode::InvalidInput,
                    "config.toml has a `kernel` key that is not a table",
                ))
            }
            None => toml::Table::new(),
        };
        let set_path = |t: &mut toml::Table, k: &str, p: &str| {
            if p.trim().is_empty() {
                t.remove(k);
            } else {
                t.insert(k.into(), toml::Value::String(p.trim().into()));
            }
        };
        set_path(&mut t, "dir", &self.backup_dir);
        set_path(&mut t, "identity", &self.identity);
        t.insert(
            "recipients".into(),
            toml::Value::Array(self.recipients.iter().map(|r| toml::Value::String(r.clone())).collect()),
        );
        t.insert("keep_last".into(), toml::Value::Integer(i64::from(self.keep_last)));
        Ok(v.set_config_table("kernel", t)?)
    }
}
