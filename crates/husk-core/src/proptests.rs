//! Property tests over generated documents: whatever the mix of prose, lists, tables, code and
//! markers, (1) text planted in `husk:private` never appears in a husk at any level, (2) headings
//! outside private sections come out identical and in order, and (3) every byte outside the
//! rewritten blocks and removed regions is copied unchanged, in order.

use crate::markdown::{block_map, Region};
use crate::model::{Action, Level};
use crate::{sanitize, SanitizeOptions};
use proptest::prelude::*;
use std::ops::Range;

const PROSE: &[&str] = &[
    "If the error rate stays above 4% for 10 minutes, roll back first.",
    "Keep a written timeline from the first minute.",
    "Ask Marta Oyelaran before touching the `ledger-sync` job.",
    "Use components from the design system before creating new ones.",
    "Back in 2021 we rewrote the importer, which is why it looks odd.",
    "He always says \"show me the data first\" in reviews.",
    "单个 value 超过 8KB 的不许进缓存。",
    "缓存是性能优化手段，不能作为数据的唯一来源。",
    "DDL 工单必须找 DBA 薛婷 审批。",
    "他说“我再想想”，基本等于不同意。",
    "上次大促前因为集中过期打挂过一次主库。",
    "值班的目标是先止血、再定位、最后复盘。",
];

#[derive(Debug, Clone)]
enum Part {
    Heading(u8, usize),
    Para(Vec<usize>),
    List(Vec<usize>, bool),
    Table(Vec<(usize, usize)>),
    Code(u32),
    Quote(usize),
    Private(Vec<usize>, u32),
    Public(usize),
}

fn part() -> impl Strategy<Value = Part> {
    let n = PROSE.len();
    prop_oneof![
        (1u8..4, 0..n).prop_map(|(l, i)| Part::Heading(l, i)),
        prop::collection::vec(0..n, 1..4).prop_map(Part::Para),
        (prop::collection::vec(0..n, 1..5), any::<bool>()).prop_map(|(v, o)| Part::List(v, o)),
        prop::collection::vec((0..n, 0..n), 1..4).prop_map(Part::Table),
        (1u32..5000).prop_map(Part::Code),
        (0..n).prop_map(Part::Quote),
        (prop::collection::vec(0..n, 1..4), 1000u32..999_999).prop_map(|(v, t)| Part::Private(v, t)),
        (0..n).prop_map(Part::Public),
    ]
}

/// Render parts to markdown; returns the text and the unique tokens planted in private sections.
fn render(parts: &[Part], crlf: bool) -> (String, Vec<String>) {
    let mut s = String::new();
    let mut planted = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        match p {
            Part::Heading(l, i) => {
                let words: String = PROSE[*i].chars().take(6).collect();
                s.push_str(&format!("{} Section {k} {}\n\n", "#".repeat(*l as usize), words.trim()));
            }
            Part::Para(v) => {
                s.push_str(&format!("{}\n\n", v.iter().map(|i| PROSE[*i]).collect::<Vec<_>>().join(" ")))
            }
            Part::List(v, ordered) => {
                for (j, i) in v.iter().enumerate() {
                    if *ordered {
                        s.push_str(&format!("{}. {}\n", j + 1, PROSE[*i]));
                    } else {
                        s.push_str(&format!("- {}\n", PROSE[*i]));
                    }
                }
                s.push('\n');
            }
            Part::Table(rows) => {
                s.push_str("| Item | Rule |\n| --- | --- |\n");
                for (a, b) in rows {
                    s.push_str(&format!("| {} | {} |\n", PROSE[*a], PROSE[*b]));
                }
                s.push('\n');
            }
            Part::Code(n) => s.push_str(&format!("```bash\nrun --limit={n} --host=db-{n}\n```\n\n")),
            Part::Quote(i) => s.push_str(&format!("> {}\n\n", PROSE[*i])),
            Part::Private(v, t) => {
                let token = format!("zqpriv{t}x");
                planted.push(token.clone());
                s.push_str("<!-- husk:private -->\n### Private notes\n\n");
                for i in v {
                    s.push_str(&format!("- {} Host {token} is special.\n", PROSE[*i]));
                }
                s.push_str("<!-- husk:end -->\n\n");
            }
            Part::Public(i) => {
                s.push_str(&format!("<!-- husk:public -->\n{}\n<!-- husk:end -->\n\n", PROSE[*i]))
            }
        }
    }
    if crlf {
        s = s.replace('\n', "\r\n");
    }
    (s, planted)
}

fn headings_outside_private(src: &str) -> Vec<String> {
    let map = block_map(src);
    map.headings
        .iter()
        .filter(|h| !map.private.iter().any(|p| p.start <= h.start && h.start < p.end))
        .map(|h| src[h.clone()].trim_end().to_string())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn private_never_leaks_and_untouched_bytes_survive(parts in prop::collection::vec(part(), 1..14), crlf in any::<bool>(), level in 0usize..3, seed in any::<u64>()) {
        let (src, planted) = render(&parts, crlf);
        let mut opts = SanitizeOptions::new(Level::ALL[level]);
        opts.seed = seed;
        let husk = sanitize(&src, &opts).expect("generated documents sanitize");

        for t in &planted {
            prop_assert!(!husk.text.contains(t.as_str()), "planted private token {} leaked", t);
        }
        prop_assert!(!husk.text.contains("husk:private") && !husk.text.contains("husk:end"));

        let out_headings: Vec<String> = husk.text.lines().filter(|l| l.starts_with('#')).map(|l| l.trim_end().to_string()).collect();
        prop_assert_eq!(out_headings, headings_outside_private(&src));

        // Every gap between edited ranges is copied verbatim and in order.
        let map = block_map(&src);
        let mut edited: Vec<Range<usize>> = map.removals.clone();
        for (b, o) in map.blocks.iter().zip(&husk.blocks) {
            if o.action != Action::Keep && b.region != Region::Private {
                edited.push(b.range.clone());
            }
        }
        edited.sort_by_key(|r| r.start);
        let mut pos = 0usize;
        let mut at = 0usize;
        for r in edited.iter().chain(std::iter::once(&(src.len()..src.len()))) {
            if r.start > pos {
                let gap = &src[pos..r.start];
                match husk.text[at..].find(gap) {
                    Some(i) => at += i + gap.len(),
                    None => prop_assert!(false, "untouched bytes {:?} missing from the husk", gap),
                }
            }
            pos = pos.max(r.end);
        }
        if crlf {
            prop_assert!(!husk.text.replace("\r\n", "").contains('\n'), "a bare LF in a CRLF document");
        }
    }
}
