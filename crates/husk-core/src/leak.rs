//! The leak gate: distinctive tokens of withheld blocks must not appear anywhere in a husk.
//!
//! Distinctive tokens are the specifics the classifier's scanners find in a block: numbers with
//! units, names, internal identifiers and long quoted phrasings (private blocks also give up bare
//! numbers and Chinese numeral quantities). Tokens that also occur in the document's public
//! skeleton (headings, table headers, front matter keys, `husk:public` text) are not distinctive:
//! they are shown on purpose. A [`Gate`] compiles a set of tokens into one matcher
//! ([`Needles`]) and scans a whole husk or only a window of it (the rewriter rescans just what
//! it redrew).

use crate::classify::{Span, SpanKind};
use crate::needles::Needles;
use std::ops::Range;

/// A distinctive token (a slice of the block it came from) and the kind of span it came from
/// (which says what rewriting removes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub kind: SpanKind,
}

/// The distinctive tokens of `text` given its specific spans, sorted and without repeats.
/// `private` widens the net.
pub fn distinctive_tokens<'a, 's>(
    text: &'a str,
    spans: impl IntoIterator<Item = &'s Span>,
    private: bool,
) -> Vec<Token<'a>> {
    let mut out: Vec<Token> = Vec::new();
    for s in spans {
        let keep = match s.kind {
            SpanKind::Name | SpanKind::Identifier | SpanKind::Measure(_) | SpanKind::Quote { long: true } => {
                true
            }
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
            out.push(Token { text: t, kind: s.kind });
        }
    }
    out.sort_by(|a, b| a.text.cmp(b.text));
    out.dedup_by(|a, b| a.text == b.text);
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
    /// The kind of span the token came from.
    pub kind: SpanKind,
}

/// The tokens one withheld block gives up. `strict` tokens (from private content) are checked
/// even where they also appear in the public skeleton.
#[derive(Debug, Clone)]
pub struct Withheld<'a> {
    pub owner: usize,
    pub tokens: Vec<Token<'a>>,
    pub strict: bool,
}

/// The tokens of a set of withheld blocks, compiled once into one matcher, to be run over a
/// whole husk or over the parts of it that changed.
pub struct Gate {
    needles: Needles,
    owners: Vec<usize>,
    kinds: Vec<SpanKind>,
    /// Patterns that count: strict, or not shown by the public skeleton.
    live: Vec<bool>,
    longest: usize,
}

impl Gate {
    /// Compile the tokens of `withheld`; `public` is the lowercased skeleton text. None when
    /// there is no token to look for.
    pub fn new(withheld: &[Withheld], public: &str) -> Option<Gate> {
        Gate::build(
            withheld.iter().flat_map(|w| w.tokens.iter().map(move |t| (w.owner, t, w.strict))),
            public,
        )
    }

    /// [`Gate::new`] from (owner, token, strict) triples, so the caller need not copy tokens.
    pub fn build<'t, 'a: 't>(
        tokens: impl IntoIterator<Item = (usize, &'t Token<'a>, bool)>,
        public: &str,
    ) -> Option<Gate> {
        // One pattern per distinct token (a repeated block gives the same tokens many times):
        // the first owner names it, and it is strict if any owner is private.
        let mut pats: Vec<String> = Vec::new();
        let mut owners = Vec::new();
        let mut kinds = Vec::new();
        let mut strict: Vec<bool> = Vec::new();
        let mut index: rustc_hash::FxHashMap<String, usize> = rustc_hash::FxHashMap::default();
        let mut lower = String::new();
        for (owner, t, is_strict) in tokens {
            lower.clear();
            lower.push_str(t.text);
            lower.make_ascii_lowercase();
            match index.get(lower.as_str()) {
                Some(&i) => strict[i] |= is_strict,
                None => {
                    index.insert(lower.clone(), pats.len());
                    pats.push(lower.clone());
                    owners.push(owner);
                    kinds.push(t.kind);
                    strict.push(is_strict);
                }
            }
        }
        if pats.is_empty() {
            return None;
        }
        // Built for every document and gate round: a matcher that is cheap to build.
        let needles = Needles::new(&pats, true);
        // Tokens the public skeleton shows are not distinctive (one pass over it for all tokens).
        let mut live = strict;
        let mut shown = vec![false; pats.len()];
        needles.for_each(public.as_bytes(), 0..public.len(), |_, _, id| shown[id] = true);
        for (l, s) in live.iter_mut().zip(shown) {
            *l |= !s;
        }
        let longest = pats.iter().map(String::len).max().unwrap_or(0);
        Some(Gate { needles, owners, kinds, live, longest })
    }

    /// Occurrences in `husk` that overlap `window` (a byte range of it), in no particular order.
    /// Matching is ASCII case-insensitive, with word boundaries at alphanumeric edges judged on
    /// the whole husk.
    pub fn scan(&self, husk: &str, window: Range<usize>, out: &mut Vec<Finding>) {
        let bytes = husk.as_bytes();
        let from = window.start.saturating_sub(self.longest);
        let to = (window.end + self.longest).min(bytes.len());
        if from >= to {
            return;
        }
        self.needles.for_each(bytes, from..to, |s, e, id| {
            if !self.live[id] || e <= window.start || s >= window.end {
                return;
            }
            let p = self.needles.pattern(id);
            if p[0].is_ascii_alphanumeric() && s > 0 && bytes[s - 1].is_ascii_alphanumeric() {
                return;
            }
            if p[p.len() - 1].is_ascii_alphanumeric() && e < bytes.len() && bytes[e].is_ascii_alphanumeric() {
                return;
            }
            out.push(Finding { owner: self.owners[id], at: s, len: e - s, kind: self.kinds[id] });
        });
    }
}

/// Find every occurrence in `husk` of any owner's tokens, ignoring non-strict tokens present in
/// `public` (lowercased skeleton text), in order of position.
pub fn find_leaks(husk: &str, withheld: &[Withheld], public: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(g) = Gate::new(withheld, public) {
        g.scan(husk, 0..husk.len(), &mut out);
    }
    out.sort_by_key(|f| (f.at, f.len, f.owner));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::MeasureKind;

    fn tok(text: &str, kind: SpanKind) -> Token<'_> {
        Token { text, kind }
    }

    fn threshold() -> SpanKind {
        SpanKind::Measure(MeasureKind::Threshold)
    }

    #[test]
    fn a_window_scan_finds_what_the_full_scan_finds_there() {
        let toks = vec![Withheld {
            owner: 0,
            tokens: vec![tok("Marta Oyelaran", SpanKind::Name), tok("8%", threshold())],
            strict: false,
        }];
        let husk = "Ask Marta Oyelaran. Keep it under 8%. Then ask Marta Oyelaran again.";
        let g = Gate::new(&toks, "").unwrap();
        let mut full = Vec::new();
        g.scan(husk, 0..husk.len(), &mut full);
        full.sort_by_key(|f| f.at);
        assert_eq!(full.len(), 3, "{full:?}");
        // A window that cuts through the middle of an occurrence still reports it, once.
        let mut part = Vec::new();
        g.scan(husk, 10..12, &mut part);
        assert_eq!(part, [full[0].clone()]);
        let mut tail = Vec::new();
        g.scan(husk, 40..husk.len(), &mut tail);
        assert_eq!(tail, [full[2].clone()]);
    }

    #[test]
    fn tokens_respect_boundaries_and_public_text() {
        let toks = vec![
            Withheld {
                owner: 0,
                tokens: vec![tok("2%", threshold()), tok("Marta", SpanKind::Name)],
                strict: false,
            },
            Withheld { owner: 1, tokens: vec![tok("status", SpanKind::Identifier)], strict: false },
        ];
        let f = find_leaks("up 12% then 2% for marta and Martain; status page", &toks, "## status page");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0], Finding { owner: 0, at: 12, len: 2, kind: threshold() });
        assert_eq!(f[1].at, 19);
    }

    #[test]
    fn strict_tokens_are_found_even_in_the_skeleton() {
        let toks =
            vec![Withheld { owner: 3, tokens: vec![tok("zq-secret", SpanKind::Identifier)], strict: true }];
        let f = find_leaks("## About zq-secret\n", &toks, "## about zq-secret");
        assert_eq!(f, [Finding { owner: 3, at: 9, len: 9, kind: SpanKind::Identifier }]);
    }

    #[test]
    fn private_blocks_give_up_more_tokens() {
        let text = "预算其实有 260 万, \"okay\" 3";
        let spans = vec![
            Span { range: 16..23, kind: SpanKind::Measure(MeasureKind::Amount) },
            Span { range: 26..30, kind: SpanKind::Quote { long: false } },
        ];
        let texts = |private| {
            distinctive_tokens(text, &spans, private).into_iter().map(|t| t.text).collect::<Vec<_>>()
        };
        assert_eq!(texts(false), ["260 万"]);
        assert_eq!(texts(true), ["260 万", "okay"]);
    }
}
