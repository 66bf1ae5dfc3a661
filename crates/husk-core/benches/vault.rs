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

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards small ranks, like word frequencies.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64) * u * u * u) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "qua", "ren", "sil", "tor", "bex", "gan",
    "hul", "jor", "mek", "zen",
];
const HAN: &str = "数据服务缓存队列发布回滚监控告警容量索引迁移备份权限审批流程环境配置日志延迟接口版本测试部署集群节点网络存储任务调度资源用户订单支付账单报表分析模型规则策略风险安全审计合规文档会议沟通协作负责复盘故障止血定位值班升级优化性能稳定可用";

/// The vocabulary: about 4,000 made-up English-like words and 600 two-character Chinese words.
fn vocabulary() -> (Vec<String>, Vec<String>) {
    let mut en = Vec::new();
    for a in SYLLABLES {
        for b in SYLLABLES {
            for c in ["", "s", "er", "ing", "al", "ment", "ix", "on", "ed", "ly"] {
                en.push(format!("{a}{b}{c}"));
            }
        }
    }
    let han: Vec<char> = HAN.chars().collect();
    let mut zh = Vec::new();
    let mut r = Rng(7);
    while zh.len() < 600 {
        let w: String = [han[r.below(han.len())], han[r.below(han.len())]].iter().collect();
        if !zh.contains(&w) {
            zh.push(w);
        }
    }
    (en, zh)
}

fn note(i: usize, vocab: &(Vec<String>, Vec<String>)) -> String {
    let (en, zh) = vocab;
    let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0x1000_0000_01b3));
    let mut s = format!("# Note {i}: {} {}\n\n", en[r.zipf(en.len())], en[r.zipf(en.len())]);
    for section in ["Context", "Steps", "Pitfalls"] {
        s.push_str(&format!("## {section}\n\n"));
        for k in 0..2 + r.below(3) {
            let chinese = r.below(3) == 0;
            let mut line = String::new();
            if r.below(4) == 0 {
                let t = if chinese { ZH[r.below(ZH.len())] } else { EN[r.below(EN.len())] };
                line.push_str(
                    &t.replace("{n}", &r.below(97).to_string()).replace("{m}", &r.below(13).to_string()),
                );
            } else {
                for w in 0..8 + r.below(12) {
                    if chinese {
                        line.push_str(&zh[r.zipf(zh.len())]);
                        if w % 5 == 4 {
                            line.push('，');
                        }
                    } else {
                        if w > 0 {
                            line.push(' ');
                        }
                        line.push_str(&en[r.zipf(en.len())]);
                    }
                }
                line.push_str(if chinese { "。" } else { "." });
            }
            if section == "Steps" {
                s.push_str(&format!("{}. {line}\n", k + 1));
            } else {
                s.push_str(&line);
                s.push_str("\n\n");
            }
        }
        s.push('\n');
    }
    s
}

fn generate(root: &Path, n: usize, vocab: &(Vec<String>, Vec<String>)) -> usize {
    let mut bytes = 0;
    for i in 0..n {
        let dir = root.join(format!("area-{:02}/topic-{:02}", i % 20, i % 37));
        fs::create_dir_all(&dir).expect("mkdir");
        let text = note(i, vocab);
        bytes += text.len();
        fs::write(dir.join(format!("note-{i}.md")), text).expect("write");
    }
    bytes
}

/// CPU seconds used by this process so far (user + system), from /proc; 0 where unavailable.
/// The machine this runs on may be shared, so CPU time is reported next to wall time.
fn cpu_secs() -> f64 {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a quick smoke test.
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("HUSK_BENCH_NOTES").ok().and_then(|s| s.parse().ok()).unwrap_or(if bench {
        10_000
    } else {
        200
    });
    let saves = if bench { 60 } else { 5 };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("vault");
    let vocab = vocabulary();
    let bytes = generate(&root, n, &vocab);
    println!("vault: {n} notes, {:.1} MB", bytes as f64 / 1e6);

    if std::env::var("HUSK_BENCH_CLASSIFY").is_ok() {
        let texts: Vec<String> = (0..2000).map(|i| note(i, &vocab)).collect();
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
    let mut text_runs = Vec::new();
    let mut full_runs = Vec::new();
    for _ in 0..3 {
        let _ = fs::remove_dir_all(root.join(".husk"));
        fs::create_dir_all(root.join(".husk")).expect("mkdir");
        let t = Instant::now();
        let cpu = cpu_secs();
        // Opening a vault without an index builds its text pass.
        let mut v = Vault::open(&root).expect("open");
        let text = t.elapsed().as_secs_f64();
        let text_cpu = cpu_secs() - cpu;
        let r = v.refresh_text().expect("text pass");
        let c = v.classify_pending().expect("classify pass");
        let full = t.elapsed().as_secs_f64();
        println!("  run: text pass {text:.2} s wall / {text_cpu:.2} s CPU; with classification {full:.2} s wall / {:.2} s CPU", cpu_secs() - cpu);
        assert_eq!((r.added + r.unchanged, c), (n, n));
        text_runs.push(text);
        full_runs.push(full);
    }
    text_runs.sort_by(f64::total_cmp);
    full_runs.sort_by(f64::total_cmp);
    println!(
        "full index, text pass (searchable): best {:.3} s, median {:.3} s (target <= 2 s)",
        text_runs[0], text_runs[1]
    );
    println!(
        "full index, with block classification: best {:.3} s, median {:.3} s",
        full_runs[0], full_runs[1]
    );
    let t = Instant::now();
    let mut v = Vault::open(&root).expect("open");
    let r = v.refresh().expect("refresh");
    println!(
        "no-change refresh (stat only): {:.1} ms ({} unchanged)",
        t.elapsed().as_secs_f64() * 1e3,
        r.unchanged
    );

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
    let two = format!("{} {}", vocab.0[40], vocab.0[300]);
    let zh4 = format!("{}{}", vocab.1[3], vocab.1[9]);
    let queries: Vec<&str> = vec![
        &vocab.0[2],    // among the most frequent words
        &vocab.0[60],   // frequent
        &vocab.0[900],  // mid
        &vocab.0[3500], // rare
        &two,
        &vocab.1[0],   // a frequent two-character Chinese word (LIKE fallback)
        &vocab.1[500], // a rare one
        &zh4,
        "payment queue",
        "预发环境",
        "订单",
        "zzznothing",
    ];
    let mut lat = Vec::new();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    for _ in 0..if bench { 30 } else { 2 } {
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
        let hits = v.search(q, 1000).expect("search").len();
        print!("  {hits:>4} hits");
        println!("  {q:<20} p50 {:.2} ms  p95 {:.2} ms", pct(&per[qi], 0.5), pct(&per[qi], 0.95));
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "search: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} queries (target p95 <= 20 ms)",
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        lat[lat.len() - 1],
        lat.len()
    );

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
    for i in 0..saves {
        let token = format!("savetoken{i}x");
        let path = root.join(format!("area-{:02}/topic-{:02}/note-{i}.md", i % 20, i % 37));
        let tmp = path.with_extension("md.tmp~");
        fs::write(&tmp, format!("{}\n{token}\n", note(i, &vocab))).expect("write");
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
