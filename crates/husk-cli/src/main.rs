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
    /// Create a vault (DIR/.husk/) and index the notes already there.
    Init(cmd::vault::InitArgs),
    /// Notes, index state, changes since the last export, last kernel.
    Status(cmd::vault::StatusArgs),
    /// Full-text search over the notes (Chinese included).
    Search(cmd::vault::SearchArgs),
    /// Bring outside material into the vault as notes.
    Import(cmd::vault::ImportArgs),
    /// Write a husk of vault notes and record it in the ledger.
    Export(cmd::vault::ExportArgs),
    /// The export history; `show ID`; `verify ID DIR`.
    Ledger(cmd::vault::LedgerArgs),
    /// Override the classifier for the block(s) on one line: keep, hollow, private or auto.
    Mark(cmd::vault::MarkArgs),
    /// Which exports and notes a text overlaps, and whether withheld knowledge shows in it.
    Trace(cmd::vault::TraceArgs),
    /// Keep the index fresh as notes change (Ctrl-C to stop).
    Watch(cmd::vault::WatchArgs),
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
        Command::Init(a) => cmd::vault::init(a),
        Command::Status(a) => cmd::vault::status(a, cli.vault.as_deref()),
        Command::Search(a) => cmd::vault::search(a, cli.vault.as_deref()),
        Command::Import(a) => cmd::vault::import(a, cli.vault.as_deref()),
        Command::Export(a) => cmd::vault::export(a, cli.vault.as_deref()),
        Command::Ledger(a) => cmd::vault::ledger(a, cli.vault.as_deref()),
        Command::Mark(a) => cmd::vault::mark(a, cli.vault.as_deref()),
        Command::Trace(a) => cmd::vault::trace(a, cli.vault.as_deref()),
        Command::Watch(a) => cmd::vault::watch(a, cli.vault.as_deref()),
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
