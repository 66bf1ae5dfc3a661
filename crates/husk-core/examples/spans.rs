//! Developer aid: print the specific spans the scanners find in each block of a file.
//! `cargo run -p husk-core --example spans -- FILE`
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: spans FILE");
        std::process::exit(2);
    };
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(1);
        }
    };
    let map = husk_core::markdown::block_map(&src);
    let ctx = husk_core::classify::doc_context(&src, &map);
    for b in &map.blocks {
        let text = &src[b.range.clone()];
        let v = husk_core::classify::classify(text, &b.kind, &ctx);
        let spans: Vec<String> =
            v.spans.iter().map(|s| format!("{:?}={:?}", s.kind, &text[s.range.clone()])).collect();
        println!("{}:{} {} {:.2} {} | {}", b.line, b.column, v.category, v.score, v.rule, spans.join(" "));
    }
}
