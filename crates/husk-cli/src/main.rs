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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sanitize(a) => cmd::sanitize::sanitize(a),
        Command::Classify(a) => cmd::sanitize::classify(a, cli.vault.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}
