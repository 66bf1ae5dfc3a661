//! End-to-end tests: the real `husk-desktop` binary in a real WebKitGTK window, driven through
//! `tauri-driver` + `WebKitWebDriver` under a private Xvfb display, with `fantoccini`.
//!
//! Each test gets a fresh temporary copy of `assets/demo-vault`, a fresh data dir (so language
//! choices don't leak between tests), its own Xvfb display and driver ports, and saves a PNG of
//! its key screen under `target/e2e-shots/`. Tests run one at a time (2-core machines).
//! When Xvfb, tauri-driver or WebKitWebDriver is missing the tests fail if `CI` is set, and
//! otherwise skip with a message saying what to install (`scripts/test.sh` installs them).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One app at a time: the tests share two cores. (An async mutex: it is held across awaits.)
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The app under test: the debug binary cargo built, or `HUSK_E2E_APP` (e.g. a release build,
/// to measure launch time).
fn app() -> String {
    std::env::var("HUSK_E2E_APP").unwrap_or_else(|_| env!("CARGO_BIN_EXE_husk-desktop").to_string())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn shots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("e2e-shots");
    std::fs::create_dir_all(&d).expect("shots dir");
    d
}

fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

struct Tools {
    xvfb: PathBuf,
    driver: PathBuf,
    native: PathBuf,
}

/// The tools, or `None` after printing why the test is skipped. Under `CI` a missing tool fails.
fn tools() -> Option<Tools> {
    let found = (which("Xvfb"), which("tauri-driver"), which("WebKitWebDriver"));
    match found {
        (Some(xvfb), Some(driver), Some(native)) => Some(Tools { xvfb, driver, native }),
        (x, d, n) => {
            let mut missing = Vec::new();
            if x.is_none() {
                missing.push("Xvfb (apt: xvfb)");
            }
            if d.is_none() {
                missing.push("tauri-driver (cargo install tauri-driver --version ^2 --locked)");
            }
            if n.is_none() {
                missing.push("WebKitWebDriver (apt: webkit2gtk-driver)");
            }
            let msg =
                format!("end-to-end tools missing: {}; scripts/test.sh installs them", missing.join(", "));
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn free_display() -> u32 {
    let base = 90 + (std::process::id() % 50);
    (base..base + 1000).find(|n| !display_in_use(*n)).expect("a free X display number")
}

/// A display is taken while the X server named in its lock file runs (a lock left by a killed
/// server is stale: Xvfb replaces it), or, without a lock, while its socket exists.
fn display_in_use(n: u32) -> bool {
    match std::fs::read_to_string(format!("/tmp/.X{n}-lock")) {
        Ok(s) => s.trim().parse::<u32>().map_or(true, |pid| Path::new(&format!("/proc/{pid}")).exists()),
        Err(_) => Path::new(&format!("/tmp/.X11-unix/X{n}")).exists(),
    }
}

/// Children of `pid`, from /proc (to stop WebKitWebDriver before tauri-driver).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else { return out };
    for e in rd.flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn kill_pid(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).stderr(Stdio::null()).status();
}

fn kill_tree(pid: u32) {
    for c in children_of(pid) {
        kill_tree(c);
    }
    kill_pid(pid);
}

/// The processes behind one session; stopped in order on drop, whatever happened.
struct Procs {
    driver: Option<Child>,
    xvfb: Option<Child>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            // WebKitWebDriver (and the app under it) first, or port 4445-style ports stay taken.
            for c in children_of(d.id()) {
                kill_tree(c);
            }
            let _ = d.kill();
            let _ = d.wait();
        }
        if let Some(mut x) = self.xvfb.take() {
            // SIGTERM first: Xvfb then removes its lock file and socket; SIGKILL after a grace.
            kill_pid(x.id());
            let t0 = Instant::now();
            while x.try_wait().ok().flatten().is_none() && t0.elapsed() < Duration::from_secs(3) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = x.kill();
            let _ = x.wait();
        }
    }
}

/// One running app, with a temp vault and data dir.
struct Session {
    client: Client,
    vault: tempfile::TempDir,
    data: tempfile::TempDir,
    procs: Procs,
    display: u32,
    port: u16,
    pub launch: Duration,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read demo vault").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t)
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// Start Xvfb, tauri-driver and the app. `open_vault`: pass the temp vault in `HUSK_VAULT`.
async fn launch(t: &Tools, open_vault: bool) -> Session {
    let vault = tempfile::Builder::new().prefix("husk-e2e-vault-").tempdir().expect("temp vault");
    copy_dir(&repo().join("assets/demo-vault"), vault.path());
    let data = tempfile::Builder::new().prefix("husk-e2e-data-").tempdir().expect("temp data");

    let display = free_display();
    let xvfb = Command::new(&t.xvfb)
        .args([
            format!(":{display}"),
            "-screen".into(),
            "0".into(),
            "1280x800x24".into(),
            "-nolisten".into(),
            "tcp".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Xvfb");
    let mut procs = Procs { driver: None, xvfb: Some(xvfb) };
    let sock = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
    let t0 = Instant::now();
    while !sock.exists() {
        assert!(t0.elapsed() < Duration::from_secs(30), "Xvfb did not start on :{display}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let (port, native_port) = (free_port(), free_port());
    let mut cmd = Command::new(&t.driver);
    cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string(), "--native-driver"])
        .arg(&t.native)
        .env("DISPLAY", format!(":{display}"))
        .env("XDG_DATA_HOME", data.path().join("share"))
        .env("XDG_CONFIG_HOME", data.path().join("config"))
        .env("XDG_CACHE_HOME", data.path().join("cache"))
        .env("LANG", "en_US.UTF-8")
        .env("LANGUAGE", "en")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if open_vault {
        cmd.env("HUSK_VAULT", vault.path());
    } else {
        cmd.env_remove("HUSK_VAULT");
    }
    procs.driver = Some(cmd.spawn().expect("start tauri-driver"));
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(30), "tauri-driver did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let started = Instant::now();
    let client = connect(port).await;
    let mut s = Session { client, vault, data, procs, display, port, launch: Duration::ZERO };
    s.wait_js("document.body && document.body.dataset.ready === 'true'", "the UI to become ready").await;
    s.launch = started.elapsed();
    eprintln!("launch to first interactive screen: {} ms", s.launch.as_millis());
    s
}

/// A new WebDriver session: tauri-driver starts the app (with the driver's environment). Right
/// after an earlier session closed, tauri-driver may forward on a connection WebKitWebDriver has
/// just dropped, so a failed attempt is retried a few times.
async fn connect(port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({ "application": app() }));
    let mut attempt = 0;
    loop {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if attempt < 4 => {
                attempt += 1;
                eprintln!("WebDriver session, attempt {attempt}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("WebDriver session: {e}"),
        }
    }
}

impl Session {
    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("execute script")
    }

    /// Wait until the JS expression is truthy (up to 45 s: generous for a loaded CI machine; a
    /// passing condition returns at once).
    async fn wait_js(&self, expr: &str, what: &str) {
        let t0 = Instant::now();
        loop {
            let v = self.client.execute(&format!("return !!({expr});"), vec![]).await;
            if matches!(v, Ok(Value::Bool(true))) {
                return;
            }
            if t0.elapsed() > Duration::from_secs(45) {
                self.shot("timeout").await;
                panic!("timed out waiting for {what} ({expr})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click #{id}: {e}"));
    }

    async fn type_into(&self, id: &str, text: &str) {
        let el = self.client.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// The element's text content (WebKitWebDriver's rendered-text call is unreliable for
    /// ellipsized elements, so read the DOM).
    async fn text(&self, css: &str) -> String {
        let v = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await
            .expect("read text");
        v.as_str().unwrap_or_else(|| panic!("no element {css}")).trim().to_string()
    }

    /// Save a PNG of the whole screen under target/e2e-shots/.
    async fn shot(&self, name: &str) {
        let path = shots_dir().join(format!("{name}.png"));
        // Let the page paint the current state first (two animation frames).
        let _ = self.client.execute_async("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![]).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        match self.client.screenshot().await {
            Ok(png) => std::fs::write(&path, png).expect("write screenshot"),
            Err(_) => {
                let _ = Command::new("import")
                    .args(["-display", &format!(":{}", self.display), "-window", "root"])
                    .arg(&path)
                    .status();
            }
        }
    }

    async fn open_note(&self, path: &str) {
        self.click("nav-vault").await;
        let css = format!("#note-list .note-item[data-path=\"{path}\"]");
        self.wait_js(&format!("document.querySelector('{css}')"), "the note in the tree").await;
        self.client.find(Locator::Css(&css)).await.expect("note item").click().await.expect("open note");
        self.wait_js("!document.getElementById('screen-note').hidden && document.querySelectorAll('#note-preview .blk').length > 0", "tinted blocks").await;
    }

    /// Quit the app and start it again (same config and data folders, same display).
    async fn relaunch(&mut self) {
        let _ = self.client.clone().close().await;
        self.client = connect(self.port).await;
        self.wait_js(
            "document.body && document.body.dataset.ready === 'true'",
            "the UI to become ready again",
        )
        .await;
    }

    /// The app's config folder (XDG_CONFIG_HOME points into the test's data dir, never at the
    /// real user's).
    fn config_dir(&self) -> PathBuf {
        self.data.path().join("config/app.husk.desktop")
    }

    async fn finish(self) {
        let Session { client, procs, vault, .. } = self;
        let _ = client.close().await;
        drop(procs);
        drop(vault);
    }
}

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// 1. Open the vault, find a note by a Chinese search term, open it, see its blocks tinted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_1_chinese_search_opens_a_tinted_note() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, false).await;
    // No vault yet: the chooser is shown. Open the temp vault by typing its path.
    s.wait_js("!document.getElementById('vault-welcome').hidden", "the vault chooser").await;
    s.type_into("vault-path", &s.vault.path().display().to_string()).await;
    s.click("vault-open").await;
    s.wait_js("document.querySelectorAll('#note-list .note-item').length === 5", "five notes in the tree")
        .await;

    s.type_into("search-input", "积压").await;
    s.wait_js("!document.getElementById('search-results').hidden && document.querySelectorAll('#search-results .note-item').length === 1", "one search hit").await;
    let hit = s.client.find(Locator::Css("#search-results .note-item")).await.expect("hit");
    assert_eq!(hit.attr("data-path").await.expect("attr").as_deref(), Some("skills/线上故障排查.md"));
    hit.click().await.expect("open hit");

    s.wait_js("!document.getElementById('screen-note').hidden && document.querySelectorAll('#note-preview .blk').length > 0", "tinted blocks").await;
    assert_eq!(s.text("#note-title").await, "线上故障排查");
    let cats = s.js("return [...new Set([...document.querySelectorAll('#note-preview .blk')].map(b => b.dataset.category))];").await;
    let cats: Vec<&str> = cats.as_array().expect("array").iter().filter_map(|c| c.as_str()).collect();
    assert!(
        cats.iter().any(|c| *c != "shareable"),
        "a runbook with gotchas has high-value blocks, got {cats:?}"
    );
    // Tinted means a visible background colour on a non-shareable block.
    let bg = s.js("const b=[...document.querySelectorAll('#note-preview .blk')].find(b=>b.dataset.category!=='shareable'); return getComputedStyle(b).backgroundColor;").await;
    assert_ne!(bg, json!("rgba(0, 0, 0, 0)"), "blocks are tinted");
    s.shot("1-note-tinted").await;

    // A note written by another program shows up in the tree (watcher events).
    std::fs::write(s.vault.path().join("外部笔记.md"), "# 外部笔记\n\n从别的编辑器写入。\n")
        .expect("external note");
    s.click("nav-vault").await;
    s.client.find(Locator::Id("search-input")).await.expect("search").clear().await.expect("clear search");
    s.js("document.getElementById('search-input').dispatchEvent(new Event('input')); return true;").await;
    s.wait_js(
        "document.querySelector('#note-list .note-item[data-path=\"外部笔记.md\"]')",
        "the external note in the tree",
    )
    .await;
    s.finish().await;
}

/// 2. Mark a block private and see it disappear from the husk preview at every level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_2_private_block_leaves_the_husk_at_every_level() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    s.open_note("skills/payment-reconcile/SKILL.md").await;
    const PHRASE: &str = "minor currency units";

    // Before: at light level the block is shareable and kept, so the phrase is in the husk.
    s.click("nav-husk").await;
    s.click("level-light").await;
    s.wait_js("document.getElementById('husk-gate').textContent !== '–'", "the light husk").await;
    let before = s.js("return [...document.querySelectorAll('#husk-grid .cell.husk')].map(c => c.textContent).join('\\n');").await;
    assert!(
        before.as_str().expect("text").contains(PHRASE),
        "control: the shareable step is kept at light level"
    );

    // Mark it private in the note inspector.
    s.click("nav-note").await;
    let found = s.js(&format!("const b=[...document.querySelectorAll('#note-preview .blk')].find(b=>b.textContent.includes('{PHRASE}')); if(!b) return false; b.click(); return true;")).await;
    assert_eq!(found, json!(true), "the block with the phrase is in the preview");
    s.wait_js("!document.getElementById('inspector-body').hidden", "the inspector").await;
    s.click("ovr-private").await;
    s.wait_js(&format!("[...document.querySelectorAll('#note-preview .blk.forced-private')].some(b=>b.textContent.includes('{PHRASE}'))"), "the block marked private").await;
    assert!(
        s.text("#insp-actions").await.contains("Private")
            || s.text("#insp-actions").await.contains("private")
    );
    s.shot("2-block-private").await;

    for level in ["light", "medium", "heavy"] {
        s.click("nav-husk").await;
        s.click(&format!("level-{level}")).await;
        s.wait_js(&format!("document.getElementById('level-{level}').classList.contains('on') && document.getElementById('husk-gate').textContent !== '–'"), "the husk").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let husk = s.js("return [...document.querySelectorAll('#husk-grid .cell.husk')].map(c => c.textContent).join('\\n');").await;
        let husk = husk.as_str().expect("text");
        assert!(!husk.is_empty(), "{level}: the husk is shown");
        assert!(!husk.contains(PHRASE), "{level}: the private block must not appear in the husk");
        if level == "medium" {
            s.shot("2-husk-medium").await;
        }
    }
    s.finish().await;
}

/// 5. Switch the language and see the UI in the other language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_5_language_switch() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    assert_eq!(s.text("#nav-vault span[data-i18n]").await, "Vault", "follows the English system locale");
    s.client
        .find(Locator::Id("lang-select"))
        .await
        .expect("lang select")
        .select_by_value("zh")
        .await
        .expect("choose zh");
    s.wait_js("document.documentElement.lang === 'zh-CN'", "Chinese").await;
    assert_eq!(s.text("#nav-vault span[data-i18n]").await, "笔记库");
    assert_eq!(s.text("#nav-kernel span[data-i18n]").await, "内核备份");
    let ph = s.js("return document.getElementById('search-input').placeholder;").await;
    assert_eq!(ph, json!("搜索笔记（Ctrl+F）"));
    // Dynamic text follows too: the note count line.
    assert!(s.text("#list-count").await.contains("篇笔记"));
    s.open_note("skills/payment-reconcile/SKILL.md").await;
    assert_eq!(s.text("#legend .legend-item:first-child").await, "踩坑经验");
    s.shot("5-chinese-ui").await;
    s.client
        .find(Locator::Id("lang-select"))
        .await
        .expect("lang select")
        .select_by_value("en")
        .await
        .expect("choose en");
    s.wait_js("document.documentElement.lang === 'en'", "English").await;
    assert_eq!(s.text("#nav-vault span[data-i18n]").await, "Vault");
    s.finish().await;
}

/// 3. Export as `skill`: the folder on disk, the ledger entry, and valid SKILL.md front matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_3_export_skill_and_ledger() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    let out_root = tempfile::Builder::new().prefix("husk-e2e-out-").tempdir().expect("out dir");
    let target = out_root.path().join("payment-reconcile");
    s.open_note("skills/payment-reconcile/SKILL.md").await;

    s.click("nav-export").await;
    // The open note is preselected.
    let checked =
        s.js("return [...document.querySelectorAll('#export-notes input:checked')].map(i => i.value);").await;
    assert_eq!(checked, json!(["skills/payment-reconcile/SKILL.md"]));
    s.click("export-next").await;
    s.client
        .find(Locator::Id("export-format"))
        .await
        .expect("format")
        .select_by_value("skill")
        .await
        .expect("skill");
    s.client
        .find(Locator::Id("export-level"))
        .await
        .expect("level")
        .select_by_value("medium")
        .await
        .expect("medium");
    s.click("export-next").await;
    // Step 3 refuses to go on without a recipient.
    s.click("export-next").await;
    assert!(!s.text("#export-error").await.is_empty(), "a recipient is required");
    s.type_into("export-recipient", "ACME Payments").await;
    s.type_into("export-scope", "internal support agents").await;
    s.js("document.getElementById('export-until').value = '2027-06-30'; return true;").await;
    s.type_into("export-manner", "read-only, no redistribution").await;
    s.shot("3-export-terms").await;
    s.click("export-next").await;
    s.type_into("export-to", &target.display().to_string()).await;
    s.click("export-run").await;
    s.wait_js("!document.querySelector('.step[data-step=\"5\"]').hidden", "the export summary").await;
    let id = s.js("return document.querySelector('[data-testid=export-ledger-id]').dataset.id;").await;
    let id = id.as_str().expect("ledger id").to_string();
    assert!(s.text("#export-summary").await.contains("SKILL.md"));
    s.shot("3-export-summary").await;

    // On disk: SKILL.md with valid front matter whose name is the folder's name.
    let skill = std::fs::read_to_string(target.join("SKILL.md")).expect("SKILL.md written");
    let fm = skill
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .map(|(fm, _)| fm)
        .expect("SKILL.md starts with front matter");
    let field = |k: &str| {
        fm.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}:")).map(|v| v.trim().trim_matches('"').to_string()))
    };
    assert_eq!(field("name").as_deref(), Some("payment-reconcile"));
    let desc = field("description").expect("description");
    assert!(!desc.is_empty() && desc.chars().count() <= 1024, "description is 1-1024 chars");
    assert!(skill.contains("# Payment reconciliation"), "headings are kept");
    assert!(!skill.contains("021-5555-0199") && !skill.contains("RX-7"), "the private section never leaves");
    assert!(!skill.contains("husk:private"), "markers never appear in an export");

    // The ledger: on disk and on the Ledger screen, with the agreed terms and file hashes.
    let ledger = std::fs::read_to_string(s.vault.path().join(".husk/ledger.jsonl")).expect("ledger");
    let entry: Value = serde_json::from_str(ledger.lines().last().expect("one entry")).expect("ledger json");
    assert_eq!(entry["id"], json!(id));
    assert_eq!(entry["recipient"], "ACME Payments");
    assert_eq!(entry["until"], "2027-06-30");
    assert_eq!(entry["format"], "skill");
    assert!(entry["files"].as_array().expect("files").iter().any(|f| f["path"] == "SKILL.md"));
    s.click("nav-ledger").await;
    s.wait_js(
        "document.querySelectorAll('#ledger-table [data-testid=ledger-row]').length === 1",
        "the ledger row",
    )
    .await;
    s.client
        .find(Locator::Css("#ledger-table [data-testid=ledger-row] td"))
        .await
        .expect("row")
        .click()
        .await
        .expect("select");
    s.wait_js(
        "document.getElementById('ledger-detail').textContent.includes('ACME Payments')",
        "the entry's details",
    )
    .await;
    s.type_into("ledger-verify-dir", &target.display().to_string()).await;
    s.click("ledger-verify").await;
    s.wait_js(
        "document.getElementById('ledger-verify-result').classList.contains('ok')",
        "the folder verified",
    )
    .await;
    s.shot("3-ledger").await;
    s.finish().await;
}

/// Through the UI: generate a key, use it for backups, set the backup folder, back up now.
/// Records every value the progress bar shows. Returns (kernel path, key path, bar values).
async fn make_kernel(s: &Session, work: &Path) -> (PathBuf, PathBuf, Vec<u64>) {
    let key = work.join("identity.txt");
    s.click("nav-kernel").await;
    s.type_into("keygen-output", &key.display().to_string()).await;
    s.click("keygen-run").await;
    assert!(
        s.text("#keygen-result").await.contains("Tick the box"),
        "keygen needs the acknowledgement first"
    );
    assert!(!key.exists());
    s.click("keygen-ack").await;
    s.click("keygen-run").await;
    s.wait_js("document.querySelector('[data-testid=keygen-recipient]')", "the new recipient").await;
    assert!(s.text("[data-testid=keygen-recipient]").await.starts_with("age1"));
    assert!(key.is_file());
    s.click("keygen-use").await;
    s.wait_js("!document.getElementById('keygen-use')", "the key saved in settings").await;

    s.click("nav-settings").await;
    s.wait_js("document.getElementById('settings-identity').value !== ''", "the settings loaded").await;
    s.type_into("settings-backup-dir", &work.join("kernels").display().to_string()).await;
    s.click("settings-save").await;
    s.wait_js("document.getElementById('settings-status').textContent !== ''", "settings saved").await;
    s.shot("4-settings").await;

    s.click("nav-kernel").await;
    s.js("window.__bar = []; new MutationObserver(() => window.__bar.push(Number(document.getElementById('kernel-progress').dataset.value))).observe(document.getElementById('kernel-progress'), { attributes: true, attributeFilter: ['data-value'] }); return true;").await;
    s.click("kernel-backup").await;
    s.wait_js(
        "document.getElementById('kernel-backup-result').classList.contains('ok')",
        "a verified kernel",
    )
    .await;
    let path = s.js("return document.getElementById('kernel-backup-result').dataset.path;").await;
    let bar = s.js("return window.__bar;").await;
    let bar: Vec<u64> = bar.as_array().expect("bar values").iter().filter_map(|v| v.as_u64()).collect();
    (PathBuf::from(path.as_str().expect("kernel path")), key, bar)
}

fn md_files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            md_files(&p, base, out)
        } else {
            out.push(p.strip_prefix(base).expect("rel").to_path_buf());
        }
    }
}

/// 4. Make a kernel with a generated key (the progress bar reaches 100%), then restore it into a
/// new folder through the wizard; the files are byte-identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_4_backup_and_restore_through_the_wizard() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    let work = tempfile::Builder::new().prefix("husk-e2e-kernel-").tempdir().expect("work dir");
    let (kernel, key, bar) = make_kernel(&s, work.path()).await;
    assert!(kernel.is_file() && kernel.starts_with(work.path().join("kernels")));
    assert_eq!(bar.last(), Some(&100), "the bar ends at 100%: {bar:?}");
    assert!(bar.iter().any(|v| *v > 0 && *v < 100), "the bar showed progress on the way: {bar:?}");
    assert!(bar.windows(2).all(|w| w[0] <= w[1]), "the bar never moves back: {bar:?}");
    s.wait_js("document.querySelectorAll('[data-testid=kernel-row]').length === 1", "the kernel in the list")
        .await;
    assert_eq!(s.text("[data-testid=kernel-row] td:last-child").await, "yes", "listed as verified");
    s.shot("4-kernel-backup").await;

    // Restore wizard: pick the kernel from the list, the identity file, a new folder.
    s.client
        .find(Locator::Css("[data-testid=kernel-row] td"))
        .await
        .expect("kernel row")
        .click()
        .await
        .expect("pick kernel");
    assert_eq!(
        s.js("return document.getElementById('restore-kernel').value;").await,
        json!(kernel.display().to_string())
    );
    s.type_into("restore-identity", &key.display().to_string()).await;
    let target = work.path().join("restored vault");
    s.type_into("restore-to", &target.display().to_string()).await;
    s.click("restore-run").await;
    s.wait_js("document.getElementById('restore-result').classList.contains('ok')", "the restore result")
        .await;
    assert_eq!(s.js("return document.getElementById('restore-progress').dataset.value;").await, json!("100"));
    s.shot("4-kernel-restored").await;

    let mut files = Vec::new();
    md_files(s.vault.path(), s.vault.path(), &mut files);
    assert!(files.len() >= 5);
    for f in &files {
        let a = std::fs::read(s.vault.path().join(f)).expect("original");
        let b = std::fs::read(target.join(f)).unwrap_or_else(|_| panic!("{} restored", f.display()));
        assert!(a == b, "{} is byte-identical", f.display());
    }
    s.finish().await;
}

/// 6. A wrong key during restore shows a clear error, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_6_wrong_key_restores_nothing() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    let work = tempfile::Builder::new().prefix("husk-e2e-wrongkey-").tempdir().expect("work dir");
    let (kernel, _key, _) = make_kernel(&s, work.path()).await;
    // A second, unrelated key.
    let other = work.path().join("other-identity.txt");
    s.type_into("keygen-output", &other.display().to_string()).await;
    s.click("keygen-run").await;
    s.wait_js(
        "document.querySelector('[data-testid=keygen-recipient]') && document.getElementById('keygen-use')",
        "the second key",
    )
    .await;
    assert!(other.is_file());

    s.type_into("restore-kernel", &kernel.display().to_string()).await;
    s.type_into("restore-identity", &other.display().to_string()).await;
    let target = work.path().join("must-not-exist");
    s.type_into("restore-to", &target.display().to_string()).await;
    s.click("restore-run").await;
    s.wait_js("document.getElementById('restore-result').classList.contains('bad')", "the error").await;
    let msg = s.text("#restore-result").await;
    assert!(
        msg.contains("does not open the kernel") && msg.contains("Nothing was written"),
        "clear error: {msg}"
    );
    assert!(!target.exists(), "nothing written at the target");
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .expect("work")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(leftovers.iter().all(|n| !n.contains("must-not-exist")), "no staging folder left: {leftovers:?}");
    assert_eq!(s.js("return document.getElementById('restore-progress').dataset.value;").await, json!("0"));
    s.shot("6-wrong-key").await;
    s.finish().await;
}

/// Every screen works at the smallest supported size, 1024×700: nothing overflows the window
/// horizontally and each screen's main controls are on screen. Keyboard shortcuts switch level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_7_smallest_window_and_shortcuts() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    s.client.set_window_size(1024, 700).await.expect("resize");
    s.wait_js("window.innerWidth <= 1024 && window.innerHeight <= 700", "the smaller window").await;
    s.open_note("skills/线上故障排查.md").await;
    let checks = [
        ("vault", "search-input"),
        ("note", "note-save"),
        ("husk", "level-heavy"),
        ("export", "export-next"),
        ("ledger", "ledger-verify"),
        ("kernel", "keygen-run"),
        ("settings", "settings-save"),
    ];
    for (screen, control) in checks {
        s.click(&format!("nav-{screen}")).await;
        s.wait_js(&format!("!document.getElementById('screen-{screen}').hidden"), screen).await;
        let fits = s.js(&format!(
            "const r = document.getElementById('{control}').getBoundingClientRect(); \
             return document.documentElement.scrollWidth <= window.innerWidth && r.right <= window.innerWidth && r.bottom <= window.innerHeight && r.width > 0;"
        )).await;
        assert_eq!(fits, json!(true), "{screen}: #{control} is on screen and nothing overflows at 1024x700");
        if matches!(screen, "note" | "husk" | "kernel") {
            s.shot(&format!("7-{screen}-1024x700")).await;
        }
    }
    // Ctrl+3 / Ctrl+1 switch the husk level (and open the husk preview).
    s.click("nav-note").await;
    let editor = s.client.find(Locator::Id("note-editor")).await.expect("editor");
    editor.send_keys("\u{E009}3").await.expect("ctrl+3");
    s.wait_js("!document.getElementById('screen-husk').hidden && document.getElementById('level-heavy').classList.contains('on')", "heavy via Ctrl+3").await;
    s.client
        .find(Locator::Id("level-heavy"))
        .await
        .expect("level")
        .send_keys("\u{E009}1")
        .await
        .expect("ctrl+1");
    s.wait_js("document.getElementById('level-light').classList.contains('on')", "light via Ctrl+1").await;
    s.finish().await;
}

/// 8. The vault opened last time is opened again at the next start, without `HUSK_VAULT`; when it
/// has gone, or is no longer a vault, the chooser shows a one-line notice instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_8_reopens_the_last_vault() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let mut s = launch(&t, false).await;
    let remembered = s.config_dir().join("last-vault.json");
    assert!(!remembered.exists(), "a fresh config folder remembers nothing");
    s.wait_js(
        "!document.getElementById('vault-welcome').hidden && document.getElementById('vault-notice').hidden",
        "the chooser, without a notice",
    )
    .await;
    s.type_into("vault-path", &s.vault.path().display().to_string()).await;
    s.click("vault-open").await;
    s.wait_js("document.querySelectorAll('#note-list .note-item').length === 5", "five notes in the tree")
        .await;
    let stored =
        std::fs::read_to_string(&remembered).expect("the vault is remembered in the app's config folder");
    let root = s.vault.path().canonicalize().expect("vault root");
    assert!(stored.contains(&*root.to_string_lossy()), "{stored}");

    // Next start: straight into the same vault.
    s.relaunch().await;
    s.wait_js("!document.getElementById('vault-view').hidden && document.querySelectorAll('#note-list .note-item').length === 5", "the last vault reopened").await;
    assert!(s.text("#vault-name").await.starts_with("husk-e2e-vault-"), "the sidebar names the vault");
    s.shot("8-reopened").await;

    // No longer a vault: the chooser, with a notice and the path ready to fix.
    std::fs::rename(root.join(".husk"), root.join("husk-state-moved")).expect("move .husk away");
    s.relaunch().await;
    s.wait_js(
        "!document.getElementById('vault-welcome').hidden && !document.getElementById('vault-notice').hidden",
        "the notice",
    )
    .await;
    assert_eq!(
        s.js("return document.getElementById('vault-notice').dataset.code;").await,
        json!("not_a_vault")
    );
    let notice = s.text("#vault-notice").await;
    assert!(
        notice.contains("no longer a Husk vault") && notice.contains(&*root.to_string_lossy()),
        "{notice}"
    );
    assert_eq!(
        s.js("return document.getElementById('vault-path').value;").await,
        json!(root.display().to_string())
    );
    assert_eq!(s.text("#vault-error").await, "", "a notice, not an error");
    assert!(!root.join(".husk").exists(), "nothing was recreated");
    s.shot("8-notice-not-a-vault").await;

    // Gone: the same, in Chinese too.
    std::fs::rename(root.join("husk-state-moved"), root.join(".husk")).expect("move .husk back");
    let moved = root.with_file_name(format!("{}-moved", root.file_name().expect("name").to_string_lossy()));
    std::fs::rename(&root, &moved).expect("move the vault away");
    s.relaunch().await;
    s.wait_js(
        "document.getElementById('vault-notice').dataset.code === 'not_found'",
        "the notice for a vanished vault",
    )
    .await;
    assert!(s.text("#vault-notice").await.contains("is gone"));
    s.client
        .find(Locator::Id("lang-select"))
        .await
        .expect("lang select")
        .select_by_value("zh")
        .await
        .expect("choose zh");
    s.wait_js(
        "document.getElementById('vault-notice').textContent.includes('已不存在')",
        "the notice in Chinese",
    )
    .await;
    s.shot("8-notice-gone-zh").await;

    // Opening it from its new place makes that the remembered vault.
    s.type_into("vault-path", &moved.display().to_string()).await;
    s.click("vault-open").await;
    s.wait_js("!document.getElementById('vault-view').hidden", "the moved vault").await;
    s.relaunch().await;
    s.wait_js("!document.getElementById('vault-view').hidden && document.querySelectorAll('#note-list .note-item').length === 5", "the moved vault reopened").await;
    std::fs::rename(&moved, &root).expect("move back for clean-up");
    s.finish().await;
}

/// 9. A kernel locked with a passphrase typed twice (a mismatch is refused and writes nothing),
/// with the progress bar reaching 100%, then restored through the wizard with that passphrase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_9_passphrase_backup_and_restore() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, true).await;
    let work = tempfile::Builder::new().prefix("husk-e2e-pass-").tempdir().expect("work dir");
    let kernels = work.path().join("kernels");
    // Only a backup folder: no recipients, no identity.
    s.click("nav-settings").await;
    s.wait_js("document.getElementById('settings-retention').value !== ''", "the settings loaded").await;
    s.type_into("settings-backup-dir", &kernels.display().to_string()).await;
    s.click("settings-save").await;
    s.wait_js("document.getElementById('settings-status').textContent !== ''", "settings saved").await;
    assert_eq!(s.text("#settings-error").await, "");

    s.click("nav-kernel").await;
    s.click("backup-mode-pass").await;
    s.wait_js("!document.getElementById('backup-pass-fields').hidden", "the passphrase fields").await;
    s.type_into("backup-passphrase", "plum orchard 42").await;
    s.type_into("backup-passphrase-again", "plum orchard 24").await;
    s.click("kernel-backup").await;
    assert!(s.text("#kernel-backup-result").await.contains("differ"), "a mismatch is refused");
    assert!(!kernels.exists(), "nothing written");

    s.type_into("backup-passphrase", "plum orchard 42").await;
    s.type_into("backup-passphrase-again", "plum orchard 42").await;
    s.js("window.__bar = []; new MutationObserver(() => window.__bar.push(Number(document.getElementById('kernel-progress').dataset.value))).observe(document.getElementById('kernel-progress'), { attributes: true, attributeFilter: ['data-value'] }); return true;").await;
    s.click("kernel-backup").await;
    s.wait_js(
        "document.getElementById('kernel-backup-result').classList.contains('ok')",
        "a kernel verified with the passphrase",
    )
    .await;
    let bar = s.js("return window.__bar;").await;
    let bar: Vec<u64> = bar.as_array().expect("bar values").iter().filter_map(|v| v.as_u64()).collect();
    assert_eq!(bar.last(), Some(&100), "the bar ends at 100%: {bar:?}");
    assert!(bar.windows(2).all(|w| w[0] <= w[1]), "the bar never moves back: {bar:?}");
    assert!(s.text("#kernel-backup-result").await.contains("written and verified"));
    let fields = s.js("return [document.getElementById('backup-passphrase').value, document.getElementById('backup-passphrase-again').value];").await;
    assert_eq!(fields, json!(["", ""]), "the passphrase fields are cleared after use");
    let kernel = PathBuf::from(
        s.js("return document.getElementById('kernel-backup-result').dataset.path;")
            .await
            .as_str()
            .expect("kernel path"),
    );
    assert!(kernel.is_file() && kernel.starts_with(kernels.canonicalize().expect("kernels")));
    assert!(
        std::fs::read(&kernel).expect("kernel").starts_with(b"age-encryption.org/v1\n-> scrypt "),
        "locked with a passphrase"
    );
    s.wait_js("document.querySelectorAll('[data-testid=kernel-row]').length === 1", "the kernel in the list")
        .await;
    s.shot("9-passphrase-backup").await;

    // Restore through the wizard with the passphrase.
    s.client
        .find(Locator::Css("[data-testid=kernel-row] td"))
        .await
        .expect("kernel row")
        .click()
        .await
        .expect("pick kernel");
    s.click("restore-mode-pass").await;
    s.type_into("restore-passphrase", "plum orchard 42").await;
    let target = work.path().join("restored");
    s.type_into("restore-to", &target.display().to_string()).await;
    s.click("restore-run").await;
    s.wait_js("document.getElementById('restore-result').classList.contains('ok')", "the restore result")
        .await;
    let mut files = Vec::new();
    md_files(s.vault.path(), s.vault.path(), &mut files);
    assert!(files.len() >= 5);
    for f in &files {
        assert!(
            std::fs::read(s.vault.path().join(f)).expect("original")
                == std::fs::read(target.join(f)).expect("restored"),
            "{} is byte-identical",
            f.display()
        );
    }
    s.shot("9-passphrase-restored").await;

    // The passphrase form in Chinese at the smallest window size: every control on screen.
    s.client.set_window_size(1024, 700).await.expect("resize");
    s.wait_js("window.innerWidth <= 1024 && window.innerHeight <= 700", "the smaller window").await;
    s.client
        .find(Locator::Id("lang-select"))
        .await
        .expect("lang select")
        .select_by_value("zh")
        .await
        .expect("choose zh");
    s.wait_js("document.documentElement.lang === 'zh-CN'", "Chinese").await;
    s.type_into("backup-passphrase", "x").await;
    s.type_into("backup-passphrase-again", "y").await;
    s.click("kernel-backup").await;
    assert!(s.text("#kernel-backup-result").await.contains("不一致"), "the mismatch, in Chinese");
    let fits = s.js("const r = document.getElementById('kernel-backup').getBoundingClientRect(); return document.documentElement.scrollWidth <= window.innerWidth && r.right <= window.innerWidth && r.bottom <= window.innerHeight;").await;
    assert_eq!(fits, json!(true), "the backup button is on screen at 1024x700");
    s.shot("9-passphrase-zh-1024x700").await;
    s.finish().await;
}

/// A vault of `n` generated notes (the demo notes, each made distinct), never opened before.
fn large_vault(dir: &Path, n: usize) {
    let demo = repo().join("assets/demo-vault");
    let sources: Vec<String> = [
        "skills/线上故障排查.md",
        "skills/payment-reconcile/SKILL.md",
        "colleague/lao-wang/persona.md",
        "colleague/lao-wang/work.md",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(demo.join(p)).expect("demo note"))
    .collect();
    std::fs::create_dir_all(dir.join(".husk")).expect("mkdir");
    for i in 0..n {
        let folder = dir.join(format!("area-{:02}", i % 40));
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(
            folder.join(format!("note-{i:04}.md")),
            format!("{}\n\nNote {i}: keep item {i} in mind.\n", sources[i % sources.len()]),
        )
        .expect("note");
    }
}

/// 10. Opening a large vault for the first time shows what it is doing (indexing, then
/// classifying N notes) with a running bar, keeps the buttons disabled, and moves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_10_opening_a_large_vault_shows_progress() {
    let _g = serial().await;
    let Some(t) = tools() else { return };
    let s = launch(&t, false).await;
    let big = tempfile::Builder::new().prefix("husk-e2e-large-").tempdir().expect("large vault");
    large_vault(big.path(), 2000);
    s.wait_js("!document.getElementById('vault-welcome').hidden", "the vault chooser").await;
    s.type_into("vault-path", &big.path().display().to_string()).await;
    s.js("const rect = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(); };\
          window.__rect = () => ['vault-welcome', 'vault-open', 'vault-progress', 'vault-error'].map(rect).join('|');\
          window.__before = window.__rect(); window.__seen = []; window.__moved = false;\
          new MutationObserver(() => { const t = document.getElementById('vault-error').textContent; if (t && !window.__seen.includes(t)) window.__seen.push(t); if (!document.getElementById('vault-welcome').hidden && window.__rect() !== window.__before) window.__moved = true; })\
            .observe(document.getElementById('vault-welcome'), { subtree: true, childList: true, characterData: true, attributes: true });\
          return true;").await;
    let t0 = Instant::now();
    s.click("vault-open").await;
    s.wait_js(
        "document.getElementById('vault-error').textContent.includes('2000 note(s)')",
        "the classify stage",
    )
    .await;
    assert_eq!(s.js("return document.getElementById('vault-open').disabled && document.getElementById('vault-progress').classList.contains('indeterminate');").await, json!(true), "busy while opening");
    s.shot("10-opening-large-vault").await;
    s.wait_js("document.querySelectorAll('#note-list .note-item').length === 2000", "2000 notes in the tree")
        .await;
    eprintln!("opening a new 2000-note vault through the UI: {} ms", t0.elapsed().as_millis());
    let seen = s.js("return window.__seen;").await;
    let seen: Vec<&str> = seen.as_array().expect("stages").iter().filter_map(|v| v.as_str()).collect();
    assert!(
        seen.iter().any(|t| t.contains("search index"))
            && seen.iter().any(|t| t.contains("Classifying the blocks of 2000 note(s)")),
        "{seen:?}"
    );
    assert_eq!(
        s.js("return window.__moved;").await,
        json!(false),
        "nothing on the chooser moved while opening"
    );
    assert_eq!(s.js("return document.getElementById('vault-open').disabled;").await, json!(false));
    s.finish().await;
}
