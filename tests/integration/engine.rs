//! The engine through the CLI: `husk sanitize` and `husk classify`, their errors, reports,
//! markers, determinism, line endings, and the golden fixtures (one per category and language).
//!
//! Goldens live in `tests/fixtures/golden/NAME.md` with reviewed husks in
//! `tests/fixtures/golden/expected/NAME.LEVEL.md`. Set `HUSK_BLESS=1` to rewrite them after a
//! deliberate change, then read the diff before committing.

use crate::util::*;
use std::fs;
use std::path::{Path, PathBuf};

fn sanitize(input: &Path, level: &str, out: &Path) -> std::process::Output {
    run(husk().arg("sanitize").arg(input).args(["--level", level, "--output"]).arg(out))
}

/// Assert a failed run: the exit code, one line on stderr containing `needle`, no panic, no output.
fn assert_fails(o: &std::process::Output, code: i32, needle: &str, out: &Path) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    if code == 1 {
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    }
    assert!(!out.exists(), "no output file may be written");
    let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".husk-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn sanitize_writes_a_husk_with_the_same_headings() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "# Title\n\n## Rules\n\n- Never raise the pool past 40; the primary falls over at 450 connections.\n- Keep a written timeline.\n").unwrap();
    let out = dir.path().join("out.md");
    let o = sanitize(&note, "medium", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let husk = fs::read_to_string(&out).unwrap();
    assert!(husk.starts_with("# Title\n\n## Rules\n\n- "), "{husk}");
    assert!(husk.contains("- Keep a written timeline.\n"), "{husk}");
    assert!(!husk.contains("450") && !husk.contains("40;"), "{husk}");
    assert_eq!(husk.lines().filter(|l| l.starts_with("- ")).count(), 2);
}

#[test]
fn error_missing_file() {
    let dir = tempdir();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&dir.path().join("nope.md"), "light", &out), 1, "cannot read", &out);
}

#[test]
fn error_folder() {
    let dir = tempdir();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(dir.path(), "light", &out), 1, "is a folder", &out);
}

#[test]
fn error_invalid_utf8() {
    let dir = tempdir();
    let note = dir.path().join("bad.md");
    fs::write(&note, b"# ok\n\nabc \xff\xfe def\n").unwrap();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&note, "light", &out), 1, "not valid UTF-8", &out);
}

#[test]
fn error_binary_file() {
    let dir = tempdir();
    let note = dir.path().join("bin.md");
    fs::write(&note, [0x89, b'P', b'N', b'G', 0, 0, 1, 2]).unwrap();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&note, "light", &out), 1, "binary", &out);
}

#[test]
fn error_file_over_64_mib() {
    let dir = tempdir();
    let note = dir.path().join("huge.md");
    let f = fs::File::create(&note).unwrap();
    f.set_len(64 * 1024 * 1024 + 1).unwrap(); // sparse: no 64 MiB written
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&note, "light", &out), 1, "64 MiB", &out);
}

#[test]
fn error_unknown_level() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "hello\n").unwrap();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&note, "extreme", &out), 1, "unknown level", &out);
}

#[test]
fn error_usage_missing_level_is_exit_2() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "hello\n").unwrap();
    let out = dir.path().join("out.md");
    let o = run(husk().arg("sanitize").arg(&note).arg("--output").arg(&out));
    assert_fails(&o, 2, "--level", &out);
}

#[test]
fn error_private_note_is_never_exported() {
    let dir = tempdir();
    let note = dir.path().join("p.md");
    fs::write(&note, "---\nname: secret\nhusk: private\n---\n\nEverything here is mine.\n").unwrap();
    let out = dir.path().join("out.md");
    assert_fails(&sanitize(&note, "light", &out), 1, "husk: private", &out);
}

#[test]
fn error_leak_names_the_location_not_the_text() {
    // A private token also sits in a heading, which a husk must keep exactly: it cannot be
    // rewritten away, so the gate refuses and names where the withheld block is.
    let dir = tempdir();
    let note = dir.path().join("leak.md");
    fs::write(&note, "# Notes on zq-falcon-77\n\n<!-- husk:private -->\n- The zq-falcon-77 host has no auth.\n<!-- husk:end -->\n").unwrap();
    let out = dir.path().join("out.md");
    let o = sanitize(&note, "heavy", &out);
    assert_fails(&o, 1, "line 4, column 3", &out);
    assert!(!stderr(&o).contains("zq-falcon"), "the error must not quote withheld text");
}

#[test]
fn output_is_replaced_atomically_and_never_half_written() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "# T\n\nKeep a timeline.\n").unwrap();
    let out = dir.path().join("out.md");
    fs::write(&out, "previous husk\n").unwrap();
    // A failing run leaves the previous file untouched.
    let o = sanitize(&note, "bogus", &out);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&out).unwrap(), "previous husk\n");
    let o = sanitize(&note, "light", &out);
    assert!(o.status.success());
    assert_eq!(fs::read_to_string(&out).unwrap(), "# T\n\nKeep a timeline.\n");
}

#[test]
fn report_lists_every_block_and_the_retention_figure() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(
        &note,
        "# T\n\n- Ask Marta Oyelaran before any change.\n- Keep a timeline.\n\n```sh\nrun --limit=40\n```\n",
    )
    .unwrap();
    let (out, report) = (dir.path().join("out.md"), dir.path().join("r.json"));
    let o = run(husk()
        .arg("sanitize")
        .arg(&note)
        .args(["--level", "medium", "--output"])
        .arg(&out)
        .arg("--report")
        .arg(&report));
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let blocks = r["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0]["category"], "network");
    assert_eq!(blocks[0]["action"], "hollow");
    assert_eq!(blocks[0]["rule"], "signal.name");
    assert_eq!(blocks[1]["action"], "keep");
    assert_eq!(blocks[2]["kind"]["type"], "code");
    for b in blocks {
        assert!(b["end"].as_u64() > b["start"].as_u64());
        assert_eq!(b["sha256"].as_str().unwrap().len(), 64);
    }
    // one kept of three; nothing diluted: 1/3
    let retention = r["retention"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&retention));
    let kept = blocks.iter().filter(|b| b["action"] == "keep").count() as f64;
    let half = blocks.iter().filter(|b| b["action"] == "dilute" || b["action"] == "mask").count() as f64;
    assert!((retention - (kept + 0.5 * half) / blocks.len() as f64).abs() < 0.01);
    // The report never carries note text.
    let raw = fs::read_to_string(&report).unwrap();
    assert!(!raw.contains("Marta") && !raw.contains("--limit"));
}

#[test]
fn same_seed_same_husk_and_seeds_vary_the_filler() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    let body: String = (0..12)
        .map(|i| {
            format!(
                "- Never raise pool {i} past {}; the primary falls over at {} connections.\n",
                40 + i,
                400 + i
            )
        })
        .collect();
    fs::write(&note, format!("# Pools\n\n{body}")).unwrap();
    let husk_with = |seed: &str| {
        let out = dir.path().join(format!("o{seed}.md"));
        let o = run(husk()
            .arg("sanitize")
            .arg(&note)
            .args(["--level", "heavy", "--seed", seed, "--output"])
            .arg(&out));
        assert!(o.status.success(), "{}", stderr(&o));
        fs::read_to_string(out).unwrap()
    };
    assert_eq!(husk_with("7"), husk_with("7"));
    let a = husk_with("1");
    assert!(["2", "3", "4"].iter().any(|s| husk_with(s) != a), "seeds never change the filler");
    // No filler line repeats within one husk.
    let lines: Vec<&str> = a.lines().filter(|l| l.starts_with("- ")).collect();
    let unique: std::collections::HashSet<&&str> = lines.iter().collect();
    assert_eq!(unique.len(), lines.len(), "{a}");
}

#[test]
fn crlf_documents_keep_crlf() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "# T\r\n\r\n- Ask Marta Oyelaran first.\r\n- Keep a timeline.\r\n\r\n```sh\r\nrun --limit=40\r\nrun --host=db-7\r\n```\r\n").unwrap();
    let out = dir.path().join("out.md");
    assert!(sanitize(&note, "heavy", &out).status.success());
    let husk = fs::read_to_string(&out).unwrap();
    assert!(husk.contains("\r\n- Keep a timeline.\r\n"));
    assert!(!husk.replace("\r\n", "").contains('\n'), "bare LF in {husk:?}");
}

#[test]
fn markers_private_public_and_front_matter_public() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(
        &note,
        "# Guide\n\n<!-- husk:public -->\n- Never page Ji-woo Baek after 22:00.\n<!-- husk:end -->\n\n<!-- husk:private -->\n## Secret\n\nThe budget is really 2.6 million.\n<!-- husk:end -->\n\nDone.\n",
    )
    .unwrap();
    for level in ["light", "medium", "heavy"] {
        let out = dir.path().join(format!("{level}.md"));
        assert!(sanitize(&note, level, &out).status.success());
        let husk = fs::read_to_string(&out).unwrap();
        assert_eq!(husk, "# Guide\n\n- Never page Ji-woo Baek after 22:00.\n\nDone.\n", "{level}");
        assert!(!husk.contains("2.6") && !husk.contains("Secret"));
    }
    let public = dir.path().join("pub.md");
    fs::write(&public, "---\nname: x\nhusk: public\n---\n\n- Never page Ji-woo Baek after 22:00.\n").unwrap();
    let out = dir.path().join("pub-out.md");
    assert!(sanitize(&public, "heavy", &out).status.success());
    assert_eq!(fs::read_to_string(&out).unwrap(), fs::read_to_string(&public).unwrap());
}

#[test]
fn classify_prints_a_table_and_json() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    fs::write(&note, "# T\n\n- Escalate to Priya Raman for database issues.\n- Keep a timeline.\n").unwrap();
    let o = run(husk().arg("classify").arg(&note));
    assert!(o.status.success());
    let table = stdout(&o);
    assert!(table.lines().next().unwrap().contains("rule"));
    assert!(
        table.contains("network") && table.contains("signal.name") && table.contains("shareable"),
        "{table}"
    );
    let o = run(husk().arg("classify").arg(&note).arg("--json"));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows[0]["actions"], serde_json::json!(["mask", "hollow", "hollow"]));
    assert_eq!(rows[1]["actions"], serde_json::json!(["keep", "keep", "keep"]));
}

// ---- golden fixtures ----

fn golden_dir() -> PathBuf {
    fixture("golden")
}

fn golden_inputs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(golden_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    v.sort();
    assert!(v.len() >= 14, "one golden per category and language");
    v
}

#[test]
fn golden_fixtures_classify_into_their_category() {
    for input in golden_inputs() {
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let want = stem.split_once('-').unwrap().1;
        let o = run(husk().arg("classify").arg(&input).arg("--json"));
        assert!(o.status.success());
        let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let cats: Vec<&str> =
            rows.as_array().unwrap().iter().map(|r| r["category"].as_str().unwrap()).collect();
        let hits = cats.iter().filter(|c| **c == want).count();
        assert!(hits * 2 > cats.len(), "{stem}: expected mostly {want}, got {cats:?}");
    }
}

#[test]
fn golden_fixtures_match_their_reviewed_husks() {
    let bless = std::env::var_os("HUSK_BLESS").is_some();
    let dir = tempdir();
    let expected_dir = golden_dir().join("expected");
    let mut mismatches = Vec::new();
    for input in golden_inputs() {
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        for level in ["light", "medium", "heavy"] {
            let out = dir.path().join(format!("{stem}.{level}.md"));
            let o = sanitize(&input, level, &out);
            assert!(o.status.success(), "{stem} {level}: {}", stderr(&o));
            let got = fs::read_to_string(&out).unwrap();
            let expected = expected_dir.join(format!("{stem}.{level}.md"));
            if bless {
                fs::create_dir_all(&expected_dir).unwrap();
                fs::write(&expected, &got).unwrap();
            } else {
                let want = fs::read_to_string(&expected).unwrap_or_else(|_| {
                    panic!("missing golden {}; run with HUSK_BLESS=1", expected.display())
                });
                if want != got {
                    mismatches.push(format!("{stem}.{level}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "husks differ from goldens: {mismatches:?}");
}

#[test]
fn shareable_goldens_come_out_verbatim_at_every_level() {
    for lang in ["en", "zh"] {
        let input = golden_dir().join(format!("{lang}-shareable.md"));
        let dir = tempdir();
        let out = dir.path().join("o.md");
        assert!(sanitize(&input, "heavy", &out).status.success());
        let (a, b) = (fs::read_to_string(&input).unwrap(), fs::read_to_string(&out).unwrap());
        // Heavy may hollow weakly cued lines, but never all of them.
        let same = a.lines().zip(b.lines()).filter(|(x, y)| x == y).count();
        assert!(same * 10 >= a.lines().count() * 7, "{lang}: {b}");
    }
}

// ---- structure on realistic documents from other domains ----

/// Lines that must survive exactly: headings, fences, table header and separator rows.
fn skeleton_lines(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut prev_table = false;
    for line in md.lines() {
        let t = line.trim_start();
        let is_table = t.starts_with('|');
        if t.starts_with('#')
            || t.starts_with("```")
            || is_table && (!prev_table || t.starts_with("| ---") || t.starts_with("|---"))
        {
            out.push(line.to_string());
        }
        prev_table = is_table;
    }
    out
}

fn list_items(md: &str) -> usize {
    md.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("- ")
                || t.split_once(". ")
                    .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .count()
}

#[test]
fn documents_from_other_domains_keep_their_shape_at_every_level() {
    let dir = tempdir();
    for entry in fs::read_dir(fixture("docs")).unwrap().flatten() {
        let input = entry.path();
        let src = fs::read_to_string(&input).unwrap();
        let visible = src.split("<!-- husk:private -->").next().unwrap().to_string();
        for level in ["light", "medium", "heavy"] {
            let out = dir.path().join("o.md");
            let o = sanitize(&input, level, &out);
            assert!(o.status.success(), "{} {level}: {}", input.display(), stderr(&o));
            let husk = fs::read_to_string(&out).unwrap();
            assert_eq!(skeleton_lines(&husk), skeleton_lines(&visible), "{} {level}", input.display());
            assert_eq!(list_items(&husk), list_items(&visible), "{} {level}", input.display());
            for tell in ["REDACTED", "[removed]", "***", "husk:", "已删除", "已脱敏"] {
                assert!(!husk.contains(tell), "{tell} in {} {level}", input.display());
            }
            let ratio = husk.chars().count() as f64 / src.chars().count() as f64;
            assert!((0.6..=1.5).contains(&ratio), "length ratio {ratio:.2} for {} {level}", input.display());
            // Named people never survive a medium or heavy husk.
            if level != "light" {
                for name in ["Hannah Lindqvist", "Omar Haddad", "孙晓燕", "周经理"] {
                    assert!(!husk.contains(name), "{name} in {} {level}", input.display());
                }
            }
        }
    }
}
