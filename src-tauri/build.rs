//! Puts Husk's own commands behind Tauri's permission system: each command gets an
//! `allow-<name>` permission, and `capabilities/main-window.json` grants exactly these to the
//! main window. The list must match `commands::` and the `generate_handler!` in `app.rs`.

const COMMANDS: &[&str] = &[
    "current_vault",
    "open_vault",
    "create_vault",
    "open_startup_vault",
    "list_notes",
    "vault_status",
    "search_notes",
    "watch_vault",
    "read_note",
    "save_note",
    "classify_text",
    "set_override",
    "preview_husk",
    "export_husk",
    "list_ledger",
    "verify_ledger",
    "backup_kernel",
    "backup_kernel_passphrase",
    "list_kernels",
    "verify_kernel",
    "restore_kernel",
    "generate_key",
    "read_settings",
    "save_settings",
];

fn main() {
    let attrs =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}
