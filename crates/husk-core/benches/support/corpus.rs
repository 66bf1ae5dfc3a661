//! The generated mixed zh/en document set that the sanitize benchmark and the `throughput`
//! example share: deterministic, about 10 MB as 40 documents of about 256 KB.

const EN: &[&str] = &[
    "If the error rate stays above {n}% for {m} minutes, roll back the last deploy before reading logs.",
    "Ask {name} before touching the `billing-{n}` job; she owns the reconciliation pipeline.",
    "Keep a written timeline from the first minute of the incident.",
    "Never raise the pool size past {n}; the primary falls over at around {m}0 connections.",
    "Use components from the design system before creating new ones.",
    "Back in 2021 we rewrote the `orders_v{n}` table, which is why the history looks odd.",
    "He always says \"show me the data\" when someone argues from feeling.",
];
const ZH: &[&str] = &[
    "单个 value 超过 {n}KB 的不许进缓存，改存对象存储，缓存里只放地址。",
    "DDL 工单必须找 DBA {zname} 审批，她不在时找 韦振华，其他人批了也不算数。",
    "缓存是性能优化手段，不能作为数据的唯一来源。",
    "如果积压超过 {m}000 条，就先扩容消费者，再查下游状态。",
    "上次大促前因为整点集中过期打挂过一次主库，所以 TTL 要加随机抖动。",
    "他说“我再想想”，基本等于不同意，别当成还有戏。",
    "值班的目标是先止血、再定位、最后复盘。",
];
const NAMES: &[&str] = &["Marta Oyelaran", "Priya Raman", "Tomasz Wierzbicki", "Aiko Tanaka"];
const ZNAMES: &[&str] = &["薛婷", "庞宇", "康志强", "吕建国"];

/// A deterministic document of about `target` bytes.
pub fn document(seed: usize, target: usize) -> String {
    let mut s = String::with_capacity(target + 1024);
    s.push_str(
        "---\nname: generated-skill\ndescription: Generated benchmark skill.\n---\n\n# Generated skill\n\n",
    );
    let mut i = seed;
    let mut section = 0;
    while s.len() < target {
        if i.is_multiple_of(9) {
            section += 1;
            s.push_str(&format!("\n## Section {section}\n\n"));
        }
        let zh = (i / 3).is_multiple_of(2);
        let t = if zh { ZH[i % ZH.len()] } else { EN[i % EN.len()] };
        let line = t
            .replace("{n}", &((i * 7) % 97 + 2).to_string())
            .replace("{m}", &((i * 3) % 13 + 2).to_string())
            .replace("{name}", NAMES[i % NAMES.len()])
            .replace("{zname}", ZNAMES[i % ZNAMES.len()]);
        match i % 5 {
            0 | 1 => s.push_str(&format!("- {line}\n")),
            2 => s.push_str(&format!("{line} {line}\n\n")),
            3 => s.push_str(&format!("| {} | {line} |\n", i % 11)),
            _ => s.push_str(&format!("1. {line}\n")),
        }
        if i.is_multiple_of(40) {
            s.push_str("\n```bash\ncurl --max-time=30 --retries=5 https://internal.example/api\n```\n\n");
        }
        if i % 5 == 3 && i % 15 == 3 {
            s.push('\n');
        }
        i += 1;
    }
    s
}

pub fn corpus() -> Vec<String> {
    // ~10 MB as 40 documents of ~256 KB.
    (0..40).map(|k| document(k * 131, 256 * 1024)).collect()
}
