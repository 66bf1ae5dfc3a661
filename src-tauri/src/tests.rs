//! Command tests: every command goes through real IPC (the ACL, argument decoding and the
//! `{code, message}` error shape) on Tauri's mock runtime, with the app's real context, so the
//! capability in `capabilities/main-window.json` is enforced exactly as in the shipped app.

use crate::app;
use serde_json::{json, Value};
use std::path::Path;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

type Mock = tauri::test::MockRuntime;

fn app() -> App<Mock> {
    app::builder(mock_builder()).build(tauri::generate_context!()).expect("mock app builds")
}

/// The app as `main` prepares it at start: `HUSK_VAULT` = `env_vault`, the app's config folder
/// = `config` (a temp folder: tests never touch the real user's config).
fn app_started(config: &Path, env_vault: Option<&Path>) -> App<Mock> {
    let app = app();
    app::prepare(app.handle(), env_vault.map(|p| p.as_os_str().to_owned()), Some(config.to_path_buf()));
    app
}

fn window(app: &App<Mock>, label: &str) -> WebviewWindow<Mock> {
    WebviewWindowBuilder::new(app, label, Default::default()).build().expect("mock window")
}

fn invoke(w: &WebviewWindow<Mock>, cmd: &str, args: Value) -> Result<Value, Value> {
    let req = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(w, req).map(|b| b.deserialize::<Value>().expect("json response"))
}

fn code(r: Result<Value, Value>) -> String {
    match r {
        Err(e) => e["code"].as_str().unwrap_or_else(|| panic!("error without a code: {e}")).to_string(),
        Ok(v) => panic!("expected an error, got {v}"),
    }
}

fn demo_vault(dir: &Path) {
    std::fs::create_dir_all(dir.join(".husk")).unwrap();
    std::fs::create_dir_all(dir.join("skills")).unwrap();
    std::fs::write(dir.join("skills/排查.md"), "# 故障排查\n\n回调积压超过 5000 条时必须先扩容。\n").unwrap();
    std::fs::write(dir.join("notes.md"), "# Notes\n\nUse the staging cluster first.\n").unwrap();
}

#[test]
fn vault_commands_round_trip_through_ipc() {
    let tmp = tempfile::tempdir().unwrap();
    demo_vault(tmp.path());
    let app = app();
    let w = window(&app, "main");

    assert_eq!(invoke(&w, "current_vault", json!({})).unwrap(), Value::Null);
    assert_eq!(code(invoke(&w, "list_notes", json!({}))), "no_vault");
    assert_eq!(code(invoke(&w, "watch_vault", json!({ "changes": "__CHANNEL__:1" }))), "no_vault");

    let info = invoke(&w, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" })).unwrap();
    assert_eq!(info["root"], json!(tmp.path()));
    assert_eq!(invoke(&w, "current_vault", json!({})).unwrap()["root"], json!(tmp.path()));

    invoke(&w, "watch_vault", json!({ "changes": "__CHANNEL__:2" })).unwrap();
    let notes = invoke(&w, "list_notes", json!({})).unwrap();
    let paths: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["notes.md", "skills/排查.md"]);
    assert_eq!(notes[1]["title"], "故障排查");

    let hits = invoke(&w, "search_notes", json!({ "query": "积压" })).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["path"], "skills/排查.md");

    let text = invoke(&w, "read_note", json!({ "path": "notes.md" })).unwrap();
    assert!(text.as_str().unwrap().starts_with("# Notes"));
    invoke(&w, "save_note", json!({ "path": "notes.md", "text": "# Notes\n\nchanged\n" })).unwrap();
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes.md")).unwrap(), "# Notes\n\nchanged\n");
    assert!(std::fs::read_dir(tmp.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".husk-tmp")));

    // A path that escapes the vault is refused with a stable code, and nothing is written.
    assert_eq!(code(invoke(&w, "save_note", json!({ "path": "../outside.md", "text": "x" }))), "not_found");
    assert!(!tmp.path().parent().unwrap().join("outside.md").exists());
    assert_eq!(code(invoke(&w, "read_note", json!({ "path": "missing.md" }))), "not_found");
}

#[test]
fn vault_chooser_validates_typed_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app();
    let w = window(&app, "main");
    assert_eq!(
        code(invoke(&w, "open_vault", json!({ "path": "", "progress": "__CHANNEL__:90" }))),
        "invalid_path"
    );
    assert_eq!(
        code(invoke(&w, "open_vault", json!({ "path": "relative/dir", "progress": "__CHANNEL__:90" }))),
        "invalid_path"
    );
    assert_eq!(
        code(invoke(&w, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" }))),
        "not_a_vault"
    );
    let fresh = tmp.path().join("new vault");
    invoke(&w, "create_vault", json!({ "path": fresh, "progress": "__CHANNEL__:90" })).unwrap();
    assert!(fresh.join(".husk").is_dir());
    assert_eq!(invoke(&w, "list_notes", json!({})).unwrap(), json!([]));
}

#[test]
fn note_and_husk_commands() {
    let tmp = tempfile::tempdir().unwrap();
    demo_vault(tmp.path());
    let text = "# T\n\n## Steps\n\n1. Normalise both files to minor currency units.\n2. Never rerun the import after 02:00 or it double-posts refunds; call Zhang Wei.\n";
    std::fs::write(tmp.path().join("notes.md"), text).unwrap();
    let app = app();
    let w = window(&app, "main");
    invoke(&w, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" })).unwrap();
    let blocks = invoke(&w, "classify_text", json!({ "path": "notes.md", "text": text })).unwrap();
    let blocks = blocks.as_array().unwrap();
    assert_eq!(blocks.len(), 2, "two list items: {blocks:?}");
    assert!(blocks.iter().all(|b| b["category"].is_string()
        && b["rule"].is_string()
        && b["actions"].as_array().unwrap().len() == 3));
    let fp = blocks[0]["fingerprint"].as_str().unwrap().to_string();

    // Before the override the shareable step is kept at light level.
    let p =
        invoke(&w, "preview_husk", json!({ "path": "notes.md", "text": text, "level": "light" })).unwrap();
    assert!(p["husk"].as_str().unwrap().contains("minor currency units"));
    invoke(&w, "set_override", json!({ "path": "notes.md", "fingerprint": fp, "choice": "private" }))
        .unwrap();
    let b = invoke(&w, "classify_text", json!({ "path": "notes.md", "text": text })).unwrap();
    assert_eq!(b[0]["forced"], "private");
    for level in ["light", "medium", "heavy"] {
        let p =
            invoke(&w, "preview_husk", json!({ "path": "notes.md", "text": text, "level": level })).unwrap();
        assert_eq!(p["level"], level);
        assert_eq!(p["gate"]["passed"], true);
        let husk = p["husk"].as_str().unwrap();
        assert!(husk.contains("## Steps"), "headings are never hollowed");
        assert!(!husk.contains("minor currency units"), "{level}: the private block is gone");
    }
    invoke(&w, "set_override", json!({ "path": "notes.md", "fingerprint": fp, "choice": "auto" })).unwrap();
    assert_eq!(
        invoke(&w, "classify_text", json!({ "path": "notes.md", "text": text })).unwrap()[0]["forced"],
        Value::Null
    );
    assert_eq!(
        code(invoke(&w, "set_override", json!({ "path": "notes.md", "fingerprint": fp, "choice": "maybe" }))),
        "invalid_input"
    );
    assert_eq!(
        code(invoke(&w, "set_override", json!({ "path": "gone.md", "fingerprint": fp, "choice": "keep" }))),
        "not_found"
    );

    let private = "---\nhusk: private\n---\n# T\n\nx\n";
    assert_eq!(
        code(invoke(&w, "preview_husk", json!({ "path": "notes.md", "text": private, "level": "light" }))),
        "private_note"
    );
    assert!(
        invoke(&w, "preview_husk", json!({ "path": "notes.md", "text": text, "level": "extreme" })).is_err()
    );
}

#[test]
fn settings_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    demo_vault(tmp.path());
    let app = app();
    let w = window(&app, "main");
    assert_eq!(code(invoke(&w, "read_settings", json!({}))), "no_vault");
    invoke(&w, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" })).unwrap();
    let defaults = invoke(&w, "read_settings", json!({})).unwrap();
    assert_eq!(defaults["recipients"], json!([]));
    let r = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let s = json!({ "backup_dir": "/tmp/kernels", "recipients": [r], "identity": "/tmp/key.txt", "keep_last": 5 });
    invoke(&w, "save_settings", json!({ "settings": s })).unwrap();
    assert_eq!(invoke(&w, "read_settings", json!({})).unwrap(), s);
    let cfg = std::fs::read_to_string(tmp.path().join(".husk/config.toml")).unwrap();
    assert!(cfg.contains("[kernel]") && cfg.contains(r), "stored in the [kernel] table");
    let bad = json!({ "backup_dir": "kernels", "recipients": [], "identity": "", "keep_last": 1 });
    assert_eq!(code(invoke(&w, "save_settings", json!({ "settings": bad }))), "invalid_path");
    let bad = json!({ "backup_dir": "", "recipients": ["not-a-recipient"], "identity": "", "keep_last": 1 });
    assert_eq!(code(invoke(&w, "save_settings", json!({ "settings": bad }))), "invalid_input");
    assert_eq!(invoke(&w, "read_settings", json!({})).unwrap(), s, "a refused save changes nothing");
}

#[test]
fn export_and_ledger_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    demo_vault(&vault);
    let app = app();
    let w = window(&app, "main");
    assert_eq!(code(invoke(&w, "list_ledger", json!({}))), "no_vault");
    invoke(&w, "open_vault", json!({ "path": vault, "progress": "__CHANNEL__:90" })).unwrap();
    assert_eq!(invoke(&w, "list_ledger", json!({})).unwrap(), json!([]));
    let out = tmp.path().join("out/triage-notes");
    let req = json!({ "notes": ["skills/排查.md"], "level": "medium", "format": "skill", "to": out,
        "recipient": "ACME", "scope": "internal agents", "until": "2027-01-31", "manner": "read-only" });
    let entry = invoke(&w, "export_husk", json!({ "request": req, "progress": "__CHANNEL__:7" })).unwrap();
    assert_eq!(entry["recipient"], "ACME");
    assert_eq!(entry["notes"], json!(["skills/排查.md"]));
    assert!(out.join("SKILL.md").is_file());
    let ledger = invoke(&w, "list_ledger", json!({})).unwrap();
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    let id = ledger[0]["id"].as_str().unwrap().to_string();
    assert_eq!(invoke(&w, "verify_ledger", json!({ "id": id, "dir": out })).unwrap()["ok"], true);
    std::fs::write(out.join("SKILL.md"), "tampered").unwrap();
    assert_eq!(invoke(&w, "verify_ledger", json!({ "id": id, "dir": out })).unwrap()["ok"], false);
    // Exporting into the vault, or over an existing export, is refused with a stable code.
    let inside = json!({ "notes": ["notes.md"], "level": "heavy", "format": "markdown", "to": vault.join("x"),
        "recipient": "", "scope": "", "until": "", "manner": "" });
    assert_eq!(
        code(invoke(&w, "export_husk", json!({ "request": inside, "progress": "__CHANNEL__:8" }))),
        "invalid_path"
    );
    let again = json!({ "notes": ["skills/排查.md"], "level": "medium", "format": "skill", "to": out,
        "recipient": "", "scope": "", "until": "", "manner": "" });
    assert_eq!(
        code(invoke(&w, "export_husk", json!({ "request": again, "progress": "__CHANNEL__:9" }))),
        "exists"
    );
    assert_eq!(code(invoke(&w, "verify_ledger", json!({ "id": "nope", "dir": out }))), "not_found");
}

#[test]
fn kernel_backup_verify_restore_and_keygen() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    demo_vault(&vault);
    let app = app();
    let w = window(&app, "main");
    invoke(&w, "open_vault", json!({ "path": vault, "progress": "__CHANNEL__:90" })).unwrap();
    assert_eq!(invoke(&w, "list_kernels", json!({})).unwrap(), json!([]), "no backup folder yet");
    assert_eq!(code(invoke(&w, "backup_kernel", json!({ "progress": "__CHANNEL__:1" }))), "no_backup_folder");

    let key = tmp.path().join("key.txt");
    let recipient = invoke(&w, "generate_key", json!({ "output": key })).unwrap();
    assert!(recipient.as_str().unwrap().starts_with("age1"));
    assert_eq!(
        code(invoke(&w, "generate_key", json!({ "output": key }))),
        "exists",
        "never overwrites a key"
    );
    let kernels = tmp.path().join("kernels");
    let s = json!({ "backup_dir": kernels, "recipients": [recipient], "identity": key, "keep_last": 10 });
    invoke(&w, "save_settings", json!({ "settings": s })).unwrap();

    let b = invoke(&w, "backup_kernel", json!({ "progress": "__CHANNEL__:2" })).unwrap();
    assert_eq!(b["verified"], true);
    let path = b["path"].as_str().unwrap().to_string();
    let listed = invoke(&w, "list_kernels", json!({})).unwrap();
    assert_eq!(listed[0]["path"], json!(path));

    let check =
        invoke(&w, "verify_kernel", json!({ "kernel": path, "identity": key, "progress": "__CHANNEL__:3" }))
            .unwrap();
    assert!(check["files"].as_u64().unwrap() >= 2);

    let target = tmp.path().join("restored");
    let r = invoke(
        &w,
        "restore_kernel",
        json!({ "request": { "kernel": path, "to": target, "identity": key }, "progress": "__CHANNEL__:4" }),
    )
    .unwrap();
    assert!(r["files"].as_u64().unwrap() >= 2);
    for note in ["notes.md", "skills/排查.md"] {
        assert_eq!(
            std::fs::read(vault.join(note)).unwrap(),
            std::fs::read(target.join(note)).unwrap(),
            "{note} restored byte for byte"
        );
    }
    // Restoring over a non-empty folder is refused.
    let again = invoke(
        &w,
        "restore_kernel",
        json!({ "request": { "kernel": path, "to": target, "identity": key }, "progress": "__CHANNEL__:5" }),
    );
    assert_eq!(code(again), "exists");

    // A wrong key: one clear error, nothing written.
    let other = tmp.path().join("other.txt");
    invoke(&w, "generate_key", json!({ "output": other })).unwrap();
    let fresh = tmp.path().join("fresh");
    let wrong = invoke(
        &w,
        "restore_kernel",
        json!({ "request": { "kernel": path, "to": fresh, "identity": other }, "progress": "__CHANNEL__:6" }),
    );
    assert_eq!(code(wrong), "wrong_key");
    assert!(!fresh.exists());
    let wrong_pass = invoke(
        &w,
        "verify_kernel",
        json!({ "kernel": path, "passphrase": "not it", "progress": "__CHANNEL__:7" }),
    );
    assert_eq!(code(wrong_pass), "wrong_key");
    let none = invoke(&w, "verify_kernel", json!({ "kernel": path, "progress": "__CHANNEL__:8" }));
    assert_eq!(code(none), "invalid_input", "a key or a passphrase is required");
}

#[test]
fn commands_outside_the_capability_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    demo_vault(tmp.path());
    let app = app();
    let main = window(&app, "main");
    // No fs plugin: a plugin command is refused by the ACL.
    let r = invoke(&main, "plugin:fs|read_text_file", json!({ "path": "/etc/passwd" }));
    let msg = r.expect_err("fs plugin call must be refused");
    assert!(msg.to_string().contains("not"), "{msg}");
    eprintln!("refusals: {msg}");
    // Core commands are not granted either.
    assert!(invoke(
        &main,
        "plugin:event|listen",
        json!({ "event": "x", "target": { "kind": "Any" }, "handler": 0 })
    )
    .is_err());
    // Husk's own commands are granted to the main window only.
    let other = window(&app, "other");
    let refused = invoke(&other, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" }));
    let msg = refused.expect_err("a window outside the capability must be refused");
    assert!(msg.to_string().contains("not allowed"), "{msg}");
    assert!(invoke(&main, "current_vault", json!({})).unwrap().is_null(), "the refused call changed nothing");
    // A command that does not exist is refused.
    assert!(invoke(&main, "delete_everything", json!({})).is_err());
}

/// The keys of a translation table (`'key': 'text'` entries of `ui/js/i18n/<lang>.js`).
fn table_keys(lang: &str) -> std::collections::BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../ui/js/i18n/{lang}.js"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut keys = std::collections::BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find('\'') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('\'') else { break };
        let key = &after[..j];
        let tail = &after[j + 1..];
        if tail.starts_with(':') && key.contains('.') && !key.contains(' ') {
            keys.insert(key.to_string());
        }
        // Skip the value string too.
        rest = match tail.find('\'') {
            Some(k) if tail.starts_with(':') => {
                let v = &tail[k + 1..];
                let mut end = 0;
                let b = v.as_bytes();
                while end < b.len() && !(b[end] == b'\'' && (end == 0 || b[end - 1] != b'\\')) {
                    end += 1;
                }
                &v[(end + 1).min(v.len())..]
            }
            _ => tail,
        };
    }
    keys
}

#[test]
fn every_ui_string_is_in_both_translation_tables() {
    let en = table_keys("en");
    let zh = table_keys("zh");
    assert!(en.len() > 150, "parsed the tables ({} keys)", en.len());
    assert_eq!(en.difference(&zh).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in zh");
    assert_eq!(zh.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in en");
    // Every key the page and the screens use exists.
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let mut sources = vec![std::fs::read_to_string(ui.join("index.html")).unwrap()];
    for e in std::fs::read_dir(ui.join("js/screens")).unwrap() {
        sources.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for src in &sources {
        for marker in ["data-i18n=\"", "data-i18n-placeholder=\"", "t('"] {
            for part in src.split(marker).skip(1) {
                let key: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                if key.contains('.') && !key.ends_with('.') {
                    assert!(en.contains(&key), "{key} is used but not translated");
                }
            }
        }
    }
}

#[test]
fn vault_status_reports_notes_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    demo_vault(tmp.path());
    let app = app();
    let w = window(&app, "main");
    assert_eq!(code(invoke(&w, "vault_status", json!({}))), "no_vault");
    invoke(&w, "open_vault", json!({ "path": tmp.path(), "progress": "__CHANNEL__:90" })).unwrap();
    let s = invoke(&w, "vault_status", json!({})).unwrap();
    assert_eq!(s["notes"], 2);
    assert_eq!(s["exports"], 0);
    assert_eq!(s["never_exported"], 2);
}

#[test]
fn the_last_vault_opened_is_reopened_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, vault, other) =
        (tmp.path().join("config"), tmp.path().join("vault"), tmp.path().join("other"));
    demo_vault(&vault);
    demo_vault(&other);
    let start = |w: &WebviewWindow<Mock>| {
        invoke(w, "open_startup_vault", json!({ "progress": "__CHANNEL__:1" })).unwrap()
    };

    // First start: nothing remembered, so the chooser, without a notice.
    let app1 = app_started(&config, None);
    let w = window(&app1, "main");
    assert_eq!(start(&w), json!({ "vault": null, "notice": null }));
    invoke(&w, "open_vault", json!({ "path": vault, "progress": "__CHANNEL__:2" })).unwrap();
    let stored =
        std::fs::read_to_string(config.join("last-vault.json")).expect("remembered in the config folder");
    assert!(stored.contains(&*vault.canonicalize().unwrap().to_string_lossy()), "{stored}");
    assert!(
        !stored.contains("passphrase") && stored.lines().count() <= 3,
        "a path and nothing else: {stored}"
    );
    let in_vault: Vec<_> = std::fs::read_dir(vault.join(".husk"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!in_vault.iter().any(|n| n.contains("last")), "never written inside a vault: {in_vault:?}");

    // Next start: the same vault opens, once; a reloaded page gets the open vault back.
    let app2 = app_started(&config, None);
    let w = window(&app2, "main");
    let s = start(&w);
    assert_eq!(s["vault"]["root"], json!(vault.canonicalize().unwrap()));
    assert_eq!(s["notice"], Value::Null);
    assert_eq!(invoke(&w, "list_notes", json!({})).unwrap().as_array().unwrap().len(), 2);
    assert_eq!(start(&w)["vault"]["root"], s["vault"]["root"]);

    // HUSK_VAULT wins, and is not remembered in place of the user's choice.
    let app3 = app_started(&config, Some(&other));
    let w = window(&app3, "main");
    assert_eq!(start(&w)["vault"]["root"], json!(other.canonicalize().unwrap()));
    assert_eq!(std::fs::read_to_string(config.join("last-vault.json")).unwrap(), stored);

    // Creating a vault remembers it too.
    let fresh = tmp.path().join("fresh");
    invoke(&w, "create_vault", json!({ "path": fresh, "progress": "__CHANNEL__:3" })).unwrap();
    let app4 = app_started(&config, None);
    assert_eq!(start(&window(&app4, "main"))["vault"]["root"], json!(fresh.canonicalize().unwrap()));
}

#[test]
fn a_last_vault_that_is_gone_or_no_longer_a_vault_gives_a_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, vault) = (tmp.path().join("config"), tmp.path().join("vault"));
    demo_vault(&vault);
    let app = app_started(&config, None);
    invoke(&window(&app, "main"), "open_vault", json!({ "path": vault, "progress": "__CHANNEL__:1" }))
        .unwrap();
    let root = vault.canonicalize().unwrap();

    let notice_at_start = || {
        let app = app_started(&config, None);
        let w = window(&app, "main");
        let s = invoke(&w, "open_startup_vault", json!({ "progress": "__CHANNEL__:2" }))
            .expect("a notice, not an error");
        assert_eq!(s["vault"], Value::Null, "the chooser is shown");
        assert!(invoke(&w, "current_vault", json!({})).unwrap().is_null());
        s["notice"].clone()
    };
    std::fs::remove_dir_all(vault.join(".husk")).unwrap();
    let n = notice_at_start();
    assert_eq!(
        (n["source"].as_str(), n["path"].as_str(), n["error"]["code"].as_str()),
        (Some("last"), root.to_str(), Some("not_a_vault"))
    );
    assert!(!vault.join(".husk").exists(), "a folder that is no longer a vault is left alone");

    std::fs::remove_dir_all(&vault).unwrap();
    let n = notice_at_start();
    assert_eq!(n["error"]["code"], "not_found", "{n}");
    assert!(!vault.exists(), "a vanished vault is not recreated");

    // A bad HUSK_VAULT gives the same kind of notice, naming its source.
    let app = app_started(&config, Some(Path::new("/nonexistent/husk-vault")));
    let s =
        invoke(&window(&app, "main"), "open_startup_vault", json!({ "progress": "__CHANNEL__:3" })).unwrap();
    assert_eq!(
        (s["notice"]["source"].as_str(), s["notice"]["error"]["code"].as_str()),
        (Some("env"), Some("not_found"))
    );

    // A damaged memory file means nothing is remembered.
    std::fs::write(config.join("last-vault.json"), "{ garbled").unwrap();
    let app = app_started(&config, None);
    let s =
        invoke(&window(&app, "main"), "open_startup_vault", json!({ "progress": "__CHANNEL__:4" })).unwrap();
    assert_eq!(s, json!({ "vault": null, "notice": null }));
}

#[test]
fn passphrase_backup_is_verified_with_the_same_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    demo_vault(&vault);
    let app = app();
    let w = window(&app, "main");
    let backup = |pass: &str, confirm: &str| {
        invoke(
            &w,
            "backup_kernel_passphrase",
            json!({ "passphrase": { "passphrase": pass, "confirm": confirm }, "progress": "__CHANNEL__:1" }),
        )
    };
    assert_eq!(code(backup("correct horse", "correct horse")), "no_vault");
    invoke(&w, "open_vault", json!({ "path": vault, "progress": "__CHANNEL__:2" })).unwrap();
    assert_eq!(code(backup("correct horse", "correct horse")), "no_backup_folder");

    // Only a backup folder: no recipients or identity are needed for a passphrase kernel.
    let kernels = tmp.path().join("kernels");
    let s = json!({ "backup_dir": kernels, "recipients": [], "identity": "", "keep_last": 10 });
    invoke(&w, "save_settings", json!({ "settings": s })).unwrap();
    let refused = backup("correct horse", "correct hose");
    let msg = refused.clone().expect_err("differing passphrases are refused").to_string();
    assert_eq!(code(refused), "invalid_input");
    assert!(!msg.contains("horse") && !msg.contains("hose"), "a passphrase never shows in an error: {msg}");
    assert_eq!(code(backup("", "")), "invalid_input");
    assert!(!kernels.exists() || std::fs::read_dir(&kernels).unwrap().next().is_none(), "nothing written");

    let b = backup("correct horse", "correct horse").unwrap();
    assert_eq!(b["verified"], true, "decrypted with the passphrase and every hash checked");
    assert_eq!(b["pruned"], 0);
    let path = b["path"].as_str().unwrap().to_string();
    assert!(Path::new(&path).starts_with(kernels.canonicalize().unwrap()));
    let listed = invoke(&w, "list_kernels", json!({})).unwrap();
    assert_eq!(listed[0]["path"], json!(path));
    assert_eq!(listed[0]["verified"], true, "the list shows the verification recorded at writing");
    let kernel = std::fs::read(&path).unwrap();
    assert!(kernel.starts_with(b"age-encryption.org/v1\n-> scrypt "), "an age passphrase file");

    // The passphrase opens it; the recipients' route and a wrong passphrase do not.
    let wrong = invoke(
        &w,
        "verify_kernel",
        json!({ "kernel": path, "passphrase": "correct hose", "progress": "__CHANNEL__:3" }),
    );
    assert_eq!(code(wrong), "wrong_key");
    let target = tmp.path().join("restored");
    let r = invoke(&w, "restore_kernel", json!({ "request": { "kernel": path, "to": target, "passphrase": "correct horse" }, "progress": "__CHANNEL__:4" })).unwrap();
    assert!(r["files"].as_u64().unwrap() >= 2);
    for note in ["notes.md", "skills/排查.md"] {
        assert_eq!(
            std::fs::read(vault.join(note)).unwrap(),
            std::fs::read(target.join(note)).unwrap(),
            "{note} restored byte for byte"
        );
    }
}
