//! Trace: given a text found elsewhere (an agent's output, a copy of a skill), find which exports
//! in the ledger and which vault notes it overlaps, and whether knowledge an export withheld shows
//! up in it. Texts are compared by shingles — hashes of runs of five tokens, where a token is a
//! word or a single CJK character — so light edits still match. The ledger stores only these
//! hashes, never the withheld text.

use crate::ledger::LedgerEntry;
use crate::vault::{Result, Vault};
use serde::Serialize;
use std::collections::HashSet;

/// Tokens per shingle.
pub const SHINGLE: usize = 5;
/// Export shingles kept in the ledger: those whose hash is 0 modulo this.
pub const SAMPLE_MOD: u64 = 4;

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Lowercased words and single CJK characters; markdown punctuation is dropped.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn fnv1a(parts: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // Keep within 53 bits so the numbers survive JSON readers that use doubles.
    h & ((1 << 53) - 1)
}

/// Every shingle hash of `text`, deduplicated and sorted. A text shorter than one shingle gives
/// one hash of all its tokens.
pub fn shingles(text: &str) -> Vec<u64> {
    shingles_of(&tokens(text))
}

/// [`shingles`] of text already split into tokens.
fn shingles_of(t: &[String]) -> Vec<u64> {
    let mut out: Vec<u64> = if t.is_empty() {
        Vec::new()
    } else if t.len() < SHINGLE {
        vec![fnv1a(t)]
    } else {
        t.windows(SHINGLE).map(fnv1a).collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Hashes of every run of exactly `n` tokens (for matching blocks shorter than a shingle).
fn ngrams(tokens: &[String], n: usize) -> HashSet<u64> {
    if n == 0 || tokens.len() < n {
        return HashSet::new();
    }
    tokens.windows(n).map(fnv1a).collect()
}

/// What a withheld block gives up, as the ledger records it: the shingles of its original text
/// that `husk` (the document as exported) does not show, and the original's token count. A masked
/// or diluted block keeps most of its words in the husk; only the runs around what it withheld
/// count, so tracing the husk itself finds nothing withheld in it.
pub fn withheld_shingles(original: &str, husk: &mut HuskShingles) -> (Vec<u64>, usize) {
    let t = tokens(original);
    let mut own = shingles_of(&t);
    if t.len() < SHINGLE {
        let HuskShingles { tokens, short, .. } = husk;
        let shown = short.entry(t.len()).or_insert_with(|| ngrams(tokens, t.len()));
        own.retain(|h| !shown.contains(h));
    } else {
        own.retain(|h| husk.all.binary_search(h).is_err());
    }
    (own, t.len())
}

/// A husk's tokens and shingles, worked out once for all the blocks it withheld.
pub struct HuskShingles {
    tokens: Vec<String>,
    all: Vec<u64>,
    /// Runs of n tokens, by n, built as blocks shorter than a shingle need them.
    short: std::collections::HashMap<usize, HashSet<u64>>,
}

impl HuskShingles {
    pub fn new(husk: &str) -> Self {
        let tokens = tokens(husk);
        let all = shingles_of(&tokens);
        HuskShingles { tokens, all, short: Default::default() }
    }
}

/// The sampled subset stored for whole exports.
pub fn sample(hashes: &[u64]) -> Vec<u64> {
    hashes.iter().copied().filter(|h| h % SAMPLE_MOD == 0).collect()
}

/// An export the text overlaps.
#[derive(Debug, Clone, Serialize)]
pub struct ExportMatch {
    pub id: String,
    pub time: String,
    pub format: String,
    pub recipient: Option<String>,
    /// Share of the text's (sampled) shingles found in the export, 0..=1.
    pub overlap: f64,
    pub shared: usize,
}

/// A vault note the text overlaps.
#[derive(Debug, Clone, Serialize)]
pub struct NoteMatch {
    pub path: String,
    /// Share of the text's shingles found in the note, 0..=1.
    pub overlap: f64,
    pub shared: usize,
}

/// A withheld block whose knowledge shows in the text.
#[derive(Debug, Clone, Serialize)]
pub struct WithheldMatch {
    pub export: String,
    pub note: String,
    pub line: usize,
    pub category: String,
    pub action: String,
    /// Share of the block's shingles found in the text.
    pub overlap: f64,
}

/// What `husk trace` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub shingles: usize,
    pub exports: Vec<ExportMatch>,
    pub notes: Vec<NoteMatch>,
    pub withheld: Vec<WithheldMatch>,
    /// True when any withheld knowledge shows in the text.
    pub withheld_shows: bool,
}

/// Smallest overlap worth reporting.
const MIN_OVERLAP: f64 = 0.05;
/// A withheld block "shows" when at least this share of its shingles is in the text.
const WITHHELD_SHOWS: f64 = 0.5;

/// Calls its argument once for every vault note, with the note's path and text.
pub type NoteSource<'a> = dyn FnMut(&mut dyn FnMut(&str, &str)) -> Result<()> + 'a;

/// Trace `text` against the ledger and the notes.
pub fn trace(text: &str, ledger: &[LedgerEntry], notes: &mut NoteSource<'_>) -> Result<TraceReport> {
    let all: HashSet<u64> = shingles(text).into_iter().collect();
    let text_tokens = tokens(text);
    let mut short: std::collections::HashMap<usize, HashSet<u64>> = std::collections::HashMap::new();
    let sampled: HashSet<u64> = sample(&all.iter().copied().collect::<Vec<_>>()).into_iter().collect();
    let mut exports = Vec::new();
    let mut withheld = Vec::new();
    for e in ledger {
        if !sampled.is_empty() {
            let shared = e.shingles.iter().filter(|h| sampled.contains(h)).count();
            let overlap = shared as f64 / sampled.len() as f64;
            if shared >= 2 && overlap >= MIN_OVERLAP {
                exports.push(ExportMatch {
                    id: e.id.clone(),
                    time: e.time.clone(),
                    format: e.format.as_str().into(),
                    recipient: e.terms.recipient.clone(),
                    overlap,
                    shared,
                });
            }
        }
        for w in &e.withheld {
            if w.shingles.is_empty() {
                continue;
            }
            let hit = if w.tokens > 0 && w.tokens < SHINGLE {
                // Too short to shingle: look for the same run of tokens (two or more; a single
                // word is too common to say anything).
                if w.tokens < 2 {
                    continue;
                }
                let set = short.entry(w.tokens).or_insert_with(|| ngrams(&text_tokens, w.tokens));
                w.shingles.iter().filter(|h| set.contains(h)).count()
            } else {
                w.shingles.iter().filter(|h| all.contains(h)).count()
            };
            let overlap = hit as f64 / w.shingles.len() as f64;
            if hit > 0 && overlap >= WITHHELD_SHOWS {
                withheld.push(WithheldMatch {
                    export: e.id.clone(),
                    note: w.note.clone(),
                    line: w.line,
                    category: w.category.as_str().into(),
                    action: w.action.as_str().into(),
                    overlap,
                });
            }
        }
    }
    let mut note_matches = Vec::new();
    if !all.is_empty() {
        notes(&mut |path: &str, body: &str| {
            let shared = shingles(body).iter().filter(|h| all.contains(h)).count();
            let overlap = shared as f64 / all.len() as f64;
            if shared >= 2 && overlap >= MIN_OVERLAP {
                note_matches.push(NoteMatch { path: path.to_string(), overlap, shared });
            }
        })?;
    }
    exports.sort_by(|a, b| b.overlap.total_cmp(&a.overlap));
    note_matches.sort_by(|a, b| b.overlap.total_cmp(&a.overlap).then_with(|| a.path.cmp(&b.path)));
    withheld.sort_by(|a, b| b.overlap.total_cmp(&a.overlap));
    // The same block withheld by several exports is one finding per export; keep them all.
    Ok(TraceReport {
        shingles: all.len(),
        withheld_shows: !withheld.is_empty(),
        exports,
        notes: note_matches,
        withheld,
    })
}

impl Vault {
    /// Trace a text found elsewhere against this vault's ledger and notes.
    pub fn trace(&self, text: &str) -> Result<TraceReport> {
        let ledger = self.ledger()?;
        let index = self.index();
        trace(text, &ledger, &mut |f| index.for_each_body(|p, b| f(p, b)).map_err(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_block_records_only_what_the_husk_does_not_show() {
        let original = "Ask Wang Lei in the ops channel before touching the ledger database";
        let mut husk = HuskShingles::new(
            "# Steps\n\n- Ask the release manager in the ops channel before touching the ledger database\n",
        );
        let (own, n) = withheld_shingles(original, &mut husk);
        assert_eq!(n, 12);
        // Only the runs that hold the name are withheld: 3 of the 8 shingles.
        assert_eq!(own.len(), 3, "{own:?}");
        assert!(own.iter().all(|h| shingles(original).contains(h)));
        // A hollowed block shares nothing with its filler: everything is withheld.
        let mut hollow = HuskShingles::new("- Keep the runbook current and review it after every change.\n");
        assert_eq!(withheld_shingles(original, &mut hollow).0, shingles(original));
        // Too short to shingle: the run of all its tokens, unless the husk shows the same run.
        assert_eq!(withheld_shingles("ping Wang Lei", &mut husk).0.len(), 1);
        assert!(withheld_shingles("ledger database", &mut husk).0.is_empty());
    }

    #[test]
    fn tokens_split_words_and_cjk() {
        assert_eq!(tokens("Deploy **the** 发布 app!"), vec!["deploy", "the", "发", "布", "app"]);
    }

    #[test]
    fn light_edits_keep_most_shingles() {
        let a = "Always drain the queue before you restart the billing workers, or the retries double charge customers on the next run.";
        let b = "Always drain the queue before you restart the billing workers, or else the retries double charge customers on the next run!";
        let (sa, sb): (HashSet<u64>, HashSet<u64>) =
            (shingles(a).into_iter().collect(), shingles(b).into_iter().collect());
        let shared = sa.intersection(&sb).count();
        assert!(shared * 10 >= sa.len() * 6, "{shared} of {}", sa.len());
        let c: HashSet<u64> =
            shingles("A completely different sentence about gardening and tomatoes in summer.")
                .into_iter()
                .collect();
        assert_eq!(sa.intersection(&c).count(), 0);
    }

    #[test]
    fn a_short_withheld_block_is_found_inside_a_longer_text() {
        let block = "Call Wang Lei first";
        let w = crate::ledger::Withheld {
            note: "a.md".into(),
            start: 0,
            end: block.len(),
            line: 3,
            category: crate::model::Category::Network,
            action: crate::model::Action::Hollow,
            rule: "r".into(),
            sha256: String::new(),
            shingles: shingles(block),
            tokens: tokens(block).len(),
        };
        let entry = LedgerEntry {
            id: "x".into(),
            time: String::new(),
            level: crate::model::Level::Medium,
            format: crate::ledger::Format::Markdown,
            to: Default::default(),
            notes: vec![],
            terms: Default::default(),
            files: vec![],
            withheld: vec![w],
            shingles: vec![],
        };
        let mut none = |_: &mut dyn FnMut(&str, &str)| Ok(());
        let r = trace(
            "When prod is down, call Wang Lei first, then the vendor.",
            std::slice::from_ref(&entry),
            &mut none,
        )
        .unwrap();
        assert!(r.withheld_shows);
        let r =
            trace("When prod is down, call the vendor.", std::slice::from_ref(&entry), &mut none).unwrap();
        assert!(!r.withheld_shows);
    }

    #[test]
    fn short_text_has_one_shingle() {
        assert_eq!(shingles("two words").len(), 1);
        assert!(shingles("  ").is_empty());
    }
}
