//! The vault through the CLI: init, search (Chinese and English), the watcher with each editor
//! save pattern, crash and corruption recovery, overrides, every export format, the ledger,
//! trace, colleague import, and each CLI error case. Real temp vaults, a real SQLite file and
//! real file events; no timing assertions (deadlines only guard against hangs).

use crate::util::*;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEPLOY: &str = "---\ndescription: How the team ships the billing service\n---\n# Deploy runbook\n\n\
Always drain the payment queue before restarting the billing workers, or the retries double charge customers.\n\n\
## Steps\n\n- Build the release artifact with the standard pipeline\n- Ask Wang Lei in the ops channel before touching the ledger database\n- 发布流程需要先在预发环境验证\n";

/// A vault with `n` generated notes (plus the deploy runbook and a Chinese note).
fn make_vault(n: usize) -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let v = d.path().join("vault");
    fs::create_dir_all(v.join("ops")).unwrap();
    fs::write(v.join("ops/deploy.md"), DEPLOY).unwrap();
    fs::write(v.join("数据库.md"), "# 数据库迁移\n\n迁移之前必须先做全量备份，否则回滚会丢数据。\n").unwrap();
    for i in 0..n {
        let dir = v.join(format!("gen/{:02}", i % 50));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join(format!("note-{i}.md")),
            format!("# Note {i}\n\nGeneric text number {i} about services, queues and reviews.\n\n- item alpha {i}\n- item beta\n"),
        )
        .unwrap();
    }
    let o = run(husk().arg("init").arg(&v));
    assert!(o.status.success(), "{}", stderr(&o));
    (d, v)
}

fn in_vault(v: &Path) -> Command {
    let mut c = husk();
    c.current_dir(v);
    c
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(o.status.success(), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Runs, expects exit 1 and exactly one line on stderr, returns it.
fn fails(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert_eq!(o.status.code(), Some(1), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "one clear line expected: {e}");
    e
}

fn search_paths(v: &Path, q: &str) -> Vec<String> {
    let out = ok(in_vault(v).args(["search", q, "--json"]));
    let hits: serde_json::Value = serde_json::from_str(&out).unwrap();
    hits.as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap().to_string()).collect()
}

fn ledger(v: &Path) -> Vec<serde_json::Value> {
    let out = ok(in_vault(v).args(["ledger", "--json"]));
    serde_json::from_str::<serde_json::Value>(&out).unwrap().as_array().unwrap().clone()
}

/// Parse a SKILL.md front matter into (name, description).
fn front_matter(skill: &str) -> (String, String) {
    let rest = skill.strip_prefix("---\n").expect("front matter");
    let end = rest.find("\n---\n").expect("front matter end");
    let mut name = String::new();
    let mut desc = String::new();
    for line in rest[..end].lines() {
        if let Some(v) = line.strip_prefix("name: ") {
            name = v.to_string();
        } else if let Some(v) = line.strip_prefix("description: ") {
            desc = if v.starts_with('"') { serde_json::from_str(v).unwrap() } else { v.to_string() };
        }
    }
    (name, desc)
}

fn assert_skill_name(name: &str) {
    assert!(!name.is_empty() && name.len() <= 64, "{name}");
    assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{name}");
    assert!(!name.starts_with('-') && !name.ends_with('-') && !name.contains("--"), "{name}");
}

#[test]
fn vault_init_indexes_existing_notes_and_status_reports_them() {
    let (_d, v) = make_vault(20);
    assert!(v.join(".husk/config.toml").is_file());
    assert!(v.join(".husk/index.db").is_file());
    let out = ok(in_vault(&v.join("ops")).args(["status", "--json"]));
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["notes"], 22);
    assert_eq!(s["index"]["state"], "ok");
    assert_eq!(s["never_exported"], 22);
    assert_eq!(s["unclassified"], 0);
    assert!(s["blocks"].as_u64().unwrap() >= 22 * 3, "blocks are classified and stored: {s}");
    let text = ok(in_vault(&v).arg("status"));
    assert!(text.contains("integrity ok"), "{text}");
}

#[test]
fn vault_discovery_uses_flag_env_and_parent_folders() {
    let (d, v) = make_vault(0);
    let elsewhere = d.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    assert_eq!(search_paths(&v.join("ops"), "billing"), vec!["ops/deploy.md"]);
    let o = ok(husk().current_dir(&elsewhere).arg("--vault").arg(&v).args(["search", "billing"]));
    assert!(o.contains("ops/deploy.md:"), "{o}");
    let o = ok(husk().current_dir(&elsewhere).env("HUSK_VAULT", &v).args(["search", "billing"]));
    assert!(o.contains("ops/deploy.md:"), "{o}");
}

#[test]
fn vault_search_finds_chinese_and_english_terms() {
    let (_d, v) = make_vault(200);
    assert_eq!(search_paths(&v, "payment queue"), vec!["ops/deploy.md"]);
    assert_eq!(search_paths(&v, "预发环境"), vec!["ops/deploy.md"]);
    // Two-character Chinese terms are below the trigram size and still found.
    assert_eq!(search_paths(&v, "备份"), vec!["数据库.md"]);
    assert_eq!(search_paths(&v, "发布"), vec!["ops/deploy.md"]);
    // Mixed queries: every term must match.
    assert_eq!(search_paths(&v, "预发环境 发布 Wang"), vec!["ops/deploy.md"]);
    assert!(search_paths(&v, "预发环境 备份").is_empty());
    assert_eq!(search_paths(&v, "丢"), vec!["数据库.md"], "one character still works");
    let out = ok(in_vault(&v).args(["search", "全量备份", "--json"]));
    let hits: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(hits[0]["line"], 3);
    assert!(hits[0]["snippet"].as_str().unwrap().contains("全量备份"));
    let many = search_paths(&v, "alpha");
    assert_eq!(many.len(), 20, "the default limit applies");
    // Ranked: the note that is mostly about the term comes first.
    fs::write(v.join("rb1.md"), "# Rollback\n\nrollback rollback rollback steps.\n").unwrap();
    fs::write(v.join("rb2.md"), "# Other\n\nA long note about many unrelated things, which mentions rollback once among a great many other words here.\n").unwrap();
    assert_eq!(search_paths(&v, "rollback"), vec!["rb1.md", "rb2.md"]);
    fs::write(v.join("rb3.md"), "# 回滚\n\n回滚 回滚 回滚\n").unwrap();
    assert_eq!(search_paths(&v, "回滚"), vec!["rb3.md", "数据库.md"]);
    assert!(search_paths(&v, "nonexistentword").is_empty());
}

#[test]
fn vault_commands_outside_a_vault_say_so() {
    let d = tempdir();
    for args in [vec!["status"], vec!["search", "x"], vec!["ledger"], vec!["mark", "a.md:1", "keep"]] {
        let e = fails(husk().current_dir(d.path()).args(&args));
        assert!(e.contains("not inside a Husk vault"), "{e}");
    }
    let e = fails(husk().current_dir(d.path()).arg("--vault").arg(d.path()).arg("status"));
    assert!(e.contains("is not a Husk vault"), "{e}");
}

fn spawn_watch(v: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = in_vault(v)
        .args(["watch", "--debounce-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("watch starts");
    assert!(line.starts_with("watching"), "{line}");
    (child, rx)
}

/// Wait (up to a generous deadline that only guards against hangs) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for: {what}");
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let st = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn vault_watch_follows_each_editor_save_pattern_in_a_2000_note_vault() {
    let (_d, v) = make_vault(2000);
    let (mut child, rx) = spawn_watch(&v);
    let note = v.join("gen/07/note-7.md");

    // 1. Truncate and write in place.
    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&note)
        .unwrap()
        .write_all(b"# Note 7\n\ntruncwritetoken here\n")
        .unwrap();
    eventually("truncate-and-write indexed", || {
        search_paths(&v, "truncwritetoken") == vec!["gen/07/note-7.md"]
    });

    // 2. Atomic replace: write a temp file beside it, fsync, rename over the note.
    let tmp = v.join("gen/07/.note-7.md.tmp123");
    fs::write(&tmp, "# Note 7\n\natomicreplacetoken here\n").unwrap();
    fs::rename(&tmp, &note).unwrap();
    eventually("atomic replace indexed", || {
        search_paths(&v, "atomicreplacetoken") == vec!["gen/07/note-7.md"]
    });
    assert!(search_paths(&v, "truncwritetoken").is_empty());

    // 3. Write-then-rename (vim style): move the original to a backup, write anew, drop the backup.
    let backup = v.join("gen/07/note-7.md~");
    fs::rename(&note, &backup).unwrap();
    fs::write(&note, "# Note 7\n\nwritethenrenametoken here\n").unwrap();
    fs::remove_file(&backup).unwrap();
    eventually("write-then-rename indexed", || {
        search_paths(&v, "writethenrenametoken") == vec!["gen/07/note-7.md"]
    });

    // 4. A new note, a rename and a delete.
    fs::write(v.join("fresh.md"), "# Fresh\n\nfreshnotetoken\n").unwrap();
    eventually("new note indexed", || search_paths(&v, "freshnotetoken") == vec!["fresh.md"]);
    fs::rename(v.join("fresh.md"), v.join("ops/renamed.md")).unwrap();
    eventually("rename followed", || search_paths(&v, "freshnotetoken") == vec!["ops/renamed.md"]);
    fs::remove_file(v.join("ops/renamed.md")).unwrap();
    eventually("delete followed", || search_paths(&v, "freshnotetoken").is_empty());

    // 5. A whole folder moved out of the vault, and one moved in.
    let outside = v.parent().unwrap().join("moved-out");
    fs::rename(v.join("gen/03"), &outside).unwrap();
    eventually("folder removal followed", || search_paths(&v, "alpha 1003").is_empty());
    fs::write(outside.join("note-3.md"), "# Back\n\nfoldermovedintoken\n").unwrap();
    fs::rename(&outside, v.join("back")).unwrap();
    eventually("folder move-in followed", || {
        search_paths(&v, "foldermovedintoken") == vec!["back/note-3.md"]
    });
    assert_eq!(search_paths(&v, "alpha 1003"), vec!["back/note-1003.md"]);

    let st = interrupt(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(st.success(), "watch exits 0 on Ctrl-C: {st:?}: {err}");
    let lines: Vec<String> = rx.try_iter().collect();
    assert_eq!(lines.last().map(String::as_str), Some("stopped"), "{lines:?}");
    let s: serde_json::Value = serde_json::from_str(&ok(in_vault(&v).args(["status", "--json"]))).unwrap();
    assert_eq!(s["notes"], 2002, "2,000 generated notes plus two; the folder moved out came back");
}

#[test]
fn vault_kill_9_during_indexing_leaves_a_consistent_index() {
    let d = tempdir();
    let v = d.path().join("vault");
    for i in 0..6000 {
        let dir = v.join(format!("n/{:03}", i % 100));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join(format!("{i}.md")),
            format!("# N{i}\n\nbody {i} with some words to index and classify.\n"),
        )
        .unwrap();
    }
    fs::create_dir_all(v.join(".husk")).unwrap();
    for delay in [40u64, 500, 2000] {
        let _ = fs::remove_file(v.join(".husk/index.db"));
        let mut child =
            husk().arg("init").arg(&v).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
        let _ = child.wait();
        {
            let c = rusqlite::Connection::open(v.join(".husk/index.db")).unwrap();
            let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok");
        }
        let s: serde_json::Value =
            serde_json::from_str(&ok(in_vault(&v).args(["status", "--json"]))).unwrap();
        assert_eq!(s["notes"], 6000, "the next start completes the index");
    }
}

#[test]
fn vault_corrupt_index_is_rebuilt_keeping_overrides_and_ledger() {
    let (d, v) = make_vault(10);
    ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "hollow"]));
    let out = d.path().join("out");
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "medium", "--format", "markdown", "--to"])
        .arg(&out));
    let overrides_before = fs::read(v.join(".husk/overrides.json")).unwrap();
    let ledger_before = ledger(&v);
    // Scribble over the index.
    let db = v.join(".husk/index.db");
    let mut bytes = fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(4096) {
        *b = 0x5a;
    }
    fs::write(&db, bytes).unwrap();
    let _ = fs::remove_file(v.join(".husk/index.db-wal"));
    let o = run(in_vault(&v).args(["status", "--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("index was rebuilt"), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["index"]["state"], "rebuilt");
    assert_eq!(s["notes"], 12);
    assert_eq!(s["overrides"], 1);
    assert_eq!(s["exports"], 1);
    assert_eq!(fs::read(v.join(".husk/overrides.json")).unwrap(), overrides_before);
    assert_eq!(ledger(&v), ledger_before);
    assert_eq!(search_paths(&v, "billing"), vec!["ops/deploy.md"]);
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c.query_row("SELECT count(*) FROM overrides", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "the index mirrors the overrides again");
}

#[test]
fn vault_mark_finds_the_block_at_a_line_and_auto_removes_it() {
    let (_d, v) = make_vault(0);
    let o = ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "private"]));
    assert!(o.contains("1 block(s) set to private"), "{o}");
    let f: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join(".husk/overrides.json")).unwrap()).unwrap();
    assert_eq!(f["notes"]["ops/deploy.md"].as_object().unwrap().len(), 1);
    // The same block from a sub folder, by a path relative to it.
    ok(in_vault(&v.join("ops")).args(["mark", "deploy.md:6", "auto"]));
    let f: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join(".husk/overrides.json")).unwrap()).unwrap();
    assert!(f["notes"].as_object().unwrap().is_empty());
    let e = fails(in_vault(&v).args(["mark", "ops/deploy.md:4", "keep"]));
    assert!(e.contains("no block at line 4"), "{e}");
    let e = fails(in_vault(&v).args(["mark", "ops/nope.md:4", "keep"]));
    assert!(e.contains("unknown note"), "{e}");
    let o = run(in_vault(&v).args(["mark", "ops/deploy.md:6", "maybe"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn vault_export_skill_is_a_valid_agent_skills_folder() {
    let (d, v) = make_vault(3);
    let to = d.path().join("exports/deploy-runbook");
    ok(in_vault(&v)
        .args([
            "export",
            "ops/deploy.md",
            "gen/00/note-0.md",
            "--level",
            "medium",
            "--format",
            "skill",
            "--to",
        ])
        .arg(&to));
    let skill = fs::read_to_string(to.join("SKILL.md")).unwrap();
    let (name, desc) = front_matter(&skill);
    assert_skill_name(&name);
    assert_eq!(name, "deploy-runbook", "name equals the folder name");
    assert!(!desc.is_empty() && desc.chars().count() <= 1024);
    assert!(!desc.contains('<') && !desc.contains('>'));
    assert!(skill.contains("# Deploy runbook"), "headings are skeleton");
    assert!(to.join("references/note-0.md").is_file());
    assert!(skill.contains("(references/note-0.md)"));
    // A folder name that is not a valid skill name is refused with a suggestion.
    let e = fails(
        in_vault(&v)
            .args(["export", "ops/deploy.md", "--level", "light", "--format", "skill", "--to"])
            .arg(d.path().join("Deploy Runbook")),
    );
    assert!(e.contains("deploy-runbook"), "{e}");
}

#[test]
fn vault_export_colleague_has_the_colleague_skill_layout() {
    let (d, v) = make_vault(0);
    let src = d.path().join("src/colleagues/zhangsan");
    fs::create_dir_all(src.join("versions/v1")).unwrap();
    fs::write(src.join("work.md"), "# Work\n\n## Systems\n\n- Owns the billing pipeline and its alerts\n")
        .unwrap();
    fs::write(
        src.join("persona.md"),
        "# Persona\n\n## Layer 0\n\n- Answers briefly and asks for data first\n",
    )
    .unwrap();
    fs::write(src.join("SKILL.md"), "---\nname: zhangsan\ndescription: Zhang San\n---\n\n# Zhang San\n")
        .unwrap();
    fs::write(src.join("versions/v1/work.md"), "# Work v1\n\nOlder notes.\n").unwrap();
    let meta = serde_json::json!({"name": "张三", "slug": "zhangsan", "version": "v2", "impression": "Very direct, distrusts dashboards",
        "tags": {"personality": ["direct"], "culture": ["data-first"]}, "knowledge_sources": ["billing wiki"], "profile": {"role": "SRE", "company": "ACME Pay"}});
    fs::write(src.join("meta.json"), serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let o = ok(in_vault(&v).args(["import", "colleague"]).arg(d.path().join("src")));
    assert!(o.contains("imported 1 colleague(s): 5 note(s) written"), "{o}");
    assert!(v.join("colleagues/zhangsan/meta.md").is_file());
    assert!(v.join("colleagues/zhangsan/versions/v1/work.md").is_file());
    assert_eq!(search_paths(&v, "distrusts dashboards"), vec!["colleagues/zhangsan/meta.md"]);

    let to = d.path().join("out/zhangsan");
    let notes =
        ["colleagues/zhangsan/work.md", "colleagues/zhangsan/persona.md", "colleagues/zhangsan/meta.md"];
    ok(in_vault(&v)
        .arg("export")
        .args(notes)
        .args(["--level", "heavy", "--format", "colleague", "--to"])
        .arg(&to));
    for f in ["SKILL.md", "work.md", "persona.md", "meta.json"] {
        assert!(to.join(f).is_file(), "{f}");
    }
    let (name, desc) = front_matter(&fs::read_to_string(to.join("SKILL.md")).unwrap());
    assert_skill_name(&name);
    assert!(!desc.is_empty());
    let m: serde_json::Value = serde_json::from_slice(&fs::read(to.join("meta.json")).unwrap()).unwrap();
    assert_eq!(m["slug"], "zhangsan");
    assert_eq!(m["version"], "v2");
    // Content fields are sanitized, not copied: at heavy the persona fields are emptied.
    assert_eq!(m["impression"], "");
    assert_eq!(m["tags"]["personality"], serde_json::json!([]));
    assert_eq!(m["knowledge_sources"], serde_json::json!([]));
    assert_eq!(m["profile"]["company"], "the company");
    assert!(!fs::read_to_string(to.join("meta.json")).unwrap().contains("billing wiki"));
    assert!(fs::read_to_string(to.join("work.md")).unwrap().contains("## Systems"));
    // Importing again is harmless; a different note in the way is refused.
    ok(in_vault(&v).args(["import", "colleague"]).arg(&src));
    fs::write(v.join("colleagues/zhangsan/work.md"), "# Changed\n").unwrap();
    let e = fails(in_vault(&v).args(["import", "colleague"]).arg(&src));
    assert!(e.contains("already exists"), "{e}");
}

#[test]
fn vault_import_reads_the_current_skills_colleague_layout() {
    let (d, v) = make_vault(0);
    let src = d.path().join("repo/skills/colleague/li-si");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("work.md"), "# Work\n\nlisiworktoken\n").unwrap();
    fs::write(src.join("meta.json"), "{\"name\": \"Li Si\"}").unwrap();
    ok(in_vault(&v).args(["import", "colleague"]).arg(d.path().join("repo")));
    assert_eq!(search_paths(&v, "lisiworktoken"), vec!["colleagues/li-si/work.md"]);
}

#[test]
fn vault_export_markdown_mirrors_the_selected_folder() {
    let (d, v) = make_vault(3);
    let to = d.path().join("mirror");
    ok(in_vault(&v)
        .args(["export", "gen", "ops", "--level", "light", "--format", "markdown", "--to"])
        .arg(&to));
    assert!(to.join("ops/deploy.md").is_file());
    assert!(to.join("gen/02/note-2.md").is_file());
    assert!(!to.join("数据库.md").exists());
    let e = &ledger(&v)[0];
    assert_eq!(e["notes"].as_array().unwrap().len(), 4);
    assert_eq!(e["files"].as_array().unwrap().len(), 4);
    for f in e["files"].as_array().unwrap() {
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn vault_ledger_records_terms_and_verify_passes_then_fails_after_one_byte() {
    let (d, v) = make_vault(0);
    let to = d.path().join("out/deploy");
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "medium", "--format", "skill", "--to"])
        .arg(&to)
        .args([
            "--recipient",
            "ACME Corp",
            "--scope",
            "internal training",
            "--until",
            "2027-06-30",
            "--manner",
            "read only",
        ]));
    let e = &ledger(&v)[0];
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(e["recipient"], "ACME Corp");
    assert_eq!(e["scope"], "internal training");
    assert_eq!(e["until"], "2027-06-30");
    assert_eq!(e["manner"], "read only");
    assert_eq!(e["level"], "medium");
    assert_eq!(e["format"], "skill");
    assert!(e["withheld"].is_array());
    let show = ok(in_vault(&v).args(["ledger", "show", &id]));
    assert!(show.contains("ACME Corp") && show.contains("SKILL.md"), "{show}");
    let listing = ok(in_vault(&v).arg("ledger"));
    assert!(listing.contains(&id));
    let o = ok(in_vault(&v).args(["ledger", "verify", &id]).arg(&to));
    assert!(o.starts_with("ok:"), "{o}");
    let skill = to.join("SKILL.md");
    let mut bytes = fs::read(&skill).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    fs::write(&skill, bytes).unwrap();
    let o = run(in_vault(&v).args(["ledger", "verify", &id]).arg(&to));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("changed  SKILL.md"), "{}", stdout(&o));
    assert!(stderr(&o).contains("does not match"), "{}", stderr(&o));
    let e = fails(in_vault(&v).args(["ledger", "show", "nope"]));
    assert!(e.contains("unknown export"), "{e}");
}

#[test]
fn vault_trace_finds_the_right_export_in_a_lightly_edited_copy() {
    let (d, v) = make_vault(5);
    fs::write(
        v.join("ops/incident.md"),
        "# Incident review\n\nWhen the checkout latency alarm fires at night, page the database on-call first and freeze every schema migration until the replica lag drops under five seconds.\n",
    )
    .unwrap();
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "light", "--format", "markdown", "--to"])
        .arg(d.path().join("a")));
    ok(in_vault(&v)
        .args(["export", "ops/incident.md", "--level", "light", "--format", "markdown", "--to"])
        .arg(d.path().join("b")));
    let ids: Vec<String> = ledger(&v).iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    let copy = fs::read_to_string(d.path().join("b/ops/incident.md"))
        .unwrap()
        .replace("at night", "overnight")
        .replace("five", "5");
    let suspect = d.path().join("suspect.md");
    fs::write(&suspect, format!("Some agent output.\n\n{copy}\nThanks!\n")).unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&ok(in_vault(&v).arg("trace").arg(&suspect).arg("--json"))).unwrap();
    let exports = r["exports"].as_array().unwrap();
    assert!(!exports.is_empty(), "{r}");
    assert_eq!(exports[0]["id"], ids[1].as_str(), "{r}");
    assert!(exports.iter().all(|e| e["id"] != ids[0].as_str()), "{r}");
    assert_eq!(r["withheld_shows"], false, "a copy of the husk shows nothing withheld: {r}");
    let text = ok(in_vault(&v).arg("trace").arg(&suspect));
    assert!(text.contains(&ids[1]), "{text}");
    // A lightly edited copy of the note itself: the note is found, and if the export withheld
    // any of it, trace says that withheld knowledge shows.
    let original = fs::read_to_string(v.join("ops/incident.md")).unwrap().replace("at night", "overnight");
    let leaked = d.path().join("leaked.md");
    fs::write(&leaked, format!("From a chat log:\n\n{original}")).unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&ok(in_vault(&v).arg("trace").arg(&leaked).arg("--json"))).unwrap();
    assert_eq!(r["notes"][0]["path"], "ops/incident.md", "{r}");
    assert!(
        !ledger(&v)[1]["withheld"].as_array().unwrap().is_empty(),
        "the incident rule is hollowed at every level"
    );
    assert_eq!(r["withheld_shows"], true, "{r}");
    assert_eq!(r["withheld"][0]["category"], "incident", "{r}");
    let unrelated = d.path().join("unrelated.md");
    fs::write(&unrelated, "A recipe for tomato soup with basil and a little cream, simmered slowly.\n")
        .unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&ok(in_vault(&v).arg("trace").arg(&unrelated).arg("--json"))).unwrap();
    assert!(r["exports"].as_array().unwrap().is_empty());
    assert_eq!(r["withheld_shows"], false);
}

#[test]
fn vault_private_note_is_never_exported() {
    let (d, v) = make_vault(0);
    fs::write(v.join("secret.md"), "---\nhusk: private\n---\n# Secret\n\nThe real margin is 42 percent.\n")
        .unwrap();
    let to = d.path().join("out");
    let e = fails(
        in_vault(&v)
            .args([
                "export",
                "secret.md",
                "ops/deploy.md",
                "--level",
                "light",
                "--format",
                "markdown",
                "--to",
            ])
            .arg(&to),
    );
    assert!(e.contains("secret.md") && e.contains("private"), "{e}");
    assert!(!to.exists());
    assert!(ledger(&v).is_empty());
}

#[test]
fn vault_export_errors_are_one_line_and_change_nothing() {
    let (d, v) = make_vault(0);
    let exp = |to: &Path| {
        let mut c = in_vault(&v);
        c.args(["export", "ops/deploy.md", "--level", "medium", "--format", "markdown", "--to"]).arg(to);
        c
    };
    // Into the vault (directly, and through a path that climbs back in).
    let e = fails(&mut exp(&v.join("exports")));
    assert!(e.contains("inside"), "{e}");
    assert!(!v.join("exports").exists());
    let e = fails(&mut exp(&d.path().join("x/../vault/ops/out")));
    assert!(e.contains("inside"), "{e}");
    // A folder that contains the vault.
    let e = fails(exp(d.path()).arg("--force"));
    assert!(e.contains("inside") || e.contains("vault"), "{e}");
    assert!(v.join("ops/deploy.md").is_file());
    // Over an existing export without --force, then with it.
    let to = d.path().join("out");
    ok(&mut exp(&to));
    fs::write(to.join("stray.txt"), "x").unwrap();
    let e = fails(&mut exp(&to));
    assert!(e.contains("--force"), "{e}");
    assert!(to.join("stray.txt").exists());
    ok(exp(&to).arg("--force"));
    assert!(to.join("ops/deploy.md").is_file() && !to.join("stray.txt").exists());
    // --force never replaces a folder that is not an earlier export.
    let mine = d.path().join("mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("keep.txt"), "mine").unwrap();
    let e = fails(exp(&mine).arg("--force"));
    assert!(e.contains("not an earlier Husk export"), "{e}");
    assert_eq!(fs::read_to_string(mine.join("keep.txt")).unwrap(), "mine");
    let before = ledger(&v).len();
    // Invalid dates.
    for bad in ["2027-02-30", "tomorrow", "2027/01/01"] {
        let target = d.path().join("dated");
        let e = fails(exp(&target).args(["--until", bad]));
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        assert!(!target.exists());
    }
    // An unknown note.
    let e = fails(
        in_vault(&v)
            .args(["export", "ops/missing.md", "--level", "light", "--format", "markdown", "--to"])
            .arg(d.path().join("u")),
    );
    assert!(e.contains("unknown note"), "{e}");
    // A note that is not UTF-8.
    fs::write(v.join("latin1.md"), b"# Caf\xe9\n\nna\xefve\n").unwrap();
    let e = fails(
        in_vault(&v)
            .args(["export", "latin1.md", "--level", "light", "--format", "markdown", "--to"])
            .arg(d.path().join("l")),
    );
    assert!(e.contains("not valid UTF-8"), "{e}");
    assert!(!d.path().join("l").exists());
    // Unknown level and format.
    fails(
        in_vault(&v)
            .args(["export", "ops/deploy.md", "--level", "extreme", "--format", "markdown", "--to"])
            .arg(d.path().join("z")),
    );
    fails(
        in_vault(&v)
            .args(["export", "ops/deploy.md", "--level", "light", "--format", "pdf", "--to"])
            .arg(d.path().join("z")),
    );
    assert_eq!(ledger(&v).len(), before, "no failed export reached the ledger");
    // A non-UTF-8 note does not stop the index; search reports it skipped.
    let o = run(in_vault(&v).args(["search", "billing"]));
    assert!(o.status.success());
    assert!(stderr(&o).contains("latin1.md"), "{}", stderr(&o));
}

#[test]
fn vault_unreadable_inputs_are_one_line_errors() {
    let (d, v) = make_vault(0);
    let e = fails(in_vault(&v).arg("trace").arg(d.path().join("missing.md")));
    assert!(e.contains("cannot read"), "{e}");
    let e = fails(in_vault(&v).arg("trace").arg(&v));
    assert!(e.contains("folder"), "{e}");
    let e = fails(in_vault(&v).args(["import", "colleague"]).arg(d.path().join("nothing-here")));
    assert!(e.contains("not a folder"), "{e}");
    let empty = d.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let e = fails(in_vault(&v).args(["import", "colleague"]).arg(&empty));
    assert!(e.contains("no colleague-skill folder"), "{e}");
    let e = fails(in_vault(&v).args(["ledger", "verify", "nope"]).arg(d.path()));
    assert!(e.contains("unknown export"), "{e}");
}

#[test]
fn vault_status_lists_notes_changed_since_their_last_export() {
    let (d, v) = make_vault(2);
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "light", "--format", "markdown", "--to"])
        .arg(d.path().join("o")));
    let s: serde_json::Value = serde_json::from_str(&ok(in_vault(&v).args(["status", "--json"]))).unwrap();
    assert!(s["changed_since_export"].as_array().unwrap().is_empty());
    assert_eq!(s["never_exported"], 3);
    fs::write(v.join("ops/deploy.md"), format!("{DEPLOY}\n- One more step\n")).unwrap();
    let s: serde_json::Value = serde_json::from_str(&ok(in_vault(&v).args(["status", "--json"]))).unwrap();
    assert_eq!(s["changed_since_export"], serde_json::json!(["ops/deploy.md"]));
}

#[test]
fn vault_classify_shows_the_effective_action_after_mark() {
    let (_d, v) = make_vault(0);
    let rows = |v: &Path| -> Vec<serde_json::Value> {
        let out = ok(in_vault(&v.join("ops")).args(["classify", "deploy.md", "--json"]));
        serde_json::from_str::<serde_json::Value>(&out).unwrap().as_array().unwrap().clone()
    };
    let line6 = |rows: &[serde_json::Value]| {
        rows.iter().find(|r| r["line"] == 6).cloned().expect("a block on line 6")
    };
    assert!(line6(&rows(&v))["forced"].is_null());
    ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "private"]));
    let r = line6(&rows(&v));
    assert_eq!(r["forced"], "private");
    assert_eq!(r["actions"], serde_json::json!(["withhold", "withhold", "withhold"]));
    // The index's blocks table follows the override too.
    let c = rusqlite::Connection::open(v.join(".husk/index.db")).unwrap();
    let (forced, light): (String, String) = c
        .query_row("SELECT b.forced, b.light FROM blocks b JOIN notes n ON n.id = b.note_id WHERE n.path = 'ops/deploy.md' AND b.line = 6", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((forced.as_str(), light.as_str()), ("private", "withhold"));
    // Outside the vault the same file has no overrides.
    let copy = tempdir();
    fs::copy(v.join("ops/deploy.md"), copy.path().join("deploy.md")).unwrap();
    let out = ok(husk().current_dir(copy.path()).args(["classify", "deploy.md", "--json"]));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert!(line6(&rows)["forced"].is_null());
}

#[test]
fn vault_trace_reports_withheld_knowledge_that_shows() {
    let (d, v) = make_vault(0);
    ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "private"]));
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "light", "--format", "markdown", "--to"])
        .arg(d.path().join("o")));
    let e = &ledger(&v)[0];
    let w =
        e["withheld"].as_array().unwrap().iter().find(|w| w["line"] == 6).expect("line 6 withheld").clone();
    assert_eq!(w["action"], "withhold");
    assert!(
        !serde_json::to_string(e).unwrap().contains("double charge"),
        "the ledger holds no withheld text"
    );
    let husk_text = fs::read_to_string(d.path().join("o/ops/deploy.md")).unwrap();
    assert!(!husk_text.contains("double charge"));
    let leaked = d.path().join("leaked.md");
    fs::write(&leaked, "Tip from a colleague: always drain the payment queue before restarting the billing workers, otherwise the retries double charge customers.\n").unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&ok(in_vault(&v).arg("trace").arg(&leaked).arg("--json"))).unwrap();
    assert_eq!(r["withheld_shows"], true, "{r}");
    assert_eq!(r["withheld"][0]["note"], "ops/deploy.md");
    assert_eq!(r["withheld"][0]["line"], 6);
    let text = ok(in_vault(&v).arg("trace").arg(&leaked));
    assert!(text.contains("WITHHELD KNOWLEDGE SHOWS"), "{text}");
    // The husk itself does not show it.
    let r: serde_json::Value = serde_json::from_str(&ok(in_vault(&v)
        .arg("trace")
        .arg(d.path().join("o/ops/deploy.md"))
        .arg("--json")))
    .unwrap();
    assert_eq!(r["withheld_shows"], false, "{r}");
}

#[test]
fn vault_damage_inside_the_index_is_found_by_status_and_rebuilt() {
    let (d, v) = make_vault(300);
    ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "keep"]));
    ok(in_vault(&v)
        .args(["export", "ops/deploy.md", "--level", "heavy", "--format", "markdown", "--to"])
        .arg(d.path().join("o")));
    let db = v.join(".husk/index.db");
    // Checkpoint the WAL into the main file so the damage lands on live pages.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    }
    let mut bytes = fs::read(&db).unwrap();
    assert!(bytes.len() > 64 * 1024, "a 300-note index spans many pages");
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 16 * 1024] {
        *b = 0xa5;
    }
    fs::write(&db, bytes).unwrap();
    let o = run(in_vault(&v).args(["status", "--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("index was rebuilt"), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["index"]["state"], "rebuilt");
    assert_eq!(
        (s["notes"].as_u64(), s["overrides"].as_u64(), s["exports"].as_u64()),
        (Some(302), Some(1), Some(1))
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    assert_eq!(search_paths(&v, "预发环境"), vec!["ops/deploy.md"]);
}

#[test]
fn vault_damaged_overrides_file_is_never_overwritten() {
    let (_d, v) = make_vault(0);
    ok(in_vault(&v).args(["mark", "ops/deploy.md:6", "keep"]));
    let path = v.join(".husk/overrides.json");
    fs::write(&path, "{\"version\": 1, \"notes\": {").unwrap();
    for args in [vec!["search", "billing"], vec!["mark", "ops/deploy.md:6", "hollow"], vec!["status"]] {
        let e = fails(in_vault(&v).args(&args));
        assert!(e.contains("overrides.json") && e.contains("kernel"), "{e}");
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\"version\": 1, \"notes\": {");
}

#[test]
fn vault_watch_writes_an_automatic_kernel_after_changes_settle() {
    let (d, v) = make_vault(3);
    let key = d.path().join("key.txt");
    let recipient = ok(husk().arg("keygen").arg("--output").arg(&key)).trim().to_string();
    let kernels = d.path().join("kernels");
    let cfg = fs::read_to_string(v.join(".husk/config.toml")).unwrap_or_default();
    fs::write(
        v.join(".husk/config.toml"),
        format!("{cfg}\n[kernel]\nrecipients = [\"{recipient}\"]\ndir = \"{}\"\nidentity = \"{}\"\ndebounce_secs = 1\n", kernels.display(), key.display()),
    )
    .unwrap();
    let (mut child, rx) = spawn_watch(&v);
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("kernel status line");
    assert!(line.starts_with("automatic kernels: 1 s"), "{line}");
    // Nothing changed yet: no kernel.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!kernels.exists() || fs::read_dir(&kernels).unwrap().next().is_none());

    fs::write(v.join("ops/deploy.md"), "# Deploy\n\nautokerneltoken: roll back first.\n").unwrap();
    let kernel_files = || -> Vec<PathBuf> {
        // Final names only: a kernel in progress is a `.husk-tmp-…` file until it is verified.
        fs::read_dir(&kernels)
            .map(|r| {
                r.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().is_some_and(|n| {
                            n.to_string_lossy().starts_with("husk-") && n.to_string_lossy().ends_with(".age")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while kernel_files().len() != 1 {
        if Instant::now() > deadline {
            interrupt(&mut child);
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            let out: Vec<String> = rx.try_iter().collect();
            panic!("no automatic kernel; stdout: {out:?}; stderr: {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let k = kernel_files().remove(0);
    let o = run(husk().arg("verify").arg(&k).arg("--identity").arg(&key));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(interrupt(&mut child).success());
}
