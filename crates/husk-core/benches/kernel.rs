//! Kernel benchmark: a generated vault of 10,000 notes (about 20 MB); `husk` backup against
//! `tar -c vault | age -r …`, and restore (full verification, staged, synced) against
//! `age -d | tar -x`, each in a child process so that its peak memory (VmHWM) is its own.
//! Husk's backup fsyncs its kernel and the stock pipeline does not, so the stock pipeline is
//! also timed followed by `sync FILE` (an fsync of the file it wrote): the "+fsync" figure.
//!
//! `cargo bench -p husk-core --bench kernel` runs the full size; under `cargo test` (no
//! `--bench` flag) it runs a 300-note smoke version. Needs the stock `age` and `tar`.

use husk_core::kernel::{self, Key, Lock, RestoreOptions};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn vm_hwm_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: run one operation, print "<seconds> <VmHWM KiB>".
fn child(args: &[String]) {
    let start = Instant::now();
    let mut last = None;
    let mut phases = String::new();
    let mut on_progress = |p: kernel::Progress| {
        if last != Some(p.phase) {
            last = Some(p.phase);
            phases.push_str(&format!(" {:?}@{:.3}", p.phase, start.elapsed().as_secs_f64()));
        }
    };
    match args[0].as_str() {
        "backup" => {
            let recipient: age::x25519::Recipient = args[3].parse().expect("recipient");
            kernel::backup(
                Path::new(&args[1]),
                Path::new(&args[2]),
                &Lock::Recipients(vec![recipient]),
                None,
                &mut on_progress,
            )
            .expect("backup");
        }
        "backup-verify" => {
            let key = kernel::read_identity_file(Path::new(&args[3])).expect("identity");
            let Key::Identities(ids) = &key else { unreachable!() };
            let lock = Lock::Recipients(ids.iter().map(|i| i.to_public()).collect());
            kernel::backup(
                Path::new(&args[1]),
                Path::new(&args[2]),
                &lock,
                Some(&key),
                &mut kernel::no_progress,
            )
            .expect("backup");
        }
        "restore" => {
            let key = kernel::read_identity_file(Path::new(&args[3])).expect("identity");
            kernel::restore(
                Path::new(&args[1]),
                Path::new(&args[2]),
                &key,
                &RestoreOptions::default(),
                &mut on_progress,
            )
            .expect("restore");
        }
        other => panic!("unknown child mode {other}"),
    }
    println!("{} {}", start.elapsed().as_secs_f64(), vm_hwm_kib());
    eprintln!("phases:{phases} end@{:.3}", start.elapsed().as_secs_f64());
}

/// Flush everything dirty first, so that no operation pays for another's writeback (husk's
/// restore ends with one syncfs, which would otherwise flush the earlier runs' files too).
fn settle() {
    let _ = Command::new("sync").status();
}

fn me(args: &[&str]) -> (Duration, u64) {
    settle();
    let o =
        Command::new(std::env::current_exe().expect("exe")).arg("child").args(args).output().expect("spawn");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    eprint!("    {}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    let mut it = s.split_whitespace();
    let secs: f64 = it.next().and_then(|x| x.parse().ok()).expect("secs");
    let kib: u64 = it.next().and_then(|x| x.parse().ok()).expect("kib");
    (Duration::from_secs_f64(secs), kib)
}

fn sh(script: &str) -> Duration {
    settle();
    let start = Instant::now();
    let st = Command::new("sh").arg("-c").arg(script).status().expect("sh");
    assert!(st.success(), "{script}");
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn make_vault(root: &Path, notes: usize) -> PathBuf {
    let v = root.join("vault");
    fs::create_dir_all(v.join(".husk")).expect("mkdir");
    fs::write(v.join(".husk/config.toml"), "[kernel]\n").expect("config");
    let mut x: u64 = 7;
    let words =
        ["deploy", "rollback", "alert", "threshold", "on-call", "cache", "踩坑", "判断", "- step\n", "\n\n"];
    for i in 0..notes {
        let d = v.join(format!("area-{:02}", i % 50));
        fs::create_dir_all(&d).expect("mkdir");
        let mut body = format!("# Note {i}\n\n");
        while body.len() < 2000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            body.push_str(words[(x >> 33) as usize % words.len()]);
            body.push(' ');
        }
        fs::write(d.join(format!("note-{i:05}.md")), body).expect("note");
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    if Command::new("age").arg("--version").output().is_err() {
        println!("kernel bench: stock `age` not installed, skipped");
        return;
    }
    let notes = if full { 10_000 } else { 300 };
    if full {
        wait_for_deleted_inodes();
    }
    let runs = if full { 5 } else { 1 };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let vault = make_vault(root, notes);
    let bytes: u64 = walk_size(&vault);
    let key = root.join("key.txt");
    let recipient = kernel::write_identity_file(&key, "bench").expect("keygen");
    let k = |p: &Path| p.display().to_string();
    let (r, v, kf) = (recipient.as_str(), k(&vault), k(&key));

    // Warm the page cache once.
    sh(&format!("tar -cf - -C {} vault | age -r {r} -o /dev/null", k(root)));

    let mut husk_b = Vec::new();
    let mut husk_bv = Vec::new();
    let mut stock_b = Vec::new();
    let mut stock_bs = Vec::new();
    let mut mem_b = 0;
    let mut kernel_path = PathBuf::new();
    for i in 0..runs {
        let out = root.join(format!("out{i}"));
        let (d, m) = me(&["backup", &v, &k(&out), r]);
        husk_b.push(d);
        mem_b = mem_b.max(m);
        kernel_path = fs::read_dir(&out).expect("out").next().expect("kernel").expect("entry").path();
        let (d, _) = me(&["backup-verify", &v, &k(&root.join(format!("outv{i}"))), &kf]);
        husk_bv.push(d);
        stock_b.push(sh(&format!("tar -cf - -C {} vault | age -r {r} -o {}/stock{i}.age", k(root), k(root))));
        stock_bs.push(sh(&format!(
            "tar -cf - -C {} vault | age -r {r} -o {}/stocks{i}.age && sync {}/stocks{i}.age",
            k(root),
            k(root),
            k(root)
        )));
    }
    let mut husk_r = Vec::new();
    let mut stock_r = Vec::new();
    let mut stock_rs = Vec::new();
    let mut mem_r = 0;
    // Targets are not removed between runs: the first write after deleting 10,000 files pays
    // the file system's deferred work (seconds here), which would bias whichever runs first.
    // The order alternates for the same reason.
    for i in 0..runs {
        let target = root.join(format!("restored{i}"));
        let x = root.join(format!("x{i}"));
        let y = root.join(format!("y{i}"));
        fs::create_dir(&x).expect("mkdir");
        fs::create_dir(&y).expect("mkdir");
        let stock = |x: &Path, y: &Path| {
            (
                sh(&format!("age -d -i {kf} {} | tar -xf - -C {}", k(&kernel_path), k(x))),
                sh(&format!(
                    "age -d -i {kf} {} | tar -xf - -C {} && sync -f {}",
                    k(&kernel_path),
                    k(y),
                    k(y)
                )),
            )
        };
        let mut stock_pair = None;
        if i % 2 == 1 {
            stock_pair = Some(stock(&x, &y));
        }
        let (d, m) = me(&["restore", &k(&kernel_path), &k(&target), &kf]);
        husk_r.push(d);
        mem_r = mem_r.max(m);
        let (a, b) = stock_pair.unwrap_or_else(|| stock(&x, &y));
        eprintln!(
            "  restore run {i}: husk {:.3} s, age|tar {:.3} s, synced {:.3} s",
            d.as_secs_f64(),
            a.as_secs_f64(),
            b.as_secs_f64()
        );
        stock_r.push(a);
        stock_rs.push(b);
    }
    let (hb, hbv, sb, sbs) = (median(husk_b), median(husk_bv), median(stock_b), median(stock_bs));
    let (hr, sr, srs) = (median(husk_r), median(stock_r), median(stock_rs));
    println!(
        "kernel bench: {notes} notes, {:.1} MB, kernel {:.1} MB, median of {runs}",
        bytes as f64 / 1e6,
        fs::metadata(&kernel_path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    println!("  backup   husk {:>8.3} s   (with full verify {:.3} s)   tar|age {:>8.3} s (+fsync {:.3} s)   ratio {:.2} (vs synced {:.2})   peak RSS {:.1} MiB", hb.as_secs_f64(), hbv.as_secs_f64(), sb.as_secs_f64(), sbs.as_secs_f64(), hb.as_secs_f64() / sb.as_secs_f64(), hb.as_secs_f64() / sbs.as_secs_f64(), mem_b as f64 / 1024.0);
    println!("  restore  husk {:>8.3} s   age|tar {:>8.3} s (+sync -f {:.3} s)   ratio {:.2} (vs synced {:.2})   peak RSS {:.1} MiB", hr.as_secs_f64(), sr.as_secs_f64(), srs.as_secs_f64(), hr.as_secs_f64() / sr.as_secs_f64(), hr.as_secs_f64() / srs.as_secs_f64(), mem_r as f64 / 1024.0);
    assert!(mem_b < 64 * 1024 && mem_r < 64 * 1024, "peak memory above 64 MiB");
    drop(tmp);
    if full {
        let _ = fs::write(stamp_path(), b"");
    }
}

/// When the last full run removed its files (its folder of copies of the vault).
fn stamp_path() -> PathBuf {
    std::env::temp_dir().join("husk-kernel-bench.removed")
}

/// ext4 will not reuse an inode within 30 s of its deletion: for that long after a run removed
/// its 100,000-odd files, creating a file scans past them (`recently_deleted` in the kernel's
/// profile), which made restores that follow a run at once take seconds, on both sides. Wait
/// that out rather than measure it.
fn wait_for_deleted_inodes() {
    let age = fs::metadata(stamp_path()).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
    if let Some(age) = age {
        let quiet = Duration::from_secs(35);
        if age < quiet {
            println!(
                "kernel bench: waiting {:.0} s for the last run's deleted files to age out",
                (quiet - age).as_secs_f64()
            );
            std::thread::sleep(quiet - age);
        }
    }
}

fn walk_size(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = fs::read_dir(p) {
        for e in rd.flatten() {
            let m = match e.metadata() {
                Ok(m) => m,
                Err(_) => continue,
            };
            n += if m.is_dir() { walk_size(&e.path()) } else { m.len() };
        }
    }
    n
}
