//! `husk sanitize` and `husk classify`: one file in, a husk or a block table out.

use super::io::{read_note, write_atomic};
use anyhow::{Context, Result};
use clap::Args;
use husk_core::{Level, Overrides, SanitizeOptions};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SanitizeArgs {
    /// The markdown file to sanitize.
    pub file: PathBuf,
    /// light, medium or heavy.
    #[arg(long)]
    pub level: String,
    /// Where to write the husk.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Also write a JSON report of every block and the retention figure.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Varies the filler choice deterministically.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args)]
pub struct ClassifyArgs {
    pub file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn sanitize(a: SanitizeArgs) -> Result<()> {
    let level: Level = a.level.parse()?;
    let src = read_note(&a.file)?;
    let mut opts = SanitizeOptions::new(level);
    opts.seed = a.seed;
    let husk =
        husk_core::sanitize(&src, &opts).with_context(|| format!("cannot sanitize {}", a.file.display()))?;
    write_atomic(&a.output, husk.text.as_bytes())?;
    if let Some(r) = &a.report {
        let report = serde_json::json!({
            "file": a.file.display().to_string(),
            "level": level,
            "seed": a.seed,
            "retention": husk.retention,
            "blocks": husk.blocks,
        });
        write_atomic(r, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(())
}

pub fn classify(a: ClassifyArgs, vault: Option<&Path>) -> Result<()> {
    let src = read_note(&a.file)?;
    // Inside a vault, a vault note is classified with its stored overrides (the effective action).
    let overrides = vault_overrides(&a.file, vault).unwrap_or_default();
    let rows = husk_core::classify_note(&src, &overrides);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:>9}  {:<11} {:<10} {:>5}  {:<8} {:<8} {:<8}  {:<8} rule",
        "line:col", "kind", "category", "score", "light", "medium", "heavy", "forced"
    );
    for r in rows {
        println!(
            "{:>9}  {:<11} {:<10} {:>5.2}  {:<8} {:<8} {:<8}  {:<8} {}",
            format!("{}:{}", r.line, r.column),
            r.kind.name(),
            r.category.as_str(),
            r.score,
            r.actions[0].as_str(),
            r.actions[1].as_str(),
            r.actions[2].as_str(),
            r.forced.map_or("-", |f| f.as_str()),
            r.rule
        );
    }
    Ok(())
}

/// The stored overrides of `file` when it is a note of the vault found from `--vault`,
/// `HUSK_VAULT` or the current folder; `None` outside a vault.
fn vault_overrides(file: &Path, vault: Option<&Path>) -> Option<Overrides> {
    let cwd = std::env::current_dir().ok()?;
    let root = husk_core::Vault::discover(vault, &cwd).ok()?;
    let abs = file.canonicalize().ok()?;
    abs.strip_prefix(&root).ok()?;
    let v = husk_core::Vault::open(&root).ok()?;
    let rel = v.resolve_note(&abs, &cwd).ok()?;
    Some(v.overrides_for(&rel))
}
