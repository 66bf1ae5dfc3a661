//! Vault figures on generated notes, printed as plain numbers (a custom harness, because the
//! targets are percentiles, not means):
//! - full index of 10,000 notes into a fresh `index.db` (target ≤ 2 s);
//! - search latency p50/p95 over mixed English and Chinese queries (target p95 ≤ 20 ms);
//! - save-to-searchable latency p50/p99 through the watcher, debounce included (target p99 ≤ 1 s).
//!
//! Run with `cargo bench -p husk-core --bench vault`. `HUSK_BENCH_NOTES` changes the vault size.

use husk_core::watch::{WatchEvent, WatchOptions};
use husk_core::Vault;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EN: &[&str] = &[
    "If the error rate stays above {n}% for {m} minutes, roll back the last deploy before reading logs.",
    "Keep a written timeline from the first minute of the incident.",
    "Never raise the pool size past {n}; the primary falls over at around {m}0 connections.",
    "Use components from the design system before creating new ones.",
    "Back in 2021 we rewrote the orders table, which is why the history looks odd.",
    "Drain the payment queue before restarting the billing workers.",
];
const ZH: &[&str] = &[
    "单个 value 超过 {n}KB 的不许进缓存，改存对象存储，缓存里只放地址。",
    "缓存是性能优化手段，不能作为数据的唯一来源。",
    "如果积压超过 {m}000 条，就先扩容消费者，再查下游状态。",
    "值班的目标是先止血、再定位、最后复盘。",
    "发布流程需要先在预发环境验证。",
];

fn note(i: usize) -> String {
    let mut s = format!("# Note {i}\n\n## Context\n\n");
    for k in 0..6 {
        let t = if (i + k) % 3 == 0 { ZH[(i * 7 + k) % ZH.len()] } else { EN[(i * 5 + k) % EN.len()] };
        s.push_str(&t.replace("{n}", &((i + k) % 97).to_string()).replace("{m}", &((i * k) % 13).to_string()));
        s.push_str(if k % 2 == 0 { "\n\n" } else { " " });
    }
    s.push_str("\n## Steps\n\n");
    for k in 0..4 {
        s.push_str(&format!("- step {k} of procedure {i}: {}\n", EN[(i + k) % EN.len()].replace("{n}", "5").replace("{m}", "3")));
    }
    s
}

fn generate(root: &Path, n: usize) -> usize {
    let mut bytes = 0;
    for i in 0..n {
        let dir = root.join(format!("area-{:02}/topic-{:02}", i % 20, i % 37));
        fs::create_dir_all(&dir).expect("mkdir");
        let text = note(i);
        bytes += text.len();
        fs::write(dir.join(format!("note-{i}.md")), text).expect("write");
    }
    bytes
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::var("HUSK_BENCH_NOTES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("vault");
    let bytes = generate(&root, n);
    println!("vault: {n} notes, {:.1} MB", bytes as f64 / 1e6);

    if std::env::var("HUSK_BENCH_CLASSIFY").is_ok() {
        let texts: Vec<String> = (0..2000).map(note).collect();
        let t = Instant::now();
        for x in &texts {
            std::hint::black_box(husk_core::markdown::block_map(x));
        }
        let bm = t.elapsed();
        let t = Instant::now();
        for x in &texts {
            std::hint::black_box(husk_core::classify_note(x, &husk_core::Overrides::new()));
        }
        println!("one core, 2000 notes: block_map {:?}, classify_note {:?}", bm, t.elapsed());
    }
    // 1. Full index into a fresh index.db, three runs.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let _ = fs::remove_dir_all(root.join(".husk"));
        let t = Instant::now();
        let (_v, r) = Vault::init(&root).expect("init");
        runs.push(t.elapsed().as_secs_f64());
        assert_eq!(r.added, n);
    }
    runs.sort_by(f64::total_cmp);
    println!("full index: best {:.3} s, median {:.3} s (target <= 2 s)", runs[0], runs[1]);
    let t = Instant::now();
    let mut v = Vault::open(&root).expect("open");
    let r = v.refresh().expect("refresh");
    println!("no-change refresh (stat only): {:.1} ms ({} unchanged)", t.elapsed().as_secs_f64() * 1e3, r.unchanged);

    {
        let c = rusqlite::Connection::open(root.join(".husk/index.db")).expect("db");
        for pragma in ["quick_check", "integrity_check"] {
            let t = Instant::now();
            let r: String = c.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0)).expect("check");
            println!("PRAGMA {pragma}: {r} in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        }
    }
    if std::env::var("HUSK_BENCH_ONLY").is_ok_and(|s| s == "index") {
        return;
    }
    // 2. Search latency.
    let queries = ["payment queue", "rollback", "缓存", "预发环境", "design system", "止血", "connections", "procedure 42", "订单", "error rate minutes"];
    let mut lat = Vec::new();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    for _ in 0..30 {
        for (qi, q) in queries.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(v.search(q, 20).expect("search"));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            lat.push(ms);
            per[qi].push(ms);
        }
    }
    for (qi, q) in queries.iter().enumerate() {
        per[qi].sort_by(f64::total_cmp);
        println!("  {q:<20} p50 {:.2} ms  p95 {:.2} ms", pct(&per[qi], 0.5), pct(&per[qi], 0.95));
    }
    lat.sort_by(f64::total_cmp);
    println!("search: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} queries (target p95 <= 20 ms)", pct(&lat, 0.5), pct(&lat, 0.95), lat[lat.len() - 1], lat.len());

    // 3. Save-to-searchable through the watcher (same code path as `husk watch`).
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let watcher = {
        let stop = stop.clone();
        let root = root.clone();
        std::thread::spawn(move || {
            let mut w = Vault::open(&root).expect("open watcher");
            let opts = WatchOptions::from_config(&w.config().unwrap_or_default());
            w.watch(&opts, &stop, &mut |_, ev| {
                if let WatchEvent::Ready { .. } = ev {
                    let _ = ready_tx.send(());
                }
            })
            .expect("watch");
        })
    };
    ready_rx.recv_timeout(Duration::from_secs(120)).expect("watcher ready");
    let mut save = Vec::new();
    for i in 0..60 {
        let token = format!("savetoken{i}x");
        let path = root.join(format!("area-{:02}/topic-{:02}/note-{i}.md", i % 20, i % 37));
        let tmp = path.with_extension("md.tmp~");
        fs::write(&tmp, format!("{}\n{token}\n", note(i))).expect("write");
        let t = Instant::now();
        fs::rename(&tmp, &path).expect("rename");
        loop {
            if !v.search(&token, 1).expect("search").is_empty() {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                println!("  save {i} not searchable after 10 s");
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        save.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(30));
    }
    stop.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    save.sort_by(f64::total_cmp);
    println!(
        "save-to-searchable: p50 {:.0} ms, p99 {:.0} ms over {} saves (debounce 150 ms; target p99 <= 1000 ms)",
        pct(&save, 0.5),
        pct(&save, 0.99),
        save.len()
    );
}
