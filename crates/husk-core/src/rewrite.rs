//! The rewriter: decides each block's action (markers, overrides, then the level policy),
//! renders the replacement text, splices the husk together and runs the leak gate, escalating
//! blocks until no withheld token shows.
//!
//! Replacements keep the block's markdown shape, because only the block's inner range is
//! replaced: list markers, table pipes, blockquote prefixes and code fences are outside it.
//! Hollow filler comes from the category's bank in the block's language, with the block's topic
//! noun inserted, and no variant is used twice in one document. Choices are deterministic in
//! (seed, block fingerprint).

use crate::classify::{self, detect_lang, is_cjk, DocContext, MeasureKind, Span, SpanKind, Verdict};
use crate::husk::{BlockOutcome, Classified, Husk, Overrides, SanitizeError, SanitizeOptions};
use crate::leak;
use crate::lexicon::{level_index, lexicon, Filler, Lang, Lexicon};
use crate::markdown::{self, Block, BlockKind, BlockMap, Region};
use crate::model::{Action, Category, Fingerprint, Forced, Level, Sha256Hex, Visibility};
use crate::words::Words;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Everything decided about one block before rendering.
struct Plan {
    verdict: Verdict,
    action: Action,
    forced: Option<Forced>,
    rule: Cow<'static, str>,
    fingerprint: Fingerprint,
    lang: Lang,
    /// What the lexicon's word lists found in the block (its topic nouns among them).
    words: Words,
    /// Rendering gets plainer each time the leak gate escalates a hollow block.
    plain: bool,
}

/// FNV-1a over length-prefixed parts: cheap, and stable across platforms and Rust versions, so
/// the same (input, level, seed) always picks the same filler.
fn hash64(parts: &[&[u8]]) -> u64 {
    parts.iter().fold(Fnv::new(), |h, p| h.part(p)).0
}

/// The running state of [`hash64`], so a shared prefix of parts is hashed once.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn part(self, p: &[u8]) -> Self {
        let eat = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        let h = (p.len() as u64).to_le_bytes().into_iter().fold(self.0, eat);
        Fnv(p.iter().fold(h, |h, &b| eat(h, b)))
    }
}

fn block_lang((cjk, latin, other): (usize, usize, usize), doc: Lang) -> Lang {
    // Too few letters to tell: the document's language.
    if cjk + latin + other < 6 {
        return doc;
    }
    classify::lang_of(cjk, latin).unwrap_or(doc)
}

/// Decide the action of every block at `level`.
/// Classify every block once: what does not depend on the level.
fn assess(
    src: &str,
    map: &BlockMap,
    ctx: &DocContext,
    raw: Vec<classify::Scanned>,
    overrides: &Overrides,
) -> Vec<Plan> {
    // The cue each section's nearest heading gives (not the document's title, which names the
    // whole subject: "Payment pitfalls" does not make every line a pitfall).
    let title = map.sections.iter().find_map(|s| s.path.first());
    let section_cues: Vec<Option<usize>> = map
        .sections
        .iter()
        .map(|s| match s.path.last() {
            Some(h) if !(s.path.len() == 1 && Some(h) == title) => classify::section_cue(h),
            _ => None,
        })
        .collect();
    map.blocks
        .iter()
        .zip(raw)
        .zip(markdown::fingerprints(src, map))
        .map(|((b, raw), fingerprint)| {
            let text = &src[b.range.clone()];
            let t = &raw.traits;
            let verdict = classify::classify_spans_with(
                text,
                &b.kind,
                classify::settle_spans(text, raw.spans, Some(ctx), t),
                t,
                &raw.words,
                section_cues[b.section],
            );
            let forced = overrides.get(&fingerprint);
            let lang = block_lang(raw.letters, ctx.lang);
            Plan {
                verdict,
                action: Action::Keep,
                forced,
                rule: Cow::Borrowed(""),
                fingerprint,
                lang,
                words: raw.words,
                plain: false,
            }
        })
        .collect()
}

/// Decide every block's action at `level` (overwrites action, forced and rule).
fn decide_level(map: &BlockMap, plans: &mut [Plan], overrides: &Overrides, level: Level) {
    let lex = lexicon();
    for (b, p) in map.blocks.iter().zip(plans.iter_mut()) {
        let (action, forced, rule) =
            decide(b, &p.verdict, overrides.get(&p.fingerprint), map.visibility, level, lex);
        p.action = action;
        p.forced = forced;
        p.rule = rule;
        p.plain = false;
    }
    // A table row speaks as a whole: when one cell is withheld, the row's other non-label cells
    // that carry any cue follow it.
    let mut row_max: HashMap<usize, (Action, Category)> = HashMap::new();
    for (b, p) in map.blocks.iter().zip(plans.iter()) {
        if matches!(b.kind, BlockKind::TableCell { .. }) && p.forced.is_none() && p.action != Action::Keep {
            row_max
                .entry(b.group)
                .and_modify(|e| {
                    if p.action > e.0 {
                        *e = (p.action, p.verdict.category)
                    }
                })
                .or_insert((p.action, p.verdict.category));
        }
    }
    for (b, p) in map.blocks.iter().zip(plans.iter_mut()) {
        if let BlockKind::TableCell { col, .. } = b.kind {
            if let Some((a, c)) = row_max.get(&b.group) {
                if col > 0
                    && p.action == Action::Keep
                    && p.forced.is_none()
                    && p.verdict.score > 0.0
                    && b.region == Region::Normal
                {
                    p.action = lex.action(*c, level).max(Action::Dilute).min(*a);
                    p.rule = format!("row.{}", p.verdict.rule).into();
                }
            }
        }
    }
}

fn decide(
    b: &Block,
    v: &Verdict,
    forced: Option<Forced>,
    vis: Visibility,
    level: Level,
    lex: &'static Lexicon,
) -> (Action, Option<Forced>, Cow<'static, str>) {
    match b.region {
        Region::Private => return (Action::Withhold, Some(Forced::Private), "marker.private".into()),
        Region::Public => return (Action::Keep, Some(Forced::Keep), "marker.public".into()),
        Region::Normal => {}
    }
    if vis == Visibility::Public {
        return (Action::Keep, Some(Forced::Keep), "frontmatter.public".into());
    }
    match forced {
        Some(Forced::Keep) => return (Action::Keep, forced, "override.keep".into()),
        Some(Forced::Hollow) => return (Action::Hollow, forced, "override.hollow".into()),
        Some(Forced::Private) => return (Action::Withhold, forced, "override.private".into()),
        None => {}
    }
    if v.score < lex.threshold(level) {
        if lex.always_mask && v.spans.iter().any(|s| is_maskable(s.kind)) {
            return (Action::Mask, None, "mask.names-and-systems".into());
        }
        let rule = if v.category == Category::Shareable {
            v.rule.into()
        } else {
            lex.below_threshold_rule(v.rule)
                .map_or_else(|| format!("{}.below-threshold", v.rule).into(), Cow::Borrowed)
        };
        return (Action::Keep, None, rule);
    }
    // The most sensitive kind of knowledge in the block decides; ties keep the main category.
    let mut action = lex.action(v.category, level);
    let mut rule: Cow<'static, str> = v.rule.into();
    for (c, r) in &v.also {
        let a = lex.action(*c, level);
        if a > action {
            action = a;
            rule = lex.with_category_rule(r, *c).map_or_else(|| format!("{r}+{c}").into(), Cow::Borrowed);
        }
    }
    if b.kind == BlockKind::Description && action == Action::Hollow {
        action = Action::Dilute;
    }
    if action == Action::Keep && lex.always_mask && v.spans.iter().any(|s| is_maskable(s.kind)) {
        return (Action::Mask, None, "mask.names-and-systems".into());
    }
    (action, None, rule)
}

fn is_maskable(k: SpanKind) -> bool {
    matches!(k, SpanKind::Name | SpanKind::Identifier)
}

/// Chooses filler variants: deterministic, closest in length, never the same variant twice.
struct Chooser {
    seed: u64,
    /// By filler id: used in this document.
    used: Vec<bool>,
    /// The topic each (section, language) gives a block that names none itself, if any.
    section_topics: rustc_hash::FxHashMap<(usize, Lang), Option<String>>,
    roles: HashMap<String, String>,
}

impl Chooser {
    fn pick<'l>(
        &mut self,
        list: &'l [Filler],
        key: &str,
        target_chars: usize,
        topic: &str,
    ) -> Option<&'l str> {
        let mut best: Option<(f64, &Filler)> = None;
        let topic_extra = topic.chars().count().saturating_sub(7);
        let prefix = Fnv::new().part(&self.seed.to_le_bytes()).part(key.as_bytes());
        for (i, cand) in list.iter().enumerate() {
            if self.used[cand.id as usize] {
                continue;
            }
            let len = cand.chars + topic_extra;
            let diff = (len as f64 - target_chars as f64).abs() / target_chars.max(1) as f64;
            // The jitter only adds: a candidate already no closer than the best cannot win.
            if best.is_some_and(|(s, _)| diff >= s) {
                continue;
            }
            let jitter = (prefix.part(&i.to_le_bytes()).0 % 1000) as f64 / 1000.0 * 0.35;
            let score = diff + jitter;
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, cand));
            }
        }
        let Some((_, c)) = best else {
            // A bank this document has used up: start over rather than leave a block unwritten
            // (only documents with more withheld blocks than variants get here).
            if list.is_empty() {
                return None;
            }
            for v in list {
                self.used[v.id as usize] = false;
            }
            return self.pick(list, key, target_chars, topic);
        };
        self.used[c.id as usize] = true;
        Some(&c.text)
    }

    fn role(&mut self, name: &str, bank: &[Filler], key: &str) -> String {
        if let Some(r) = self.roles.get(name) {
            return r.clone();
        }
        let taken: HashSet<&String> = self.roles.values().collect();
        let free: Vec<&String> = bank.iter().map(|f| &f.text).filter(|r| !taken.contains(r)).collect();
        let pool: Vec<&String> = if free.is_empty() { bank.iter().map(|f| &f.text).collect() } else { free };
        let r = pool
            .get(
                (hash64(&[&self.seed.to_le_bytes(), key.as_bytes(), name.as_bytes()])
                    % pool.len().max(1) as u64) as usize,
            )
            .map(|s| s.to_string())
            .unwrap_or_default();
        self.roles.insert(name.to_string(), r.clone());
        r
    }
}

/// The topic noun of a block: a specific term mapped to its generic noun, else the longest
/// generic noun in the text, else one in the heading (or the heading itself when it is a short
/// noun phrase), else the category's default topic.
fn topic(
    words: &Words,
    b: &Block,
    headings: &[String],
    lang: Lang,
    cat: Category,
    ch: &mut Chooser,
    lex: &Lexicon,
) -> String {
    if let Some(t) = topic_in(words, lang, lex) {
        return t;
    }
    // The rest depends on the section only: worked out once per section.
    match ch.section_topics.entry((b.section, lang)).or_insert_with(|| section_topic(headings, lang, lex)) {
        Some(t) => t.clone(),
        None => lex.bank(lang).topic_defaults.get(&cat).cloned().unwrap_or_else(|| match lang {
            Lang::En => "this area".into(),
            Lang::Zh => "这类工作".into(),
        }),
    }
}

/// The topic a section's headings give, if any (see [`topic`]).
fn section_topic(headings: &[String], lang: Lang, lex: &Lexicon) -> Option<String> {
    // A topic noun in the nearest heading, then in its parents up to the title; the nearest
    // heading itself when it is a short noun phrase.
    for h in headings.iter().rev() {
        if let Some(t) = topic_in(&lex.words.scan(h), lang, lex) {
            return Some(t);
        }
    }
    // "Layer 2: 表达风格", "3. Pricing": the words after a label or number are the topic.
    if let Some(h) = headings.last().map(|h| {
        h.rsplit([':', '：'])
            .next()
            .unwrap_or(h)
            .trim()
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
    }) {
        let n = h.chars().count();
        let noun_like = match lang {
            Lang::En => {
                let words: Vec<&str> = h.split_whitespace().collect();
                (1..=3).contains(&words.len())
                    && words.iter().all(|w| w.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
                    && !words.iter().any(|w| {
                        [
                            "my", "our", "your", "when", "how", "what", "who", "why", "to", "and", "or",
                            "of", "after", "before", "during", "for", "with", "in", "on", "at", "from",
                            "about", "into", "over", "under", "between", "the", "a", "an", "this", "that",
                        ]
                        .contains(&w.to_ascii_lowercase().as_str())
                    })
            }
            Lang::Zh => (2..=4).contains(&n) && h.chars().all(|c| is_cjk(c) && !ZH_NOT_TOPIC.contains(c)),
        };
        if noun_like {
            return Some(match lang {
                Lang::En => lower_first(h),
                Lang::Zh => h.to_string(),
            });
        }
    }
    None
}

/// Characters that make a short Chinese heading a clause rather than a noun phrase.
const ZH_NOT_TOPIC: &str = "的了是不也就都还又再很最更他她它我你们谁怎样么吗呢吧和与及或在对把被给让要会能";

/// A mapped specific term or the longest generic topic noun of a text (from what the word
/// scanner found in it).
fn topic_in(words: &Words, lang: Lang, lex: &Lexicon) -> Option<String> {
    if let Some(k) = words.topic_map {
        let (en, zh) = &lex.topic_map[&lex.topic_map_keys[k as usize]];
        return Some(match lang {
            Lang::En => en.clone(),
            Lang::Zh => zh.clone(),
        });
    }
    match lang {
        Lang::En => words.topic_en.map(|i| lex.topics_en_list[i as usize].clone()),
        Lang::Zh => words.topic_zh.map(|i| lex.topics_zh_list[i as usize].clone()),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms and proper-looking words ("API", "SQL") as they are.
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => f.to_lowercase().chain(c).collect(),
        Some(f) => std::iter::once(f).chain(c).collect(),
        None => String::new(),
    }
}

/// `s` with its first character uppercased (in place when it is ASCII).
fn upper_first(mut s: String) -> String {
    upper_first_from(&mut s, 0);
    s
}

/// Uppercase the first character of `s[start..]`.
fn upper_first_from(s: &mut String, start: usize) {
    match s[start..].chars().next() {
        Some(c) if c.is_ascii() => s[start..start + 1].make_ascii_uppercase(),
        Some(c) => {
            let upper: String = c.to_uppercase().collect();
            s.replace_range(start..start + c.len_utf8(), &upper);
        }
        None => {}
    }
}

fn fill(template: &str, topic: &str, lang: Lang) -> String {
    let mut out = String::new();
    fill_into(&mut out, template, topic, lang);
    out
}

/// [`fill`], added to the end of `out`.
fn fill_into(out: &mut String, template: &str, topic: &str, lang: Lang) {
    // "{topic}告警" with topic "告警" must not read "告警告警", nor "alerts alerts": drop the echo.
    let (head, tail) = template.split_once("{topic}").unwrap_or((template, ""));
    let overlap = match lang {
        Lang::Zh => (2..=topic.chars().count())
            .rev()
            .map(|n| topic.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i))
            .map(|i| &topic[i..])
            .find(|suffix| tail.starts_with(*suffix))
            .map_or(0, str::len),
        Lang::En => {
            let last = topic.rsplit(' ').next().unwrap_or(topic);
            let rest = tail.strip_prefix(' ').unwrap_or("");
            let echoes =
                last.len() >= 3 && rest.len() >= last.len() && rest[..last.len()].eq_ignore_ascii_case(last);
            if echoes && !rest[last.len()..].starts_with(|c: char| c.is_alphanumeric()) {
                1 + last.len()
            } else {
                0
            }
        }
    };
    // "电话沟通{topic}" with topic "沟通方式" must not read "电话沟通沟通方式": the head gives up
    // the start of the topic it already ends with.
    let head = match lang {
        Lang::Zh => (2..=topic.chars().count())
            .rev()
            .map(|n| topic.char_indices().nth(n).map_or(topic.len(), |(i, _)| i))
            .map(|i| &topic[..i])
            .find_map(|prefix| head.strip_suffix(prefix))
            .unwrap_or(head),
        Lang::En => head,
    };
    let article = lang == Lang::En && takes_article(topic, head);
    let tail = &tail[overlap..];
    let start = out.len();
    out.reserve(head.len() + 4 + topic.len() + tail.len());
    out.push_str(head);
    if article {
        out.push_str("the ");
    }
    out.push_str(topic);
    out.push_str(tail);
    if lang == Lang::En {
        upper_first_from(out, start);
    }
}

/// Whether an English topic reads better with "the" where filler puts it: a singular count noun
/// phrase ("the connection pool", not "the stability of connection pool"). Plurals, gerunds,
/// acronyms, uncountable nouns (`[articles]` in topics.toml), phrases that have a determiner, and
/// slots the template already gives one, stay bare.
fn takes_article(topic: &str, head: &str) -> bool {
    const DETERMINERS: [&str; 14] = [
        "the", "a", "an", "our", "your", "this", "that", "these", "those", "their", "its", "each", "every",
        "any",
    ];
    let first = topic.split_whitespace().next().unwrap_or("");
    let Some(last) = topic.split_whitespace().last() else { return false };
    let before = head.trim_end().rsplit(' ').next().unwrap_or("");
    let determiner = |w: &str| DETERMINERS.iter().any(|d| d.eq_ignore_ascii_case(w));
    // (Past the third test, `last` is lowercase.)
    !determiner(first)
        && !determiner(before)
        && last.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !last.ends_with('s')
        && !last.ends_with("ing")
        && !lexicon().bare_topics_en.contains(last)
}

/// End punctuation of a block, so a replacement ends the way the original did.
fn match_ending(out: String, original: &str) -> String {
    let orig_end = original.trim_end().chars().last();
    let has_stop = |c: Option<char>| matches!(c, Some('.' | '。' | '!' | '！' | '?' | '？' | ';' | '；'));
    if has_stop(orig_end) {
        out
    } else {
        out.trim_end_matches(['.', '。', '!', '！', '?', '？']).to_string()
    }
}

/// Render one block's replacement text (None = leave it unchanged).
fn render(
    src: &str,
    b: &Block,
    p: &Plan,
    map: &BlockMap,
    ctx: &DocContext,
    ch: &mut Chooser,
) -> Option<String> {
    let lex = lexicon();
    let text = &src[b.range.clone()];
    let headings = &map.sections[b.section].path[..];
    match p.action {
        Action::Keep | Action::Withhold => None,
        Action::Mask if matches!(b.kind, BlockKind::Code { .. }) => Some(code(text, ctx, true)),
        Action::Mask => replace_spans(text, &p.verdict.spans, p.lang, ch, &p.fingerprint, false)
            .or_else(|| hollow(text, b, p, headings, ctx, ch, lex)),
        Action::Dilute => {
            if let BlockKind::Code { .. } = b.kind {
                return Some(code(text, ctx, false));
            }
            // An utterance is all specifics: diluting a dialogue line replaces what is said.
            if b.kind == BlockKind::QuoteLine && dialogue_split(text).is_some() {
                return hollow(text, b, p, headings, ctx, ch, lex);
            }
            if p.verdict.spans.iter().any(|s| s.kind == SpanKind::ZhNumeral) {
                return hollow(text, b, p, headings, ctx, ch, lex);
            }
            // Dilution that cannot replace a figure naturally, or still carries one, hollows.
            match dilute(text, &p.verdict.spans, p.lang, ch, &p.fingerprint) {
                Some(d) if !d.chars().any(|c| c.is_ascii_digit()) || b.kind == BlockKind::Description => {
                    Some(d)
                }
                _ => hollow(text, b, p, headings, ctx, ch, lex),
            }
        }
        Action::Hollow => hollow(text, b, p, headings, ctx, ch, lex),
    }
}

fn hollow(
    text: &str,
    b: &Block,
    p: &Plan,
    headings: &[String],
    ctx: &DocContext,
    ch: &mut Chooser,
    lex: &Lexicon,
) -> Option<String> {
    let bank = lex.bank(p.lang);
    let cat = if p.verdict.voice == Category::Shareable { Category::Judgment } else { p.verdict.voice };
    let target = text.chars().count();
    let key = p.fingerprint.as_str();
    let topic_noun = if p.plain {
        match p.lang {
            Lang::En => "this area".to_string(),
            Lang::Zh => "这类工作".to_string(),
        }
    } else {
        topic(&p.words, b, headings, p.lang, cat, ch, lex)
    };
    match &b.kind {
        BlockKind::Code { .. } => Some(code(text, ctx, true)),
        BlockKind::TableCell { .. } => {
            // A cell that named someone gets a role; any other cell a short generic phrase.
            let named = p.verdict.spans.iter().any(|s| s.kind == SpanKind::Name);
            let list = if named { &bank.roles } else { &bank.cells[&cat] };
            let pick = ch.pick(list, key, target, "").or_else(|| ch.pick(&bank.phrases, key, target, ""));
            Some(
                pick.map(|s| upper_first_if_en(s.to_string(), p.lang))
                    .unwrap_or_else(|| fallback_cell(p.lang)),
            )
        }
        BlockKind::QuoteLine => {
            if let Some((speaker, rest)) = dialogue_split(text) {
                let line = ch.pick(&bank.dialogue, key, rest.chars().count(), "")?;
                // A speaker who is a named person becomes a role: "孙晓燕：" → "财务对接人："
                let named = classify::scan(speaker, Some(ctx)).iter().any(|s| is_maskable(s.kind));
                if named {
                    let sep_at = speaker.find(['：', ':']).unwrap_or(speaker.len());
                    let role = ch.role(speaker[..sep_at].trim(), &bank.roles, key);
                    return Some(format!("{}{}{line}", upper_first_if_en(role, p.lang), &speaker[sep_at..]));
                }
                return Some(format!("{speaker}{line}"));
            }
            sentence(bank, cat, key, target, &topic_noun, p.lang, ch, text)
        }
        BlockKind::ListItem { .. } => {
            // Keep a short, plain label ("Role: …", "角色：…") and use it as the topic.
            if let Some((label, sep, rest)) = label_split(text) {
                // Only a label that carries no know-how of its own ("Role:", "客户拖延时：") stays;
                // "让步幅度必须递减：" is itself the rule.
                if classify::classify(label, &BlockKind::Sentence, ctx).category == Category::Shareable {
                    // "主要职责：A、B、C": a list of short items gets a generic list, not a sentence.
                    if is_enumeration(rest, p.lang) {
                        if let Some(e) = ch.pick(&bank.enumerations, key, rest.chars().count(), "") {
                            let stop = text
                                .trim_end()
                                .chars()
                                .last()
                                .filter(|c| matches!(c, '。' | '.' | '；' | ';'));
                            return Some(format!(
                                "{label}{sep}{e}{}",
                                stop.map(String::from).unwrap_or_default()
                            ));
                        }
                    }
                    let t = if p.plain {
                        topic_noun.clone()
                    } else {
                        label_topic(label, p.lang).unwrap_or_else(|| topic_noun.clone())
                    };
                    let body = ch
                        .pick(&bank.items[&cat], key, rest.chars().count(), &t)
                        .map(|s| fill(s, &t, p.lang))
                        .or_else(|| sentence(bank, cat, key, rest.chars().count(), &t, p.lang, ch, rest))?;
                    return Some(match_ending(format!("{label}{sep}{body}"), text));
                }
            }
            let out = ch
                .pick(&bank.items[&cat], key, target, &topic_noun)
                .map(|s| fill(s, &topic_noun, p.lang))
                .or_else(|| sentence(bank, cat, key, target, &topic_noun, p.lang, ch, text))?;
            Some(match_ending(extend(out, target, bank, cat, key, &topic_noun, p.lang, ch), text))
        }
        BlockKind::Sentence | BlockKind::Description => {
            sentence(bank, cat, key, target, &topic_noun, p.lang, ch, text)
        }
    }
}

fn upper_first_if_en(s: String, lang: Lang) -> String {
    match lang {
        Lang::En => upper_first(s),
        Lang::Zh => s,
    }
}

fn fallback_cell(lang: Lang) -> String {
    match lang {
        Lang::En => "Per team practice".into(),
        Lang::Zh => "按团队惯例".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn sentence(
    bank: &crate::lexicon::Bank,
    cat: Category,
    key: &str,
    target: usize,
    topic: &str,
    lang: Lang,
    ch: &mut Chooser,
    original: &str,
) -> Option<String> {
    let first = ch.pick(&bank.sentences[&cat], key, target, topic).or_else(|| {
        Category::ALL
            .iter()
            .filter(|c| **c != Category::Shareable)
            .find_map(|c| ch.pick(&bank.sentences[c], key, target, topic))
    })?;
    let out = fill(first, topic, lang);
    Some(match_ending(extend(out, target, bank, cat, key, topic, lang, ch), original))
}

/// A long original gets a second filler sentence so the husk keeps its length.
#[allow(clippy::too_many_arguments)]
fn extend(
    out: String,
    target: usize,
    bank: &crate::lexicon::Bank,
    cat: Category,
    key: &str,
    topic: &str,
    lang: Lang,
    ch: &mut Chooser,
) -> String {
    let have = out.chars().count();
    if target < have * 2 || target < 60 {
        return out;
    }
    let more_key = format!("{key}+");
    match ch.pick(&bank.sentences[&cat], &more_key, target - have, topic) {
        Some(s) => {
            let mut out = out;
            if !out.ends_with(['.', '。', '!', '?', '！', '？']) {
                out.push_str(if lang == Lang::En { "." } else { "。" });
            }
            if lang == Lang::En {
                out.push(' ');
            }
            fill_into(&mut out, s, topic, lang);
            out
        }
        None => out,
    }
}

fn dialogue_split(text: &str) -> Option<(&str, &str)> {
    let idx = text.find(['：', ':'])?;
    let speaker = &text[..idx];
    let n = speaker.chars().count();
    if n == 0 || n > 12 || speaker.contains(char::is_whitespace) && n > 8 {
        return None;
    }
    let sep_len = text[idx..].chars().next().map_or(1, char::len_utf8);
    let rest_start = idx + sep_len;
    let ws = text[rest_start..].len() - text[rest_start..].trim_start().len();
    Some((&text[..rest_start + ws], &text[rest_start + ws..]))
}

/// "Label: rest" / "标签：rest" with a short label.
fn label_split(text: &str) -> Option<(&str, &str, &str)> {
    let stripped = text.trim_start_matches("**");
    let off = text.len() - stripped.len();
    let idx = text[off..].find(['：', ':']).map(|i| i + off)?;
    let label = &text[..idx];
    let n = label.trim_matches('*').chars().count();
    if n == 0 || n > 30 || label.contains(['`', '，', ',', '。', '.']) {
        return None;
    }
    let sep_len = text[idx..].chars().next().map_or(1, char::len_utf8);
    let mut rest_start = idx + sep_len;
    // Bold labels close after the colon: "**Label:** rest".
    if text[rest_start..].starts_with("**") {
        rest_start += 2;
    }
    let ws = text[rest_start..].len() - text[rest_start..].trim_start().len();
    let rest = &text[rest_start + ws..];
    if rest.is_empty() {
        return None;
    }
    Some((label, &text[idx..rest_start + ws], rest))
}

/// Short items joined by enumeration marks: three or more ("A、B、C", "A, B and C"), none of
/// them a clause of its own.
fn is_enumeration(rest: &str, lang: Lang) -> bool {
    let body = rest.trim_end_matches(['。', '.', '；', ';']);
    if body.contains(['。', '；', ';', '：', ':', '，']) && lang == Lang::Zh
        || body.contains(['.', ';', ':']) && lang == Lang::En
    {
        return false;
    }
    let items: Vec<&str> = match lang {
        Lang::Zh => body.split('、').collect(),
        Lang::En => {
            body.split(", ").flat_map(|p| p.split(" and ")).map(|p| p.trim_start_matches("and ")).collect()
        }
    };
    items.len() >= 3
        && items.iter().all(|i| {
            let i = i.trim();
            match lang {
                Lang::Zh => (1..=10).contains(&i.chars().count()),
                Lang::En => (1..=4).contains(&i.split_whitespace().count()),
            }
        })
}

/// A label doubles as the topic when it is a short noun phrase ("Role", "角色").
fn label_topic(label: &str, lang: Lang) -> Option<String> {
    let l = label.trim_matches('*').trim();
    match lang {
        Lang::En
            if l.split_whitespace().count() <= 3
                && l.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-') =>
        {
            Some(lower_first(l))
        }
        Lang::Zh
            if (1..=4).contains(&l.chars().count())
                && l.chars().all(|c| is_cjk(c) && !ZH_NOT_TOPIC.contains(c)) =>
        {
            Some(l.to_string())
        }
        _ => None,
    }
}

/// Replace names and identifiers (mask), and with `dilute` also measures and quotes. None when a
/// specific cannot be replaced naturally.
fn replace_spans(
    text: &str,
    spans: &[Span],
    lang: Lang,
    ch: &mut Chooser,
    key: &str,
    dilute: bool,
) -> Option<String> {
    let lex = lexicon();
    let bank = lex.bank(lang);
    let merged = if dilute { merge_measure_pairs(text, spans) } else { spans.to_vec() };
    let spans = &merged[..];
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (i, s) in spans.iter().enumerate() {
        let mut r = s.range.clone();
        let repl = match s.kind {
            // "找华东区 VP 吕建国签字" → "找华东区 VP 签字": the title already says who.
            SpanKind::Name
                if lang == Lang::Zh
                    && r.start >= pos
                    && lex
                        .roles_before_zh
                        .iter()
                        .any(|t| text[pos..r.start].trim_end().ends_with(t.as_str())) =>
            {
                out.push_str(&text[pos..r.start]);
                pos = r.end;
                continue;
            }
            // "at Lumen Corp" → "at another company": a company is not given a person's role.
            SpanKind::Name
                if text[r.clone()].rsplit(' ').next().is_some_and(|w| lex.org_suffixes_en.contains(w)) =>
            {
                Some(match lang {
                    Lang::En => lex.org_en.clone(),
                    Lang::Zh => lex.org_zh.clone(),
                })
            }
            SpanKind::Name => Some(ch.role(&text[r.clone()], &bank.roles, key)),
            SpanKind::Identifier => {
                if r.start > 0
                    && text.as_bytes()[r.start - 1] == b'`'
                    && text.as_bytes().get(r.end) == Some(&b'`')
                {
                    r = r.start - 1..r.end + 1;
                }
                match head_noun_after(&text[r.end..], lang) {
                    Some(gap) => {
                        // "the `x` flag" → "the relevant flag"; "用 `x` 前缀" → "用相关前缀"
                        let adjs = match lang {
                            Lang::En => &lex.adjectives_en,
                            Lang::Zh => &lex.adjectives_zh,
                        };
                        let adj = adjs
                            .get(
                                (hash64(&[key.as_bytes(), &i.to_le_bytes()]) % adjs.len().max(1) as u64)
                                    as usize,
                            )
                            .cloned()
                            .unwrap_or_default();
                        let before = &text[pos..r.start];
                        let (before, adj) = match lang {
                            Lang::En if has_determiner(before) => (before, format!("{adj} ")),
                            Lang::En => (before, format!("the {adj} ")),
                            Lang::Zh => (
                                before.strip_suffix(' ').filter(|b| b.ends_with(is_cjk)).unwrap_or(before),
                                adj,
                            ),
                        };
                        if r.start < pos {
                            continue;
                        }
                        out.push_str(before);
                        out.push_str(&adj);
                        pos = r.end + gap;
                        continue;
                    }
                    None if is_file_name(&text[s.range.clone()]) => Some(dilute_fallback(lang, "file")),
                    None if is_color_value(&text[s.range.clone()]) => {
                        let before = &text[pos..r.start];
                        if r.start >= pos && after_color_word(before, lang, lex) {
                            // "brand blue `#1F5EFF` appears" → "brand blue appears"
                            out.push_str(before.trim_end());
                            pos = r.end;
                            continue;
                        }
                        Some(match lang {
                            Lang::En => lex.color_fallback_en.clone(),
                            Lang::Zh => lex.color_fallback_zh.clone(),
                        })
                    }
                    None => identifier_kind(&text[s.range.clone()], lang, lex)
                        .or_else(|| vague(bank, "identifier", key, i)),
                }
            }
            SpanKind::Measure(_) | SpanKind::BareNumber | SpanKind::ZhNumeral if dilute => {
                let (start, repl) = dilute_measure(text, r.clone(), s.kind, lang, pos)?;
                if start < pos {
                    continue;
                }
                out.push_str(&text[pos..start]);
                out.push_str(&repl);
                pos = r.end;
                continue;
            }
            SpanKind::Quote { long: true } if dilute => match quoted_state(text, &r, lang, lex) {
                // "进入“只打字不说话”的状态" → "进入某种特定的状态": a named state, marks and all.
                Some((outer, repl)) => {
                    r = outer;
                    Some(repl)
                }
                // Any other quotation: a stock phrase of about its length, not repeated in the document.
                None => ch
                    .pick(&bank.phrases, &format!("{key}/{i}"), text[r.clone()].chars().count(), "")
                    .map(str::to_string),
            },
            _ => None,
        };
        let Some(repl) = repl else { continue };
        if r.start < pos {
            continue;
        }
        let before = &text[pos..r.start];
        // Avoid "the the agreed threshold": drop an article the replacement already carries.
        let before = if lang == Lang::En && ["the ", "a ", "an "].iter().any(|a| repl.starts_with(a)) {
            strip_trailing_article(before)
        } else {
            before
        };
        out.push_str(before);
        out.push_str(&repl);
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    Some(if lang == Lang::En { upper_first(out) } else { tidy_cjk_spaces(&out) })
}

/// When the quotation at `inner` (inside its quote marks) names a state or a mode, the range of
/// the quotation with its marks and the qualifier that replaces it.
fn quoted_state(
    text: &str,
    inner: &Range<usize>,
    lang: Lang,
    lex: &Lexicon,
) -> Option<(Range<usize>, String)> {
    let open = text[..inner.start].chars().next_back()?;
    let close = text[inner.end..].chars().next()?;
    if !(open == '"' && close == '"' || classify::QUOTE_PAIRS.contains(&(open, close))) {
        return None;
    }
    let outer = inner.start - open.len_utf8()..inner.end + close.len_utf8();
    let after = text[outer.end..].trim_start();
    let (nouns, repl) = match lang {
        Lang::En => (&lex.state_nouns_en, &lex.state_replace_en),
        Lang::Zh => (&lex.state_nouns_zh, &lex.state_replace_zh),
    };
    let named = nouns.iter().any(|n| {
        after.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n))
            && !after[n.len()..].starts_with(|c: char| c.is_alphanumeric() && c.is_ascii())
    });
    named.then(|| (outer, repl.clone()))
}

/// Chinese writing spaces out numbers and Latin words, not Chinese phrases: once a figure has
/// become words, "凌晨 固定时段的" reads "凌晨固定时段的".
fn tidy_cjk_spaces(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, c) in chars.iter().enumerate() {
        if *c == ' ' && i > 0 && i + 1 < chars.len() && is_cjk(chars[i - 1]) && is_cjk(chars[i + 1]) {
            continue;
        }
        out.push(*c);
    }
    out
}

/// When `after` starts with a head noun (after optional spaces), the number of bytes to skip to it.
fn head_noun_after(after: &str, lang: Lang) -> Option<usize> {
    let lex = lexicon();
    let trimmed = after.trim_start_matches(' ');
    let gap = after.len() - trimmed.len();
    match lang {
        Lang::En => {
            if gap == 0 {
                return None;
            }
            let lower = trimmed.to_ascii_lowercase();
            lex.heads_en
                .iter()
                .find(|h| {
                    lower.starts_with(h.as_str())
                        && !lower[h.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
                })
                .map(|_| gap)
        }
        Lang::Zh => lex.heads_zh.iter().find(|h| trimmed.starts_with(h.as_str())).map(|_| gap),
    }
}

fn has_determiner(before: &str) -> bool {
    let b = before.to_ascii_lowercase();
    ["the ", "a ", "an ", "our ", "this ", "that ", "each ", "every ", "any ", "its ", "their ", "your "]
        .iter()
        .any(|d| b.ends_with(d))
}

fn strip_trailing_article(s: &str) -> &str {
    for a in ["the ", "The ", "a ", "A ", "an ", "An "] {
        if let Some(x) = s.strip_suffix(a) {
            if x.is_empty() || x.ends_with(' ') {
                return x;
            }
        }
    }
    s
}

/// "between 02:00 and 02:20 UTC", "3 to 5 days", "周二或周四": two measures read as one.
fn merge_measure_pairs(text: &str, spans: &[Span]) -> Vec<Span> {
    let is_num = |k: SpanKind| matches!(k, SpanKind::Measure(_) | SpanKind::BareNumber | SpanKind::ZhNumeral);
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        if let Some(last) = out.last_mut() {
            if is_num(last.kind) && is_num(s.kind) && last.range.end <= s.range.start {
                let between = text[last.range.end..s.range.start].trim();
                if ["and", "to", "or", "-", "–", "~", "或", "到", "至", "和"].contains(&between) {
                    last.range.end = s.range.end;
                    if let SpanKind::Measure(_) = s.kind {
                        last.kind = s.kind;
                    }
                    continue;
                }
            }
        }
        out.push(s.clone());
    }
    out
}

/// `#1F5EFF`, `#fff`, `#1F5EFF80`: a colour value.
fn is_color_value(t: &str) -> bool {
    t.strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Does `before` end with a colour word ("brand blue ", "品牌蓝")?
fn after_color_word(before: &str, lang: Lang, lex: &Lexicon) -> bool {
    let b = before.trim_end();
    match lang {
        Lang::En => b
            .rsplit(|c: char| !c.is_ascii_alphabetic())
            .next()
            .is_some_and(|w| lex.colors_en.contains(&w.to_ascii_lowercase())),
        Lang::Zh => {
            lex.colors_zh.iter().any(|c| b.ends_with(c.as_str()))
                || b.rsplit(|c: char| !c.is_ascii_alphabetic())
                    .next()
                    .is_some_and(|w| lex.colors_en.contains(&w.to_ascii_lowercase()))
        }
    }
}

/// The words an internal name is made of: split at separators and camelCase, lowercased.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// What kind of thing an internal name is, said generically ("the internal service"), when a
/// rule of `dilute.toml` recognizes it.
fn identifier_kind(name: &str, lang: Lang, lex: &Lexicon) -> Option<String> {
    let words = name_words(name);
    let lower = name.to_lowercase();
    lex.identifier_kinds
        .iter()
        .find(|k| {
            k.suffixes.iter().any(|s| lower.ends_with(s.as_str()))
                || words.iter().any(|w| k.words.contains(w))
        })
        .map(|k| match lang {
            Lang::En => k.en.clone(),
            Lang::Zh => k.zh.clone(),
        })
}

fn is_file_name(t: &str) -> bool {
    t.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && lexicon().file_extensions.contains(&ext.to_ascii_lowercase())
    })
}

fn dilute_fallback(lang: Lang, kind: &str) -> String {
    let lex = lexicon();
    let map = match lang {
        Lang::En => &lex.dilute_fallback_en,
        Lang::Zh => &lex.dilute_fallback_zh,
    };
    map.get(kind).cloned().unwrap_or_default()
}

/// The replacement of one measure when diluting: (start of replaced text, replacement), or None
/// when no phrase reads naturally in its place (the block is then hollowed instead).
fn dilute_measure(
    text: &str,
    r: Range<usize>,
    kind: SpanKind,
    lang: Lang,
    floor: usize,
) -> Option<(usize, String)> {
    let lex = lexicon();
    let kname = match kind {
        SpanKind::Measure(MeasureKind::Time) if text[r.clone()].contains(':') => "clock",
        SpanKind::Measure(k) => measure_bank(k),
        SpanKind::ZhNumeral => "count",
        _ => "number",
    };
    let span = &text[r.clone()];
    let before = &text[floor..r.start];
    let rules = match lang {
        Lang::En => &lex.dilute_en,
        Lang::Zh => &lex.dilute_zh,
    };
    // A percentage is a proportion ("20% 的人手") unless a comparison rule makes it a limit;
    // before "of" ("to 30% of users") it is a proportion whatever precedes it.
    let proportion = kname == "threshold" && span.ends_with(['%', '％']);
    let ruled = !(proportion && lang == Lang::En && text[r.end..].starts_with(" of "));
    // A bare number reads like a threshold when a comparison precedes it.
    let fits = |k: &String| k == kname || kname == "number" && k == "threshold";
    for rule in rules.iter().filter(|r| ruled && r.kinds.iter().any(fits)) {
        if let Some(c) = rule.before.captures(before) {
            let m = c.get(0).map_or(0..0, |m| m.range());
            if m.end == before.len() {
                let mut out = String::new();
                c.expand(&rule.replace, &mut out);
                return Some((floor + m.start, out));
            }
        }
    }
    let kname = if proportion { "share" } else { kname };
    match lang {
        Lang::Zh => Some((r.start, lex.dilute_fallback_zh.get(kname).cloned().unwrap_or_default())),
        Lang::En => {
            if kname == "count" {
                // "the 41 accounts" → "the accounts"; "41 accounts" → "several accounts"
                let unit = span
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == ',' || c == '.')
                    .trim_start();
                if before.to_ascii_lowercase().ends_with("the ") && !unit.is_empty() {
                    return Some((r.start, unit.to_string()));
                }
                let several = lex.dilute_fallback_en.get("count").cloned().unwrap_or_default();
                return Some((r.start, if unit.is_empty() { several } else { format!("{several} {unit}") }));
            }
            if kname == "number" {
                return None; // "Regular 400": a bare number has no natural stand-in
            }
            let fb = lex.dilute_fallback_en.get(kname).cloned().unwrap_or_default();
            let start = if fb.starts_with("a ") || fb.starts_with("the ") {
                r.start - (before.len() - strip_trailing_article(before).len())
            } else {
                r.start
            };
            Some((start, fb))
        }
    }
}

fn measure_bank(k: MeasureKind) -> &'static str {
    match k {
        MeasureKind::Duration => "duration",
        MeasureKind::Time => "time",
        MeasureKind::Amount => "amount",
        MeasureKind::Count => "count",
        MeasureKind::Threshold => "threshold",
    }
}

fn vague(bank: &crate::lexicon::Bank, kind: &str, key: &str, i: usize) -> Option<String> {
    let list = bank.vague.get(kind)?;
    if list.is_empty() {
        return None;
    }
    Some(
        list[(hash64(&[key.as_bytes(), kind.as_bytes(), &i.to_le_bytes()]) % list.len() as u64) as usize]
            .clone(),
    )
}

/// Dilute: specifics become vague phrases and reason clauses are dropped.
fn dilute(text: &str, spans: &[Span], lang: Lang, ch: &mut Chooser, key: &str) -> Option<String> {
    let out = replace_spans(text, spans, lang, ch, key, true)?;
    Some(drop_reason(&out, lang))
}

fn drop_reason(text: &str, lang: Lang) -> String {
    let cut = match lang {
        Lang::En => [", because ", " because ", "; otherwise", ", otherwise", ", since "]
            .iter()
            .filter_map(|m| text.find(m))
            .min(),
        Lang::Zh => ["，因为", "因为", "，否则", "，不然", "，由于"]
            .iter()
            .filter_map(|m| text.find(m).filter(|i| *i > 0))
            .min(),
    };
    match cut {
        Some(i) if i > text.len() / 3 => {
            let end = text
                .trim_end()
                .chars()
                .last()
                .filter(|c| matches!(c, '.' | '。' | ';' | '；'))
                .map(String::from)
                .unwrap_or_default();
            format!("{}{}", text[..i].trim_end_matches([',', '，', ' ']), end)
        }
        _ => text.to_string(),
    }
}

/// Code: specific values become placeholders; with `deep`, internal names too.
fn code(text: &str, ctx: &DocContext, deep: bool) -> String {
    let spans = classify::scan(text, Some(ctx));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for s in &spans {
        let r = s.range.clone();
        if r.start < pos {
            continue;
        }
        let before = &text[..r.start];
        let ph = match s.kind {
            SpanKind::Measure(_) | SpanKind::BareNumber | SpanKind::ZhNumeral => {
                placeholder_for(before, "value")
            }
            SpanKind::Identifier | SpanKind::Name if deep => placeholder_for(before, "name"),
            SpanKind::Quote { .. } if deep => "<value>".to_string(),
            _ => continue,
        };
        out.push_str(&text[pos..r.start]);
        out.push_str(&ph);
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    // Key=value pairs and quoted literals keep their key but lose the value.
    placeholder_values(&out, deep)
}

/// `--host=order-db-primary` → `--host=<host>`, `'internal'` → `'<value>'`.
fn placeholder_values(text: &str, deep: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut l = line.to_string();
        if deep {
            l = replace_quoted(&l, '\'');
            l = replace_quoted(&l, '"');
        }
        out.push_str(&replace_kv(&l));
    }
    out
}

fn replace_quoted(line: &str, q: char) -> String {
    let mut out = String::new();
    let mut parts = line.split(q);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    if rest.len() < 2 {
        for r in rest {
            out.push(q);
            out.push_str(r);
        }
        return out;
    }
    for (i, r) in rest.iter().enumerate() {
        out.push(q);
        if i % 2 == 0 && i + 1 < rest.len() && !r.is_empty() && !r.starts_with('<') {
            out.push_str("<value>");
        } else {
            out.push_str(r);
        }
    }
    out
}

fn replace_kv(line: &str) -> String {
    // --key=value with a plain value that is not already a placeholder
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("--") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let key_end = tail[2..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map_or(tail.len(), |k| k + 2);
        let key = &tail[2..key_end];
        if tail[key_end..].starts_with('=') && !key.is_empty() {
            let val = &tail[key_end + 1..];
            let val_end = val.find(|c: char| c.is_whitespace() || c == '\\').unwrap_or(val.len());
            let v = &val[..val_end];
            out.push_str(&tail[..key_end + 1]);
            if v.starts_with('<') || v.starts_with('"') || v.starts_with('\'') || v.is_empty() {
                out.push_str(v);
            } else if let Some(eq) = v.find('=') {
                // --max-load=Threads_running=25: keep the inner key
                out.push_str(&v[..=eq]);
                out.push_str(&format!("<{}>", key.replace('-', "_")));
            } else {
                out.push_str(&format!("<{}>", key.replace('-', "_")));
            }
            rest = &val[val_end..];
        } else {
            out.push_str(&tail[..key_end]);
            rest = &tail[key_end..];
        }
    }
    out.push_str(rest);
    out
}

fn placeholder_for(before: &str, default: &str) -> String {
    let b = before.trim_end().to_ascii_lowercase();
    let kw = ["from", "join", "into", "update", "table"];
    if kw.iter().any(|k| b.ends_with(k)) {
        return "<table>".into();
    }
    if b.ends_with('=') || b.ends_with(':') {
        let key: String = b
            .trim_end_matches(['=', ':', ' '])
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let key = key.trim_start_matches('-').replace('-', "_");
        // A key that is itself an internal name ("threads_running") would leak it back.
        if !key.is_empty() && key.len() <= 16 && !key.contains('_') {
            return format!("<{key}>");
        }
    }
    format!("<{default}>")
}

/// Lowercased public skeleton: everything outside blocks and removals, plus public regions.
fn skeleton(src: &str, map: &BlockMap) -> String {
    let mut cover: Vec<Range<usize>> =
        map.blocks.iter().filter(|b| b.region != Region::Public).map(|b| b.range.clone()).collect();
    cover.extend(map.removals.iter().cloned());
    cover.sort_by_key(|r| r.start);
    let mut out = String::new();
    let mut pos = 0;
    for r in cover {
        if r.start > pos {
            out.push_str(&src[pos..r.start]);
            out.push('\n');
        }
        pos = pos.max(r.end);
    }
    if pos < src.len() {
        out.push_str(&src[pos..]);
    }
    out.to_ascii_lowercase()
}

/// The edit that removes a block forced private outside a marker region.
fn removal_range(src: &str, b: &Block) -> Range<usize> {
    match b.kind {
        BlockKind::ListItem { .. } | BlockKind::QuoteLine => {
            let start = src[..b.range.start].rfind('\n').map_or(0, |i| i + 1);
            let end = src[b.range.end..].find('\n').map_or(src.len(), |i| b.range.end + i + 1);
            start..end
        }
        _ => {
            let ws = src[b.range.end..].len() - src[b.range.end..].trim_start_matches([' ', '\t']).len();
            b.range.start..b.range.end + ws
        }
    }
}

const MAX_ROUNDS: usize = 6;

pub(crate) fn run(src: &str, opts: &SanitizeOptions) -> Result<Husk, SanitizeError> {
    let map = markdown::block_map(src);
    if map.visibility == Visibility::Private {
        return Err(SanitizeError::PrivateNote);
    }
    let (ctx, raw) = classify::analyze(src, &map);
    let mut plans = assess(src, &map, &ctx, raw, &opts.overrides);
    decide_level(&map, &mut plans, &opts.overrides, opts.level);
    let public = skeleton(src, &map);

    // Each block is rendered once, and again only when the gate escalates it; the chooser's
    // memory of used variants carries over between rounds.
    let n = map.blocks.len();
    let mut ch = Chooser {
        seed: opts.seed,
        used: vec![false; lexicon().filler_ids],
        roles: HashMap::new(),
        section_topics: Default::default(),
    };
    let mut rendered: Vec<Option<(Range<usize>, String)>> = vec![None; n];
    let mut dirty: Vec<bool> = vec![true; n];
    // Which blocks are withheld outright never changes below, so neither does the numbering.
    let renumbered = renumber(src, &map, &plans);
    // The gate is incremental: each round compiles only the tokens that are new (every block's
    // in the first round, then those of the blocks it escalated), runs them over the whole husk,
    // and runs the earlier rounds' tokens only over the blocks drawn again.
    let mut gates: Vec<leak::Gate> = Vec::new();
    let mut tokens: Vec<Vec<leak::Token>> = vec![Vec::new(); n];
    let mut fresh: Vec<usize> = (0..n).collect();
    for round in 0..MAX_ROUNDS {
        let mut redrawn = Vec::new();
        for (i, (b, p)) in map.blocks.iter().zip(&plans).enumerate() {
            if !dirty[i] || b.region == Region::Private {
                continue;
            }
            dirty[i] = false;
            redrawn.push(i);
            rendered[i] = if p.action == Action::Withhold {
                Some((removal_range(src, b), String::new()))
            } else {
                render(src, b, p, &map, &ctx, &mut ch).map(|text| {
                    let text = if text.contains('\n') && map.line_ending == markdown::LineEnding::CrLf {
                        text.replace("\r\n", "\n").replace('\n', "\r\n")
                    } else {
                        text
                    };
                    (b.range.clone(), text)
                })
            };
        }
        let mut edits: Vec<(Range<usize>, &str, Option<usize>)> =
            map.removals.iter().map(|r| (r.clone(), "", None)).collect();
        for (i, r) in rendered.iter().enumerate() {
            if let Some((range, text)) = r {
                edits.push((range.clone(), text.as_str(), Some(i)));
            }
        }
        edits.extend(renumbered.iter().map(|(r, t)| (r.clone(), t.as_str(), None)));
        edits.sort_by_key(|e| (e.0.start, e.0.end));
        let text = markdown::splice(src, edits.iter().map(|(r, t, _)| (r.clone(), *t)));
        let offsets = output_ranges(&map, &edits);
        // Output ranges are in source order, so the holder of an offset is found by bisection.
        let placed: Vec<(usize, Range<usize>)> =
            offsets.iter().enumerate().filter_map(|(i, r)| r.clone().map(|r| (i, r))).collect();
        let holder_of = |at: usize| {
            let k = placed.partition_point(|(_, r)| r.start <= at);
            k.checked_sub(1).map(|k| &placed[k]).filter(|(_, r)| at < r.end).map(|(i, _)| *i)
        };

        // Leak gate.
        // (owner, index into its tokens, strict) of each token not looked for before.
        let mut withheld: Vec<(usize, usize, bool)> = Vec::new();
        for &i in &fresh {
            let p = &plans[i];
            if p.action == Action::Keep {
                continue;
            }
            let all = block_tokens(&src[map.blocks[i].range.clone()], p);
            for (k, t) in all.iter().enumerate() {
                if tokens[i].binary_search_by(|o| o.text.cmp(t.text)).is_err() {
                    withheld.push((i, k, p.action == Action::Withhold));
                }
            }
            tokens[i] = all;
        }
        let mut found = Vec::new();
        let mut windows: Vec<Range<usize>> = redrawn.iter().filter_map(|&i| offsets[i].clone()).collect();
        windows.sort_by_key(|w| w.start);
        for w in merge_touching(windows) {
            for g in &gates {
                g.scan(&text, w.clone(), &mut found);
            }
        }
        if let Some(g) =
            leak::Gate::build(withheld.iter().map(|&(i, k, strict)| (i, &tokens[i][k], strict)), &public)
        {
            g.scan(&text, 0..text.len(), &mut found);
            gates.push(g);
        }
        found.sort_by_key(|f| (f.at, f.len, f.owner));
        found.dedup();
        // Text the user ruled public (a marker or a keep override) is shown as written: a token
        // it shares with a withheld block is the user's own decision, not a leak.
        let findings: Vec<leak::Finding> = found
            .into_iter()
            .filter(|f| holder_of(f.at).is_none_or(|h| plans[h].forced != Some(Forced::Keep)))
            .collect();
        if findings.is_empty() {
            return Ok(finish(src, &map, plans, text));
        }
        // Each block whose output holds a finding is escalated once per round, at least as far
        // as the token's kind needs (masking replaces names, dilution figures and phrasings).
        // A token outside every block (a heading, a label) cannot be rewritten away.
        let mut holders: Vec<(usize, Action)> = Vec::new();
        for f in &findings {
            let Some(h) = holder_of(f.at) else {
                let owner = &map.blocks[f.owner];
                return Err(SanitizeError::Leak { line: owner.line, column: owner.column });
            };
            let need = match f.kind {
                SpanKind::Name | SpanKind::Identifier => Action::Mask,
                SpanKind::Measure(_)
                | SpanKind::BareNumber
                | SpanKind::ZhNumeral
                | SpanKind::Quote { long: true } => Action::Dilute,
                SpanKind::Quote { long: false } => Action::Hollow,
            };
            match holders.iter_mut().find(|(x, _)| *x == h) {
                Some((_, a)) => *a = (*a).max(need),
                None => holders.push((h, need)),
            }
        }
        holders.sort_unstable();
        fresh.clear();
        let mut escalated = false;
        for (h, need) in holders {
            let is_code = matches!(map.blocks[h].kind, BlockKind::Code { .. });
            let p = &mut plans[h];
            dirty[h] = true;
            let next = match p.action {
                Action::Keep | Action::Mask | Action::Dilute if is_code => Action::Hollow,
                Action::Keep => Action::Mask.max(need),
                Action::Mask => Action::Dilute.max(need),
                Action::Dilute => Action::Hollow,
                Action::Hollow if !p.plain => {
                    p.plain = true;
                    escalated = true;
                    continue;
                }
                other => other,
            };
            if next != p.action {
                p.action = next;
                p.rule = format!("leak-gate.{}", p.rule.trim_start_matches("leak-gate.")).into();
                escalated = true;
                fresh.push(h);
            }
        }
        if !escalated || round + 1 == MAX_ROUNDS {
            let owner = &map.blocks[findings[0].owner];
            return Err(SanitizeError::Leak { line: owner.line, column: owner.column });
        }
    }
    let b = &map.blocks[0];
    Err(SanitizeError::Leak { line: b.line, column: b.column })
}

/// The distinctive tokens a block gives up at its action. Masking withholds names and systems
/// only; its other specifics stay by policy.
fn block_tokens<'a>(text: &'a str, p: &Plan) -> Vec<leak::Token<'a>> {
    let private = p.action == Action::Withhold;
    let mask = p.action == Action::Mask;
    leak::distinctive_tokens(text, p.verdict.spans.iter().filter(|s| !mask || is_maskable(s.kind)), private)
}

/// Sorted ranges with touching or overlapping ones joined.
fn merge_touching(ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// When an ordered list item is withheld outright, the items after it in the same list are
/// renumbered so the husk shows no gap (1, 2, 3 rather than 1, 3, 4).
fn renumber(src: &str, map: &BlockMap, plans: &[Plan]) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut removed: HashMap<usize, i64> = HashMap::new();
    for (b, p) in map.blocks.iter().zip(plans) {
        let (Some(list), BlockKind::ListItem { ordered: true, .. }) = (b.list, &b.kind) else { continue };
        if b.region == Region::Private {
            continue;
        }
        if p.action == Action::Withhold {
            *removed.entry(list).or_default() += 1;
            continue;
        }
        let Some(&gone) = removed.get(&list) else { continue };
        // The marker sits between the line start (after indentation or a quote prefix) and the text.
        let line_start = src[..b.range.start].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &src[line_start..b.range.start];
        let Some(d0) = prefix.find(|c: char| c.is_ascii_digit()) else { continue };
        let d1 = prefix[d0..].find(|c: char| !c.is_ascii_digit()).map_or(prefix.len(), |i| d0 + i);
        if let Ok(n) = prefix[d0..d1].parse::<i64>() {
            out.push((line_start + d0..line_start + d1, (n - gone).max(0).to_string()));
        }
    }
    out
}

/// Output byte range of every block (None when removed).
fn output_ranges(map: &BlockMap, edits: &[(Range<usize>, &str, Option<usize>)]) -> Vec<Option<Range<usize>>> {
    let mut out = vec![None; map.blocks.len()];
    // Walk source positions: delta accumulates over edits that end before a position.
    let mut delta: isize = 0;
    let mut ei = 0;
    let mut last_end = 0usize;
    // By block: the output range of a rewritten block.
    let mut edit_of: Vec<Option<Range<usize>>> = vec![None; map.blocks.len()];
    let mut applied: Vec<(Range<usize>, isize)> = Vec::new();
    for (r, t, owner) in edits {
        if r.start < last_end {
            continue;
        }
        let out_start = (r.start as isize + delta) as usize;
        if let Some(o) = owner {
            edit_of[*o] = Some(out_start..out_start + t.len());
        }
        delta += t.len() as isize - (r.end - r.start) as isize;
        applied.push((r.clone(), delta));
        last_end = r.end;
    }
    for (i, b) in map.blocks.iter().enumerate() {
        if let Some(r) = edit_of[i].take() {
            out[i] = Some(r);
            continue;
        }
        // Unedited block: removed if inside a removal, else shifted by the edits before it.
        while ei < applied.len() && applied[ei].0.end <= b.range.start {
            ei += 1;
        }
        // Inside a removal? Edits are sorted and disjoint: only the last one starting at or
        // before the block can contain it.
        let k = applied.partition_point(|(r, _)| r.start <= b.range.start);
        if k > 0 && applied[k - 1].0.end >= b.range.end && applied[k - 1].0.start <= b.range.start {
            continue;
        }
        let d = if ei == 0 { 0 } else { applied[ei - 1].1 };
        out[i] = Some((b.range.start as isize + d) as usize..(b.range.end as isize + d) as usize);
    }
    out
}

fn finish(src: &str, map: &BlockMap, plans: Vec<Plan>, text: String) -> Husk {
    let mut blocks = Vec::with_capacity(plans.len());
    let mut kept = 0.0;
    for (b, p) in map.blocks.iter().zip(plans) {
        kept += p.action.retained();
        blocks.push(BlockOutcome {
            start: b.range.start,
            end: b.range.end,
            line: b.line,
            column: b.column,
            kind: b.kind.clone(),
            category: p.verdict.category,
            score: (p.verdict.score * 100.0).round() / 100.0,
            rule: p.rule,
            action: p.action,
            forced: p.forced,
            fingerprint: p.fingerprint,
            sha256: Sha256Hex::of(&Sha256::digest(src[b.range.clone()].as_bytes())),
        });
    }
    let retention =
        if blocks.is_empty() { 1.0 } else { ((kept / blocks.len() as f64) * 1000.0).round() / 1000.0 };
    Husk { text, blocks, retention, visibility: map.visibility }
}

pub(crate) fn classify_all(src: &str, overrides: &Overrides) -> Vec<Classified> {
    let map = markdown::block_map(src);
    let (ctx, raw) = classify::analyze(src, &map);
    // Classify once; only the decision differs per level.
    let mut plans = assess(src, &map, &ctx, raw, overrides);
    let mut actions = vec![[Action::Keep; 3]; plans.len()];
    let mut medium: Vec<(Cow<'static, str>, Option<Forced>)> = Vec::new();
    for level in Level::ALL {
        decide_level(&map, &mut plans, overrides, level);
        for (a, p) in actions.iter_mut().zip(&plans) {
            a[level_index(level)] = p.action;
        }
        if level == Level::Medium {
            medium = plans.iter().map(|p| (p.rule.clone(), p.forced)).collect();
        }
    }
    map.blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = &plans[i];
            let (rule, forced) = medium[i].clone();
            Classified {
                start: b.range.start,
                end: b.range.end,
                line: b.line,
                column: b.column,
                kind: b.kind.clone(),
                category: p.verdict.category,
                score: (p.verdict.score * 100.0).round() / 100.0,
                rule,
                forced,
                fingerprint: p.fingerprint,
                actions: actions[i],
            }
        })
        .collect()
}

pub(crate) fn fragment(text: &str, level: Level, seed: u64) -> String {
    // A fragment is sanitized as a one-paragraph document: its own block map, policy and gate.
    let one_line = text.replace(['\r', '\n'], " ");
    let mut opts = SanitizeOptions::new(level);
    opts.seed = seed;
    match run(&one_line, &opts) {
        Ok(h) => h.text,
        Err(_) => {
            let lang = detect_lang(text).unwrap_or(Lang::En);
            let bank = lexicon().bank(lang);
            let t = match lang {
                Lang::En => "this area",
                Lang::Zh => "这类工作",
            };
            fill(&bank.sentences[&Category::Context][0].text, t, lang)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_ordered_items_leave_no_gap() {
        let src = "# Steps\n\n1. First step.\n2. Second step.\n3. Third step.\n4. Fourth step.\n";
        let map = markdown::block_map(src);
        let mut overrides = Overrides::new();
        overrides.insert(
            markdown::fingerprint(&map.sections[map.blocks[1].section].path, "Second step."),
            Forced::Private,
        );
        let mut opts = SanitizeOptions::new(Level::Light);
        opts.overrides = overrides;
        let husk = run(src, &opts).expect("sanitizes");
        assert_eq!(husk.text, "# Steps\n\n1. First step.\n2. Third step.\n3. Fourth step.\n");
    }

    #[test]
    fn internal_names_are_masked_as_their_kind() {
        let lex = lexicon();
        assert_eq!(name_words("couponClient"), ["coupon", "client"]);
        assert_eq!(name_words("t_order_ext"), ["t", "order", "ext"]);
        assert_eq!(name_words("checkout.fallback_psp"), ["checkout", "fallback", "psp"]);
        let kind = |n: &str| identifier_kind(n, Lang::En, lex);
        assert_eq!(kind("checkout-api").as_deref(), Some("the internal service"));
        assert_eq!(kind("checkout.fallback_psp").as_deref(), Some("the relevant feature flag"));
        assert_eq!(kind("checkout_requests_total").as_deref(), Some("the relevant metric"));
        assert_eq!(kind("ledger-reconcile").as_deref(), Some("the relevant job"));
        assert_eq!(kind("t_order_ext").as_deref(), Some("the related table"));
        assert_eq!(kind("pgbouncer"), None);
        assert_eq!(identifier_kind("cache-invalidate", Lang::Zh, lex).as_deref(), Some("相关队列"));
    }

    #[test]
    fn colour_values_go_after_a_colour_word_and_become_a_shade_elsewhere() {
        let text =
            "The brand blue `#1F5EFF` appears once; grey text never goes lighter than `#5C5F66` on white.";
        let spans = classify::scan(text, None);
        let mut ch = Chooser {
            seed: 0,
            used: vec![false; lexicon().filler_ids],
            roles: HashMap::new(),
            section_topics: Default::default(),
        };
        let out = replace_spans(text, &spans, Lang::En, &mut ch, "k", false).unwrap();
        assert_eq!(
            out,
            "The brand blue appears once; grey text never goes lighter than the agreed shade on white."
        );
        let zh = "品牌蓝 `#1F5EFF` 每屏最多出现一次。";
        let out = replace_spans(zh, &classify::scan(zh, None), Lang::Zh, &mut ch, "k", false).unwrap();
        assert_eq!(out, "品牌蓝每屏最多出现一次。");
    }

    #[test]
    fn a_quoted_state_becomes_a_qualifier_and_other_quotes_are_not_repeated() {
        let lex = lexicon();
        let zh = "进入“只打字不说话”的状态时，别打电话。";
        let inner = zh.find("只").unwrap()..zh.find("”").unwrap();
        let (outer, repl) = quoted_state(zh, &inner, Lang::Zh, lex).unwrap();
        assert_eq!(
            format!("{}{repl}{}", &zh[..outer.start], &zh[outer.end..]),
            "进入某种特定的状态时，别打电话。"
        );
        let en = "When she goes into the \"heads down, no calls\" mode, write instead.";
        let inner = en.find("heads").unwrap()..en.find("\" mode").unwrap();
        assert!(quoted_state(en, &inner, Lang::En, lex).is_some());
        let said = "He says \"heads down, no calls\" modestly.";
        let inner = said.find("heads").unwrap()..said.find("\" mod").unwrap();
        assert!(
            quoted_state(said, &inner, Lang::En, lex).is_none(),
            "a word that only starts like a state noun"
        );
        // Two different utterances diluted in one document get two different stock phrases.
        let src = "# Habits\n\n- Opens with \"we should write this down first\" before any review of the plan.\n- Closes with \"let us confirm this with the owner\" after each review of the plan.\n";
        let out = crate::sanitize(src, &crate::SanitizeOptions::new(crate::Level::Medium)).unwrap().text;
        let quoted: Vec<&str> = out.split('"').skip(1).step_by(2).collect();
        assert_eq!(quoted.len(), 2, "{out}");
        assert!(
            !out.contains("write this down") && !out.contains("confirm this with"),
            "both utterances are diluted: {out}"
        );
        assert_ne!(quoted[0], quoted[1], "{out}");
    }

    #[test]
    fn a_chinese_name_after_a_job_title_goes_and_the_title_stays() {
        let mut ch = Chooser {
            seed: 0,
            used: vec![false; lexicon().filler_ids],
            roles: HashMap::new(),
            section_topics: Default::default(),
        };
        let zh = "大额折扣要找华东区 VP 吕建国签字，再走系统审批。";
        let spans = classify::scan(zh, None);
        assert!(
            spans.iter().any(|s| s.kind == SpanKind::Name && &zh[s.range.clone()] == "吕建国"),
            "{spans:?}"
        );
        let out = replace_spans(zh, &spans, Lang::Zh, &mut ch, "k", false).unwrap();
        assert_eq!(out, "大额折扣要找华东区 VP 签字，再走系统审批。");
        // Without a title before it, a name still becomes a role.
        let zh = "大额折扣要找吕建国签字，再走系统审批。";
        let out = replace_spans(zh, &classify::scan(zh, None), Lang::Zh, &mut ch, "k", false).unwrap();
        assert!(!out.contains("吕建国") && out.len() > "大额折扣要找签字，再走系统审批。".len(), "{out}");
    }

    #[test]
    fn english_topics_take_the_article_a_colleague_would_write() {
        assert_eq!(
            fill("Confirm the stability of {topic} before closing.", "connection pool", Lang::En),
            "Confirm the stability of the connection pool before closing."
        );
        assert_eq!(fill("{topic} needs a named owner.", "alert", Lang::En), "The alert needs a named owner.");
        for bare in ["feature flags", "caching", "latency", "API", "the release process"] {
            assert_eq!(
                fill("Write down what is known about {topic}.", bare, Lang::En),
                format!("Write down what is known about {bare}.")
            );
        }
        assert_eq!(fill("Review the {topic} first.", "alert", Lang::En), "Review the alert first.");
    }

    #[test]
    fn fill_drops_a_repeated_topic() {
        assert_eq!(
            fill("{topic}告警集中出现时先找共同原因。", "告警", Lang::Zh),
            "告警集中出现时先找共同原因。"
        );
        assert_eq!(fill("涉及{topic}的改动要复核。", "缓存", Lang::Zh), "涉及缓存的改动要复核。");
        assert_eq!(fill("电话沟通{topic}后用文字跟进。", "沟通方式", Lang::Zh), "电话沟通方式后用文字跟进。");
        assert_eq!(fill("电话沟通{topic}后用文字跟进。", "沟通", Lang::Zh), "电话沟通后用文字跟进。");
        assert_eq!(fill("Review {topic} alerts often.", "alerts", Lang::En), "Review alerts often.");
        // A longer word that starts with the topic is not an echo.
        assert_eq!(
            fill("Review {topic} latencyish often.", "latency", Lang::En),
            "Review latency latencyish often."
        );
    }

    #[test]
    fn a_company_is_masked_as_a_company_and_a_person_as_a_role() {
        let text = "The roadmap slide promised SSO for next quarter, and at Lumen Corp the team waited for it all year.";
        let ctx = classify::doc_context(text, &markdown::block_map(text));
        let spans = classify::scan(text, Some(&ctx));
        let mut ch = Chooser {
            seed: 0,
            used: vec![false; lexicon().filler_ids],
            roles: HashMap::new(),
            section_topics: Default::default(),
        };
        let out = replace_spans(text, &spans, Lang::En, &mut ch, "k", false).expect("masks");
        assert_eq!(out, "The roadmap slide promised SSO for next quarter, and at another company the team waited for it all year.");
        let text = "Ask Dana Whitfield before the call.";
        let spans = classify::scan(text, Some(&ctx));
        let out = replace_spans(text, &spans, Lang::En, &mut ch, "k", false).expect("masks");
        assert!(!out.contains("Dana") && !out.contains("company"), "{out}");
    }

    #[test]
    fn a_gotchas_heading_makes_its_plain_lines_pitfalls_but_a_title_does_not() {
        let cat = |src: &str, needle: &str| {
            let rows = classify_all(src, &Overrides::default());
            rows.iter().find(|r| src[r.start..r.end].contains(needle)).map(|r| r.category).expect("block")
        };
        let line = "- App Store review rejects builds that mention a test flag in the notes.";
        assert_eq!(cat(&format!("# Release\n\n## Gotchas\n\n{line}\n"), "App Store"), Category::Pitfall);
        assert_eq!(cat(&format!("# Release\n\n## 踩坑记录\n\n{line}\n"), "App Store"), Category::Pitfall);
        assert_eq!(cat(&format!("# Release\n\n## Steps\n\n{line}\n"), "App Store"), Category::Shareable);
        // The document's title names its subject, not each line's kind; words match whole words.
        assert_eq!(cat(&format!("# Release gotchas\n\n{line}\n"), "App Store"), Category::Shareable);
        assert_eq!(classify::section_cue("Mistakes we made"), classify::section_cue("Gotchas"));
        assert_eq!(classify::section_cue("Mistakesheet"), None);
    }

    #[test]
    fn enumerations_are_short_items_not_clauses() {
        assert!(is_enumeration("投诉升级、退款审批、客服排班。", Lang::Zh));
        assert!(is_enumeration("incident reviews, vendor contracts and on-call rotas", Lang::En));
        assert!(!is_enumeration("投诉升级、退款审批", Lang::Zh), "two items are a pair, not a list");
        assert!(!is_enumeration("先查日志，再看监控、告警和变更记录。", Lang::Zh));
        assert!(!is_enumeration(
            "Ask the payments team before you change the retry policy, the timeout and the limits.",
            Lang::En
        ));
    }

    #[test]
    fn dilution_reads_naturally() {
        let lex = lexicon();
        let _ = lex;
        let mut ch = Chooser {
            seed: 0,
            used: vec![false; lexicon().filler_ids],
            roles: HashMap::new(),
            section_topics: Default::default(),
        };
        let text =
            "If a deploy landed in the last 90 minutes, roll back; errors above 2% for 5 minutes page us.";
        let ctx = classify::doc_context(text, &markdown::block_map(text));
        let spans = classify::scan(text, Some(&ctx));
        let out = dilute(text, &spans, Lang::En, &mut ch, "k").expect("dilutes");
        assert_eq!(
            out,
            "If a deploy landed recently, roll back; errors above the agreed threshold for a while page us."
        );
        let text = "Chase mismatches before the 9:30 finance cut-off.";
        let spans = classify::scan(text, Some(&ctx));
        assert_eq!(
            dilute(text, &spans, Lang::En, &mut ch, "k").expect("dilutes"),
            "Chase mismatches before the scheduled finance cut-off."
        );
        // A percentage no comparison governs is a proportion; one after a comparison a limit.
        let text = "It carried the bug to 30% of users; errors stayed above 2% all day.";
        let spans = classify::scan(text, Some(&ctx));
        assert_eq!(dilute(text, &spans, Lang::En, &mut ch, "k").expect("dilutes"), "It carried the bug to a certain share of users; errors stayed above the agreed threshold all day.");
        let text = "节假日前一周排班要多留 20% 的人手，缺勤率超过 5% 就加人。";
        let spans = classify::scan(text, Some(&ctx));
        assert_eq!(
            dilute(text, &spans, Lang::Zh, &mut ch, "k").expect("dilutes"),
            "节假日前一周排班要多留一定比例的人手，缺勤率超过约定阈值就加人。"
        );
    }
}
