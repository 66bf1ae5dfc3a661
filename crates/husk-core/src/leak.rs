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
            SpanKind::BareNumber => private || text[s.range.clone()].len() >= 3,
            // "两个" is everyday Chinese; "十次里" is not.
            SpanKind::ZhNumeral => text[s.range.clone()].chars().count() >= 3,
            SpanKind::Quote { long: false } => private && text[s.range.clone()].chars().count() >= 3,
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

/// The tokens one withheld block gives up. `strict` tokens (from private content) are checked
/// even where they also appear in the public skeleton.
#[derive(Debug, Clone)]
pub struct Withheld {
    pub owner: usize,
    pub tokens: Vec<String>,
    pub strict: bool,
}

/// Find every occurrence in `husk` of any owner's tokens, ignoring non-strict tokens present in
/// `public` (lowercased skeleton text). Matching is ASCII case-insensitive with word boundaries
/// at alphanumeric edges.
pub fn find_leaks(husk: &str, withheld: &[Withheld], public: &str) -> Vec<Finding> {
    // One pattern per distinct token (a repeated block gives the same tokens many times): the
    // first owner names it, and it is strict if any owner is private.
    let mut pats: Vec<String> = Vec::new();
    let mut owners: Vec<usize> = Vec::new();
    let mut strict: Vec<bool> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for w in withheld {
        for t in &w.tokens {
            let lower = t.to_ascii_lowercase();
            match index.get(&lower) {
                Some(&i) => strict[i] |= w.strict,
                None => {
                    index.insert(lower.clone(), pats.len());
                    pats.push(lower);
                    owners.push(w.owner);
                    strict.push(w.strict);
                }
            }
        }
    }
    if pats.is_empty() {
        return Vec::new();
    }
    let Ok(ac) = AhoCorasickBuilder::new().ascii_case_insensitive(true).match_kind(MatchKind::Standard).build(&pats) else {
        return Vec::new();
    };
    // Tokens the public skeleton shows are not distinctive (one pass over it for all tokens).
    let mut shown = vec![false; pats.len()];
    for m in ac.find_overlapping_iter(public) {
        shown[m.pattern().as_usize()] = true;
    }
    let bytes = husk.as_bytes();
    let mut out = Vec::new();
    for m in ac.find_overlapping_iter(husk) {
        let (s, e) = (m.start(), m.end());
        let id = m.pattern().as_usize();
        if shown[id] && !strict[id] {
            continue;
        }
        let p = &pats[id];
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
        let toks = vec![
            Withheld { owner: 0, tokens: vec!["2%".to_string(), "Marta".to_string()], strict: false },
            Withheld { owner: 1, tokens: vec!["status".to_string()], strict: false },
        ];
        let f = find_leaks("up 12% then 2% for marta and Martain; status page", &toks, "## status page");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0], Finding { owner: 0, at: 12, len: 2 });
        assert_eq!(f[1].at, 19);
    }

    #[test]
    fn strict_tokens_are_found_even_in_the_skeleton() {
        let toks = vec![Withheld { owner: 3, tokens: vec!["zq-secret".to_string()], strict: true }];
        let f = find_leaks("## About zq-secret\n", &toks, "## about zq-secret");
        assert_eq!(f, [Finding { owner: 3, at: 9, len: 9 }]);
    }

    #[test]
    fn private_blocks_give_up_more_tokens() {
        let text = "预算其实有 260 万, \"okay\" 3";
        let spans = vec![
            Span { range: 16..23, kind: SpanKind::Measure(MeasureKind::Amount) },
            Span { range: 26..30, kind: SpanKind::Quote { long: false } },
        ];
        assert_eq!(distinctive_tokens(text, &spans, false), ["260 万"]);
        assert_eq!(distinctive_tokens(text, &spans, true), ["260 万", "okay"]);
    }
}
