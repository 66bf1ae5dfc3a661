//! A matcher for the small pattern sets Husk builds for every document: the names and
//! identifiers a document has shown (looked for in every block), and the distinctive tokens of
//! its withheld blocks (the leak gate). A few hundred short patterns, built and then run once or
//! twice over one document.
//!
//! For such sets an Aho-Corasick automaton costs more to build than to run, and its run waits on
//! sparse transitions. [`Needles`] builds in one sort: each pattern of three bytes or more is
//! filed under its first three bytes, and a bitmap of those prefixes, hashed, lets the scan pass
//! over almost every position with one lookup in 8 KB. Where the bitmap says a prefix may start,
//! the patterns filed under it are compared in full. Shorter patterns, rare in practice, are
//! checked at each position directly.
//!
//! It reports what an overlapping Aho-Corasick search reports: every occurrence of every
//! non-empty pattern (ASCII case-insensitively when asked), as (start, end, pattern index). Only
//! the order differs (by start here); the callers do not depend on it.

use std::ops::Range;

/// ASCII uppercase letters to lowercase, every other byte unchanged.
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    t
};

/// Bits in the prefix bitmap (a power of two).
const BITS: usize = 1 << 16;

/// A set of patterns, compiled for [`Needles::for_each`].
#[derive(Debug, Clone)]
pub struct Needles {
    /// Every pattern's bytes (folded when matching ignores ASCII case), one after another.
    bytes: Vec<u8>,
    /// Pattern `i` is `bytes[bounds[i]..bounds[i + 1]]`.
    bounds: Vec<usize>,
    fold: bool,
    /// Hashed three-byte prefixes of the patterns of three bytes or more.
    bitmap: Box<[u64; BITS / 64]>,
    /// (three-byte prefix, pattern) of those patterns, sorted.
    long: Vec<(u32, u32)>,
    /// Patterns of one or two bytes.
    short: Vec<u32>,
}

fn prefix_key(b0: u8, b1: u8, b2: u8) -> u32 {
    (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2)
}

fn slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize & (BITS - 1)
}

impl Needles {
    /// Compile `patterns`; `fold` makes matching ASCII case-insensitive. An empty pattern is
    /// kept (it keeps its index) but never reported.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P], fold: bool) -> Needles {
        let mut bytes = Vec::with_capacity(patterns.iter().map(|p| p.as_ref().len()).sum());
        let mut bounds = Vec::with_capacity(patterns.len() + 1);
        let mut bitmap = Box::new([0u64; BITS / 64]);
        let (mut long, mut short) = (Vec::new(), Vec::new());
        bounds.push(0);
        for (i, p) in patterns.iter().enumerate() {
            let at = bytes.len();
            bytes.extend(p.as_ref().iter().map(|&b| if fold { FOLD[usize::from(b)] } else { b }));
            bounds.push(bytes.len());
            let p = &bytes[at..];
            let id = i as u32;
            match p.len() {
                0 => {}
                1 | 2 => short.push(id),
                _ => {
                    let key = prefix_key(p[0], p[1], p[2]);
                    let s = slot(key);
                    bitmap[s / 64] |= 1 << (s % 64);
                    long.push((key, id));
                }
            }
        }
        long.sort_unstable();
        Needles { bytes, bounds, fold, bitmap, long, short }
    }

    /// The number of patterns.
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pattern `i`, folded if the set ignores case.
    pub fn pattern(&self, i: usize) -> &[u8] {
        &self.bytes[self.bounds[i]..self.bounds[i + 1]]
    }

    /// Call `f(start, end, pattern)` for every occurrence of every pattern that lies within
    /// `span` of `hay`.
    pub fn for_each(&self, hay: &[u8], span: Range<usize>, mut f: impl FnMut(usize, usize, usize)) {
        let to = span.end.min(hay.len());
        let from = span.start;
        if from > to {
            return;
        }
        if self.fold {
            self.short_in::<true>(hay, from, to, &mut f);
            self.long_in::<true>(hay, from, to, &mut f);
        } else {
            self.short_in::<false>(hay, from, to, &mut f);
            self.long_in::<false>(hay, from, to, &mut f);
        }
    }

    fn short_in<const FOLD_CASE: bool>(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        if self.short.is_empty() {
            return;
        }
        for i in from..to {
            for &id in &self.short {
                let p = self.pattern(id as usize);
                if i + p.len() <= to && eq::<FOLD_CASE>(&hay[i..i + p.len()], p) {
                    f(i, i + p.len(), id as usize);
                }
            }
        }
    }

    fn long_in<const FOLD_CASE: bool>(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        if self.long.is_empty() || to - from < 3 {
            return;
        }
        let low = |b: u8| if FOLD_CASE { FOLD[usize::from(b)] } else { b };
        let bitmap: &[u64; BITS / 64] = &self.bitmap;
        // The key of the three bytes at each position, rolled one byte at a time; the rare
        // position whose key is in the bitmap is checked out of line.
        let mut key = prefix_key(0, low(hay[from]), low(hay[from + 1]));
        for (n, &b) in hay[from + 2..to].iter().enumerate() {
            key = ((key << 8) | u32::from(low(b))) & 0xFF_FFFF;
            let s = slot(key);
            if bitmap[s / 64] & (1 << (s % 64)) != 0 {
                self.check::<FOLD_CASE>(hay, from + n, to, key, f);
            }
        }
    }

    /// Report the patterns filed under `key` that occur at `i`.
    #[inline(never)]
    fn check<const FOLD_CASE: bool>(
        &self,
        hay: &[u8],
        i: usize,
        to: usize,
        key: u32,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        let mut j = self.long.partition_point(|e| e.0 < key);
        while let Some(&(k, id)) = self.long.get(j) {
            if k != key {
                break;
            }
            let p = self.pattern(id as usize);
            if i + p.len() <= to && eq::<FOLD_CASE>(&hay[i + 3..i + p.len()], &p[3..]) {
                f(i, i + p.len(), id as usize);
            }
            j += 1;
        }
    }
}

/// `hay` equals the (folded) pattern bytes `p`.
fn eq<const FOLD_CASE: bool>(hay: &[u8], p: &[u8]) -> bool {
    if FOLD_CASE {
        hay.len() == p.len() && hay.iter().zip(p).all(|(&h, &q)| FOLD[usize::from(h)] == q)
    } else {
        hay == p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
    use proptest::prelude::*;

    fn found(n: &Needles, hay: &str, span: Range<usize>) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        n.for_each(hay.as_bytes(), span, |s, e, id| out.push((s, e, id)));
        out.sort_unstable();
        out
    }

    /// What an overlapping Aho-Corasick search reports, sorted.
    fn reference(pats: &[String], fold: bool, hay: &str, span: Range<usize>) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(fold)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(pats)
            .unwrap();
        let mut out: Vec<_> = ac
            .find_overlapping_iter(Input::new(hay).span(span))
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_overlapping_and_repeated_patterns() {
        let pats = ["Marta Oyelaran", "Marta", "ta o", "8%", "8", "薛婷", "Marta"];
        let n = Needles::new(&pats, true);
        let hay = "ask marta oyelaran, 8% and 薛婷";
        let got = found(&n, hay, 0..hay.len());
        assert_eq!(
            got,
            [(4, 9, 1), (4, 9, 6), (4, 18, 0), (7, 11, 2), (20, 21, 4), (20, 22, 3), (27, 33, 5)]
        );
        // Case matters without folding; a span cuts matches that cross its ends.
        let n = Needles::new(&pats, false);
        assert_eq!(found(&n, hay, 0..hay.len()), [(7, 11, 2), (20, 21, 4), (20, 22, 3), (27, 33, 5)]);
        assert_eq!(found(&n, hay, 21..30), []);
    }

    #[test]
    fn empty_patterns_are_ignored() {
        let n = Needles::new(&["", "ab"], false);
        assert_eq!(n.len(), 2);
        assert_eq!(found(&n, "xab", 0..3), [(1, 3, 1)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        /// Every occurrence an overlapping Aho-Corasick search reports, and nothing else, over
        /// patterns and texts built from a small alphabet (so that they collide often): ASCII
        /// of both cases, CJK, a multi-byte letter with case, separators.
        #[test]
        fn matches_what_aho_corasick_reports(
            pats in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(vec!["a", "A", "b", "B", "1", "%", " ", "薛", "婷", "两", "É", "é", "-"]), 1..7).prop_map(|v| v.concat()), 1..40),
            hay in proptest::collection::vec(proptest::sample::select(vec!["a", "A", "b", "B", "1", "%", " ", "薛", "婷", "两", "É", "é", "-", "x", "\n"]), 0..120).prop_map(|v| v.concat()),
            fold in any::<bool>(),
            cut in (0usize..200, 0usize..200),
        ) {
            let n = Needles::new(&pats, fold);
            proptest::prop_assert_eq!(found(&n, &hay, 0..hay.len()), reference(&pats, fold, &hay, 0..hay.len()));
            // Over a span, on char boundaries.
            let b: Vec<usize> = (0..=hay.len()).filter(|&i| hay.is_char_boundary(i)).collect();
            let (x, y) = (b[cut.0 % b.len()], b[cut.1 % b.len()]);
            let span = x.min(y)..x.max(y);
            proptest::prop_assert_eq!(found(&n, &hay, span.clone()), reference(&pats, fold, &hay, span));
        }
    }
}
