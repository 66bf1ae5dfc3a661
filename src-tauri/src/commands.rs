//! Husk's IPC surface: one thin `#[tauri::command]` per user action, each a few lines that call
//! husk-core (and, until `husk_core::vault` lands, the [`crate::interim`] vault stand-in).
//!
//! Rules for this module: no domain logic; every error is an [`IpcError`]; nothing here logs note
//! text; work that can take long (listing a vault, export, backup, restore) runs on a blocking
//! thread and reports progress over a [`Channel`]. The names here must match `build.rs`.

use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::interim::{self, SearchHit, Settings, Vault};
use husk_core::{BlockOutcome, Category, Classified, Forced, Level, SanitizeOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;
use tauri::State;

/// What the app holds between calls: the open vault, if any.
#[derive(Default)]
pub struct AppState {
    vault: Mutex<Option<Arc<Vault>>>,
}

impl AppState {
    fn vault(&self) -> IpcResult<Arc<Vault>> {
        self.vault
            .lock()
            .ok()
            .and_then(|v| v.clone())
            .ok_or_else(|| IpcError::new(ErrorCode::NoVault, "open or create a vault first"))
    }
    /// Open the vault at `root` (used at start-up for `HUSK_VAULT`).
    pub fn open_path(&self, root: &std::path::Path) -> IpcResult<VaultInfo> {
        Ok(self.set(Vault::open(root)?))
    }
    fn set(&self, v: Vault) -> VaultInfo {
        let info = VaultInfo::of(&v);
        if let Ok(mut cur) = self.vault.lock() {
            *cur = Some(Arc::new(v));
        }
        info
    }
}

/// Run blocking work off the async runtime's worker threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> IpcResult<T> + Send + 'static) -> IpcResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| IpcError::new(ErrorCode::Io, "a background task stopped unexpectedly"))?
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
    pub categories: BTreeMap<Category, usize>,
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

/// The user's choice for one block; `auto` removes the override.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    Keep,
    Hollow,
    Private,
    Auto,
}

/// Everything the export wizard collects.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportRequest {
    pub notes: Vec<String>,
    pub level: Level,
    pub format: String,
    pub to: String,
    pub recipient: String,
    pub scope: String,
    pub until: String,
    pub manner: String,
}

/// What the restore wizard collects. Exactly one of `identity` and `passphrase` is set.
#[derive(Debug, Clone, Deserialize)]
pub struct RestoreRequest {
    pub kernel: String,
    pub to: String,
    pub identity: Option<String>,
    pub passphrase: Option<String>,
}

fn unavailable(what: &str) -> IpcError {
    IpcError::new(ErrorCode::Unavailable, format!("{what} needs the husk-core {what} API, which this build does not include yet"))
}

// ---------------------------------------------------------------- vault

#[tauri::command]
pub async fn current_vault(state: State<'_, AppState>) -> IpcResult<Option<VaultInfo>> {
    Ok(state.vault().ok().map(|v| VaultInfo::of(&v)))
}

#[tauri::command]
pub async fn open_vault(state: State<'_, AppState>, path: String) -> IpcResult<VaultInfo> {
    let root = interim::folder_path(&path)?;
    let v = blocking(move || Ok(Vault::open(&root)?)).await?;
    Ok(state.set(v))
}

#[tauri::command]
pub async fn create_vault(state: State<'_, AppState>, path: String) -> IpcResult<VaultInfo> {
    let root = interim::folder_path(&path)?;
    let v = blocking(move || Ok(Vault::create(&root)?)).await?;
    Ok(state.set(v))
}

#[tauri::command]
pub async fn list_notes(state: State<'_, AppState>) -> IpcResult<Vec<NoteSummary>> {
    let v = state.vault()?;
    blocking(move || {
        let mut out = Vec::new();
        for path in v.notes()? {
            let text = v.read(&path)?;
            let mut categories = BTreeMap::new();
            for b in husk_core::classify_note(&text, &v.overrides(&path)) {
                *categories.entry(b.category).or_insert(0) += 1;
            }
            out.push(NoteSummary { title: interim::title_of(&path, &text), path, categories });
        }
        Ok(out)
    })
    .await
}

#[tauri::command]
pub async fn search_notes(state: State<'_, AppState>, query: String) -> IpcResult<Vec<SearchHit>> {
    let v = state.vault()?;
    blocking(move || Ok(v.search(&query)?)).await
}

// ---------------------------------------------------------------- note

#[tauri::command]
pub async fn read_note(state: State<'_, AppState>, path: String) -> IpcResult<String> {
    Ok(state.vault()?.read(&path)?)
}

#[tauri::command]
pub async fn save_note(state: State<'_, AppState>, path: String, text: String) -> IpcResult<()> {
    Ok(state.vault()?.write(&path, &text)?)
}

/// Classify the editor's current text with the note's overrides.
#[tauri::command]
pub async fn classify_text(state: State<'_, AppState>, path: String, text: String) -> IpcResult<Vec<Classified>> {
    Ok(husk_core::classify_note(&text, &state.vault()?.overrides(&path)))
}

#[tauri::command]
pub async fn set_override(state: State<'_, AppState>, path: String, fingerprint: String, choice: Choice) -> IpcResult<()> {
    let forced = match choice {
        Choice::Keep => Some(Forced::Keep),
        Choice::Hollow => Some(Forced::Hollow),
        Choice::Private => Some(Forced::Private),
        Choice::Auto => None,
    };
    Ok(state.vault()?.set_override(&path, &fingerprint, forced)?)
}

// ---------------------------------------------------------------- husk

/// The husk of `text` (the editor's content for note `path`) at `level`.
#[tauri::command]
pub async fn preview_husk(state: State<'_, AppState>, path: String, text: String, level: Level) -> IpcResult<HuskPreview> {
    let mut opts = SanitizeOptions::new(level);
    opts.overrides = state.vault()?.overrides(&path);
    match husk_core::sanitize(&text, &opts) {
        Ok(h) => Ok(HuskPreview { level, husk: h.text, blocks: h.blocks, retention: h.retention, gate: LeakGate { passed: true, message: None } }),
        Err(e @ husk_core::SanitizeError::Leak { .. }) => {
            Ok(HuskPreview { level, husk: String::new(), blocks: Vec::new(), retention: 0.0, gate: LeakGate { passed: false, message: Some(e.to_string()) } })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- export and ledger

#[tauri::command]
pub async fn export_husk(state: State<'_, AppState>, request: ExportRequest, progress: Channel<Progress>) -> IpcResult<serde_json::Value> {
    let _ = (state.vault()?, request, progress);
    Err(unavailable("export"))
}

#[tauri::command]
pub async fn list_ledger(state: State<'_, AppState>) -> IpcResult<Vec<serde_json::Value>> {
    let _ = state.vault()?;
    Err(unavailable("ledger"))
}

#[tauri::command]
pub async fn verify_ledger(state: State<'_, AppState>, id: String, dir: String) -> IpcResult<serde_json::Value> {
    let _ = (state.vault()?, id, interim::folder_path(&dir)?);
    Err(unavailable("ledger"))
}

// ---------------------------------------------------------------- kernel

#[tauri::command]
pub async fn backup_kernel(state: State<'_, AppState>, progress: Channel<Progress>) -> IpcResult<serde_json::Value> {
    let _ = (state.vault()?, progress);
    Err(unavailable("kernel"))
}

#[tauri::command]
pub async fn list_kernels(state: State<'_, AppState>) -> IpcResult<Vec<serde_json::Value>> {
    let _ = state.vault()?;
    Err(unavailable("kernel"))
}

#[tauri::command]
pub async fn verify_kernel(kernel: String, identity: Option<String>, passphrase: Option<String>) -> IpcResult<serde_json::Value> {
    let _ = (interim::folder_path(&kernel)?, identity, passphrase);
    Err(unavailable("kernel"))
}

#[tauri::command]
pub async fn restore_kernel(request: RestoreRequest, progress: Channel<Progress>) -> IpcResult<serde_json::Value> {
    let _ = (interim::folder_path(&request.kernel)?, interim::folder_path(&request.to)?, progress);
    Err(unavailable("kernel"))
}

#[tauri::command]
pub async fn generate_key(output: String) -> IpcResult<String> {
    let _ = interim::folder_path(&output)?;
    Err(unavailable("kernel"))
}

// ---------------------------------------------------------------- settings

#[tauri::command]
pub async fn read_settings(state: State<'_, AppState>) -> IpcResult<Settings> {
    Ok(state.vault()?.settings())
}

#[tauri::command]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> IpcResult<()> {
    if !settings.backup_dir.is_empty() {
        interim::folder_path(&settings.backup_dir)?;
    }
    state.vault()?.save_settings(settings);
    Ok(())
}
