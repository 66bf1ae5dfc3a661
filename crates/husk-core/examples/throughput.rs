//! Developer aid: time the engine's stages on one file, or `sanitize` on the benchmark corpus.
//! `cargo run --release -p husk-core --example throughput -- FILE [LEVEL]`
//! `cargo run --release -p husk-core --example throughput -- --corpus [LEVEL] [ROUNDS] [DOCS]`
//! (under `valgrind --tool=callgrind`, a few DOCS give a load-independent instruction count)
//! `cargo run --release -p husk-core --example throughput -- --steady [LEVEL] [ROUNDS]`: each
//! document's fastest run summed (steadier than `--corpus` on a machine shared with others)
//! `cargo run --release -p husk-core --example throughput -- --digest [LEVEL] [DIR]`: one SHA-256
//! over every husk and report of the corpus (and of every `.md` in DIR): a refactor that must not
//! change any output keeps this digest
//! `cargo run --release -p husk-core --example throughput -- --dir DIR [LEVEL]`: every `.md` in
//! DIR, sanitized 100 times over (short notes, where per-document set-up counts)
use std::time::Instant;

#[path = "../benches/support/corpus.rs"]
mod support;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: throughput (FILE | --corpus | --dir) [LEVEL] [ROUNDS | DIR] [DOCS]");
        std::process::exit(2);
    };
    let level: husk_core::Level =
        args.get(2).map_or("light", String::as_str).parse().unwrap_or(husk_core::Level::Light);
    if path == "--dir" {
        let dir = args.get(3).map_or(".", String::as_str);
        let docs: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| {
                eprintln!("cannot read {dir}: {e}");
                std::process::exit(1)
            })
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let _ = husk_core::lexicon::lexicon();
        let opts = husk_core::SanitizeOptions::new(level);
        let bytes = docs.iter().map(String::len).sum::<usize>() as f64 * 100.0;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..100 {
                for d in &docs {
                    std::hint::black_box(husk_core::sanitize(d, &opts).is_ok());
                }
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{} notes of {:.1} KB on average at {level}: {:.1} MB/s",
            docs.len(),
            bytes / 100.0 / docs.len().max(1) as f64 / 1e3,
            bytes / best / 1e6
        );
        return;
    }
    if path == "--digest" {
        use sha2::Digest;
        let mut docs = support::corpus();
        if let Some(dir) = args.get(3) {
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect();
            paths.sort();
            docs.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
        }
        let opts = husk_core::SanitizeOptions::new(level);
        let mut h = sha2::Sha256::new();
        for d in &docs {
            match husk_core::sanitize(d, &opts) {
                Ok(husk) => {
                    h.update(husk.text.as_bytes());
                    h.update(serde_json::to_string(&husk.blocks).unwrap_or_default().as_bytes());
                    h.update(husk.retention.to_le_bytes());
                }
                Err(e) => h.update(e.to_string().as_bytes()),
            }
        }
        println!("{} documents at {level}: {}", docs.len(), hex::encode(h.finalize()));
        return;
    }
    if path == "--steady" {
        // Each document's fastest of ROUNDS runs, summed: robust against a noisy machine, where
        // the best whole-corpus round still catches some interference.
        let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(15);
        let docs = support::corpus();
        let mb = docs.iter().map(String::len).sum::<usize>() as f64 / 1e6;
        let opts = husk_core::SanitizeOptions::new(level);
        let _ = husk_core::lexicon::lexicon();
        let mut total = 0.0;
        for d in &docs {
            let mut best = f64::MAX;
            for _ in 0..rounds {
                let t = Instant::now();
                std::hint::black_box(husk_core::sanitize(d, &opts).map(|h| h.text.len()).unwrap_or(0));
                best = best.min(t.elapsed().as_secs_f64());
            }
            total += best;
        }
        println!(
            "corpus {mb:.1} MB at {level}: sum of per-document bests of {rounds} {total:.3} s = {:.1} MB/s",
            mb / total
        );
        return;
    }
    if path == "--corpus" {
        let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
        let mut docs = support::corpus();
        docs.truncate(args.get(4).and_then(|d| d.parse().ok()).unwrap_or(docs.len()));
        let mb = docs.iter().map(String::len).sum::<usize>() as f64 / 1e6;
        let opts = husk_core::SanitizeOptions::new(level);
        // Load the lexicon and compile the scanners before timing.
        let _ = husk_core::lexicon::lexicon();
        let _ = husk_core::classify::scan("warm-up", None);
        let mut best = f64::MAX;
        for _ in 0..rounds {
            let t = Instant::now();
            let mut n = 0;
            for d in &docs {
                n += husk_core::sanitize(d, &opts).map(|h| h.text.len()).unwrap_or(0);
            }
            std::hint::black_box(n);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("corpus {mb:.1} MB at {level}: best of {rounds} {best:.3} s = {:.1} MB/s", mb / best);
        return;
    }
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1)
    });
    let mb = src.len() as f64 / 1e6;
    let t = Instant::now();
    let map = husk_core::markdown::block_map(&src);
    let t_map = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ctx = husk_core::classify::doc_context(&src, &map);
    let t_ctx = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for b in &map.blocks {
        std::hint::black_box(husk_core::classify::classify(&src[b.range.clone()], &b.kind, &ctx));
    }
    let t_cls = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = husk_core::sanitize(&src, &husk_core::SanitizeOptions::new(level));
    let t_all = t.elapsed().as_secs_f64();
    println!("{mb:.1} MB, {} blocks: map {t_map:.2}s, context {t_ctx:.2}s, classify {t_cls:.2}s, sanitize {t_all:.2}s = {:.1} MB/s ({})",
        map.blocks.len(), mb / t_all, if r.is_ok() { "ok" } else { "error" });
}
