//! `husk keygen`, `husk backup`, `husk verify` and `husk restore`: key and passphrase sources,
//! vault discovery and the progress bar, over `husk_core::kernel`.

use super::UsageError;
use anyhow::{Context, Result};
use clap::Args;
use husk_core::kernel::{self, KernelConfig, Key, Lock, Progress};
use secrecy::{ExposeSecret, SecretString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the identity (mode 0600; never overwritten).
    #[arg(long, short)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct BackupArgs {
    /// Folder to write the kernel into (default: `dir` in the vault's [kernel] config).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Encrypt to this age1… recipient (repeatable).
    #[arg(long, value_name = "AGE1…")]
    pub recipient: Vec<String>,
    /// Encrypt to the recipients listed in this file.
    #[arg(long, value_name = "F")]
    pub recipients_file: Option<PathBuf>,
    /// Encrypt with the passphrase in this file (first line).
    #[arg(long, value_name = "F")]
    pub passphrase_file: Option<PathBuf>,
    /// Identity used to verify the new kernel (default: `identity` in the [kernel] config).
    #[arg(long, value_name = "F")]
    pub identity: Option<PathBuf>,
}

#[derive(Args)]
pub struct OpenArgs {
    /// Open with this age identity file.
    #[arg(long, short, value_name = "F")]
    pub identity: Option<PathBuf>,
    /// Open with the passphrase in this file (first line).
    #[arg(long, value_name = "F", conflicts_with = "identity")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The kernel file.
    pub file: PathBuf,
    #[command(flatten)]
    pub key: OpenArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The kernel file.
    pub file: PathBuf,
    /// The folder to restore the vault into (created; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub key: OpenArgs,
    /// Replace a non-empty folder; its old contents are removed only after success.
    #[arg(long)]
    pub force: bool,
}

/// The vault: `--vault`, else HUSK_VAULT, else the nearest folder upward holding `.husk/`
/// (the vault module's discovery, shared by every command).
pub fn vault_root(flag: Option<&Path>) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    Ok(husk_core::vault::Vault::discover(flag, &cwd)?)
}

fn read_passphrase_file(p: &Path) -> Result<SecretString> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the passphrase file {}", p.display()))?,
    );
    let first = text.lines().next().unwrap_or("");
    if first.is_empty() {
        anyhow::bail!("the passphrase file {} is empty", p.display());
    }
    Ok(SecretString::from(first.to_string()))
}

/// A passphrase from the file, else HUSK_PASSPHRASE, else the TTY (twice when `confirm`).
fn passphrase(file: Option<&Path>, confirm: bool) -> Result<SecretString> {
    if let Some(f) = file {
        return read_passphrase_file(f);
    }
    if let Ok(p) = std::env::var("HUSK_PASSPHRASE") {
        if !p.is_empty() {
            return Ok(SecretString::from(p));
        }
    }
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(UsageError("no key given: use --identity, --recipient, --passphrase-file or HUSK_PASSPHRASE (no terminal to prompt on)".into()).into());
    }
    let p = SecretString::from(
        rpassword::prompt_password("Passphrase: ").context("cannot read the passphrase from the terminal")?,
    );
    if p.expose_secret().is_empty() {
        anyhow::bail!("the passphrase is empty");
    }
    if confirm {
        let again = zeroize::Zeroizing::new(
            rpassword::prompt_password("Passphrase again: ")
                .context("cannot read the passphrase from the terminal")?,
        );
        if again.as_str() != p.expose_secret() {
            anyhow::bail!("the passphrases differ");
        }
    }
    Ok(p)
}

fn open_key(a: &OpenArgs) -> Result<Key> {
    match &a.identity {
        Some(id) => Ok(kernel::read_identity_file(id)?),
        None => Ok(Key::Passphrase(passphrase(a.passphrase_file.as_deref(), false)?)),
    }
}

/// A progress bar on a terminal, nothing otherwise.
fn progress_bar() -> (indicatif::ProgressBar, impl FnMut(Progress)) {
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>8} [{bar:30}] {bytes}/{total_bytes}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let b = bar.clone();
    (bar, move |p: Progress| {
        b.set_message(format!("{:?}", p.phase).to_lowercase());
        b.set_length(p.total);
        b.set_position(p.done);
    })
}

pub fn keygen(a: KeygenArgs) -> Result<()> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let recipient = kernel::write_identity_file(&a.output, &format!("unix time {now}"))
        .with_context(|| format!("cannot write the identity {}", a.output.display()))?;
    eprintln!("Public key: {recipient}");
    println!("{recipient}");
    Ok(())
}

pub fn backup(a: BackupArgs, vault_flag: Option<&Path>) -> Result<()> {
    let vault = vault_root(vault_flag)?;
    let cfg = KernelConfig::load(&vault)?;
    let dir = match a.to.clone().or(cfg.dir.clone()) {
        Some(d) => d,
        None => {
            return Err(
                UsageError("no --to DIR given and no dir in the vault's [kernel] config".into()).into()
            )
        }
    };
    let mut recipients = Vec::new();
    for r in &a.recipient {
        recipients.extend(kernel::parse_recipients(r)?);
    }
    if let Some(f) = &a.recipients_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read the recipients file {}", f.display()))?;
        recipients.extend(kernel::parse_recipients(&text).with_context(|| format!("in {}", f.display()))?);
    }
    if !recipients.is_empty() && a.passphrase_file.is_some() {
        return Err(UsageError("give either recipients or a passphrase, not both".into()).into());
    }
    let identity = a.identity.clone().or(cfg.identity.clone());
    let (lock, verify_key) = if !recipients.is_empty() {
        (Lock::Recipients(recipients), identity.as_deref().map(kernel::read_identity_file).transpose()?)
    } else if a.passphrase_file.is_none() && !cfg.recipients.is_empty() {
        (cfg.lock()?, identity.as_deref().map(kernel::read_identity_file).transpose()?)
    } else {
        let p = passphrase(a.passphrase_file.as_deref(), true)?;
        (Lock::Passphrase(p.clone()), Some(Key::Passphrase(p)))
    };
    let (bar, mut on_progress) = progress_bar();
    let report = kernel::backup(&vault, &dir, &lock, verify_key.as_ref(), &mut on_progress);
    bar.finish_and_clear();
    let report = report.with_context(|| format!("backup of {} failed", vault.display()))?;
    println!("{}", report.path.display());
    println!("size: {} bytes", report.size);
    match report.verified {
        kernel::Verified::Full => println!("verify: ok ({} files, {} bytes, every hash checked)", report.files, report.content_bytes),
        kernel::Verified::Readback => println!("verify: written bytes read back ok; no key at hand to decrypt (run husk verify with your identity)"),
    }
    for s in &report.skipped {
        eprintln!("warning: skipped {} (not a regular file or folder)", s.display());
    }
    Ok(())
}

pub fn verify(a: VerifyArgs) -> Result<()> {
    let key = open_key(&a.key)?;
    let (bar, mut on_progress) = progress_bar();
    let r = kernel::verify_file(&a.file, &key, &mut on_progress);
    bar.finish_and_clear();
    let r = r.with_context(|| format!("{} failed verification", a.file.display()))?;
    println!(
        "ok: {} — Husk kernel v{} created {}, {} files ({} notes), {} bytes, every hash matches",
        a.file.display(),
        r.manifest.version,
        r.manifest.created,
        r.files,
        r.manifest.note_count(),
        r.content_bytes
    );
    Ok(())
}

pub fn restore(a: RestoreArgs) -> Result<()> {
    let key = open_key(&a.key)?;
    let (bar, mut on_progress) = progress_bar();
    let r =
        kernel::restore(&a.file, &a.to, &key, &kernel::RestoreOptions { force: a.force }, &mut on_progress);
    bar.finish_and_clear();
    let r = r.with_context(|| format!("cannot restore {}; nothing was written", a.file.display()))?;
    println!(
        "restored {} files ({} notes, {} bytes) into {}",
        r.files,
        r.notes,
        r.content_bytes,
        r.target.display()
    );
    if let Some(p) = r.old_contents_left {
        eprintln!("warning: the old contents could not be removed; they are in {}", p.display());
    }
    Ok(())
}
