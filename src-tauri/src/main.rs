//! `husk-desktop`: Husk in a window. A thin Tauri 2 shell over husk-core; the screens live in
//! `ui/` and reach the backend only through `ui/js/api.js` and the commands in [`commands`].
//!
//! `HUSK_VAULT` (if set) is opened at start, so `scripts/run.sh` can launch on the demo vault.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod commands;
mod error;
mod input;
mod settings;
#[cfg(test)]
mod tests;

fn main() {
    let context = tauri::generate_context!();
    let result = app::builder(tauri::Builder::default())
        .setup(|app| {
            app::open_from_env(app.handle());
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("husk-desktop: cannot start: {e}");
        std::process::exit(1);
    }
}
