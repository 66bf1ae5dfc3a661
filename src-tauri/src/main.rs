//! `husk-desktop`: Husk in a window. A thin Tauri 2 shell over husk-core; the screens live in
//! `ui/` and reach the backend only through `ui/js/api.js` and the commands in [`commands`].
//!
//! At start the UI opens `HUSK_VAULT` (if set, so `scripts/run.sh` can launch on the demo vault),
//! else the vault that was open last time, remembered in the app's config folder.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod commands;
mod error;
mod input;
mod recall;
mod settings;
#[cfg(test)]
mod tests;

fn main() {
    let context = tauri::generate_context!();
    let result = app::builder(tauri::Builder::default())
        .setup(|app| {
            use tauri::Manager;
            let config_dir = app.path().app_config_dir().ok();
            app::prepare(app.handle(), std::env::var_os("HUSK_VAULT"), config_dir);
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("husk-desktop: cannot start: {e}");
        std::process::exit(1);
    }
}
