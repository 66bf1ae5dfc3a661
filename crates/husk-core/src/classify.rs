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
use regex::Regex;
use std::collections::{HashMap, HashSet};
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
    pub score: f32,
    pub rule: String,
    pub spans: Vec<Span>,
}

/// Document-wide facts that single blocks cannot see: who is named, which identifiers are
/// internal, which tokens are public skeleton, and the document's language.
#[derive(Debug, Clone)]
pub struct DocContext {
    pub lang: Lang,
    pub names: HashSet<String>,
    pub identifiers: HashSet<String>,
    /// Lowercased text of headings and other skeleton: tokens found there are public.
    pub skeleton: String,
}

/// The share of CJK among letters decides the language.
pub fn detect_lang(text: &str) -> Option<Lang> {
    let (mut cjk, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if is_cjk(c) {
            cjk += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
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
    matches!(c, '，' | '。' | '、' | '；' | '：' | '！' | '？' | '（' | '）' | '“' | '”' | '‘' | '’' | '「' | '」' | '《' | '》' | '【' | '】' | '…' | '—')
}

struct Regexes {
    url: Regex,
    number: Regex,
    hex: Regex,
    plain_ident: Regex,
    camel: Regex,
    en_name: Regex,
    en_number_word: Regex,
    first_person_en: Regex,
    zh_numeral: Regex,
}

fn rx() -> &'static Regexes {
    static RX: OnceLock<Regexes> = OnceLock::new();
    RX.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("static regex");
        Regexes {
            url: r(r"https?://[^\s)>\]]+|\]\([^)\s]*\)|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|cn|edu|gov)(?:/[^\s)]*)?"),
            // numbers, with thousands separators, decimals, times (02:00), dates, ranges, percent
            number: r(r"\d{4}-\d{2}-\d{2}|[$€¥£]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[$€¥£]?\d+(?:[.:]\d+)*(?:\s*(?:-|–|~|to)\s*\d+(?:[.:]\d+)*)?%?"),
            hex: r(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b"),
            plain_ident: r(r"\b[A-Za-z][A-Za-z0-9]*(?:[_.:][A-Za-z0-9]+)+\b|\b[a-z][a-z0-9]*(?:-[a-z0-9]+){2,}\b|\b[a-z]+(?:-[a-z]*\d+[a-z0-9]*)+\b"),
            camel: r(r"\b[a-z]+[A-Z][A-Za-z0-9]*\b"),
            en_name: r(r"\b[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?(?:\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?){0,2}\b"),
            en_number_word: r(r"(?i)\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|a couple of|a dozen)\s+(ms|milliseconds|seconds|minutes|hours|days|weeks|months|years|business days|comments|words|items|times|people|steps|clicks|screens)\b"),
            first_person_en: r(r"\b(I|I'm|I'd|I've|I'll|my|My)\b"),
            zh_numeral: r(r"(第[一二三四五六七八九十两]+[天次个周月年步轮]|[两二三四五六七八九十百千万半][一二三四五六七八九十百千万两]*(?:个工作日|个小时|个月|句话|分钟|小时|工作日|次|天|周|年|成|倍|句|个|条|人|轮|步|万))"),
        }
    })
}

/// Find quoted phrasings: “…”, "…", 「…」, ‘…’.
fn quotes(text: &str, out: &mut Vec<Span>) {
    let pairs = [('“', '”'), ('「', '」'), ('‘', '’'), ('『', '』')];
    for (open, close) in pairs {
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

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Numbers: with a unit (a measure), bare, or attached to a word (skipped: part of an identifier).
fn numbers(text: &str, lex: &Lexicon, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    for m in rx().number.find_iter(text) {
        let (mut s, mut e) = (m.start(), m.end());
        if s > 0 && bytes[s - 1] == b'-' && (s == 1 || bytes[s - 2] == b' ') {
            s -= 1; // "-0.5%": the sign belongs to the figure
        }
        // Digits glued to letters (SEV1, p95, v3, 5xx) belong to a word, not a quantity.
        if s > 0 && (is_word_byte(bytes[s - 1]) || bytes[s - 1] == b'-' && s > 1 && bytes[s - 2].is_ascii_alphanumeric()) {
            continue;
        }
        if e < bytes.len() && (bytes[e].is_ascii_alphabetic() && !text[e..].starts_with(['k', 'K', 'M', 'x']) || bytes[e] == b'_') {
            // "8KB", "50ms": a unit glued on. Accept known units, else skip (a code word).
            let unit_end = text[e..].find(|c: char| !c.is_ascii_alphabetic()).map_or(text.len(), |i| i + e);
            let unit = text[e..unit_end].to_lowercase();
            if lex.units_en.contains(&unit) {
                out.push(Span { range: s..unit_end, kind: SpanKind::Measure(measure_kind(&unit)) });
            }
            continue;
        }
        let num = m.as_str();
        // "WCAG 2.2", "Python 3.11", "v5": a version after a name is not a figure.
        let word_before = text[..s].trim_end().rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
        if num.contains('.') && !num.contains(':') && word_before.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !text[e..].trim_start().starts_with(|c: char| c.is_alphabetic() && c.is_lowercase()) {
            continue;
        }
        let mut kind = if num.ends_with('%') || num.starts_with(['$', '€', '¥', '£']) {
            Some(if num.ends_with('%') { MeasureKind::Threshold } else { MeasureKind::Amount })
        } else if num.contains(':') {
            Some(MeasureKind::Time)
        } else if num.len() == 10 && num.as_bytes().get(4) == Some(&b'-') {
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
            let word = after[..word_end].to_lowercase();
            let two = after.split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_lowercase();
            if !word.is_empty() && lex.units_en.contains(two.as_str()) && two.contains(' ') {
                let len = after.find(two.split(' ').nth(1).unwrap_or("")).map_or(word_end, |i| i + two.split(' ').nth(1).map_or(0, str::len));
                kind = Some(measure_kind(&two));
                e += ws + len;
            } else if !word.is_empty() && lex.units_en.contains(&word) {
                kind = Some(measure_kind(&word));
                e += ws + word_end;
            } else if let Some(u) = lex.units_zh.iter().find(|u| after.starts_with(u.as_str())) {
                kind = Some(measure_kind(u));
                e += ws + u.len();
            }
        }
        let year_like = num.len() == 4 && (num.starts_with("19") || num.starts_with("20")) && num.bytes().all(|b| b.is_ascii_digit());
        let span_kind = match kind {
            Some(k) => SpanKind::Measure(k),
            None if year_like => SpanKind::Measure(MeasureKind::Time),
            None if num.len() == 1 && !num.contains(['.', '-']) => continue, // "1", "3": list-ish, too common
            None => SpanKind::BareNumber,
        };
        out.push(Span { range: s..e, kind: span_kind });
    }
    for m in rx().en_number_word.find_iter(text) {
        out.push(Span { range: m.range(), kind: SpanKind::Measure(measure_kind(m.as_str().split_whitespace().last().unwrap_or(""))) });
    }
    for m in rx().zh_numeral.find_iter(text) {
        if m.as_str() == "千万" || m.as_str() == "万一" {
            continue; // adverbs: "by all means", "in case"
        }
        out.push(Span { range: m.range(), kind: SpanKind::ZhNumeral });
    }
}

fn measure_kind(unit: &str) -> MeasureKind {
    let u = unit.to_lowercase();
    match u.as_str() {
        "ms" | "millisecond" | "milliseconds" | "s" | "sec" | "secs" | "second" | "seconds" | "min" | "mins" | "minute"
        | "minutes" | "h" | "hr" | "hrs" | "hour" | "hours" | "day" | "days" | "business days" | "week" | "weeks"
        | "month" | "months" | "year" | "years" | "毫秒" | "秒" | "分钟" | "小时" | "个小时" | "天" | "个工作日"
        | "工作日" | "周" | "个月" | "年" => MeasureKind::Duration,
        "utc" | "am" | "pm" | "点" | "号" | "月" => MeasureKind::Time,
        "eur" | "usd" | "gbp" | "cny" | "rmb" | "jpy" | "元" | "块" | "万" | "亿" => MeasureKind::Amount,
        "x" | "times" | "percent" | "倍" | "成" => MeasureKind::Threshold,
        _ => MeasureKind::Count,
    }
}

fn identifiers(text: &str, ctx: Option<&DocContext>, lex: &Lexicon, out: &mut Vec<Span>) {
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
    for m in rx().hex.find_iter(text) {
        out.push(Span { range: m.range(), kind: SpanKind::Identifier });
    }
    for m in rx().plain_ident.find_iter(text) {
        let t = m.as_str();
        // e.g., i.e., U.S.: abbreviations; require a segment of two or more characters on each side.
        let segs: Vec<&str> = t.split(['_', '.', ':', '-']).collect();
        if segs.iter().any(|s| s.len() < 2) && !t.contains('_') || t.starts_with("http") {
            continue;
        }
        if lex.topic_map.contains_key(&t.to_lowercase()) {
            continue;
        }
        out.push(Span { range: m.range(), kind: SpanKind::Identifier });
    }
    for m in rx().camel.find_iter(text) {
        if !lex.topic_map.contains_key(&m.as_str().to_lowercase()) && m.as_str() != "iOS" {
            out.push(Span { range: m.range(), kind: SpanKind::Identifier });
        }
    }
    if let Some(ctx) = ctx {
        for id in &ctx.identifiers {
            for (i, _) in text.match_indices(id.as_str()) {
                let end = i + id.len();
                let before_ok = i == 0 || !is_word_byte(text.as_bytes()[i - 1]);
                let after_ok = end >= text.len() || !is_word_byte(text.as_bytes()[end]);
                if before_ok && after_ok {
                    out.push(Span { range: i..end, kind: SpanKind::Identifier });
                }
            }
        }
    }
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

/// Named people in English text.
fn names_en(text: &str, lex: &Lexicon, out: &mut Vec<Span>) {
    for m in rx().en_name.find_iter(text) {
        let words: Vec<&str> = m.as_str().split_whitespace().collect();
        let first = words[0];
        let known_first = lex.first_names_en.contains(first) && !lex.ambiguous_first_names_en.contains(first);
        let before = text[..m.start()].trim_end().to_lowercase();
        let ctx_before = lex.contexts_en_before.iter().any(|c| before.ends_with(c.as_str()))
            || lex.titles_en.iter().any(|t| before.ends_with(&t.to_lowercase()));
        // Mid-sentence, two capitalized words that are not calendar, place or title words.
        let mid_sentence = {
            let b = text[..m.start()].trim_end();
            !b.is_empty() && !b.ends_with(['.', '!', '?', ':', '|', '"', '“', '(', '*']) && !b.ends_with("- ")
        };
        let plain_pair = words.len() >= 2
            && mid_sentence
            && words.iter().all(|w| !lex.not_name_words_en.contains(*w) && !lex.topic_map.contains_key(&w.to_lowercase()));
        if words.len() >= 2 && (known_first || plain_pair || ctx_before && words.iter().all(|w| !lex.topic_map.contains_key(&w.to_lowercase()))) {
            out.push(Span { range: m.range(), kind: SpanKind::Name });
        } else if words.len() == 1 && known_first && m.start() > 0 {
            out.push(Span { range: m.range(), kind: SpanKind::Name });
        } else if words.len() >= 2 && lex.first_names_en.contains(words[1]) && !lex.ambiguous_first_names_en.contains(words[1]) {
            // "Page Marta Oyelaran": a capitalized verb at sentence start before a known name.
            let skip = first.len() + (m.as_str()[first.len()..].len() - m.as_str()[first.len()..].trim_start().len());
            out.push(Span { range: m.start() + skip..m.end(), kind: SpanKind::Name });
        }
    }
}

const ZH_FUNCTION_CHARS: &str = "的和与及说在是要会也就都把被给对让这那了吗呢吧啊里上下中前后时";

/// Named people in Chinese text: a surname plus one or two characters, bounded by context.
fn names_zh(text: &str, lex: &Lexicon, out: &mut Vec<Span>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let not_names: Vec<Range<usize>> = lex.not_names_zh.find_iter(text).map(|m| m.range()).collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if !is_cjk(c) {
            i += 1;
            continue;
        }
        let Some(surname) = lex.surnames_zh.iter().find(|s| text[pos..].starts_with(s.as_str())) else {
            i += 1;
            continue;
        };
        if not_names.iter().any(|r| r.start == pos) {
            i += 1;
            continue;
        }
        // A name needs one strong boundary (a context word, a space, brackets or @) and at least a
        // weak one (punctuation, start or end of text) on the other side.
        let before = &text[..pos];
        // "2000 万行": a space after a number is not a name boundary.
        let after_number = before.trim_end().ends_with(|c: char| c.is_ascii_digit());
        let strong_before = before.ends_with(|c: char| c.is_whitespace() && !after_number || matches!(c, '@' | '（' | '(' | '“'))
            || lex.contexts_zh_before.iter().any(|w| before.ends_with(w.as_str()));
        let weak_before = before.is_empty() || before.ends_with(|c: char| is_cjk_punct(c) || c.is_ascii_punctuation());
        if !strong_before && !weak_before {
            i += 1;
            continue;
        }
        let s_chars = surname.chars().count();
        let mut best = None;
        for given in [2usize, 1] {
            let end_idx = i + s_chars + given;
            if end_idx > chars.len() {
                continue;
            }
            let given_ok = chars[i + s_chars..end_idx]
                .iter()
                .all(|(_, ch)| is_cjk(*ch) && !ZH_FUNCTION_CHARS.contains(*ch) && !lex.given_name_stop_zh.contains(ch));
            if !given_ok {
                continue;
            }
            let end = chars.get(end_idx).map_or(text.len(), |(p, _)| *p);
            let after = &text[end..];
            let strong_after = after.starts_with(|c: char| c.is_whitespace() || matches!(c, '）' | ')' | '”'))
                || lex.contexts_zh_after.iter().any(|w| after.starts_with(w.as_str()));
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
                let n = text[r.clone()].chars().count();
                out.push(Span { range: r, kind: SpanKind::Name });
                i += n;
            }
            None => i += 1,
        }
    }
}

/// Every specific span of `text`, sorted, overlaps resolved (longest, then strongest, wins).
pub fn scan(text: &str, ctx: Option<&DocContext>) -> Vec<Span> {
    let lex = lexicon();
    let mut spans = Vec::new();
    // Link destinations and bare URLs stay as written: rewriting inside them breaks the link.
    let urls: Vec<Range<usize>> = rx().url.find_iter(text).map(|m| m.range()).collect();
    quotes(text, &mut spans);
    identifiers(text, ctx, lex, &mut spans);
    numbers(text, lex, &mut spans);
    names_en(text, lex, &mut spans);
    names_zh(text, lex, &mut spans);
    if let Some(ctx) = ctx {
        for n in &ctx.names {
            for (i, _) in text.match_indices(n.as_str()) {
                spans.push(Span { range: i..i + n.len(), kind: SpanKind::Name });
            }
        }
        // A name that also shows in a heading is public skeleton, not a withheld contact.
        spans.retain(|s| s.kind != SpanKind::Name || !ctx.skeleton.contains(&text[s.range.clone()].to_lowercase()));
    }
    spans.retain(|s| !urls.iter().any(|u| u.start < s.range.end && s.range.start < u.end));
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

fn resolve_overlaps(mut spans: Vec<Span>) -> Vec<Span> {
    // Quotes contain other spans; keep quotes as wrappers and the inner spans too is confusing for
    // replacement, so the outermost long span wins.
    spans.sort_by(|a, b| {
        a.range.start.cmp(&b.range.start).then((b.range.end - b.range.start).cmp(&(a.range.end - a.range.start))).then(strength(b.kind).cmp(&strength(a.kind)))
    });
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        if let Some(last) = out.last_mut() {
            if s.range.start < last.range.end {
                if s.range.end > last.range.end && strength(s.kind) > strength(last.kind) {
                    *last = s;
                }
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// Gather the document-wide context from the block map.
pub fn doc_context(src: &str, map: &BlockMap) -> DocContext {
    let lang = detect_lang(src).unwrap_or(Lang::En);
    let mut skeleton = String::new();
    for h in &map.headings {
        skeleton.push_str(&src[h.clone()].to_lowercase());
        skeleton.push('\n');
    }
    // Table header rows are skeleton too.
    let mut ctx = DocContext { lang, names: HashSet::new(), identifiers: HashSet::new(), skeleton };
    let lex = lexicon();
    for b in &map.blocks {
        let text = &src[b.range.clone()];
        if matches!(b.kind, BlockKind::Code { .. }) {
            continue;
        }
        let mut spans = Vec::new();
        identifiers(text, None, lex, &mut spans);
        names_en(text, lex, &mut spans);
        names_zh(text, lex, &mut spans);
        for s in spans {
            let t = text[s.range.clone()].trim();
            if t.chars().count() < 2 || ctx.skeleton.contains(&t.to_lowercase()) {
                continue;
            }
            match s.kind {
                SpanKind::Identifier if text[..s.range.start].ends_with('`') => {
                    // Backticked command lines are not names; keep single tokens only.
                    if !t.contains(' ') {
                        ctx.identifiers.insert(t.to_string());
                    }
                }
                SpanKind::Name => {
                    ctx.names.insert(t.to_string());
                    // Surname and first name alone refer to the same person later on.
                    if !t.chars().any(is_cjk) {
                        for part in t.split_whitespace().filter(|p| p.len() >= 3) {
                            ctx.names.insert(part.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    ctx
}

/// Classify one block's text.
pub fn classify(text: &str, kind: &BlockKind, ctx: &DocContext) -> Verdict {
    let lex = lexicon();
    let spans = scan(text, Some(ctx));
    let mut by_cat: HashMap<Category, (f32, String, f32)> = HashMap::new(); // total, best rule, best weight
    let mut add = |cat: Category, w: f32, rule: &str| {
        let e = by_cat.entry(cat).or_insert((0.0, String::new(), 0.0));
        e.0 += w;
        if w > e.2 {
            e.1 = rule.to_string();
            e.2 = w;
        }
    };

    // Cue words: each distinct cue rule counts once, a second distinct word adds half again.
    let mut hits: HashMap<usize, usize> = HashMap::new();
    let lower = text.to_lowercase();
    let lb = lower.as_bytes();
    for m in lex.cue_en.find_iter(&lower) {
        let ok_before = m.start() == 0 || !is_word_byte(lb[m.start() - 1]);
        let ok_after = m.end() >= lb.len() || !is_word_byte(lb[m.end()]);
        if ok_before && ok_after {
            *hits.entry(lex.cue_en_ids[m.pattern().as_usize()]).or_default() += 1;
        }
    }
    for m in lex.cue_zh.find_iter(text) {
        *hits.entry(lex.cue_zh_ids[m.pattern().as_usize()]).or_default() += 1;
    }
    for (idx, n) in hits {
        let cue = &lex.cues[idx];
        let w = cue.weight * (1.0 + 0.5 * (n.min(3) as f32 - 1.0));
        add(cue.category, w, &cue.id);
    }
    for (cue, re) in &lex.patterns {
        if re.is_match(text) {
            add(cue.category, cue.weight, &cue.id);
        }
    }

    // Signals: each kind counts once, a second one adds half again.
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    for s in &spans {
        let name = match s.kind {
            SpanKind::Measure(_) => "number_unit",
            SpanKind::BareNumber => "bare_number",
            SpanKind::ZhNumeral => "zh_numeral",
            SpanKind::Identifier => "identifier",
            SpanKind::Name => "name",
            SpanKind::Quote { .. } if is_phrasing(text, &s.range, lex) => "quote_phrasing",
            SpanKind::Quote { long: true } => "quote_long",
            SpanKind::Quote { long: false } => "quote_short",
        };
        *seen.entry(name).or_default() += 1;
    }
    if rx().first_person_en.is_match(text) || text.contains('我') && !text.contains("我们") {
        *seen.entry("first_person").or_default() += 1;
    }
    // Neutral specifics raise the score; the category comes from cues and typed signals.
    let mut neutral: (f32, String, f32) = (0.0, String::new(), 0.0);
    for (name, n) in seen {
        let sig = lex.signal(name);
        let w = sig.weight * (1.0 + 0.5 * (n.min(3) as f32 - 1.0));
        match sig.category {
            Some(c) => add(c, w, &format!("signal.{name}")),
            None => {
                neutral.0 += w;
                if w > neutral.2 {
                    neutral = (neutral.0, format!("signal.{name}"), w);
                }
            }
        }
    }
    if matches!(kind, BlockKind::Code { .. }) {
        // Code carries concrete values by nature; what matters is how many.
        let specifics = spans.iter().filter(|s| !matches!(s.kind, SpanKind::Quote { long: false })).count();
        add(Category::Context, 0.1 * specifics.min(6) as f32, "code.specifics");
    }

    let total: f32 = by_cat.values().map(|v| v.0).sum::<f32>() + neutral.0;
    // Specifics join a category only when its evidence is real; else they make a judgment.
    if neutral.0 > 0.0 && by_cat.values().all(|v| v.0 < MIN_CATEGORY_EVIDENCE) {
        let e = by_cat.entry(Category::Judgment).or_insert((0.0, String::new(), 0.0));
        e.0 += neutral.0;
    }
    // Ties go to the category listed first (pitfall before incident before judgment …).
    let best = by_cat.into_iter().max_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(b.0.cmp(&a.0)));
    match best {
        Some((cat, (w, rule, _))) if total > 0.0 => {
            // Specifics join the strongest kind of evidence; the rule named is the strongest
            // single piece of evidence, cue or specific.
            let rule = if neutral.2 > w { neutral.1 } else { rule };
            Verdict { category: cat, score: total.min(1.0), rule, spans }
        }
        _ if neutral.0 > 0.0 => Verdict { category: Category::Judgment, score: neutral.0.min(1.0), rule: neutral.1, spans },
        _ => Verdict { category: Category::Shareable, score: 0.0, rule: "shareable.no-cue".into(), spans },
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
    let before: String = text[..r.start].chars().rev().skip(1).take(12).collect::<Vec<_>>().into_iter().rev().collect();
    let before = before.trim_end().to_lowercase();
    lex.say_verbs_zh.iter().any(|v| before.ends_with(v.as_str()) || before.ends_with(&format!("{v}了")) || before.ends_with(&format!("{v}清楚")))
        || lex.say_verbs_en.iter().any(|v| before.ends_with(v.as_str()) || before.ends_with(&format!("{v} with")) || before.ends_with(&format!("{v} for")))
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
        let k = kinds("Flip `checkout.fallback_psp` when SEV1 fires; t_order_ext and couponClient too, e.g. now.");
        let ids: Vec<_> = k.iter().filter(|(_, k)| *k == SpanKind::Identifier).map(|(t, _)| t.as_str()).collect();
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
    }

    #[test]
    fn categories_follow_evidence() {
        let ctx = ctx_for("x");
        let v = classify("Escalate to Priya Raman for database issues.", &BlockKind::Sentence, &ctx);
        assert_eq!(v.category, Category::Network);
        let v = classify("Run a power calculation to estimate the required sample size.", &BlockKind::Sentence, &ctx);
        assert_eq!(v.category, Category::Shareable);
        let v = classify("你：这个方案的回滚怎么做？", &BlockKind::QuoteLine, &ctx);
        assert_eq!(v.category, Category::Style);
    }
}
