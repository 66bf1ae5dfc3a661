//! The lexicon's word scanner: one walk over a text finds the words of every list at once (cue
//! words in both languages, generic topic nouns, the specific terms of the topic map, English
//! number words, and the literals the cue patterns need).
//!
//! Each list used to have its own Aho-Corasick automaton, run one after the other over every
//! block. Their tables are large (0.5–2 MB each), and a DFA walk costs about the same per byte
//! whatever the table, so walking combined tables once is cheaper than five walks. The
//! combined automata report every occurrence of every word (standard, overlapping semantics);
//! each list's own leftmost-longest choice is then made from those occurrences, which gives
//! exactly what that list's own automaton would have found.

use crate::classify::word_bounded;
use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, MatchKind};
use smallvec::SmallVec;

/// Which list a word of the combined automata belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum List {
    /// English cue words (ASCII case-insensitive, word-bounded); value: the cue's index.
    CueEn,
    /// Chinese cue words and compounds (case-sensitive); value: the cue's index, or
    /// `u32::MAX` for a compound, which hides the cues inside it and counts for none.
    CueZh,
    /// Specific terms of the topic map (case-insensitive, not inside a longer alphanumeric
    /// run); value: key index.
    TopicMap,
    /// Generic English topic nouns (case-insensitive, not inside a longer alphanumeric run);
    /// value: list index.
    TopicEn,
    /// Generic Chinese topic nouns (case-sensitive); value: list index.
    TopicZh,
    /// English number words ("three", "a couple of"); any occurrence counts.
    NumberWord,
    /// A literal that a cue pattern's every match holds; value: the pattern's index.
    Trigger,
}

/// The lists the scanner is built from, each in its order of priority.
pub(crate) struct Lists<'a> {
    pub cue_en: &'a [(String, u32)],
    pub cue_zh: &'a [(String, u32)],
    pub topic_map: &'a [String],
    pub topics_en: &'a [String],
    pub topics_zh: &'a [String],
    pub number_words: &'a [String],
    /// Per cue pattern: the literals one of which each match holds (None: no such set).
    pub triggers: &'a [Option<Vec<Vec<u8>>>],
}

struct Entry {
    list: List,
    value: u32,
    /// The word's length in bytes.
    len: u32,
    /// The word must match exactly (its list is case-sensitive and it has ASCII letters).
    exact: Option<Box<[u8]>>,
}

/// Every list's words in two automata walked together: words with an ASCII byte, and words
/// without one (Chinese). Each has a much smaller alphabet than one automaton over all would,
/// so together their tables take half the memory (about 7 MB against 14) and the lexicon loads
/// in 27 ms instead of 34 (what every run of the command line pays); an ASCII byte sends the
/// Chinese one back to its start without a table lookup. (One automaton walks about 2% faster
/// on large documents; start-up and memory weigh more for notes of a few kilobytes.)
pub struct WordScanner {
    dfas: [DFA; 2],
    /// Per automaton: its pattern ids' entries (indexes into `entries`).
    ids: [Vec<u32>; 2],
    entries: Vec<Entry>,
    /// The words, by pattern id (for tests that check the scanner against each list alone).
    #[cfg(test)]
    words: Vec<Vec<u8>>,
}

/// What the word lists find in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Words {
    /// The cue index of each English cue word found (leftmost-longest, word-bounded).
    pub cues_en: SmallVec<[u32; 4]>,
    /// The cue index of each Chinese cue word found (leftmost-longest, compounds left out).
    pub cues_zh: SmallVec<[u32; 4]>,
    /// The first word-bounded specific term of the topic map (leftmost-longest): its key index.
    pub topic_map: Option<u32>,
    /// The longest (then first) word-bounded generic English topic noun: its list index.
    pub topic_en: Option<u32>,
    /// The longest (then first) generic Chinese topic noun: its list index.
    pub topic_zh: Option<u32>,
    /// An English number word occurs.
    pub number_word: bool,
    /// Bit `i`: a literal of cue pattern `i` occurs (patterns without literals are not marked).
    pub triggers: u64,
}

/// How many texts [`WordScanner::scan_many`] walks side by side.
const LANES: usize = 4;

/// One occurrence: (list, start, end, pattern id).
type Hit = (List, usize, usize, u32);

/// `text[s..e]` is not part of a longer alphanumeric run: an edge counts only where an ASCII
/// alphanumeric meets another ("cache" is not found in "caches", ".NET" is in "ASP.NET").
fn term_bounded(text: &[u8], s: usize, e: usize) -> bool {
    let edge = |i: usize| text[i].is_ascii_alphanumeric();
    (s == 0 || !edge(s - 1) || !edge(s)) && (e >= text.len() || !edge(e) || !edge(e - 1))
}

impl WordScanner {
    pub(crate) fn new(lists: &Lists) -> Result<WordScanner, String> {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut entries = Vec::new();
        let mut add = |w: &[u8], list: List, value: u32, case_sensitive: bool| {
            if w.is_empty() {
                return;
            }
            let exact = (case_sensitive && w.iter().any(u8::is_ascii_alphabetic)).then(|| w.into());
            words.push(w.to_vec());
            entries.push(Entry { list, value, len: w.len() as u32, exact });
        };
        for (w, id) in lists.cue_en {
            add(w.as_bytes(), List::CueEn, *id, false);
        }
        for (w, id) in lists.cue_zh {
            add(w.as_bytes(), List::CueZh, *id, true);
        }
        for (i, w) in lists.topic_map.iter().enumerate() {
            add(w.as_bytes(), List::TopicMap, i as u32, false);
        }
        for (i, w) in lists.topics_en.iter().enumerate() {
            add(w.as_bytes(), List::TopicEn, i as u32, false);
        }
        for (i, w) in lists.topics_zh.iter().enumerate() {
            add(w.as_bytes(), List::TopicZh, i as u32, true);
        }
        for w in lists.number_words {
            add(w.as_bytes(), List::NumberWord, 0, false);
        }
        if lists.triggers.len() > 64 {
            return Err("more than 64 cue patterns".into());
        }
        for (i, lits) in lists.triggers.iter().enumerate() {
            // Found case-insensitively: a superset of the exact occurrences, so still a
            // necessary condition for the pattern.
            for l in lits.iter().flatten() {
                add(l, List::Trigger, i as u32, false);
            }
        }
        let mut ids: [Vec<u32>; 2] = Default::default();
        for (i, w) in words.iter().enumerate() {
            ids[usize::from(!w.iter().any(u8::is_ascii))].push(i as u32);
        }
        let build = |ids: &[u32]| {
            aho_corasick::dfa::Builder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .prefilter(false)
                .build(ids.iter().map(|&i| &words[i as usize]))
                .map_err(|e| e.to_string())
        };
        let dfas = [build(&ids[0])?, build(&ids[1])?];
        Ok(WordScanner {
            dfas,
            ids,
            entries,
            #[cfg(test)]
            words,
        })
    }

    /// Scan `text` once for every list.
    pub fn scan(&self, text: &str) -> Words {
        self.scan_many(&[text]).pop().unwrap_or_default()
    }

    /// Scan each of `texts` once for every list: the same as [`WordScanner::scan`] on each,
    /// walked side by side (see [`walk_many`]).
    pub fn scan_many(&self, texts: &[&str]) -> Vec<Words> {
        let mut out = vec![Words::default(); texts.len()];
        let mut hits = Vec::new();
        walk_many([&self.dfas[0], &self.dfas[1]], [Bytes::All, Bytes::NonAscii], texts, |i, raw| {
            out[i] = self.finish(texts[i], raw, &mut hits)
        });
        out
    }

    /// The words of each list from every occurrence (pattern id, end) a walk over `text` found
    /// (`hits` is scratch space).
    fn finish(&self, text: &str, raw: &[(u32, u32)], hits: &mut Vec<Hit>) -> Words {
        let bytes = text.as_bytes();
        let mut words = Words::default();
        hits.clear();
        for &(found, end) in raw {
            let pid = self.ids[(found >> 24) as usize][(found & 0xff_ffff) as usize];
            let e = &self.entries[pid as usize];
            let end = end as usize;
            let start = end - e.len as usize;
            if e.exact.as_deref().is_some_and(|w| &bytes[start..end] != w) {
                continue;
            }
            match e.list {
                List::NumberWord => words.number_word = true,
                List::Trigger => words.triggers |= 1 << e.value,
                list => hits.push((list, start, end, pid)),
            }
        }
        if hits.is_empty() {
            return words;
        }
        // Each list's leftmost-longest matches: by start, then longest, then first listed;
        // a match starting inside the one before is passed over.
        hits.sort_unstable_by_key(|&(list, s, e, pid)| (list, s, std::cmp::Reverse(e), pid));
        let mut last: Option<(List, usize)> = None;
        let mut best_en: Option<(usize, usize, u32)> = None;
        let mut best_zh: Option<(usize, usize, u32)> = None;
        for &(list, s, e, pid) in hits.iter() {
            if last.is_some_and(|(l, end)| l == list && s < end) {
                continue;
            }
            last = Some((list, e));
            let value = self.entries[pid as usize].value;
            match list {
                List::CueEn if word_bounded(bytes, s, e) => words.cues_en.push(value),
                List::CueZh if value != u32::MAX => words.cues_zh.push(value),
                List::TopicMap if words.topic_map.is_none() && term_bounded(bytes, s, e) => {
                    words.topic_map = Some(value)
                }
                // The longest; of equally long ones, the first.
                List::TopicEn
                    if term_bounded(bytes, s, e) && best_en.is_none_or(|(len, _, _)| e - s > len) =>
                {
                    best_en = Some((e - s, s, value))
                }
                List::TopicZh if best_zh.is_none_or(|(len, _, _)| e - s > len) => {
                    best_zh = Some((e - s, s, value))
                }
                _ => {}
            }
        }
        words.topic_en = best_en.map(|b| b.2);
        words.topic_zh = best_zh.map(|b| b.2);
        words
    }

    pub fn memory_usage(&self) -> usize {
        self.dfas.iter().map(DFA::memory_usage).sum()
    }
}

/// Walk each of `texts` through each of `auts` and hand `done(i, found)` every occurrence in
/// text `i` as (automaton index << 24 | pattern id, end), in order of end (and of automaton),
/// as each automaton's overlapping search reports them. Four texts are walked side by side:
/// each walk is a chain of dependent loads from an automaton's table, and independent chains
/// overlap their cache misses.
pub(crate) fn walk_many<A: Automaton, const N: usize>(
    auts: [&A; N],
    alphabets: [Bytes; N],
    texts: &[&str],
    mut done: impl FnMut(usize, &[(u32, u32)]),
) {
    let mut start = [aho_corasick::automaton::StateID::ZERO; N];
    for (s, a) in start.iter_mut().zip(auts) {
        let Ok(id) = a.start_state(Anchored::No) else { return };
        *s = id;
    }
    // Texts of similar length side by side: little is left over for one walk alone.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut raw: [Vec<(u32, u32)>; LANES] = std::array::from_fn(|_| Vec::new());
    for chunk in order.chunks(LANES) {
        let mut lanes: [&[u8]; LANES] = [&[]; LANES];
        for (lane, &i) in lanes.iter_mut().zip(chunk) {
            *lane = texts[i].as_bytes();
        }
        let b = &lanes[..chunk.len()];
        let mut sid = [start; LANES];
        let mut shared = 0;
        if chunk.len() == LANES {
            shared = lanes[0].len();
            // (Indexed, not iterated: the lanes advance together through position `i`.)
            #[allow(clippy::needless_range_loop)]
            for i in 0..shared {
                for k in 0..LANES {
                    for a in 0..N {
                        step(auts[a], a, alphabets[a], start[a], &mut sid[k][a], lanes[k][i], i, &mut raw[k]);
                    }
                }
            }
        }
        for (k, bytes) in b.iter().enumerate() {
            for (i, &byte) in bytes.iter().enumerate().skip(shared) {
                for a in 0..N {
                    step(auts[a], a, alphabets[a], start[a], &mut sid[k][a], byte, i, &mut raw[k]);
                }
            }
            done(chunk[k], &raw[k]);
            raw[k].clear();
        }
    }
}

/// Which bytes an automaton's words hold: a byte outside them leads back to the start state
/// (no word continues or ends with it), so it needs no table lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bytes {
    /// Words without an ASCII byte.
    NonAscii,
    All,
}

/// One byte of a walk: the next state, and the patterns that end at `i` if it is a match.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step<A: Automaton>(
    aut: &A,
    a: usize,
    bytes: Bytes,
    start: aho_corasick::automaton::StateID,
    sid: &mut aho_corasick::automaton::StateID,
    b: u8,
    i: usize,
    raw: &mut Vec<(u32, u32)>,
) {
    let outside = bytes == Bytes::NonAscii && b.is_ascii();
    if outside {
        *sid = start;
        return;
    }
    *sid = aut.next_state(Anchored::No, *sid, b);
    if aut.is_special(*sid) && aut.is_match(*sid) {
        for k in 0..aut.match_len(*sid) {
            raw.push(((a as u32) << 24 | aut.match_pattern(*sid, k).as_u32(), i as u32 + 1));
        }
    }
}

/// The literals one of which every match of `regex` holds, if the pattern gives a small set:
/// its prefixes, its suffixes, or the prefixes of one of its parts in sequence, whichever set's
/// shortest literal is longest. None when no part gives a finite set of non-empty literals.
pub(crate) fn required_literals(regex: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    use regex_syntax::hir::{Hir, HirKind};
    let hir = regex_syntax::parse(regex).ok()?;
    let extract = |h: &Hir, kind: ExtractKind| -> Option<Vec<Vec<u8>>> {
        let mut ex = Extractor::new();
        ex.kind(kind);
        let seq = ex.extract(h);
        let lits = seq.literals()?;
        if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
            return None;
        }
        let mut v: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        Some(v)
    };
    let mut candidates = vec![extract(&hir, ExtractKind::Prefix), extract(&hir, ExtractKind::Suffix)];
    // The top-level sequence, under any capture groups: each part must match for the whole to.
    let mut top = &hir;
    while let HirKind::Capture(c) = top.kind() {
        top = &c.sub;
    }
    if let HirKind::Concat(parts) = top.kind() {
        candidates.extend(parts.iter().map(|p| extract(p, ExtractKind::Prefix)));
    }
    // The first of the best: the prefixes when they are as good as any.
    let key = |v: &Vec<Vec<u8>>| (v.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(v.len()));
    candidates.into_iter().flatten().fold(None, |best: Option<Vec<Vec<u8>>>, v| match best {
        Some(b) if key(&b) >= key(&v) => Some(b),
        _ => Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|w| w.to_string()).collect()
    }

    fn scanner(
        cue_en: &[(&str, u32)],
        topics_en: &[&str],
        topics_zh: &[&str],
        triggers: &[Option<Vec<Vec<u8>>>],
    ) -> WordScanner {
        let cue_en: Vec<(String, u32)> = cue_en.iter().map(|(w, i)| (w.to_string(), *i)).collect();
        let cue_zh = vec![("不要".to_string(), 3), ("不要紧".to_string(), u32::MAX), ("P0".to_string(), 4)];
        WordScanner::new(&Lists {
            cue_en: &cue_en,
            cue_zh: &cue_zh,
            topic_map: &s(&["redis", "kafka consumer"]),
            topics_en: &s(topics_en),
            topics_zh: &s(topics_zh),
            number_words: &s(&["three", "a couple of"]),
            triggers,
        })
        .unwrap()
    }

    /// The reference: each list's own leftmost-longest automaton, as the engine had before.
    fn reference(words: &[&str], ci: bool, text: &str) -> Vec<(usize, usize, usize)> {
        let ac = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(ci)
            .match_kind(MatchKind::LeftmostLongest)
            .build(words)
            .unwrap();
        ac.find_iter(text).map(|m| (m.pattern().as_usize(), m.start(), m.end())).collect()
    }

    #[test]
    fn each_list_gets_its_own_leftmost_longest_matches() {
        let cue_en = [("never", 0), ("never ever", 1), ("ever", 2), ("must", 5)];
        let sc = scanner(&cue_en, &["cache", "cache warming", "warming"], &["缓存", "缓存预热"], &[]);
        let text = "Never ever skip cache warming; you MUST. 不要紧，不要动缓存预热。p0 P0 Redis three";
        let w = sc.scan(text);
        let want: Vec<u32> = reference(&["never", "never ever", "ever", "must"], true, text)
            .iter()
            .map(|m| cue_en[m.0].1)
            .collect();
        assert_eq!(w.cues_en.as_slice(), want);
        assert_eq!(w.cues_en.as_slice(), [1, 5]);
        // The compound hides the cue inside it; "p0" is not "P0" (the Chinese list is exact).
        assert_eq!(w.cues_zh.as_slice(), [3, 4]);
        assert_eq!(w.topic_map, Some(0));
        assert_eq!(w.topic_en, Some(1));
        assert_eq!(w.topic_zh, Some(1));
        assert!(w.number_word);
    }

    #[test]
    fn word_bounds_apply_after_the_leftmost_longest_choice() {
        // "nevermore" takes the place of "never", and is not bounded: nothing counts (as with
        // the list's own automaton, whose match is filtered afterwards).
        let sc = scanner(&[("never", 0), ("nevermore", 1)], &["cache"], &[], &[]);
        let w = sc.scan("nevermores and caches");
        assert!(w.cues_en.is_empty());
        assert_eq!(w.topic_en, None);
        assert!(!w.number_word);
    }

    #[test]
    fn triggers_mark_their_pattern() {
        let t = vec![
            required_literals("(如果|要是)[^。]{1,40}就"),
            required_literals("(?i)(?-u:\\b)(above|below)\\s+\\d"),
        ];
        let sc = scanner(&[], &[], &[], &t);
        assert_eq!(sc.scan("要是超了就停").triggers, 0b01);
        assert_eq!(sc.scan("keep it ABOVE 3").triggers, 0b10);
        assert_eq!(sc.scan("nothing here").triggers, 0);
    }

    #[test]
    fn required_literals_hold_for_every_match() {
        assert_eq!(
            required_literals("先[^。；，]{1,20}[，,]?\\s*再").unwrap(),
            vec!["先".as_bytes().to_vec()]
        );
        // No prefix (it starts with a look-around and a class): a suffix, or better a part.
        assert_eq!(
            required_literals("^\\s*(你|我)\\s*[：:]").unwrap(),
            vec!["你".as_bytes().to_vec(), "我".as_bytes().to_vec()]
        );
        assert_eq!(
            required_literals("^\\s*\\w+[：:]").unwrap(),
            vec![b":".to_vec(), "：".as_bytes().to_vec()]
        );
        // Neither prefix nor suffix: a part in the middle.
        let mid = required_literals(
            "(?i)(?:^|[.;:]\\s+)(to get|if you want)(?-u:\\b)[^.;]{3,60},\\s*(first|always)(?-u:\\b)",
        )
        .unwrap();
        let words: [&[u8]; 4] = [b"to get", b"if you want", b"first", b"always"];
        assert!(mid.iter().all(|l| words.iter().any(|w| w.starts_with(l))), "{mid:?}");
        assert_eq!(required_literals("\\d+"), None);
    }

    /// Each list's own leftmost-longest automaton over the real lexicon, with the value of each
    /// of its patterns: what the engine ran before the combined scan.
    fn own_automata() -> &'static Vec<(List, aho_corasick::AhoCorasick, Vec<u32>)> {
        static A: std::sync::OnceLock<Vec<(List, aho_corasick::AhoCorasick, Vec<u32>)>> =
            std::sync::OnceLock::new();
        A.get_or_init(|| {
            let sc = &crate::lexicon::lexicon().words;
            [List::CueEn, List::CueZh, List::TopicMap, List::TopicEn, List::TopicZh]
                .into_iter()
                .map(|list| {
                    let ids: Vec<usize> =
                        (0..sc.entries.len()).filter(|&i| sc.entries[i].list == list).collect();
                    let pats: Vec<&[u8]> = ids.iter().map(|&i| sc.words[i].as_slice()).collect();
                    let ci = matches!(list, List::CueEn | List::TopicMap | List::TopicEn);
                    let ac = aho_corasick::AhoCorasickBuilder::new()
                        .ascii_case_insensitive(ci)
                        .match_kind(MatchKind::LeftmostLongest)
                        .build(&pats)
                        .unwrap();
                    (list, ac, ids.iter().map(|&i| sc.entries[i].value).collect())
                })
                .collect()
        })
    }

    /// What the lists find one at a time, the old way.
    fn one_list_at_a_time(text: &str) -> Words {
        let b = text.as_bytes();
        let mut w = Words::default();
        for (list, ac, values) in own_automata() {
            let found: Vec<(u32, usize, usize)> =
                ac.find_iter(text).map(|m| (values[m.pattern().as_usize()], m.start(), m.end())).collect();
            match list {
                List::CueEn => {
                    w.cues_en = found.iter().filter(|m| word_bounded(b, m.1, m.2)).map(|m| m.0).collect()
                }
                List::CueZh => w.cues_zh = found.iter().filter(|m| m.0 != u32::MAX).map(|m| m.0).collect(),
                List::TopicMap => w.topic_map = found.iter().find(|m| term_bounded(b, m.1, m.2)).map(|m| m.0),
                List::TopicEn => {
                    w.topic_en = found
                        .iter()
                        .filter(|m| term_bounded(b, m.1, m.2))
                        .max_by_key(|m| (m.2 - m.1, std::cmp::Reverse(m.1)))
                        .map(|m| m.0)
                }
                _ => {
                    w.topic_zh = found.iter().max_by_key(|m| (m.2 - m.1, std::cmp::Reverse(m.1))).map(|m| m.0)
                }
            }
        }
        w
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Over the real lexicon: words of every list run together, cut, cased and glued with
        /// separators, find what each list's own automaton finds; and a pattern that matches
        /// always has its literal marked.
        #[test]
        fn the_combined_scan_finds_what_each_list_finds(picks in proptest::collection::vec((0usize..100_000, 0usize..8, proptest::bool::ANY, 0usize..4), 1..12)) {
            let lex = crate::lexicon::lexicon();
            let sc = &lex.words;
            let mut text = String::new();
            for (i, sep, upper, cut) in picks {
                let w = String::from_utf8_lossy(&sc.words[i % sc.words.len()]).into_owned();
                let w: String = w.chars().skip(cut % 2).take(w.chars().count().saturating_sub(cut / 2)).collect();
                text.push_str(&if upper { w.to_uppercase() } else { w });
                text.push_str(["", " ", "_", "s", "，", "1", "的", ", then "][sep]);
            }
            let mut got = sc.scan(&text);
            let want = one_list_at_a_time(&text);
            for (i, p) in lex.patterns.iter().enumerate() {
                if p.triggered && p.regex.is_match(&text) {
                    proptest::prop_assert!(got.triggers & (1 << i) != 0, "{} in {text}", p.cue.id);
                }
            }
            got.triggers = 0;
            got.number_word = false;
            proptest::prop_assert_eq!(got, want, "{}", text);
        }

        /// Walking texts side by side finds in each what walking it alone finds.
        #[test]
        fn scan_many_is_scan_on_each(texts in proptest::collection::vec("(缓存|cache|never|不要|P0| |x|如果|就|Redis|三){0,12}", 0..11)) {
            let sc = &crate::lexicon::lexicon().words;
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let each: Vec<Words> = refs.iter().map(|t| sc.scan(t)).collect();
            proptest::prop_assert_eq!(sc.scan_many(&refs), each);
        }
    }
}
