//! The `husk` binary: argument parsing and dispatch. Every command lives in `cmd/` as a few
//! lines over `husk-core`. Exit codes: 0 success, 1 error (one line plus its cause chain on
//! stderr), 2 usage error (clap's own).

mod cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "husk", version, about = "Keep the kernel. Share the husk.", propagate_version = true)]
pub struct Cli {
    /// The vault folder (else HUSK_VAULT, else the nearest folder upward that holds .husk/).
    #[arg(long, global = true, value_name = "DIR")]
    pub vault: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Sanitize one markdown file into a husk (no vault needed).
    Sanitize(cmd::sanitize::SanitizeArgs),
    /// Show every block with its category, rule and action at each level.
    Classify(cmd::sanitize::ClassifyArgs),
    /// Write an age identity file and print its recipient.
    Keygen(cmd::kernel::KeygenArgs),
    /// Write the kernel (encrypted private backup of the vault), verify it, print its path.
    Backup(cmd::kernel::BackupArgs),
    /// Decrypt a kernel and check every hash; writes nothing.
    Verify(cmd::kernel::VerifyArgs),
    /// Restore a vault from a kernel.
    Restore(cmd::kernel::RestoreArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sanitize(a) => cmd::sanitize::sanitize(a),
        Command::Classify(a) => cmd::sanitize::classify(a, cli.vault.as_deref()),
        Command::Keygen(a) => cmd::kernel::keygen(a),
        Command::Backup(a) => cmd::kernel::backup(a, cli.vault.as_deref()),
        Command::Verify(a) => cmd::kernel::verify(a),
        Command::Restore(a) => cmd::kernel::restore(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            if e.downcast_ref::<cmd::UsageError>().is_some() {
                return ExitCode::from(2);
            }
            ExitCode::from(1)
        }
    }
}
