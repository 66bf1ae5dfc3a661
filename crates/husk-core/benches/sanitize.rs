//! Sanitize throughput on a generated ~10 MB mixed zh/en document set, next to pulldown-cmark's
//! parse-only throughput on the same input, in the same run (target: ≥ 20 MB/s on one core).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use husk_core::{sanitize, Level, SanitizeOptions};
use std::hint::black_box;

#[path = "support/corpus.rs"]
mod support;
use support::corpus;

fn bench(c: &mut Criterion) {
    let docs = corpus();
    let total: usize = docs.iter().map(String::len).sum();
    let mut g = c.benchmark_group("husk");
    g.sample_size(10);
    // Decimal units (MB/s), as the target is stated.
    g.throughput(Throughput::BytesDecimal(total as u64));
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                n += pulldown_cmark::Parser::new_ext(d, pulldown_cmark::Options::ENABLE_TABLES)
                    .into_offset_iter()
                    .count();
            }
            black_box(n)
        })
    });
    for level in [Level::Light, Level::Heavy] {
        let opts = SanitizeOptions::new(level);
        g.bench_function(format!("sanitize_{level}"), |b| {
            b.iter(|| {
                let mut n = 0usize;
                for d in &docs {
                    n += sanitize(d, &opts).map(|h| h.text.len()).unwrap_or(0);
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
