//! Assembles the app: state, command handler and (in `main`) the real context. Generic over the
//! runtime so the command tests can build the very same app on Tauri's mock runtime.

use crate::commands::{self, AppState};
use tauri::{Builder, Runtime};

/// Husk's builder: the app state and exactly the commands listed in `build.rs`.
pub fn builder<R: Runtime>(b: Builder<R>) -> Builder<R> {
    b.manage(AppState::default()).invoke_handler(tauri::generate_handler![
        commands::current_vault,
        commands::open_vault,
        commands::create_vault,
        commands::list_notes,
        commands::vault_status,
        commands::search_notes,
        commands::watch_vault,
        commands::read_note,
        commands::save_note,
        commands::classify_text,
        commands::set_override,
        commands::preview_husk,
        commands::export_husk,
        commands::list_ledger,
        commands::verify_ledger,
        commands::backup_kernel,
        commands::list_kernels,
        commands::verify_kernel,
        commands::restore_kernel,
        commands::generate_key,
        commands::read_settings,
        commands::save_settings,
    ])
}

/// Open the vault named by `HUSK_VAULT`, if any; the UI then starts on it.
pub fn open_from_env<R: Runtime>(app: &tauri::AppHandle<R>) {
    use tauri::Manager;
    if let Some(dir) = std::env::var_os("HUSK_VAULT") {
        let state = app.state::<AppState>();
        if let Err(e) = state.open_path(std::path::Path::new(&dir)) {
            eprintln!("husk-desktop: HUSK_VAULT not opened: {}", e.message);
        }
    }
}
