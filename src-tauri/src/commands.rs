//! Husk's IPC surface: one thin `#[tauri::command]` per user action, each a few lines that call
//! husk-core through [`Vault`] (and, for kernels, `husk_core::kernel`).
//!
//! Rules for this module: no domain logic; every error is an [`IpcError`]; nothing here logs note
//! text; vault work runs on a blocking thread (never the UI thread), and long work (opening a
//! vault, export, backup, restore) reports progress over a [`Channel`]. The names here must match
//! `build.rs`.

use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::input::{typed_path, NewPassphrase};
use crate::recall::Recall;
use crate::settings::Settings;
use husk_core::export::ExportRequest as CoreExport;
use husk_core::index::SearchHit;
use husk_core::kernel::{self, KernelConfig, Key, Phase, RestoreOptions, RestoreReport, Verified};
use husk_core::ledger::{Format, LedgerEntry, VerifyReport};
use husk_core::vault::{now_rfc3339, Mark, Status};
use husk_core::watch::{WatchEvent, WatchOptions};
use husk_core::{BlockOutcome, Classified, Level, SanitizeOptions, Vault};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;
use tauri::State;

/// What the app holds between calls: the open vault, if any, the stop flag of its watcher, where
/// the last vault is remembered, and the vault to open at start (until the UI asks for it).
#[derive(Default)]
pub struct AppState {
    vault: Arc<Mutex<Option<Vault>>>,
    watcher: Mutex<Option<Arc<AtomicBool>>>,
    recall: Mutex<Option<Recall>>,
    startup: Mutex<Option<StartupVault>>,
}

/// Where the vault opened at start comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartupSource {
    /// The `HUSK_VAULT` environment variable (wins; not remembered).
    Env,
    /// The vault that was open last time.
    Last,
}

/// The vault to open at start.
#[derive(Debug, Clone)]
pub struct StartupVault {
    pub path: PathBuf,
    pub source: StartupSource,
}

impl AppState {
    /// Set where the last vault is remembered (`None`: nowhere) and which vault the UI opens at
    /// start: `env_vault` (`HUSK_VAULT`) if given, else the remembered one.
    pub fn prepare(&self, recall: Option<Recall>, env_vault: Option<PathBuf>) {
        let start = match env_vault {
            Some(path) => Some(StartupVault { path, source: StartupSource::Env }),
            None => recall
                .as_ref()
                .and_then(Recall::load)
                .map(|path| StartupVault { path, source: StartupSource::Last }),
        };
        *self.recall.lock().unwrap_or_else(|e| e.into_inner()) = recall;
        *self.startup.lock().unwrap_or_else(|e| e.into_inner()) = start;
    }
    /// Remember `root` as the last vault. Best effort: the vault is open either way.
    fn remember(&self, root: &str) {
        let recall = self.recall.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(r) = recall {
            if let Err(e) = r.store(Path::new(root)) {
                eprintln!("husk-desktop: cannot remember the last vault: {e}");
            }
        }
    }
    fn current(&self) -> Option<VaultInfo> {
        self.vault.lock().ok().and_then(|v| v.as_ref().map(VaultInfo::of))
    }
    fn set(&self, v: Vault) -> VaultInfo {
        self.stop_watching();
        let info = VaultInfo::of(&v);
        // A panic in an earlier command must not stop the user from reopening a vault.
        *self.vault.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        info
    }
    fn stop_watching(&self) {
        if let Some(stop) = self.watcher.lock().ok().and_then(|mut w| w.take()) {
            stop.store(true, Ordering::SeqCst);
        }
    }
    /// Run `f` on the open vault on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vault) -> IpcResult<T> + Send + 'static,
    ) -> IpcResult<T> {
        let cell = self.vault.clone();
        blocking(move || {
            // Every vault write is atomic on disk, so a vault survives a panicked command.
            let mut guard = cell.lock().unwrap_or_else(|e| e.into_inner());
            let v = guard
                .as_mut()
                .ok_or_else(|| IpcError::new(ErrorCode::NoVault, "open or create a vault first"))?;
            f(v)
        })
        .await
    }
}

/// Run blocking work off the async runtime's worker threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> IpcResult<T> + Send + 'static) -> IpcResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| IpcError::new(ErrorCode::Io, "a background task stopped unexpectedly"))?
}

/// A vault-relative note path the UI sent, checked against the vault (must be an existing note).
fn note(v: &Vault, path: &str) -> IpcResult<String> {
    Ok(v.resolve_note(Path::new(path), v.root())?)
}

/// Progress of a long task, streamed over a [`Channel`].
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct VaultInfo {
    pub root: String,
    pub name: String,
}

impl VaultInfo {
    fn of(v: &Vault) -> Self {
        let root = v.root();
        let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Self { root: root.display().to_string(), name }
    }
}

/// A note in the tree, with how many blocks fall in each category.
#[derive(Debug, Clone, Serialize)]
pub struct NoteSummary {
    pub path: String,
    pub title: String,
    /// Blocks per category name (`pitfall`, `judgment`, …).
    pub categories: BTreeMap<String, usize>,
}

/// The leak gate's verdict on a husk.
#[derive(Debug, Clone, Serialize)]
pub struct LeakGate {
    pub passed: bool,
    pub message: Option<String>,
}

/// A husk of one note at one level, for the side-by-side preview.
#[derive(Debug, Clone, Serialize)]
pub struct HuskPreview {
    pub level: Level,
    pub husk: String,
    pub blocks: Vec<BlockOutcome>,
    pub retention: f64,
    pub gate: LeakGate,
}

/// Everything the export wizard collects.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportRequest {
    pub notes: Vec<String>,
    pub level: Level,
    pub format: Format,
    pub to: String,
    pub recipient: String,
    pub scope: String,
    pub until: String,
    pub manner: String,
}

fn opt(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A ledger entry as the UI shows it: the withheld spans are counted, not sent.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerView {
    pub id: String,
    pub created: String,
    pub level: Level,
    pub format: Format,
    pub to: String,
    pub notes: Vec<String>,
    pub recipient: Option<String>,
    pub scope: Option<String>,
    pub until: Option<String>,
    pub manner: Option<String>,
    pub files: Vec<FileView>,
    pub withheld: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub path: String,
    pub sha256: String,
}

impl From<LedgerEntry> for LedgerView {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            created: e.time,
            level: e.level,
            format: e.format,
            to: e.to.display().to_string(),
            notes: e.notes.into_iter().map(|n| n.path).collect(),
            recipient: e.terms.recipient,
            scope: e.terms.scope,
            until: e.terms.until,
            manner: e.terms.manner,
            files: e.files.into_iter().map(|f| FileView { path: f.path, sha256: f.sha256 }).collect(),
            withheld: e.withheld.len(),
        }
    }
}

/// What the restore wizard collects. Exactly one of `identity` and `passphrase` is set.
#[derive(Debug, Clone, Deserialize)]
pub struct RestoreRequest {
    pub kernel: String,
    pub to: String,
    pub identity: Option<String>,
    pub passphrase: Option<String>,
}

// ---------------------------------------------------------------- vault

#[tauri::command]
pub async fn current_vault(state: State<'_, AppState>) -> IpcResult<Option<VaultInfo>> {
    Ok(state.current())
}

/// Open the vault at `root` and bring its index up to date, on a blocking thread. The first open
/// of a large vault takes seconds (2,000 notes: about 0.6 s in a release build, 3 s in a debug
/// build), so the two passes report `index`, then `classify` with the number of notes to classify.
async fn open_at(root: PathBuf, progress: Channel<Progress>) -> IpcResult<Vault> {
    blocking(move || {
        let _ = progress.send(Progress { stage: "index", done: 0, total: 0 });
        let mut v = Vault::open(&root)?;
        v.refresh_text()?;
        let pending = v.pending_classification()? as u64;
        let _ = progress.send(Progress { stage: "classify", done: 0, total: pending });
        v.classify_pending()?;
        let _ = progress.send(Progress { stage: "done", done: pending, total: pending });
        Ok(v)
    })
    .await
}

/// Open the vault the user chose, and remember it for the next start.
#[tauri::command]
pub async fn open_vault(
    state: State<'_, AppState>,
    path: String,
    progress: Channel<Progress>,
) -> IpcResult<VaultInfo> {
    let v = open_at(typed_path(&path)?, progress).await?;
    let info = state.set(v);
    state.remember(&info.root);
    Ok(info)
}

/// Make a vault of a folder (new or holding notes already), open it and remember it.
#[tauri::command]
pub async fn create_vault(
    state: State<'_, AppState>,
    path: String,
    progress: Channel<Progress>,
) -> IpcResult<VaultInfo> {
    let root = typed_path(&path)?;
    let _ = progress.send(Progress { stage: "index", done: 0, total: 0 });
    let (v, _report) = blocking(move || Ok(Vault::init(&root)?)).await?;
    let _ = progress.send(Progress { stage: "done", done: 1, total: 1 });
    let info = state.set(v);
    state.remember(&info.root);
    Ok(info)
}

/// Why the vault meant for the start was not opened (the UI shows one line, not a dialog).
#[derive(Debug, Clone, Serialize)]
pub struct StartupNotice {
    pub source: StartupSource,
    pub path: String,
    pub error: IpcError,
}

/// What the UI starts on: the open vault, or the chooser with an optional notice.
#[derive(Debug, Clone, Serialize)]
pub struct Startup {
    pub vault: Option<VaultInfo>,
    pub notice: Option<StartupNotice>,
}

/// Open the vault meant for the start (`HUSK_VAULT`, else the last one), once, with progress as
/// for `open_vault`. Later calls (a reloaded page) just report the vault that is open.
#[tauri::command]
pub async fn open_startup_vault(
    state: State<'_, AppState>,
    progress: Channel<Progress>,
) -> IpcResult<Startup> {
    let start = state.startup.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(start) = start else {
        return Ok(Startup { vault: state.current(), notice: None });
    };
    match open_at(start.path.clone(), progress).await {
        Ok(v) => Ok(Startup { vault: Some(state.set(v)), notice: None }),
        Err(error) => {
            let path = start.path.display().to_string();
            eprintln!("husk-desktop: vault not reopened: {}", error.message);
            Ok(Startup { vault: None, notice: Some(StartupNotice { source: start.source, path, error }) })
        }
    }
}

#[tauri::command]
pub async fn list_notes(state: State<'_, AppState>) -> IpcResult<Vec<NoteSummary>> {
    state
        .with(|v| {
            // Category counts come from the index; classify whatever is still pending first.
            v.classify_pending()?;
            Ok(v.note_list()?
                .into_iter()
                .map(|n| NoteSummary { path: n.path, title: n.title, categories: n.categories })
                .collect())
        })
        .await
}

/// Notes, overrides, exports, changes since the last export, last kernel (`husk status`).
#[tauri::command]
pub async fn vault_status(state: State<'_, AppState>) -> IpcResult<Status> {
    state.with(|v| Ok(v.status()?)).await
}

#[tauri::command]
pub async fn search_notes(state: State<'_, AppState>, query: String) -> IpcResult<Vec<SearchHit>> {
    state.with(move |v| Ok(v.search(&query, 50)?)).await
}

/// Files that changed on disk, pushed to the UI by the watcher.
#[derive(Debug, Clone, Serialize)]
pub struct VaultChanges {
    pub paths: Vec<String>,
    pub rescanned: bool,
}

/// Watch the open vault (husk-core's watcher, on its own thread and index connection) and push
/// every settled batch of changes to `changes`. Replaces any earlier watcher.
#[tauri::command]
pub async fn watch_vault(state: State<'_, AppState>, changes: Channel<VaultChanges>) -> IpcResult<()> {
    let (root, opts) =
        state.with(|v| Ok((v.root().to_path_buf(), WatchOptions::from_config(&v.config()?)))).await?;
    state.stop_watching();
    let stop = Arc::new(AtomicBool::new(false));
    if let Ok(mut w) = state.watcher.lock() {
        *w = Some(stop.clone());
    }
    std::thread::spawn(move || {
        let Ok(mut v) = Vault::open(&root) else { return };
        let _ = v.watch(&opts, &stop, &mut |_, ev| {
            if let WatchEvent::Settled(b) = ev {
                let _ = changes.send(VaultChanges { paths: b.paths.clone(), rescanned: b.rescanned });
            }
        });
    });
    Ok(())
}

// ---------------------------------------------------------------- note

#[tauri::command]
pub async fn read_note(state: State<'_, AppState>, path: String) -> IpcResult<String> {
    state.with(move |v| Ok(v.read_note(&note(v, &path)?)?)).await
}

/// Save the editor's text atomically (temp file, fsync, rename) and re-index the note.
#[tauri::command]
pub async fn save_note(state: State<'_, AppState>, path: String, text: String) -> IpcResult<()> {
    state
        .with(move |v| {
            let rel = note(v, &path)?;
            Ok(v.save_note(&rel, &text)?)
        })
        .await
}

/// Classify the editor's current text with the note's overrides.
#[tauri::command]
pub async fn classify_text(
    state: State<'_, AppState>,
    path: String,
    text: String,
) -> IpcResult<Vec<Classified>> {
    state.with(move |v| Ok(husk_core::classify_note(&text, &v.overrides_for(&note(v, &path)?)))).await
}

/// Override one block (by its fingerprint, as `classify_text` reported it): keep, hollow,
/// private or auto (remove the override).
#[tauri::command]
pub async fn set_override(
    state: State<'_, AppState>,
    path: String,
    fingerprint: String,
    choice: String,
) -> IpcResult<()> {
    let mark: Mark = choice.parse()?;
    state.with(move |v| Ok(v.mark_block(&note(v, &path)?, &fingerprint, mark)?)).await
}

// ---------------------------------------------------------------- husk

/// The husk of `text` (the editor's content for note `path`) at `level`.
#[tauri::command]
pub async fn preview_husk(
    state: State<'_, AppState>,
    path: String,
    text: String,
    level: Level,
) -> IpcResult<HuskPreview> {
    let mut opts = SanitizeOptions::new(level);
    opts.overrides = state.with(move |v| Ok(v.overrides_for(&note(v, &path)?))).await?;
    match husk_core::sanitize(&text, &opts) {
        Ok(h) => Ok(HuskPreview {
            level,
            husk: h.text,
            blocks: h.blocks,
            retention: h.retention,
            gate: LeakGate { passed: true, message: None },
        }),
        Err(e @ husk_core::SanitizeError::Leak { .. }) => Ok(HuskPreview {
            level,
            husk: String::new(),
            blocks: Vec::new(),
            retention: 0.0,
            gate: LeakGate { passed: false, message: Some(e.to_string()) },
        }),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- export and ledger

/// Write a husk of the chosen notes and record it in the ledger.
#[tauri::command]
pub async fn export_husk(
    state: State<'_, AppState>,
    request: ExportRequest,
    progress: Channel<Progress>,
) -> IpcResult<LedgerView> {
    let mut req = CoreExport::new(request.notes, request.level, request.format, typed_path(&request.to)?);
    req.terms = husk_core::ledger::Terms {
        recipient: opt(request.recipient),
        scope: opt(request.scope),
        until: opt(request.until),
        manner: opt(request.manner),
    };
    let total = req.notes.len() as u64;
    let _ = progress.send(Progress { stage: "write", done: 0, total });
    let entry = state.with(move |v| Ok(v.export(&req)?)).await?;
    let _ = progress.send(Progress { stage: "done", done: total, total });
    Ok(entry.into())
}

/// Every export, newest first.
#[tauri::command]
pub async fn list_ledger(state: State<'_, AppState>) -> IpcResult<Vec<LedgerView>> {
    state.with(|v| Ok(v.ledger()?.into_iter().rev().map(LedgerView::from).collect())).await
}

#[tauri::command]
pub async fn verify_ledger(state: State<'_, AppState>, id: String, dir: String) -> IpcResult<VerifyReport> {
    let dir = typed_path(&dir)?;
    state.with(move |v| Ok(v.verify_export(&id, &dir)?)).await
}

// ---------------------------------------------------------------- kernel

/// The open vault's root and its `[kernel]` settings.
async fn kernel_config(state: &AppState) -> IpcResult<(PathBuf, KernelConfig)> {
    state.with(|v| Ok((v.root().to_path_buf(), KernelConfig::load(v.root())?))).await
}

fn stage(p: kernel::Progress) -> Progress {
    let stage = match p.phase {
        Phase::Scan => "scan",
        Phase::Snapshot => "snapshot",
        Phase::Write => "encrypt",
        Phase::Verify => "verify",
        Phase::Restore => "decrypt",
        _ => "write",
    };
    Progress { stage, done: p.done, total: p.total }
}

/// A kernel just written.
#[derive(Debug, Clone, Serialize)]
pub struct BackupView {
    pub path: String,
    pub size: u64,
    /// True when it was decrypted and every hash checked; false when only read back.
    pub verified: bool,
    pub files: usize,
    /// Old kernels removed by the retention policy.
    pub pruned: usize,
}

impl BackupView {
    fn of(r: &kernel::BackupReport, pruned: usize) -> Self {
        Self {
            path: r.path.display().to_string(),
            size: r.size,
            verified: r.verified == Verified::Full,
            files: r.files,
            pruned,
        }
    }
}

fn no_backup_folder() -> IpcError {
    IpcError::new(ErrorCode::NoBackupFolder, "set a backup folder in Settings first")
}

/// Back up the vault now to the configured folder and recipients, verify it, record that, and
/// apply the retention policy (husk-core's `auto_backup`).
#[tauri::command]
pub async fn backup_kernel(state: State<'_, AppState>, progress: Channel<Progress>) -> IpcResult<BackupView> {
    let (root, cfg) = kernel_config(&state).await?;
    if cfg.dir.is_none() {
        return Err(no_backup_folder());
    }
    let a = blocking(move || Ok(kernel::auto_backup(&root, &cfg, &mut |p| drop(progress.send(stage(p))))?))
        .await?;
    Ok(BackupView::of(&a.backup, a.pruned.len()))
}

/// Back up the vault now to the configured folder, locked with a passphrase typed twice instead
/// of the recipients, and verified with that same passphrase before the kernel gets its name
/// (recorded, as for automatic kernels). Retention is left alone: nothing is pruned.
#[tauri::command]
pub async fn backup_kernel_passphrase(
    state: State<'_, AppState>,
    passphrase: NewPassphrase,
    progress: Channel<Progress>,
) -> IpcResult<BackupView> {
    let (lock, key) = passphrase.lock_and_key()?;
    let (root, cfg) = kernel_config(&state).await?;
    let dir = cfg.dir.ok_or_else(no_backup_folder)?;
    let r = blocking(move || {
        let r = kernel::backup(&root, &dir, &lock, Some(&key), &mut |p| drop(progress.send(stage(p))))?;
        // The kernel was fully verified with the passphrase: record it, so the list says so.
        kernel::record_verification(&r)?;
        Ok(r)
    })
    .await?;
    Ok(BackupView::of(&r, 0))
}

/// A kernel in the backup folder.
#[derive(Debug, Clone, Serialize)]
pub struct KernelView {
    pub path: String,
    /// Unix seconds (UTC).
    pub created: u64,
    pub size: u64,
    pub verified: bool,
}

/// The kernels in the configured backup folder, newest first (none when no folder is set).
#[tauri::command]
pub async fn list_kernels(state: State<'_, AppState>) -> IpcResult<Vec<KernelView>> {
    let (_, cfg) = kernel_config(&state).await?;
    let Some(dir) = cfg.dir else { return Ok(Vec::new()) };
    let mut ks = blocking(move || Ok(kernel::list_kernels(&dir)?)).await?;
    ks.sort_by_key(|k| std::cmp::Reverse(k.created));
    Ok(ks
        .into_iter()
        .map(|k| KernelView {
            size: std::fs::metadata(&k.path).map_or(0, |m| m.len()),
            path: k.path.display().to_string(),
            created: k.created,
            verified: k.verified,
        })
        .collect())
}

/// The key the user gave: an identity file or a passphrase (never both, never logged).
fn key_of(identity: Option<String>, passphrase: Option<String>) -> IpcResult<Key> {
    match (identity.filter(|s| !s.trim().is_empty()), passphrase.filter(|s| !s.is_empty())) {
        (Some(id), None) => Ok(kernel::read_identity_file(&typed_path(&id)?)?),
        (None, Some(pass)) => Ok(Key::Passphrase(SecretString::from(pass))),
        _ => Err(IpcError::new(ErrorCode::InvalidInput, "give either an identity file or a passphrase")),
    }
}

/// What a verify found.
#[derive(Debug, Clone, Serialize)]
pub struct KernelCheck {
    pub files: usize,
    pub bytes: u64,
    pub created: String,
}

/// Decrypt a kernel and check every hash; writes nothing.
#[tauri::command]
pub async fn verify_kernel(
    kernel: String,
    identity: Option<String>,
    passphrase: Option<String>,
    progress: Channel<Progress>,
) -> IpcResult<KernelCheck> {
    let path = typed_path(&kernel)?;
    let key = key_of(identity, passphrase)?;
    let r = blocking(move || Ok(kernel::verify_file(&path, &key, &mut |p| drop(progress.send(stage(p))))?))
        .await?;
    Ok(KernelCheck { files: r.files, bytes: r.content_bytes, created: r.manifest.created })
}

/// Restore a kernel into a new (or empty) folder, through a staging folder; never overwrites.
#[tauri::command]
pub async fn restore_kernel(
    request: RestoreRequest,
    progress: Channel<Progress>,
) -> IpcResult<RestoreReport> {
    let (from, to) = (typed_path(&request.kernel)?, typed_path(&request.to)?);
    let key = key_of(request.identity, request.passphrase)?;
    let opts = RestoreOptions { force: false };
    blocking(move || Ok(kernel::restore(&from, &to, &key, &opts, &mut |p| drop(progress.send(stage(p))))?))
        .await
}

/// Write a new age identity file (never overwriting) and return its recipient.
#[tauri::command]
pub async fn generate_key(output: String) -> IpcResult<String> {
    let path = typed_path(&output)?;
    blocking(move || Ok(kernel::write_identity_file(&path, &now_rfc3339())?)).await
}

// ---------------------------------------------------------------- settings

#[tauri::command]
pub async fn read_settings(state: State<'_, AppState>) -> IpcResult<Settings> {
    let (_, cfg) = kernel_config(&state).await?;
    Ok(Settings::from(&cfg))
}

/// Store the settings in the `[kernel]` table of `.husk/config.toml` (other tables untouched).
#[tauri::command]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> IpcResult<()> {
    settings.check()?;
    state.with(move |v| settings.save(v)).await
}
