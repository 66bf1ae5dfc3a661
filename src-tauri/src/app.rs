//! Assembles the app: state, command handler and (in `main`) the real context. Generic over the
//! runtime so the command tests can build the very same app on Tauri's mock runtime.

use crate::commands::{self, AppState};
use crate::recall::Recall;
use tauri::{Builder, Runtime};

/// Husk's builder: the app state and exactly the commands listed in `build.rs`.
pub fn builder<R: Runtime>(b: Builder<R>) -> Builder<R> {
    b.manage(AppState::default()).invoke_handler(tauri::generate_handler![
        commands::current_vault,
        commands::open_vault,
        commands::create_vault,
        commands::open_startup_vault,
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
        commands::backup_kernel_passphrase,
        commands::list_kernels,
        commands::verify_kernel,
        commands::restore_kernel,
        commands::generate_key,
        commands::read_settings,
        commands::save_settings,
    ])
}

/// Decide which vault the UI opens at start: `env_vault` (`HUSK_VAULT`) if set, else the last
/// vault remembered in `config_dir`, where the vaults the user opens are remembered from now on
/// (`None`: nothing is remembered). Nothing is opened here: the UI asks for it
/// (`open_startup_vault`), so a large vault never holds up the first window.
pub fn prepare<R: Runtime>(
    app: &tauri::AppHandle<R>,
    env_vault: Option<std::ffi::OsString>,
    config_dir: Option<std::path::PathBuf>,
) {
    use tauri::Manager;
    let env_vault = env_vault.filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    app.state::<AppState>().prepare(config_dir.as_deref().map(Recall::in_dir), env_vault);
}
