//! The vault commands: `init`, `status`, `search`, `import`, `export`, `ledger`, `mark`, `trace`
//! and `watch`. Each is a few lines over [`husk_core::Vault`].

use super::io::read_note;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use husk_core::export::ExportRequest;
use husk_core::index::IndexState;
use husk_core::ledger::Format;
use husk_core::vault::Mark;
use husk_core::watch::{WatchEvent, WatchOptions};
use husk_core::{Level, Vault};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the current folder")
}

/// Open the vault named by `--vault`, `HUSK_VAULT` or the current folder, reporting a rebuild.
pub fn open(vault: Option<&Path>) -> Result<Vault> {
    let v = Vault::open_from(vault, &cwd()?)?;
    say_rebuilt(&v);
    Ok(v)
}

fn say_rebuilt(v: &Vault) {
    if let IndexState::Rebuilt(reason) = v.open_state() {
        eprintln!("husk: the index was rebuilt from the notes ({reason}); overrides and the ledger are kept");
    }
}

/// Open and bring the index's text up to date (what search and trace read; block
/// classification is left to `status` and `watch`), reporting a rebuild and notes that could
/// not be indexed.
fn open_fresh(vault: Option<&Path>) -> Result<Vault> {
    let mut v = Vault::open_from(vault, &cwd()?)?;
    let r = v.refresh_text()?;
    say_rebuilt(&v);
    for (p, why) in &r.skipped {
        eprintln!("husk: skipped {p}: {why}");
    }
    Ok(v)
}

#[derive(Args)]
pub struct InitArgs {
    /// The vault folder (default: the current folder).
    pub dir: Option<PathBuf>,
}

pub fn init(a: InitArgs) -> Result<()> {
    let dir = match a.dir {
        Some(d) => d,
        None => cwd()?,
    };
    let (v, r) = Vault::init(&dir)?;
    println!(
        "initialised vault {} ({} notes indexed)",
        v.root().display(),
        r.added + r.unchanged + r.updated
    );
    for (p, why) in &r.skipped {
        eprintln!("husk: skipped {p}: {why}");
    }
    Ok(())
}

#[derive(Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
}

pub fn status(a: StatusArgs, vault: Option<&Path>) -> Result<()> {
    let mut v = Vault::open_from(vault, &cwd()?)?;
    let r = v.refresh()?;
    v.verify_index()?;
    say_rebuilt(&v);
    for (p, why) in &r.skipped {
        eprintln!("husk: skipped {p}: {why}");
    }
    let s = v.status()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("vault:     {}", s.root.display());
    println!(
        "notes:     {} ({} private, {} blocks, {} overrides)",
        s.notes, s.private_notes, s.blocks, s.overrides
    );
    if s.unclassified > 0 {
        println!("           {} note(s) awaiting block classification", s.unclassified);
    }
    println!("index:     {} (schema {}, {} bytes, integrity ok)", s.index, s.schema_version, s.index_bytes);
    println!("exports:   {}", s.exports);
    println!("changed since their last export: {}", s.changed_since_export.len());
    for p in &s.changed_since_export {
        println!("  {p}");
    }
    println!("never exported: {}", s.never_exported);
    match &s.last_kernel {
        Some(k) => println!("last kernel: {}", k.get("time").and_then(|t| t.as_str()).unwrap_or("recorded")),
        None => println!("last kernel: none"),
    }
    Ok(())
}

#[derive(Args)]
pub struct SearchArgs {
    pub query: String,
    #[arg(long)]
    pub json: bool,
    /// Most results to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub fn search(a: SearchArgs, vault: Option<&Path>) -> Result<()> {
    let v = open_fresh(vault)?;
    let hits = v.search(&a.query, a.limit)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    if hits.is_empty() {
        eprintln!("no matches");
    }
    for h in hits {
        println!("{}:{}: {}", h.path, h.line, h.snippet);
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ImportKind {
    /// A colleague-skill folder (legacy colleagues/{slug}/ or skills/colleague/{slug}/).
    Colleague { dir: PathBuf },
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: ImportKind,
}

pub fn import(a: ImportArgs, vault: Option<&Path>) -> Result<()> {
    let ImportKind::Colleague { dir } = a.kind;
    let mut v = open(vault)?;
    let r = v.import_colleague(&dir)?;
    println!(
        "imported {} colleague(s): {} note(s) written, {} unchanged",
        r.colleagues.len(),
        r.notes.len(),
        r.unchanged.len()
    );
    for n in &r.notes {
        println!("  {n}");
    }
    for s in &r.skipped {
        eprintln!("husk: left out {s} (not markdown)");
    }
    Ok(())
}

#[derive(Args)]
pub struct ExportArgs {
    /// Notes or folders of notes in the vault.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// light, medium or heavy.
    #[arg(long)]
    pub level: String,
    /// skill, colleague or markdown.
    #[arg(long)]
    pub format: String,
    /// The export folder (outside the vault). For `skill`, its name is the skill name.
    #[arg(long)]
    pub to: PathBuf,
    #[arg(long)]
    pub recipient: Option<String>,
    #[arg(long)]
    pub scope: Option<String>,
    /// Last day the recipient may use the export (YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long)]
    pub manner: Option<String>,
    /// Replace an existing export folder.
    #[arg(long)]
    pub force: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn export(a: ExportArgs, vault: Option<&Path>) -> Result<()> {
    let level: Level = a.level.parse()?;
    let format: Format = a.format.parse()?;
    // Refresh quietly: a note this export does not name should not clutter its one-line errors.
    let mut v = open(vault)?;
    v.refresh_text()?;
    let notes = v.resolve_selection(&a.paths, &cwd()?)?;
    let to = if a.to.is_absolute() { a.to.clone() } else { cwd()?.join(&a.to) };
    let mut req = ExportRequest::new(notes, level, format, to);
    req.force = a.force;
    req.terms =
        husk_core::ledger::Terms { recipient: a.recipient, scope: a.scope, until: a.until, manner: a.manner };
    req.seed = a.seed;
    let e = v.export(&req)?;
    println!(
        "exported {} note(s) as {} ({}) to {}",
        e.notes.len(),
        e.format.as_str(),
        e.level,
        e.to.display()
    );
    println!("ledger id {}: {} file(s), {} block(s) withheld", e.id, e.files.len(), e.withheld.len());
    Ok(())
}

#[derive(Subcommand)]
pub enum LedgerCmd {
    /// Show one export in full.
    Show { id: String },
    /// Check that a folder still matches what export ID wrote.
    Verify { id: String, dir: PathBuf },
}

#[derive(Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub cmd: Option<LedgerCmd>,
    #[arg(long, global = true)]
    pub json: bool,
}

pub fn ledger(a: LedgerArgs, vault: Option<&Path>) -> Result<()> {
    let v = open(vault)?;
    match a.cmd {
        None => {
            let all = v.ledger()?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            if all.is_empty() {
                println!("no exports yet");
            }
            for e in all {
                println!(
                    "{}  {}  {:<9} {:<6}  {} note(s)  {} withheld  to {}{}",
                    e.id,
                    e.time,
                    e.format.as_str(),
                    e.level.as_str(),
                    e.notes.len(),
                    e.withheld.len(),
                    e.to.display(),
                    e.terms.recipient.as_deref().map(|r| format!("  for {r}")).unwrap_or_default()
                );
            }
        }
        Some(LedgerCmd::Show { id }) => {
            let e = v.ledger_entry(&id)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&e)?);
                return Ok(());
            }
            println!("id:        {}", e.id);
            println!("time:      {}", e.time);
            println!("format:    {}  level: {}", e.format.as_str(), e.level);
            println!("to:        {}", e.to.display());
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            println!("recipient: {}", opt(&e.terms.recipient));
            println!("scope:     {}", opt(&e.terms.scope));
            println!("until:     {}", opt(&e.terms.until));
            println!("manner:    {}", opt(&e.terms.manner));
            println!("notes:");
            for n in &e.notes {
                println!("  {}  {}", &n.sha256[..12.min(n.sha256.len())], n.path);
            }
            println!("files:");
            for f in &e.files {
                println!("  {}  {:>8}  {}", f.sha256, f.size, f.path);
            }
            println!("withheld blocks: {}", e.withheld.len());
            for w in &e.withheld {
                println!(
                    "  {}:{}  bytes {}..{}  {} {} ({})  sha256 {}",
                    w.note,
                    w.line,
                    w.start,
                    w.end,
                    w.category.as_str(),
                    w.action.as_str(),
                    w.rule,
                    w.sha256
                );
            }
        }
        Some(LedgerCmd::Verify { id, dir }) => {
            let r = v.verify_export(&id, &dir)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                for p in &r.changed {
                    println!("changed  {p}");
                }
                for p in &r.missing {
                    println!("missing  {p}");
                }
                for p in &r.extra {
                    println!("extra    {p}");
                }
            }
            if !r.ok {
                bail!(
                    "{} does not match export {} ({} changed, {} missing, {} extra)",
                    dir.display(),
                    r.id,
                    r.changed.len(),
                    r.missing.len(),
                    r.extra.len()
                );
            }
            if !a.json {
                println!("ok: {} matches export {} ({} files)", dir.display(), r.id, r.matched.len());
            }
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct MarkArgs {
    /// NOTE:LINE, for example notes/deploy.md:12.
    pub target: String,
    /// keep, hollow, private or auto (remove the override).
    pub action: String,
}

pub fn mark(a: MarkArgs, vault: Option<&Path>) -> Result<()> {
    let (note, line) =
        a.target.rsplit_once(':').context("expected NOTE:LINE, for example notes/deploy.md:12")?;
    let line: usize = line
        .parse()
        .ok()
        .filter(|l| *l > 0)
        .with_context(|| format!("{line:?} is not a line number (expected NOTE:LINE)"))?;
    let mark: Mark = a.action.parse()?;
    let mut v = open(vault)?;
    let rel = v.resolve_note(Path::new(note), &cwd()?)?;
    let r = v.mark(&rel, line, mark)?;
    let what = r.forced.map_or("auto (classifier decides)", |f| f.as_str());
    println!("{}:{}: {} block(s) set to {what}", r.note, r.line, r.blocks);
    Ok(())
}

#[derive(Args)]
pub struct TraceArgs {
    /// A text found elsewhere (an agent's output, a copy of a skill).
    pub file: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn trace(a: TraceArgs, vault: Option<&Path>) -> Result<()> {
    let text = read_note(&a.file)?;
    let v = open_fresh(vault)?;
    let r = v.trace(&text)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!("{}: {} shingles", a.file.display(), r.shingles);
    if r.exports.is_empty() {
        println!("exports: no overlap with any export in the ledger");
    }
    for e in &r.exports {
        println!(
            "export {}  {:>5.1}% overlap  {} {}{}",
            e.id,
            e.overlap * 100.0,
            e.format,
            e.time,
            e.recipient.as_deref().map(|r| format!("  for {r}")).unwrap_or_default()
        );
    }
    if r.notes.is_empty() {
        println!("notes: no overlap with any vault note");
    }
    for n in r.notes.iter().take(20) {
        println!("note   {}  {:>5.1}% overlap", n.path, n.overlap * 100.0);
    }
    if r.withheld_shows {
        println!("WITHHELD KNOWLEDGE SHOWS in this text: {} block(s)", r.withheld.len());
        for w in &r.withheld {
            println!(
                "  {}:{}  {} ({}) withheld by export {}  {:.0}% of its shingles",
                w.note,
                w.line,
                w.category,
                w.action,
                w.export,
                w.overlap * 100.0
            );
        }
    } else {
        println!("withheld knowledge: none of it shows in this text");
    }
    Ok(())
}

#[derive(Args)]
pub struct WatchArgs {
    /// Debounce in milliseconds (default: config.toml [watch] debounce_ms, else 150).
    #[arg(long)]
    pub debounce_ms: Option<u64>,
}

pub fn watch(a: WatchArgs, vault: Option<&Path>) -> Result<()> {
    let mut v = open(vault)?;
    let mut opts = WatchOptions::from_config(&v.config()?);
    if let Some(ms) = a.debounce_ms {
        opts.debounce = std::time::Duration::from_millis(ms);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    // Automatic kernels: with recipients and a backup folder in the [kernel] config, a kernel is
    // written once changes have settled for `debounce_secs` (retention applied by auto_backup).
    let kernel_cfg = husk_core::kernel::KernelConfig::load(v.root())
        .ok()
        .filter(|c| !c.recipients.is_empty() && c.dir.is_some());
    let mut debouncer = kernel_cfg.as_ref().map(|c| husk_core::kernel::Debouncer::new(c.debounce()));
    let root = v.root().to_path_buf();
    v.watch(&opts, &stop, &mut |_v, ev| match ev {
        WatchEvent::Ready { notes, .. } => {
            println!("watching {notes} notes (Ctrl-C to stop)");
            match &kernel_cfg {
                Some(c) => println!("automatic kernels: {} s after the last change", c.debounce().as_secs()),
                None => println!(
                    "automatic kernels: off (set recipients and dir in [kernel] of .husk/config.toml)"
                ),
            }
        }
        WatchEvent::Settled(b) => {
            let r = &b.report;
            println!(
                "{}indexed: {} added, {} updated, {} removed ({:.1} ms)",
                if b.rescanned { "rescan: " } else { "" },
                r.added,
                r.updated,
                r.removed,
                b.index_ms
            );
            if r.added + r.updated + r.removed > 0 || b.rescanned {
                if let Some(d) = debouncer.as_mut() {
                    d.changed(std::time::Instant::now());
                }
            }
        }
        WatchEvent::Error(e) => eprintln!("husk: index update failed, rescanning: {e}"),
        WatchEvent::Idle => {
            if let (Some(d), Some(cfg)) = (debouncer.as_mut(), kernel_cfg.as_ref()) {
                if d.take_due(std::time::Instant::now()) {
                    match husk_core::kernel::auto_backup(&root, cfg, &mut husk_core::kernel::no_progress) {
                        Ok(r) => println!("kernel written and verified: {}", r.backup.path.display()),
                        Err(e) => eprintln!("husk: automatic kernel failed: {e}"),
                    }
                }
            }
        }
    })?;
    println!("stopped");
    Ok(())
}
