//! The leak gate: distinctive tokens of withheld blocks must not appear anywhere in a husk.
//!
//! Distinctive tokens are the specifics the classifier's scanners find in a block: numbers with
//! units, names, internal identifiers and long quoted phrasings (private blocks also give up bare
//! numbers and Chinese numeral quantities). Tokens that also occur in the document's public
//! skeleton (headings, table headers, front matter keys, `husk:public` text) are not distinctive:
//! they are shown on purpose. The check is one Aho-Corasick pass over the husk.

use crate::classify::{Span, SpanKind};
use aho_corasick::{AhoCorasickBuilder, MatchKind};

/// The distinctive tokens of `text` given its specific spans. `private` widens the net.
pub fn distinctive_tokens(text: &str, spans: &[Span], private: bool) -> Vec<String> {
    let mut out = Vec::new();
    for s in spans {
        let keep = match s.kind {
            SpanKind::Name | SpanKind::Identifier | SpanKind::Measure(_) | SpanKind::Quote { long: true } => true,
            SpanKind::BareNumber | SpanKind::ZhNumeral => private || text[s.range.clone()].len() >= 3,
            SpanKind::Quote { long: false } => private,
        };
        if !keep {
            continue;
        }
        let t = text[s.range.clone()].trim().trim_matches('`');
        if t.chars().filter(|c| c.is_alphanumeric()).count() >= 2 {
            out.push(t.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One token of a withheld block found in the husk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index of the withheld block the token belongs to (caller's numbering).
    pub owner: usize,
    /// Byte offset of the occurrence in the husk.
    pub at: usize,
    pub len: usize,
}

/// Find every occurrence in `husk` of any owner's tokens, ignoring tokens present in `public`
/// (lowercased skeleton text). Matching is ASCII case-insensitive with word boundaries at
/// alphanumeric edges.
pub fn find_leaks(husk: &str, tokens: &[(usize, Vec<String>)], public: &str) -> Vec<Finding> {
    let mut pats: Vec<String> = Vec::new();
    let mut owners: Vec<usize> = Vec::new();
    for (owner, toks) in tokens {
        for t in toks {
            let lower = t.to_ascii_lowercase();
            if public.contains(&lower) {
                continue;
            }
            pats.push(lower);
            owners.push(*owner);
        }
    }
    if pats.is_empty() {
        return Vec::new();
    }
    let Ok(ac) = AhoCorasickBuilder::new().ascii_case_insensitive(true).match_kind(MatchKind::Standard).build(&pats) else {
        return Vec::new();
    };
    let bytes = husk.as_bytes();
    let mut out = Vec::new();
    for m in ac.find_overlapping_iter(husk) {
        let (s, e) = (m.start(), m.end());
        let p = &pats[m.pattern().as_usize()];
        let first = p.as_bytes()[0];
        let last = p.as_bytes()[p.len() - 1];
        if first.is_ascii_alphanumeric() && s > 0 && bytes[s - 1].is_ascii_alphanumeric() {
            continue;
        }
        if last.is_ascii_alphanumeric() && e < bytes.len() && bytes[e].is_ascii_alphanumeric() {
            continue;
        }
        out.push(Finding { owner: owners[m.pattern().as_usize()], at: s, len: e - s });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::MeasureKind;

    #[test]
    fn tokens_respect_boundaries_and_public_text() {
        let toks = vec![(0, vec!["2%".to_string(), "Marta".to_string()]), (1, vec!["status".to_string()])];
        let f = find_leaks("up 12% then 2% for marta and Martain; status page", &toks, "## status page");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0], Finding { owner: 0, at: 12, len: 2 });
        assert_eq!(f[1].at, 19);
    }

    #[test]
    fn private_blocks_give_up_more_tokens() {
        let text = "预算其实有 260 万, \"ok\" 3";
        let spans = vec![
            Span { range: 16..23, kind: SpanKind::Measure(MeasureKind::Amount) },
            Span { range: 26..28, kind: SpanKind::Quote { long: false } },
        ];
        assert_eq!(distinctive_tokens(text, &spans, false), ["260 万"]);
        assert_eq!(distinctive_tokens(text, &spans, true), ["260 万", "ok"]);
    }
}
