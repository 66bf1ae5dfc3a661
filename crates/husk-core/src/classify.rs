//! The classifier: gives every block a category, a score and the id of the rule that decided it.
//!
//! Two kinds of evidence add up per category. *Cues* are words and patterns from
//! `assets/rules/cues.toml` (must/never/如果…就/踩坑 …). *Signals* are specifics found by the
//! scanners here: numbers with units, internal identifiers, named people, quoted phrasings,
//! first-person rules. The category with the most evidence wins; the total is the score, which the
//! level policy compares with its threshold. The same scanners give the rewriter and the leak gate
//! the exact spans of specifics ([`Span`]).

use crate::lexicon::{lexicon, Lang, Lexicon};
use crate::markdown::{BlockKind, BlockMap};
use crate::model::Category;
use crate::needles::Needles;
use crate::words::Words;
use regex::Regex;
use rustc_hash::FxHashSet;
use std::ops::Range;
use std::sync::OnceLock;

/// What a specific span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// A number with a unit, a percentage, a time of day, a date or a range.
    Measure(MeasureKind),
    /// A number with no unit.
    BareNumber,
    /// A Chinese numeral quantity (两句话, 十次, 八成).
    ZhNumeral,
    /// An internal system, table, job, flag or code name.
    Identifier,
    /// A named person.
    Name,
    /// A quoted phrasing; `long` when it is more than a word or two.
    Quote { long: bool },
}

/// The kind of quantity a measure expresses, to pick a fitting vague phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeasureKind {
    Duration,
    Time,
    Amount,
    Count,
    Threshold,
}

/// A specific span inside a block's text (byte range relative to the block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub range: Range<usize>,
    pub kind: SpanKind,
}

/// What the classifier decided for one block.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub category: Category,
    /// The category whose filler fits the block: its category, unless all of that evidence came
    /// from a pattern whose `alone` category says otherwise (a threshold in a design note reads
    /// as a judgment, though it is withheld like an incident rule).
    pub voice: Category,
    pub score: f32,
    /// The id of the rule that decided (borrowed from the lexicon).
    pub rule: &'static str,
    pub spans: Vec<Span>,
    /// Every category with real evidence (≥ 0.25) and its strongest rule: a block that mixes
    /// kinds of knowledge is handled as the most sensitive of them.
    pub also: smallvec::SmallVec<[(Category, &'static str); 2]>,
}

/// Document-wide facts that single blocks cannot see: who is named, which identifiers are
/// internal, which tokens are public skeleton, and the document's language.
#[derive(Debug, Clone)]
pub struct DocContext {
    pub lang: Lang,
    pub names: FxHashSet<String>,
    pub identifiers: FxHashSet<String>,
    /// Lowercased text of headings: names found there are public.
    pub skeleton: String,
    /// Names that also appear in a heading (public, so not masked).
    pub public_names: FxHashSet<String>,
    /// One matcher over `names` and `identifiers` (built by [`DocContext::seal`]).
    matcher: Option<(Needles, Vec<SpanKind>)>,
}

impl DocContext {
    /// Build the document-wide matcher once the name and identifier sets are final.
    pub fn seal(&mut self) {
        let mut pats: Vec<&str> = Vec::new();
        let mut kinds = Vec::new();
        for n in &self.names {
            pats.push(n);
            kinds.push(SpanKind::Name);
        }
        for i in &self.identifiers {
            pats.push(i);
            kinds.push(SpanKind::Identifier);
        }
        // Built for every document, so cheap to build, and run over every block.
        self.matcher = Some((Needles::new(&pats, false), kinds));
    }
}

/// The share of CJK among letters decides the language.
pub fn detect_lang(text: &str) -> Option<Lang> {
    let (cjk, latin, _) = letter_counts(text);
    lang_of(cjk, latin)
}

/// CJK characters, ASCII letters and other letters in `text`, in one pass.
pub(crate) fn letter_counts(text: &str) -> (usize, usize, usize) {
    if text.is_ascii() {
        return (0, text.bytes().filter(u8::is_ascii_alphabetic).count(), 0);
    }
    let (mut cjk, mut latin, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if c.is_ascii() {
            latin += usize::from(c.is_ascii_alphabetic());
        } else if is_cjk(c) {
            cjk += 1;
        } else if !is_common_punct(c) && c.is_alphabetic() {
            other += 1;
        }
    }
    (cjk, latin, other)
}

/// General, CJK and fullwidth punctuation that is never a letter: checked before the Unicode
/// tables, which are slow for the commas and full stops of every Chinese sentence.
fn is_common_punct(c: char) -> bool {
    matches!(c as u32, 0x2000..=0x206F | 0x3000..=0x3004 | 0x3008..=0x3020 | 0xFF01..=0xFF20)
}

/// The language the counts of [`letter_counts`] say, if any.
pub(crate) fn lang_of(cjk: usize, latin: usize) -> Option<Lang> {
    // A CJK character carries about as much as a short word: weigh Latin letters by 1/4.
    let latin_w = latin / 4;
    if cjk + latin_w == 0 {
        None
    } else if cjk * 2 >= cjk + latin_w {
        Some(Lang::Zh)
    } else {
        Some(Lang::En)
    }
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn is_cjk_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '！'
            | '？'
            | '（'
            | '）'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '「'
            | '」'
            | '《'
            | '》'
            | '【'
            | '】'
            | '…'
            | '—'
    )
}

struct Regexes {
    url: Regex,
    number: Regex,
    hex: Regex,
    plain_ident: Regex,
    camel: Regex,
    en_number_word: Regex,
    zh_numeral: Regex,
}

fn rx() -> &'static Regexes {
    static RX: OnceLock<Regexes> = OnceLock::new();
    RX.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("static regex");
        let lex = lexicon();
        Regexes {
            url: r(r"https?://[^\s)>\]]+|\]\([^)\s]*\)|(?-u:\b)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|cn|edu|gov)(?:/[^\s)]*)?"),
            // numbers, with thousands separators, decimals, times (02:00), dates, ranges, percent
            number: r(r"\d{4}-\d{2}-\d{2}|[$€¥£]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[$€¥£]?\d+(?:[.:]\d+)*(?:\s*(?:-|–|~|to)\s*\d+(?:[.:]\d+)*)?%?"),
            hex: r(r"#[0-9A-Fa-f]{6}(?-u:\b)|#[0-9A-Fa-f]{3}(?-u:\b)"),
            // snake_case, dotted and colon paths; kebab-case only with a digit (recon-v1): plain
            // hyphenated words (back-and-forth, end-to-end) are English.
            plain_ident: r(r"(?-u:\b)[A-Za-z][A-Za-z0-9]*(?:[_.:][A-Za-z0-9]+)+(?-u:\b)|(?-u:\b)[a-z]+(?:-[a-z]*\d+[a-z0-9]*)+(?-u:\b)"),
            camel: r(r"(?-u:\b)[a-z]+[A-Z][A-Za-z0-9]*(?-u:\b)"),
            en_number_word: r(&format!(r"(?i)(?-u:\b)({})\s+({})(?-u:\b)", alternation(&lex.number_words_en), alternation(&lex.counted_en))),
            zh_numeral: r(r"(第[一二三四五六七八九十两]+[天次个周月年步轮]|[两二三四五六七八九十百千万半][一二三四五六七八九十百千万两]*(?:个工作日|个小时|个月|句话|分钟|小时|工作日|次|天|周|年|成|倍|句|条|人|轮|步|万))"),
        }
    })
}

/// `words` as one regex alternation, longest first (so "business days" wins over "days").
fn alternation(words: &[String]) -> String {
    let mut w: Vec<&String> = words.iter().collect();
    w.sort_by_key(|w| std::cmp::Reverse(w.len()));
    w.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|")
}

/// The first characters of a Chinese quantity (`zh_numeral`): 第 and the numerals of
/// `signals.toml`. A block without one skips that regex.
fn is_zh_numeral_start(c: char) -> bool {
    matches!(
        c,
        '第' | '两'
            | '二'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
            | '千'
            | '万'
            | '半'
    )
}

/// `s` lowercased (ASCII) in `buf`, for set lookups without an allocation per lookup.
fn lower_in<'b>(buf: &'b mut String, s: &str) -> &'b str {
    buf.clear();
    buf.push_str(s);
    buf.make_ascii_lowercase();
    buf
}

/// Some alphanumeric, then `_`, `.` or `:`, then another (a snake_case, dotted or colon path),
/// or a lowercase letter before `-` in a text with a digit (recon-v1): what `plain_ident` needs.
fn may_hold_plain_ident(b: &[u8], digit: bool) -> bool {
    b.windows(3).any(|w| {
        (matches!(w[1], b'_' | b'.' | b':') && w[0].is_ascii_alphanumeric() && w[2].is_ascii_alphanumeric())
            || (digit && w[1] == b'-' && w[0].is_ascii_lowercase())
    })
}

/// A lowercase letter right before an uppercase one: what `camel` needs.
fn may_hold_camel(b: &[u8]) -> bool {
    b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

/// What the `url` pattern needs: a scheme, a markdown link target or a known top-level domain.
fn may_hold_url(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| match b[i] {
        b':' => b[i + 1..].starts_with(b"//"),
        b']' => b.get(i + 1) == Some(&b'('),
        b'.' => [&b"com"[..], b"org", b"net", b"io", b"dev", b"cn", b"edu", b"gov"]
            .iter()
            .any(|d| b[i + 1..].starts_with(d)),
        _ => false,
    })
}

/// The block speaks in the first person: the word "I", "my" or "My" (as the pattern
/// `\b(I|my|My)\b` finds them, in a block with capitals), "my " (in one with lowercase), or
/// 我 in a Chinese block that never says 我们. One pass over the bytes.
fn first_person(text: &str, traits: &Traits) -> bool {
    let b = text.as_bytes();
    let bounded = |s: usize, e: usize| word_bounded(b, s, e);
    if traits.upper || traits.lower {
        for i in 0..b.len() {
            match b[i] {
                b'I' if traits.upper && bounded(i, i + 1) => return true,
                b'm' | b'M'
                    if b.get(i + 1) == Some(&b'y')
                        && (traits.upper && bounded(i, i + 2)
                            || traits.lower && b[i] == b'm' && b.get(i + 2) == Some(&b' ')) =>
                {
                    return true
                }
                _ => {}
            }
        }
    }
    if traits.cjk {
        let mut wo = text.match_indices('我').peekable();
        return wo.peek().is_some() && wo.all(|(i, w)| !text[i + w.len()..].starts_with('们'));
    }
    false
}

/// Find quoted phrasings: “…”, "…", 「…」, ‘…’.
/// The typographic quote marks, opening and closing; ASCII `"` pairs with itself.
pub(crate) const QUOTE_PAIRS: [(char, char); 4] = [('“', '”'), ('「', '」'), ('‘', '’'), ('『', '』')];

fn quotes(text: &str, out: &mut Vec<Span>) {
    for (open, close) in QUOTE_PAIRS {
        let mut from = 0;
        while let Some(s) = text[from..].find(open).map(|i| i + from) {
            let inner_start = s + open.len_utf8();
            match text[inner_start..].find(close) {
                Some(e) => {
                    let inner_end = inner_start + e;
                    push_quote(text, inner_start..inner_end, out);
                    from = inner_end + close.len_utf8();
                }
                None => break,
            }
        }
    }
    // ASCII double quotes, paired left to right.
    let idx: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    for pair in idx.chunks(2) {
        if let [a, b] = pair {
            push_quote(text, a + 1..*b, out);
        }
    }
}

fn push_quote(text: &str, r: Range<usize>, out: &mut Vec<Span>) {
    let inner = &text[r.clone()];
    if inner.trim().is_empty() {
        return;
    }
    let cjk = inner.chars().filter(|c| is_cjk(*c)).count();
    let words = inner.split_whitespace().count();
    let long = cjk >= 5 || words >= 3;
    out.push(Span { range: r, kind: SpanKind::Quote { long } });
}

pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text[s..e]` is a whole word: no word byte (ASCII alphanumerics and `_`) on either side.
pub(crate) fn word_bounded(text: &[u8], s: usize, e: usize) -> bool {
    (s == 0 || !is_word_byte(text[s - 1])) && (e >= text.len() || !is_word_byte(text[e]))
}

/// Numbers: with a unit (a measure), bare, or attached to a word (skipped: part of an identifier).
fn numbers(
    text: &str,
    lex: &Lexicon,
    t: &Traits,
    number_word: bool,
    bufs: &mut Buffers,
    out: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    if t.cjk && text.chars().any(is_zh_numeral_start) {
        zh_numerals(text, out);
    }
    if t.lower && number_word {
        for m in rx().en_number_word.find_iter(text) {
            out.push(Span {
                range: m.range(),
                kind: SpanKind::Measure(measure_kind(m.as_str().split_whitespace().last().unwrap_or(""))),
            });
        }
    }
    if !t.digit {
        return;
    }
    let Buffers { lower: buf, lower_word: word_buf, .. } = bufs;
    for m in rx().number.find_iter(text) {
        let (mut s, mut e) = (m.start(), m.end());
        if s > 0 && bytes[s - 1] == b'-' && (s == 1 || bytes[s - 2] == b' ') {
            s -= 1; // "-0.5%": the sign belongs to the figure
        }
        // Digits glued to letters (SEV1, p95, v3, 5xx) belong to a word, not a quantity.
        if s > 0
            && (is_word_byte(bytes[s - 1])
                || bytes[s - 1] == b'-' && s > 1 && bytes[s - 2].is_ascii_alphanumeric())
        {
            continue;
        }
        if e < bytes.len()
            && (bytes[e].is_ascii_alphabetic() && !text[e..].starts_with(['k', 'K', 'M', 'x'])
                || bytes[e] == b'_')
        {
            // "8KB", "50ms": a unit glued on. Accept known units, else skip (a code word).
            let unit_end = text[e..].find(|c: char| !c.is_ascii_alphabetic()).map_or(text.len(), |i| i + e);
            let unit = lower_in(buf, &text[e..unit_end]);
            if lex.units_en.contains(unit) {
                out.push(Span { range: s..unit_end, kind: SpanKind::Measure(measure_kind(unit)) });
            }
            continue;
        }
        let num = m.as_str();
        // "WCAG 2.2", "Python 3.11", "v5": a version after a name is not a figure.
        let word_before = text[..s].trim_end().rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
        if num.contains('.')
            && !num.contains(':')
            && word_before.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && !text[e..].trim_start().starts_with(|c: char| c.is_alphabetic() && c.is_lowercase())
        {
            continue;
        }
        let mut kind = if num.ends_with('%') || num.starts_with(['$', '€', '¥', '£']) {
            Some(if num.ends_with('%') { MeasureKind::Threshold } else { MeasureKind::Amount })
        } else if num.contains(':') || num.len() == 10 && num.as_bytes().get(4) == Some(&b'-') {
            // A clock time or an ISO date.
            Some(MeasureKind::Time)
        } else {
            None
        };
        // A unit after optional whitespace.
        let rest = &text[e..];
        let ws = rest.len() - rest.trim_start().len();
        let after = &rest[ws..];
        if kind.is_none() || after.starts_with(|c: char| c.is_alphabetic()) {
            let word_end = after.find(|c: char| !(c.is_ascii_alphabetic())).unwrap_or(after.len());
            let word = &after[..word_end];
            // The first two words, lowercased, for a two-word unit ("business days").
            let two = if word.is_empty() {
                ""
            } else {
                buf.clear();
                for (k, w) in after.split_whitespace().take(2).enumerate() {
                    if k > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(w);
                }
                buf.make_ascii_lowercase();
                buf.as_str()
            };
            if !word.is_empty() && two.contains(' ') && lex.units_en.contains(two) {
                let second = two.split(' ').nth(1).unwrap_or("");
                let len = after.find(second).map_or(word_end, |i| i + second.len());
                kind = Some(measure_kind(two));
                e += ws + len;
            } else if !word.is_empty() && lex.units_en.contains(lower_in(word_buf, word)) {
                kind = Some(measure_kind(word_buf));
                e += ws + word_end;
            } else if let Some(u) = lex.unit_zh_at(after) {
                kind = Some(measure_kind(u));
                e += ws + u.len();
            }
        }
        let year_like = num.len() == 4
            && (num.starts_with("19") || num.starts_with("20"))
            && num.bytes().all(|b| b.is_ascii_digit());
        let span_kind = match kind {
            Some(k) => SpanKind::Measure(k),
            None if year_like => SpanKind::Measure(MeasureKind::Time),
            None if num.len() == 1 && !num.contains(['.', '-']) => continue, // "1", "3": list-ish, too common
            None => SpanKind::BareNumber,
        };
        out.push(Span { range: s..e, kind: span_kind });
    }
}

fn zh_numerals(text: &str, out: &mut Vec<Span>) {
    for m in rx().zh_numeral.find_iter(text) {
        if m.as_str() == "千万" || m.as_str() == "万一" {
            continue; // adverbs: "by all means", "in case"
        }
        out.push(Span { range: m.range(), kind: SpanKind::ZhNumeral });
    }
}

fn measure_kind(unit: &str) -> MeasureKind {
    // Units are ASCII or Chinese: lowercase ASCII in a buffer on the stack when it fits.
    let mut buf = [0u8; 24];
    let owned;
    let u = match buf.get_mut(..unit.len()) {
        Some(b) if unit.is_ascii() => {
            b.copy_from_slice(unit.as_bytes());
            b.make_ascii_lowercase();
            std::str::from_utf8(b).unwrap_or(unit)
        }
        _ => {
            owned = unit.to_lowercase();
            owned.as_str()
        }
    };
    match u {
        "ms" | "millisecond" | "milliseconds" | "s" | "sec" | "secs" | "second" | "seconds" | "min"
        | "mins" | "minute" | "minutes" | "h" | "hr" | "hrs" | "hour" | "hours" | "day" | "days"
        | "business days" | "week" | "weeks" | "month" | "months" | "year" | "years" | "毫秒" | "秒"
        | "分钟" | "小时" | "个小时" | "天" | "个工作日" | "工作日" | "周" | "个月" | "年" => {
            MeasureKind::Duration
        }
        "utc" | "am" | "pm" | "点" | "号" | "月" => MeasureKind::Time,
        "eur" | "usd" | "gbp" | "cny" | "rmb" | "jpy" | "元" | "块" | "万" | "亿" => MeasureKind::Amount,
        "x" | "times" | "percent" | "倍" | "成" => MeasureKind::Threshold,
        _ => MeasureKind::Count,
    }
}

fn identifiers(text: &str, lex: &Lexicon, t: &Traits, bufs: &mut Buffers, out: &mut Vec<Span>) {
    // `code spans`
    let mut from = 0;
    while let Some(s) = text[from..].find('`').map(|i| i + from) {
        match text[s + 1..].find('`') {
            Some(e) => {
                let r = s + 1..s + 1 + e;
                if is_shaped_identifier(&text[r.clone()], lex) {
                    out.push(Span { range: r, kind: SpanKind::Identifier });
                }
                from = s + 2 + e;
            }
            None => break,
        }
    }
    if t.hash {
        for m in rx().hex.find_iter(text) {
            out.push(Span { range: m.range(), kind: SpanKind::Identifier });
        }
    }
    if !(t.code_mark || t.dot || t.upper) {
        return;
    }
    let bytes = text.as_bytes();
    // (The identifier patterns are ASCII: lowercased in one buffer for the topic-map lookups.)
    let lower = &mut bufs.lower;
    let idents =
        if may_hold_plain_ident(bytes, t.digit) { Some(rx().plain_ident.find_iter(text)) } else { None };
    for m in idents.into_iter().flatten() {
        let t = m.as_str();
        // e.g., i.e., U.S.: abbreviations; require a segment of two or more characters on each side.
        if t.split(['_', '.', ':', '-']).any(|s| s.len() < 2) && !t.contains('_') || t.starts_with("http") {
            continue;
        }
        if lex.topic_map.contains_key(lower_in(lower, t)) {
            continue;
        }
        out.push(Span { range: m.range(), kind: SpanKind::Identifier });
    }
    if !(t.upper && t.lower && may_hold_camel(bytes)) {
        return;
    }
    for m in rx().camel.find_iter(text) {
        if !lex.topic_map.contains_key(lower_in(lower, m.as_str())) && m.as_str() != "iOS" {
            out.push(Span { range: m.range(), kind: SpanKind::Identifier });
        }
    }
}

/// Occurrences of the document's known names and identifiers in `text` (one `Needles` pass).
fn known(text: &str, ctx: &DocContext, out: &mut Vec<Span>) {
    let Some((needles, kinds)) = &ctx.matcher else { return };
    needles.for_each(text.as_bytes(), 0..text.len(), |s, e, id| {
        push_known(text.as_bytes(), s..e, kinds[id], out)
    });
}

/// A known name anywhere; a known identifier only as a whole word of `text`.
fn push_known(text: &[u8], r: Range<usize>, kind: SpanKind, out: &mut Vec<Span>) {
    if kind == SpanKind::Name || word_bounded(text, r.start, r.end) {
        out.push(Span { range: r, kind });
    }
}

/// [`known`] for every block of a document in one pass over the whole source (no setup per
/// block): every occurrence (overlapping search) that lies inside a block is that block's, as a
/// search of the block alone would find it, in the same order.
fn known_in_blocks(src: &str, map: &BlockMap, ctx: &DocContext, out: &mut [Scanned]) {
    let Some((needles, kinds)) = &ctx.matcher else { return };
    let starts: Vec<usize> = map.blocks.iter().map(|b| b.range.start).collect();
    debug_assert!(starts.is_sorted(), "blocks are in source order");
    needles.for_each(src.as_bytes(), 0..src.len(), |s, e, id| {
        let Some(i) = starts.partition_point(|&b| b <= s).checked_sub(1) else { return };
        let block = &map.blocks[i].range;
        if e <= block.end {
            push_known(
                src[block.clone()].as_bytes(),
                s - block.start..e - block.start,
                kinds[id],
                &mut out[i].spans,
            );
        }
    });
}

/// Backticked text names an internal thing when it is shaped like code: separators, digits,
/// camelCase or spaces (a command line). A plain word (`checkout`, `KEYS`) is just emphasis.
fn is_shaped_identifier(t: &str, lex: &Lexicon) -> bool {
    let t = t.trim();
    if t.is_empty() || lex.topic_map.contains_key(&t.to_lowercase()) {
        return false;
    }
    let plain = t.chars().all(|c| c.is_alphabetic());
    let camel = t.chars().skip(1).any(|c| c.is_uppercase()) && t.chars().any(|c| c.is_lowercase());
    !plain || camel
}

/// The pattern of a capitalized name of one to three words (a hyphenated part allowed), which
/// [`en_name_candidates`] finds without a regex.
#[cfg(test)]
const EN_NAME: &str =
    r"(?-u:\b)[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?(?:\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?){0,2}(?-u:\b)";

/// The leftmost-first matches of [`EN_NAME`] in `text`, in order (a proptest compares them with
/// the regex's). The pattern's quantifiers over letters and spaces are greedy and what follows
/// each can never start with what it repeats, so each run is taken whole; the only choices are
/// the optional hyphenated parts and how many more words, tried in the regex's order.
fn en_name_candidates(text: &str, mut found: impl FnMut(Range<usize>)) {
    let b = text.as_bytes();
    let mut s = 0;
    while s < b.len() {
        if b[s].is_ascii_uppercase() && (s == 0 || !is_word_byte(b[s - 1])) {
            if let Some(p1) = cap_word(b, s) {
                let end = hyphened(b, p1, true)
                    .and_then(|p2| name_rest(text, p2, 2))
                    .or_else(|| name_rest(text, p1, 2));
                if let Some(e) = end {
                    found(s..e);
                    s = e;
                    continue;
                }
            }
        }
        s += 1;
    }
}

/// `[A-Z][a-z]+` at `i`: where it ends.
fn cap_word(b: &[u8], i: usize) -> Option<usize> {
    if !b.get(i)?.is_ascii_uppercase() {
        return None;
    }
    let e = lower_run(b, i + 1);
    (e > i + 1).then_some(e)
}

fn lower_run(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_lowercase) {
        i += 1;
    }
    i
}

/// `-[A-Z][a-z]+` at `i` (`-[A-Za-z][a-z]+` when `any_case`): where it ends.
fn hyphened(b: &[u8], i: usize, any_case: bool) -> Option<usize> {
    if b.get(i) != Some(&b'-') {
        return None;
    }
    let c = *b.get(i + 1)?;
    if !(c.is_ascii_uppercase() || any_case && c.is_ascii_lowercase()) {
        return None;
    }
    let e = lower_run(b, i + 2);
    (e > i + 2).then_some(e)
}

/// `(?:\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?){0,k}(?-u:\b)` at `p` (just after a letter): where the
/// regex's first successful path ends.
fn name_rest(text: &str, p: usize, k: usize) -> Option<usize> {
    let b = text.as_bytes();
    if k > 0 {
        let ws = text[p..].chars().take_while(|c| c.is_whitespace()).map(char::len_utf8).sum::<usize>();
        if let Some(q) = (ws > 0).then(|| cap_word(b, p + ws)).flatten() {
            if let Some(e) = hyphened(b, q, false).and_then(|q2| name_rest(text, q2, k - 1)) {
                return Some(e);
            }
            if let Some(e) = name_rest(text, q, k - 1) {
                return Some(e);
            }
        }
    }
    (p == b.len() || !is_word_byte(b[p])).then_some(p)
}

/// Named people in English text.
fn names_en(text: &str, lex: &Lexicon, bufs: &mut Buffers, out: &mut Vec<Span>) {
    // (Candidates are ASCII words: lowercased in one buffer for the topic-map lookups.)
    let lower = &mut bufs.lower;
    let mut in_topic_map = |w: &str| lex.topic_map.contains_key(lower_in(lower, w));
    let mut candidates = std::mem::take(&mut bufs.ranges);
    candidates.clear();
    en_name_candidates(text, |r| candidates.push(r));
    for m in candidates.iter().cloned() {
        let m_str = &text[m.clone()];
        // At most three words (the pattern allows two after the first).
        let mut slots = [""; 3];
        let mut n = 0;
        for w in m_str.split_whitespace().take(3) {
            slots[n] = w;
            n += 1;
        }
        let words = &slots[..n];
        let first = words[0];
        let known_first = lex.first_names_en.contains(first) && !lex.ambiguous_first_names_en.contains(first);
        // The last few words before the candidate, for context words ("escalate to") and titles;
        // computed only when a multi-word candidate is not settled otherwise.
        let ctx_before = || {
            let before_words: Vec<&str> =
                text[..m.start].split_whitespace().rev().take(lex.longest_en_context_words.max(1)).collect();
            (1..=before_words.len()).any(|n| {
                let phrase =
                    before_words[..n].iter().rev().copied().collect::<Vec<_>>().join(" ").to_lowercase();
                lex.contexts_en_before.contains(&phrase)
            }) || before_words.first().is_some_and(|w| lex.titles_en.contains(w.trim_end_matches('.')))
        };
        // Mid-sentence, two capitalized words that are not calendar, place or title words.
        let mid_sentence = {
            let b = text[..m.start].trim_end();
            !b.is_empty() && !b.ends_with(['.', '!', '?', ':', '|', '"', '“', '(', '*']) && !b.ends_with("- ")
        };
        let plain_pair = words.len() >= 2
            && mid_sentence
            && words.iter().all(|w| !lex.not_name_words_en.contains(*w) && !in_topic_map(w));
        let whole = if words.len() >= 2 {
            known_first || plain_pair || ctx_before() && words.iter().all(|w| !in_topic_map(w))
        } else {
            known_first && m.start > 0
        };
        if whole {
            out.push(Span { range: m.clone(), kind: SpanKind::Name });
        } else if words.len() >= 2
            && lex.first_names_en.contains(words[1])
            && !lex.ambiguous_first_names_en.contains(words[1])
            || words.len() >= 3
                && lex.contexts_en_before.contains(&words[0].to_lowercase())
                && words[1..].iter().all(|w| !lex.not_name_words_en.contains(*w) && !in_topic_map(w))
        {
            // "Page Marta Oyelaran", "Ask Dana Whitfield": a capitalized verb at sentence start
            // before a known first name, or a context verb before two more capitalized words.
            let skip = first.len() + (m_str[first.len()..].len() - m_str[first.len()..].trim_start().len());
            out.push(Span { range: m.start + skip..m.end, kind: SpanKind::Name });
        }
    }
    bufs.ranges = candidates;
}

const ZH_FUNCTION_CHARS: &str = "的和与及说在是要会也就都把被给对让这那了吗呢吧啊里上下中前后时";

/// Named people in Chinese text: a surname plus one or two characters, bounded by context.
fn names_zh(text: &str, lex: &Lexicon, out: &mut Vec<Span>) {
    // Does a word from `set` end at byte `at` (suffix) or start there (prefix)? Bounded lookups.
    let ends_with = |at: usize, set: &rustc_hash::FxHashSet<String>, longest: usize| {
        let head = &text[..at];
        head.char_indices().rev().take(longest).any(|(i, _)| set.contains(&head[i..]))
    };
    let starts_with = |at: usize, set: &rustc_hash::FxHashSet<String>, longest: usize| {
        let tail = &text[at..];
        tail.char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(tail.len()))
            .take(longest)
            .any(|e| set.contains(&tail[..e]))
    };
    // Byte position of the character looked at.
    let mut pos = 0;
    while let Some(c) = text[pos..].chars().next() {
        let next = pos + c.len_utf8();
        if !is_cjk(c) {
            pos = next;
            continue;
        }
        let Some(surname) = lex
            .may_start_surname(c)
            .then(|| lex.surnames_by_char.get(&c))
            .flatten()
            .and_then(|v| v.iter().find(|s| text[pos..].starts_with(s.as_str())))
        else {
            pos = next;
            continue;
        };
        if starts_with(pos, &lex.not_names_zh, lex.longest_not_name_zh) {
            pos = next;
            continue;
        }
        // A name needs one strong boundary (a context word, a space, brackets or @) and at least a
        // weak one (punctuation, start or end of text) on the other side.
        let before = &text[..pos];
        // "2000 万行": a space after a number is not a name boundary.
        let after_number = before.trim_end().ends_with(|c: char| c.is_ascii_digit());
        let strong_before = before
            .ends_with(|c: char| c.is_whitespace() && !after_number || matches!(c, '@' | '（' | '(' | '“'))
            || ends_with(pos, &lex.contexts_zh_before, lex.longest_zh_context);
        let weak_before =
            before.is_empty() || before.ends_with(|c: char| is_cjk_punct(c) || c.is_ascii_punctuation());
        if !strong_before && !weak_before {
            pos = next;
            continue;
        }
        // "周经理", "王总": a surname with a title is a person.
        let after_surname = &text[pos + surname.len()..];
        if let Some(title) = lex.titles_zh.iter().find(|t| after_surname.starts_with(t.as_str())) {
            let end = pos + surname.len() + title.len();
            let tail = &text[end..];
            let bounded = tail.is_empty()
                || tail.starts_with(|c: char| {
                    c.is_whitespace() || is_cjk_punct(c) || c.is_ascii_punctuation() || "的和说在".contains(c)
                })
                || !tail.starts_with(is_cjk);
            if bounded && (strong_before || weak_before) {
                out.push(Span { range: pos..end, kind: SpanKind::Name });
                pos = end;
                continue;
            }
        }
        let mut best = None;
        for given in [2usize, 1] {
            // The `given` characters after the surname, if there are that many.
            let (mut n, mut end, mut given_ok) = (0, pos + surname.len(), true);
            for ch in text[end..].chars().take(given) {
                n += 1;
                end += ch.len_utf8();
                given_ok &=
                    is_cjk(ch) && !ZH_FUNCTION_CHARS.contains(ch) && !lex.given_name_stop_zh.contains(&ch);
            }
            if n < given || !given_ok {
                continue;
            }
            let after = &text[end..];
            let strong_after = after
                .starts_with(|c: char| c.is_whitespace() || matches!(c, '）' | ')' | '”'))
                || starts_with(end, &lex.contexts_zh_after, lex.longest_zh_context);
            let weak_after = after.is_empty()
                || after.starts_with(|c: char| is_cjk_punct(c) || c.is_ascii_punctuation())
                || after.starts_with(|c: char| "的和说批".contains(c));
            if (strong_before && (strong_after || weak_after)) || (weak_before && strong_after) {
                best = Some(pos..end);
                break;
            }
        }
        match best {
            Some(r) => {
                pos = r.end;
                out.push(Span { range: r, kind: SpanKind::Name });
            }
            None => pos = next,
        }
    }
}

/// Which kinds of characters a text holds, found in one pass, so scanners that cannot match
/// are skipped (most blocks have no digit, no backtick, no quote …).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Traits {
    pub digit: bool,
    pub upper: bool,
    pub lower: bool,
    pub cjk: bool,
    pub quote: bool,
    pub code_mark: bool,
    pub hash: bool,
    pub dot: bool,
    /// Every byte is ASCII.
    pub ascii: bool,
}

impl Traits {
    pub(crate) fn of(text: &str) -> Self {
        // One table lookup per byte, or-ed together: no branches in the loop.
        const DIGIT: u8 = 1;
        const UPPER: u8 = 2;
        const LOWER: u8 = 4;
        const QUOTE: u8 = 8;
        const CODE: u8 = 16;
        const DOT: u8 = 32;
        const HASH: u8 = 64;
        const HIGH: u8 = 128;
        const TABLE: [u8; 256] = {
            let mut t = [0u8; 256];
            let mut b = 0;
            while b < 256 {
                t[b] = match b as u8 {
                    b'0'..=b'9' => DIGIT,
                    b'A'..=b'Z' => UPPER,
                    b'a'..=b'z' => LOWER,
                    b'"' => QUOTE,
                    b'`' | b'_' | b'-' | b':' => CODE,
                    b'.' => DOT,
                    b'#' => HASH,
                    0x80.. => HIGH, // any non-ASCII: CJK and curly quotes are checked precisely below
                    _ => 0,
                };
                b += 1;
            }
            t
        };
        let bits = text.as_bytes().iter().fold(0u8, |acc, &b| acc | TABLE[b as usize]);
        let mut t = Traits {
            digit: bits & DIGIT != 0,
            upper: bits & UPPER != 0,
            lower: bits & LOWER != 0,
            cjk: bits & HIGH != 0,
            quote: bits & QUOTE != 0,
            code_mark: bits & CODE != 0,
            hash: bits & HASH != 0,
            dot: bits & DOT != 0,
            ascii: bits & HIGH == 0,
        };
        if t.cjk {
            t.quote |= text.contains(['“', '「', '‘', '『']);
            t.cjk = text.chars().any(is_cjk);
        }
        t
    }
}

/// Every specific span of `text`, sorted, overlaps resolved (longest, then strongest, wins).
pub fn scan(text: &str, ctx: Option<&DocContext>) -> Vec<Span> {
    finish_spans(text, raw_spans(text), ctx)
}

/// What the scanners find in `text` alone, before document context.
pub fn raw_spans(text: &str) -> Vec<Span> {
    raw_spans_with(text, &Traits::of(text), &lexicon().words.scan(text), &mut Buffers::default())
}

/// A block's raw spans and the traits of its text, which the later steps reuse.
#[derive(Debug, Clone)]
pub struct Scanned {
    pub spans: Vec<Span>,
    pub(crate) traits: Traits,
    /// What the lexicon's word lists find in it (cue words, topic nouns …).
    pub words: Words,
    /// Its CJK characters, ASCII letters and other letters (see [`letter_counts`]).
    pub(crate) letters: (usize, usize, usize),
}

/// Scratch space the scanners reuse from one block to the next: two strings to lowercase words
/// into for set lookups, and the name candidates of a block.
#[derive(Default)]
struct Buffers {
    lower: String,
    lower_word: String,
    ranges: Vec<Range<usize>>,
}

fn raw_spans_with(text: &str, t: &Traits, w: &Words, bufs: &mut Buffers) -> Vec<Span> {
    let lex = lexicon();
    let mut spans = Vec::new();
    if t.quote {
        quotes(text, &mut spans);
    }
    if t.code_mark || t.dot || t.hash || t.upper {
        identifiers(text, lex, t, bufs, &mut spans);
    }
    if t.digit || t.cjk || t.lower {
        numbers(text, lex, t, w.number_word, bufs, &mut spans);
    }
    if t.upper {
        names_en(text, lex, bufs, &mut spans);
    }
    if t.cjk {
        names_zh(text, lex, &mut spans);
    }
    spans
}

/// Add the document's known names and identifiers, drop what sits in URLs or names the headings
/// show, and resolve overlaps.
pub fn finish_spans(text: &str, spans: Vec<Span>, ctx: Option<&DocContext>) -> Vec<Span> {
    finish_spans_with(text, spans, ctx, &Traits::of(text))
}

pub(crate) fn finish_spans_with(
    text: &str,
    mut spans: Vec<Span>,
    ctx: Option<&DocContext>,
    t: &Traits,
) -> Vec<Span> {
    if let Some(ctx) = ctx {
        known(text, ctx, &mut spans);
    }
    settle_spans(text, spans, ctx, t)
}

/// Drop names the headings show and what sits in URLs, and resolve overlaps.
pub(crate) fn settle_spans(
    text: &str,
    mut spans: Vec<Span>,
    ctx: Option<&DocContext>,
    t: &Traits,
) -> Vec<Span> {
    if let Some(ctx) = ctx {
        // A name that also shows in a heading is public skeleton, not a withheld contact.
        spans.retain(|s| s.kind != SpanKind::Name || !ctx.public_names.contains(&text[s.range.clone()]));
    }
    // Link destinations and bare URLs stay as written: rewriting inside them breaks the link.
    if (t.dot || t.code_mark) && may_hold_url(text) {
        let urls: Vec<Range<usize>> = rx().url.find_iter(text).map(|m| m.range()).collect();
        if !urls.is_empty() {
            spans.retain(|s| !urls.iter().any(|u| u.start < s.range.end && s.range.start < u.end));
        }
    }
    resolve_overlaps(spans)
}

fn strength(k: SpanKind) -> u8 {
    match k {
        SpanKind::Name => 6,
        SpanKind::Identifier => 5,
        SpanKind::Quote { long: true } => 4,
        SpanKind::Measure(_) => 3,
        SpanKind::ZhNumeral => 2,
        SpanKind::BareNumber => 1,
        SpanKind::Quote { long: false } => 0,
    }
}

/// Add `t` to `set` (copied only when it is new).
fn insert_new(set: &mut FxHashSet<String>, t: &str) {
    if !set.contains(t) {
        set.insert(t.to_string());
    }
}

fn resolve_overlaps(mut spans: Vec<Span>) -> Vec<Span> {
    // Quotes contain other spans; keep quotes as wrappers and the inner spans too is confusing for
    // replacement, so the outermost long span wins.
    spans.sort_by(|a, b| {
        a.range
            .start
            .cmp(&b.range.start)
            .then((b.range.end - b.range.start).cmp(&(a.range.end - a.range.start)))
            .then(strength(b.kind).cmp(&strength(a.kind)))
    });
    // Compacted in place: `spans[..kept]` is the result so far.
    let mut kept = 0usize;
    for i in 0..spans.len() {
        let s = spans[i].clone();
        if let Some(last) = kept.checked_sub(1).map(|k| &mut spans[k]) {
            if s.range.start < last.range.end {
                if s.range.end > last.range.end && strength(s.kind) > strength(last.kind) {
                    *last = s;
                }
                continue;
            }
        }
        spans[kept] = s;
        kept += 1;
    }
    spans.truncate(kept);
    spans
}

/// Gather the document-wide context from the block map.
pub fn doc_context(src: &str, map: &BlockMap) -> DocContext {
    analyze(src, map).0
}

/// The document-wide context plus every block's raw spans (so blocks are scanned once).
pub fn analyze(src: &str, map: &BlockMap) -> (DocContext, Vec<Scanned>) {
    let mut skeleton = String::new();
    for h in &map.headings {
        skeleton.push_str(&src[h.clone()].to_lowercase());
        skeleton.push('\n');
    }
    let mut ctx = DocContext {
        lang: Lang::En,
        names: FxHashSet::default(),
        identifiers: FxHashSet::default(),
        skeleton,
        public_names: FxHashSet::default(),
        matcher: None,
    };
    let mut raw_all = Vec::with_capacity(map.blocks.len());
    let mut bufs = Buffers::default();
    let texts: Vec<&str> = map.blocks.iter().map(|b| &src[b.range.clone()]).collect();
    for ((b, &text), words) in map.blocks.iter().zip(&texts).zip(lexicon().words.scan_many(&texts)) {
        let traits = Traits::of(text);
        let letters = letter_counts(text);
        let spans = raw_spans_with(text, &traits, &words, &mut bufs);
        if matches!(b.kind, BlockKind::Code { .. }) {
            raw_all.push(Scanned { spans, traits, words, letters });
            continue;
        }
        for s in &spans {
            let t = text[s.range.clone()].trim();
            if t.chars().count() < 2 {
                continue;
            }
            match s.kind {
                // Backticked command lines are not names; keep single tokens only.
                SpanKind::Identifier if text[..s.range.start].ends_with('`') && !t.contains(' ') => {
                    insert_new(&mut ctx.identifiers, t);
                }
                SpanKind::Name => {
                    insert_new(&mut ctx.names, t);
                    // Surname and first name alone refer to the same person later on.
                    if !t.chars().any(is_cjk) {
                        for part in t.split_whitespace().filter(|p| p.len() >= 3) {
                            insert_new(&mut ctx.names, part);
                        }
                    }
                }
                _ => {}
            }
        }
        raw_all.push(Scanned { spans, traits, words, letters });
    }
    // Which of them the headings show: one pass over the headings for all names.
    let names: Vec<String> = ctx.names.iter().cloned().collect();
    // (Case-insensitive, as in the headings' lowercased text.)
    Needles::new(&names, true).for_each(ctx.skeleton.as_bytes(), 0..ctx.skeleton.len(), |_, _, id| {
        ctx.public_names.insert(names[id].clone());
    });
    ctx.names.retain(|n| !ctx.public_names.contains(n));
    // The document's language from its letters: the blocks' counts plus those of the text
    // between them (headings, markers, markup), so the document is read once, not twice.
    let mut letters = (0, 0, 0);
    let mut at = 0;
    for (b, scanned) in map.blocks.iter().zip(&raw_all) {
        let gap = if b.range.start >= at { letter_counts(&src[at..b.range.start]) } else { (0, 0, 0) };
        letters = (
            letters.0 + gap.0 + scanned.letters.0,
            letters.1 + gap.1 + scanned.letters.1,
            letters.2 + gap.2 + scanned.letters.2,
        );
        at = at.max(b.range.end);
    }
    let tail = letter_counts(&src[at..]);
    ctx.lang = lang_of(letters.0 + tail.0, letters.1 + tail.1).unwrap_or(Lang::En);
    debug_assert_eq!(Some(ctx.lang), Some(detect_lang(src).unwrap_or(Lang::En)));
    ctx.seal();
    // Every block gets the occurrences of the known names and identifiers.
    known_in_blocks(src, map, &ctx, &mut raw_all);
    (ctx, raw_all)
}

/// Classify one block's text.
pub fn classify(text: &str, kind: &BlockKind, ctx: &DocContext) -> Verdict {
    let (t, w) = (Traits::of(text), lexicon().words.scan(text));
    let spans = finish_spans_with(text, raw_spans_with(text, &t, &w, &mut Buffers::default()), Some(ctx), &t);
    classify_spans_with(text, kind, spans, &t, &w, None)
}

/// The signal names, in a fixed order (indexes into per-block counters).
const SIGNALS: [&str; 9] = [
    "number_unit",
    "bare_number",
    "zh_numeral",
    "identifier",
    "name",
    "quote_phrasing",
    "quote_long",
    "quote_short",
    "first_person",
];
/// The rule id of each signal ("signal." + its name).
const SIGNAL_RULES: [&str; 9] = [
    "signal.number_unit",
    "signal.bare_number",
    "signal.zh_numeral",
    "signal.identifier",
    "signal.name",
    "signal.quote_phrasing",
    "signal.quote_long",
    "signal.quote_short",
    "signal.first_person",
];

/// The rule id of a dialogue line's evidence.
const DIALOGUE_RULE: &str = "style.dialogue-line";
/// The rule id of a block with no evidence at all.
const NO_CUE_RULE: &str = "shareable.no-cue";

/// The rule ids the classifier names besides those of the lexicon's cues, patterns and section
/// cues (the empty id is that of no evidence).
pub(crate) fn fixed_rules() -> impl Iterator<Item = &'static str> {
    SIGNAL_RULES.into_iter().chain([DIALOGUE_RULE, NO_CUE_RULE, ""])
}

/// Where a category's strongest evidence came from (turned into a rule id only once).
#[derive(Clone, Copy)]
enum Evidence {
    None,
    Cue(usize),
    Pattern(usize),
    Signal(usize),
    Section(usize),
    Dialogue,
}

/// Weight of a dialogue line's structure (a speaker, a colon, an utterance).
const DIALOGUE_WEIGHT: f32 = 0.8;

/// "你：…", "Customer: …", "林之远：…": a short speaker before a colon, then an utterance.
pub fn is_dialogue_line(text: &str) -> bool {
    let Some(idx) = text.find(['：', ':']) else { return false };
    let speaker = text[..idx].trim();
    let n = speaker.chars().count();
    (1..=12).contains(&n)
        && speaker.split_whitespace().count() <= 2
        && !speaker.contains(['`', '*', '(', '（'])
        && text[idx..].chars().count() > 2
}

impl Evidence {
    fn rule(self, lex: &'static Lexicon) -> &'static str {
        match self {
            Evidence::None => "",
            Evidence::Cue(i) => &lex.cues[i].id,
            Evidence::Pattern(i) => &lex.patterns[i].cue.id,
            Evidence::Signal(i) => SIGNAL_RULES[i],
            Evidence::Section(i) => &lex.section_cues[i].0.id,
            Evidence::Dialogue => DIALOGUE_RULE,
        }
    }
}

fn cat_index(c: Category) -> usize {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// Classify a block from its already scanned spans. Deterministic: fixed-order accumulators,
/// ties broken by category order and then by evidence order.
pub fn classify_spans(text: &str, kind: &BlockKind, spans: Vec<Span>) -> Verdict {
    classify_spans_with(text, kind, spans, &Traits::of(text), &lexicon().words.scan(text), None)
}

/// The section cue (index into the lexicon's `section_cues`) a heading names, if any: "Gotchas",
/// "Known pitfalls", "踩坑记录". English words match whole words; Chinese ones anywhere.
pub(crate) fn section_cue(heading: &str) -> Option<usize> {
    let h = heading.to_lowercase();
    // Each word's occurrences left to right without overlap (as `match_indices` finds them), all
    // words in one pass; the first cue in the list with a whole-word occurrence (any occurrence
    // for a Chinese word) is the section's.
    let (ac, cues) = &lexicon().section_words;
    let mut found: Vec<(usize, usize, usize)> =
        ac.find_overlapping_iter(&h).map(|m| (m.pattern().as_usize(), m.start(), m.end())).collect();
    found.sort_unstable();
    let mut best: Option<usize> = None;
    let mut free = (usize::MAX, 0);
    for (p, s, e) in found {
        if free.0 == p && s < free.1 {
            continue;
        }
        free = (p, e);
        if !h[s..e].is_ascii() || word_bounded(h.as_bytes(), s, e) {
            best = Some(best.map_or(cues[p], |b| b.min(cues[p])));
        }
    }
    best
}

/// [`classify_spans`] with the block's traits worked out already and the cue its section's
/// heading gives, if any.
pub(crate) fn classify_spans_with(
    text: &str,
    kind: &BlockKind,
    spans: Vec<Span>,
    traits: &Traits,
    words: &Words,
    section: Option<usize>,
) -> Verdict {
    let lex = lexicon();
    // Per category: total weight, strongest evidence and its weight.
    let mut by_cat = [(0.0f32, Evidence::None, 0.0f32); 7];

    // Per category, the voice its filler takes when it differs from the category (see `alone`).
    let mut voice: [Option<Category>; 7] = [None; 7];
    // Cue words: each distinct cue rule counts once, a second distinct word adds half again.
    let mut hits: smallvec::SmallVec<[(usize, usize); 8]> = smallvec::SmallVec::new();
    let mut hit = |id: usize| match hits.iter_mut().find(|(i, _)| *i == id) {
        Some((_, n)) => *n += 1,
        None => hits.push((id, 1)),
    };
    if traits.lower || traits.upper {
        words.cues_en.iter().for_each(|&id| hit(id as usize));
    }
    // (Only the Latin entries of the Chinese list, such as P0, can match without a CJK character,
    // and only an uppercase one without either.)
    if traits.cjk || traits.upper {
        words.cues_zh.iter().for_each(|&id| hit(id as usize));
    }
    if let Some(i) = section {
        let cue = &lex.section_cues[i].0;
        add(&mut by_cat, cue.category, cue.weight, Evidence::Section(i));
    }
    hits.sort_unstable();
    for (idx, n) in hits {
        let cue = &lex.cues[idx];
        add(
            &mut by_cat,
            cue.category,
            cue.weight * (1.0 + 0.5 * (n.min(3) as f32 - 1.0)),
            Evidence::Cue(idx),
        );
    }
    let latin = traits.lower || traits.upper;
    // `\d` is Unicode: only an all-ASCII block without a digit surely has none.
    let digit_possible = traits.digit || !traits.ascii;
    let possible = |p: &crate::lexicon::CuePattern| {
        let lang = match (p.chinese, p.latin) {
            (true, false) => traits.cjk,
            (false, true) => latin,
            _ => true,
        };
        lang && (digit_possible || !p.needs_digit)
    };
    {
        for (i, p) in lex.patterns.iter().enumerate() {
            // A pattern is tried only where the word scanner found a literal it needs.
            if possible(p) && (!p.triggered || words.triggers & (1 << i) != 0) && p.regex.is_match(text) {
                let c = cat_index(p.cue.category);
                // Evidence from patterns with an `alone` voice only, and no cue word: that voice.
                voice[c] = match p.alone {
                    Some(alone) if by_cat[c].0 == 0.0 || voice[c].is_some() => Some(alone),
                    _ => None,
                };
                add(&mut by_cat, p.cue.category, p.cue.weight, Evidence::Pattern(i));
            }
        }
    }

    // Signals: each kind counts once, a second one adds half again.
    let mut seen = [0usize; SIGNALS.len()];
    for s in &spans {
        let idx = match s.kind {
            SpanKind::Measure(_) => 0,
            SpanKind::BareNumber => 1,
            SpanKind::ZhNumeral => 2,
            SpanKind::Identifier => 3,
            SpanKind::Name => 4,
            SpanKind::Quote { .. } if is_phrasing(text, &s.range, lex) => 5,
            SpanKind::Quote { long: true } => 6,
            SpanKind::Quote { long: false } => 7,
        };
        seen[idx] += 1;
    }
    if first_person(text, traits) {
        seen[8] += 1;
    }
    // Neutral specifics raise the score; the category comes from cues and typed signals.
    let mut neutral = (0.0f32, Evidence::None, 0.0f32);
    for (i, n) in seen.iter().enumerate().filter(|(_, n)| **n > 0) {
        let sig = lex.signal(SIGNALS[i]);
        let w = sig.weight * (1.0 + 0.5 * ((*n).min(3) as f32 - 1.0));
        match sig.category {
            Some(c) => {
                voice[cat_index(c)] = None;
                add(&mut by_cat, c, w, Evidence::Signal(i));
            }
            None => {
                neutral.0 += w;
                if w > neutral.2 {
                    neutral.1 = Evidence::Signal(i);
                    neutral.2 = w;
                }
            }
        }
    }
    if *kind == BlockKind::QuoteLine && is_dialogue_line(text) {
        // "> 林之远：先看口径…": a quoted line with a speaker is a dialogue example.
        add(&mut by_cat, Category::Style, DIALOGUE_WEIGHT, Evidence::Dialogue);
    }
    if matches!(kind, BlockKind::Code { .. }) {
        // Code carries concrete values by nature; what matters is how many.
        let specifics = spans.iter().filter(|s| !matches!(s.kind, SpanKind::Quote { long: false })).count();
        if specifics > 0 {
            neutral.0 += 0.1 * specifics.min(6) as f32;
            if neutral.2 == 0.0 {
                neutral.1 = Evidence::Signal(3);
            }
        }
    }

    let total: f32 = by_cat.iter().map(|v| v.0).sum::<f32>() + neutral.0;
    // Specifics join a category only when its evidence is real; else they make a judgment.
    if neutral.0 > 0.0 && by_cat.iter().all(|v| v.0 < MIN_CATEGORY_EVIDENCE) {
        let e = &mut by_cat[cat_index(Category::Judgment)];
        e.0 += neutral.0;
        if matches!(e.1, Evidence::None) {
            e.1 = neutral.1;
        }
    }
    let mut also: smallvec::SmallVec<[(Category, &'static str); 2]> = Category::ALL
        .iter()
        .zip(&by_cat)
        .filter(|(_, v)| v.0 >= MIN_CATEGORY_EVIDENCE)
        .map(|(c, v)| (*c, v.1.rule(lex)))
        .collect();
    // A hard figure (a number with its unit) is a judgment whatever else the block is.
    if seen[0] > 0 && !also.iter().any(|(c, _)| *c == Category::Judgment) {
        also.push((Category::Judgment, "signal.number_unit"));
        also.sort();
    }
    // The category with the most evidence; ties go to the one listed first.
    let best = (0..7).filter(|i| by_cat[*i].0 > 0.0).fold(None, |acc: Option<usize>, i| match acc {
        Some(b) if by_cat[b].0 >= by_cat[i].0 => Some(b),
        _ => Some(i),
    });
    match best {
        Some(i) if total > 0.0 => {
            // The rule named is the strongest single piece of evidence, cue or specific.
            let ev = if neutral.2 > by_cat[i].2 { neutral.1 } else { by_cat[i].1 };
            let category = Category::ALL[i];
            Verdict {
                category,
                voice: voice[i].unwrap_or(category),
                score: total.min(1.0),
                rule: ev.rule(lex),
                spans,
                also,
            }
        }
        _ if neutral.0 > 0.0 => Verdict {
            category: Category::Judgment,
            voice: Category::Judgment,
            score: neutral.0.min(1.0),
            rule: neutral.1.rule(lex),
            spans,
            also,
        },
        _ => Verdict {
            category: Category::Shareable,
            voice: Category::Shareable,
            score: 0.0,
            rule: NO_CUE_RULE,
            spans,
            also,
        },
    }
}

/// Count `w` of evidence `ev` for `cat`; the strongest single piece names the rule.
fn add(by_cat: &mut [(f32, Evidence, f32); 7], cat: Category, w: f32, ev: Evidence) {
    let e = &mut by_cat[cat_index(cat)];
    e.0 += w;
    if w > e.2 {
        e.1 = ev;
        e.2 = w;
    }
}

/// Evidence a category needs before specifics are counted with it rather than as judgment.
const MIN_CATEGORY_EVIDENCE: f32 = 0.25;

/// A quotation is a phrasing someone uses (style) when a say-verb comes right before it, when it
/// ends like an utterance, or when it is a whole sentence; otherwise it is a quoted term.
fn is_phrasing(text: &str, r: &Range<usize>, lex: &Lexicon) -> bool {
    let inner = text[r.clone()].trim();
    if inner.ends_with(['?', '？', '!', '！', '。', '…', '：', ':']) {
        return true;
    }
    let cjk = inner.chars().filter(|c| is_cjk(*c)).count();
    if cjk >= 10 || inner.split_whitespace().count() >= 5 {
        return true;
    }
    // Up to 12 characters before the opening quote mark.
    let head = &text[..r.start];
    let head = &head[..head.char_indices().next_back().map_or(0, |(i, _)| i)];
    let from = head.char_indices().rev().nth(11).map_or(0, |(i, _)| i);
    let before = head[from..].trim_end().to_lowercase();
    // A say-verb, or one followed by 了/清楚 (zh) or with/for (en).
    let ends = |suffixes: &[&str], verbs: &[String]| {
        std::iter::once(before.as_str())
            .chain(suffixes.iter().filter_map(|x| before.strip_suffix(x)))
            .any(|b| verbs.iter().any(|v| b.ends_with(v.as_str())))
    };
    ends(&["了", "清楚"], &lex.say_verbs_zh) || ends(&[" with", " for"], &lex.say_verbs_en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::block_map;

    fn ctx_for(src: &str) -> DocContext {
        doc_context(src, &block_map(src))
    }

    fn kinds(text: &str) -> Vec<(String, SpanKind)> {
        let ctx = ctx_for(text);
        scan(text, Some(&ctx)).into_iter().map(|s| (text[s.range].to_string(), s.kind)).collect()
    }

    // The cheap checks that let a block skip a regex must be necessary conditions: whenever the
    // regex matches, the check says it may.
    proptest::proptest! {
        #[test]
        fn scanner_gates_never_skip_a_match(s in "[a-zA-Z0-9_.:/()\\[\\] #%\\-两三第十天次两个月我]{0,40}") {
            let b = s.as_bytes();
            let t = Traits::of(&s);
            if rx().plain_ident.is_match(&s) { proptest::prop_assert!(may_hold_plain_ident(b, t.digit), "{s}"); }
            if rx().camel.is_match(&s) { proptest::prop_assert!(may_hold_camel(b), "{s}"); }
            if rx().url.is_match(&s) { proptest::prop_assert!(may_hold_url(&s), "{s}"); }
            if rx().zh_numeral.is_match(&s) { proptest::prop_assert!(s.chars().any(is_zh_numeral_start), "{s}"); }
        }

        #[test]
        fn scanner_gates_never_skip_a_match_in_token_soup(parts in proptest::collection::vec((0..16usize, "[ .,:_(\\-]{0,2}"), 0..10)) {
            const TOKENS: [&str; 16] = ["https://", "x.com", "](", "a.b", "fooBar", "recon-v1", "docs", "两个月", "第三天", "十次", "ab_c", "p95", "Marta", "go.dev/x", "HTTP", "半"];
            let s: String = parts.iter().map(|(k, sep)| format!("{}{sep}", TOKENS[*k])).collect();
            let b = s.as_bytes();
            let t = Traits::of(&s);
            if rx().plain_ident.is_match(&s) { proptest::prop_assert!(may_hold_plain_ident(b, t.digit), "{s}"); }
            if rx().camel.is_match(&s) { proptest::prop_assert!(may_hold_camel(b), "{s}"); }
            if rx().url.is_match(&s) { proptest::prop_assert!(may_hold_url(&s), "{s}"); }
            if rx().zh_numeral.is_match(&s) { proptest::prop_assert!(s.chars().any(is_zh_numeral_start), "{s}"); }
        }

        /// One pass of the section-word matcher names the cue that a search per word named.
        #[test]
        fn section_cue_is_the_first_cue_with_a_word(picks in proptest::collection::vec((0usize..1000, proptest::sample::select(vec!["", " ", "s", "-", "：", "经验", "x"])), 0..5)) {
            let cues = &lexicon().section_cues;
            let all: Vec<&String> = cues.iter().flat_map(|(_, w)| w).collect();
            let heading: String = picks.iter().map(|(i, sep)| format!("{}{sep}", all[i % all.len()])).collect();
            let h = heading.to_lowercase();
            let b = h.as_bytes();
            let bounded = |i: usize, end: usize| (i == 0 || !is_word_byte(b[i - 1])) && (end >= b.len() || !is_word_byte(b[end]));
            let want = cues.iter().position(|(_, words)| words.iter().any(|w| h.match_indices(w.as_str()).any(|(i, _)| !w.is_ascii() || bounded(i, i + w.len()))));
            proptest::prop_assert_eq!(section_cue(&heading), want, "{}", heading);
        }

        /// The one-pass checks say what the regex and substring searches they replace said.
        #[test]
        fn one_pass_checks_match_their_searches(parts in proptest::collection::vec(proptest::sample::select(vec!["I", "my", "My", "m", "y", " ", "'m", "_", "1", "我", "们", "a", ".", "com", "io", ":", "//", "]", "(", "x"]), 0..14)) {
            let s: String = parts.concat();
            let t = Traits::of(&s);
            let fp = regex::Regex::new(r"(?-u:\b)(I|I'm|I'd|I've|I'll|my|My)(?-u:\b)").unwrap();
            let want = t.upper && fp.is_match(&s) || t.lower && s.contains("my ") || t.cjk && s.contains('我') && !s.contains("我们");
            proptest::prop_assert_eq!(first_person(&s, &t), want, "{}", s);
            let url = s.contains("://") || s.contains("](") || [".com", ".org", ".net", ".io", ".dev", ".cn", ".edu", ".gov"].iter().any(|d| s.contains(d));
            proptest::prop_assert_eq!(may_hold_url(&s), url, "{}", s);
        }

        #[test]
        fn number_word_gate_never_skips_a_match(w in 0..lexicon().number_words_en.len(), u in 0..lexicon().counted_en.len(), upper in proptest::bool::ANY, pad in "[a-z ]{0,6}") {
            let phrase = format!("{pad} {} {} {pad}", lexicon().number_words_en[w], lexicon().counted_en[u]);
            let phrase = if upper { phrase.to_uppercase() } else { phrase };
            proptest::prop_assert!(lexicon().words.scan(&phrase).number_word, "{phrase}");
        }
    }

    #[test]
    fn common_punctuation_is_never_a_letter() {
        let all = (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|c| is_common_punct(*c));
        for c in all {
            assert!(!c.is_alphabetic(), "{c:?} is a letter");
        }
    }

    #[test]
    fn zh_numeral_starts_are_the_signal_numerals_and_the_ordinal() {
        let lex = lexicon();
        for c in &lex.zh_numerals {
            assert!(is_zh_numeral_start(*c), "{c}");
        }
        assert!(is_zh_numeral_start('第'));
    }

    #[test]
    fn signal_rule_ids_follow_the_signal_names() {
        for (name, rule) in SIGNALS.iter().zip(SIGNAL_RULES) {
            assert_eq!(rule, format!("signal.{name}"));
        }
    }

    #[test]
    fn measures_and_bare_numbers() {
        let k = kinds("Roll back deploys from the last 90 minutes if errors exceed 8% or latency hits 1.8 s; 450 is the cap.");
        assert!(k.contains(&("90 minutes".into(), SpanKind::Measure(MeasureKind::Duration))), "{k:?}");
        assert!(k.contains(&("8%".into(), SpanKind::Measure(MeasureKind::Threshold))), "{k:?}");
        assert!(k.contains(&("1.8 s".into(), SpanKind::Measure(MeasureKind::Duration))), "{k:?}");
        assert!(k.contains(&("450".into(), SpanKind::BareNumber)), "{k:?}");
        let z = kinds("单个 value 超过 8KB 的不许进缓存，延迟 800 毫秒，十次里有八次是它。");
        assert!(z.iter().any(|(t, k)| t == "8KB" && matches!(k, SpanKind::Measure(_))), "{z:?}");
        assert!(z.iter().any(|(t, _)| t == "800 毫秒"), "{z:?}");
        assert!(z.iter().any(|(t, k)| t == "十次" && *k == SpanKind::ZhNumeral), "{z:?}");
    }

    #[test]
    fn identifiers_and_words_glued_to_digits() {
        let k = kinds(
            "Flip `checkout.fallback_psp` when SEV1 fires; t_order_ext and couponClient too, e.g. now.",
        );
        let ids: Vec<_> =
            k.iter().filter(|(_, k)| *k == SpanKind::Identifier).map(|(t, _)| t.as_str()).collect();
        assert_eq!(ids, ["checkout.fallback_psp", "t_order_ext", "couponClient"]);
    }

    #[test]
    fn names_in_both_languages() {
        let k = kinds("Page Marta Oyelaran directly, and reconcile with Tomasz Wierzbicki first.");
        let names: Vec<_> = k.iter().filter(|(_, k)| *k == SpanKind::Name).map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["Marta Oyelaran", "Tomasz Wierzbicki"]);
        let z = kinds("DDL 工单必须找 DBA 薛婷 审批，她不在时找 韦振华，周五下午别找他。");
        let names: Vec<_> = z.iter().filter(|(_, k)| *k == SpanKind::Name).map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["薛婷", "韦振华"]);
        // A team word with 的 before the name, a companion word after it.
        let z = kinds("午饭我一般会约上组里的林晓岚一起，高并发的林场项目不算。");
        let names: Vec<_> = z.iter().filter(|(_, k)| *k == SpanKind::Name).map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["林晓岚"]);
    }

    #[test]
    fn categories_follow_evidence() {
        let ctx = ctx_for("x");
        let v = classify("Escalate to Priya Raman for database issues.", &BlockKind::Sentence, &ctx);
        assert_eq!(v.category, Category::Network);
        // A name the first-name list does not know, after a sentence-initial context verb.
        let text = "Ask Dana Whitfield in procurement to join the last call.";
        let v = classify(text, &BlockKind::Sentence, &ctx);
        let names: Vec<&str> =
            v.spans.iter().filter(|s| s.kind == SpanKind::Name).map(|s| &text[s.range.clone()]).collect();
        assert_eq!(names, ["Dana Whitfield"]);
        let v = classify(
            "Run a power calculation to estimate the required sample size.",
            &BlockKind::Sentence,
            &ctx,
        );
        assert_eq!(v.category, Category::Shareable);
        let v = classify("你：这个方案的回滚怎么做？", &BlockKind::QuoteLine, &ctx);
        assert_eq!(v.category, Category::Style);
    }

    #[test]
    fn a_threshold_speaks_as_an_incident_rule_only_next_to_operations_words() {
        let ctx = ctx_for("x");
        // Withheld like an incident rule either way; the filler follows the words around it.
        let design = classify(
            "Headings use a tighter letter spacing above 24px.",
            &BlockKind::ListItem { ordered: false, depth: 0 },
            &ctx,
        );
        assert_eq!((design.category, design.voice), (Category::Incident, Category::Judgment));
        let ops = classify(
            "If the error rate stays above 2% for 10 minutes, page the on-call.",
            &BlockKind::Sentence,
            &ctx,
        );
        assert_eq!((ops.category, ops.voice), (Category::Incident, Category::Incident));
        let zh = classify("挑改动不超过 3 个文件的小需求。", &BlockKind::Sentence, &ctx);
        assert_eq!((zh.category, zh.voice), (Category::Incident, Category::Judgment));
        let zh_ops = classify("积压超过 5000 条就先扩容消费者。", &BlockKind::Sentence, &ctx);
        assert_eq!(zh_ops.voice, zh_ops.category);
        assert_ne!(zh_ops.voice, Category::Judgment, "{zh_ops:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2048, ..proptest::prelude::ProptestConfig::default() })]
        /// The name scanner finds what the name pattern finds, over text made of the pieces
        /// that matter to it: capitals, lowercase runs, hyphens, word bytes and spaces of both
        /// kinds.
        #[test]
        fn name_candidates_are_the_pattern_matches(parts in proptest::collection::vec(proptest::sample::select(vec!["Marta", "Ab", "Ab", "A", "ab", "-Lee", "-de", "-", "_", "1", " ", " ", " ", "\n", "\u{a0}", "\u{3000}", ".", "中", "É", "McD"]), 0..24)) {
            let s: String = parts.concat();
            let re = Regex::new(EN_NAME).unwrap();
            let want: Vec<Range<usize>> = re.find_iter(&s).map(|m| m.range()).collect();
            let mut got = Vec::new();
            en_name_candidates(&s, |r| got.push(r));
            proptest::prop_assert_eq!(got, want, "{:?}", s);
        }
    }
}
