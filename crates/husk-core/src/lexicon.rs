//! Rules, lexicons and filler banks, embedded from `assets/` at build time and parsed once.
//!
//! Nothing here is hard-coded knowledge: cue phrases, signal weights, the level policy, generic
//! topic nouns, the specific→generic map, name lists and filler sentences all live in TOML under
//! `assets/`. This module turns them into fast matchers (Aho-Corasick, compiled regexes).
//! The embedded data is validated by this module's tests and by `build.rs`, so parsing it cannot
//! fail at run time.

use crate::model::{Action, Category, Level};
use crate::words::{Lists, WordScanner};
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const POLICY: &str = include_str!("../../../assets/rules/policy.toml");
const DILUTE: &str = include_str!("../../../assets/rules/dilute.toml");
const CUES: &str = include_str!("../../../assets/rules/cues.toml");
const SIGNALS: &str = include_str!("../../../assets/rules/signals.toml");
const FILLER_EN: &str = include_str!("../../../assets/filler/en.toml");
const FILLER_ZH: &str = include_str!("../../../assets/filler/zh.toml");
const TOPICS: &str = include_str!("../../../assets/lexicon/topics.toml");
const NAMES: &str = include_str!("../../../assets/lexicon/names.toml");
const EXPORT: &str = include_str!("../../../assets/rules/export.toml");

/// The language of a block or document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Zh,
}

// ---- raw TOML shapes ----

#[derive(Deserialize)]
struct PolicyFile {
    threshold: HashMap<String, f32>,
    actions: HashMap<String, [String; 3]>,
    #[serde(default)]
    mask: MaskRaw,
}

#[derive(Deserialize, Default)]
struct MaskRaw {
    #[serde(default)]
    always: bool,
}

#[derive(Deserialize)]
struct DiluteFile {
    files: FilesRaw,
    #[serde(default)]
    identifier_kind: Vec<IdentifierKind>,
    colors: ColorsRaw,
    quoted_state: QuotedStateRaw,
    heads: LangLists,
    adjectives: LangLists,
    en: Vec<DiluteRuleRaw>,
    #[serde(default)]
    zh: Vec<DiluteRuleRaw>,
    en_fallback: HashMap<String, String>,
    zh_fallback: HashMap<String, String>,
}

/// What kind of thing an internal name is, from its words or the end of the name.
#[derive(Debug, Clone, Deserialize)]
pub struct IdentifierKind {
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub suffixes: Vec<String>,
    pub en: String,
    pub zh: String,
}

#[derive(Deserialize)]
struct QuotedStateRaw {
    en_nouns: Vec<String>,
    en_replace: String,
    zh_nouns: Vec<String>,
    zh_replace: String,
}

#[derive(Deserialize)]
struct ColorsRaw {
    en: Vec<String>,
    zh: Vec<String>,
    en_fallback: String,
    zh_fallback: String,
}

#[derive(Deserialize)]
struct FilesRaw {
    extensions: Vec<String>,
}

#[derive(Deserialize)]
struct LangLists {
    en: Vec<String>,
    zh: Vec<String>,
}

#[derive(Deserialize)]
struct DiluteRuleRaw {
    kinds: Vec<String>,
    before: String,
    replace: String,
}

/// One dilution rule: a measure of one of `kinds` preceded by text matching `before`.
#[derive(Debug, Clone)]
pub struct DiluteRule {
    pub kinds: Vec<String>,
    pub before: Regex,
    pub replace: String,
}

#[derive(Deserialize)]
struct CueFile {
    cue: Vec<CueRaw>,
    pattern: Vec<PatternRaw>,
    #[serde(default)]
    section: Vec<CueRaw>,
    #[serde(default)]
    zh_compounds: Compounds,
}

#[derive(Deserialize, Default)]
struct Compounds {
    #[serde(default)]
    words: Vec<String>,
}

#[derive(Deserialize)]
struct CueRaw {
    id: String,
    category: String,
    weight: f32,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    zh: Vec<String>,
}

#[derive(Deserialize)]
struct PatternRaw {
    id: String,
    category: String,
    weight: f32,
    regex: String,
    #[serde(default)]
    needs_digit: bool,
    #[serde(default)]
    alone: Option<String>,
}

#[derive(Deserialize)]
struct SignalFile {
    signal: HashMap<String, SignalRaw>,
    say_verbs: UnitsRaw,
    units: UnitsRaw,
    zh_numerals: ZhNumeralsRaw,
    number_words: NumberWordsRaw,
}

#[derive(Deserialize)]
struct NumberWordsRaw {
    en: Vec<String>,
    counted: Vec<String>,
}

#[derive(Deserialize)]
struct SignalRaw {
    category: String,
    weight: f32,
}

#[derive(Deserialize)]
struct UnitsRaw {
    en: Vec<String>,
    zh: Vec<String>,
}

#[derive(Deserialize)]
struct ZhNumeralsRaw {
    chars: String,
}

#[derive(Deserialize)]
struct FillerFile {
    #[serde(flatten)]
    categories: HashMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct TopicsFile {
    generic: GenericRaw,
    #[serde(default)]
    articles: ArticlesRaw,
    map: HashMap<String, MapRaw>,
}

#[derive(Deserialize, Default)]
struct ArticlesRaw {
    #[serde(default)]
    bare_en: Vec<String>,
}

#[derive(Deserialize)]
struct GenericRaw {
    en: Vec<String>,
    zh: Vec<String>,
}

#[derive(Deserialize)]
struct MapRaw {
    en: String,
    zh: String,
}

#[derive(Deserialize)]
struct NamesFile {
    first_names_en: Vec<String>,
    #[serde(default)]
    ambiguous_first_names_en: Vec<String>,
    surnames_zh: Vec<String>,
    not_names_zh: Vec<String>,
    contexts_zh_before: Vec<String>,
    contexts_zh_after: Vec<String>,
    contexts_en_before: Vec<String>,
    #[serde(default)]
    titles_en: Vec<String>,
    #[serde(default)]
    given_name_stop_zh: String,
    #[serde(default)]
    not_name_words_en: Vec<String>,
    #[serde(default)]
    titles_zh: Vec<String>,
    #[serde(default)]
    roles_before_zh: Vec<String>,
    #[serde(default)]
    org_suffixes_en: Vec<String>,
    #[serde(default)]
    org_en: String,
    #[serde(default)]
    org_zh: String,
}

#[derive(Deserialize)]
struct ExportFile {
    meta: MetaRules,
}

/// How exports treat colleague-skill meta.json (see `assets/rules/export.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct MetaRules {
    pub structural: Vec<String>,
    #[serde(default)]
    pub replace: Vec<MetaReplace>,
    #[serde(default)]
    pub clear: Vec<MetaClear>,
}

/// From `level` up, the value at `path` becomes a generic noun.
#[derive(Debug, Clone, Deserialize)]
pub struct MetaReplace {
    pub level: Level,
    pub path: String,
    pub en: String,
    pub zh: String,
}

/// From `level` up, the values at `paths` are emptied.
#[derive(Debug, Clone, Deserialize)]
pub struct MetaClear {
    pub level: Level,
    pub paths: Vec<String>,
}

// ---- compiled forms ----

/// A cue word or pattern that fired.
#[derive(Debug, Clone)]
pub struct Cue {
    pub id: String,
    pub category: Category,
    pub weight: f32,
}

/// A cue that needs more than a word: a regular expression, and what a block must hold for it
/// to have a chance (so most blocks skip most patterns).
#[derive(Debug, Clone)]
pub struct CuePattern {
    pub cue: Cue,
    pub regex: Regex,
    /// Its literals hold Chinese: an all-Latin block cannot match.
    pub chinese: bool,
    /// Its literals hold an English word: a block without Latin letters cannot match.
    pub latin: bool,
    /// It cannot match without a digit (`needs_digit = true` in the rules).
    pub needs_digit: bool,
    /// Each of its matches holds one of a few literals (see [`crate::words::required_literals`]):
    /// it is tried only on text where the word scanner found one.
    pub triggered: bool,
    /// The category whose filler a block takes when this pattern is its category's only
    /// evidence (`alone = "judgment"`): a threshold reads as operations know-how only next to
    /// operations words.
    pub alone: Option<Category>,
}

/// A named signal's category (None: a neutral specific) and weight.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub category: Option<Category>,
    pub weight: f32,
}

/// One filler variant: its text, its length in characters, and an id that every list holding
/// the same text shares (a variant is used once per document, whichever list offers it).
#[derive(Debug, Clone)]
pub struct Filler {
    pub text: String,
    pub chars: usize,
    pub id: u32,
}

/// Filler banks for one language.
#[derive(Debug, Clone, Default)]
pub struct Bank {
    pub sentences: FxHashMap<Category, Vec<Filler>>,
    pub items: FxHashMap<Category, Vec<Filler>>,
    pub cells: FxHashMap<Category, Vec<Filler>>,
    pub roles: Vec<Filler>,
    pub dialogue: Vec<Filler>,
    pub phrases: Vec<Filler>,
    /// Generic enumerations for a labelled list ("主要职责：A、B、C").
    pub enumerations: Vec<Filler>,
    pub vague: FxHashMap<String, Vec<String>>,
    /// Topic used when a block and its heading name none, per category.
    pub topic_defaults: FxHashMap<Category, String>,
}

/// Everything the engine knows, compiled.
pub struct Lexicon {
    pub threshold: [f32; 3],
    pub meta: MetaRules,
    /// Mask names and internal identifiers even in kept blocks.
    pub always_mask: bool,
    pub dilute_en: Vec<DiluteRule>,
    pub dilute_zh: Vec<DiluteRule>,
    pub dilute_fallback_en: FxHashMap<String, String>,
    pub dilute_fallback_zh: FxHashMap<String, String>,
    /// Head nouns after an internal name (kept when the name is masked), longest first.
    pub file_extensions: FxHashSet<String>,
    /// Kinds of internal names, tried in order (see `assets/rules/dilute.toml`).
    pub identifier_kinds: Vec<IdentifierKind>,
    /// Colour words (lowercase en; zh characters) after which a colour value is dropped, and
    /// the phrase that replaces a colour value elsewhere, per language.
    pub colors_en: FxHashSet<String>,
    pub colors_zh: Vec<String>,
    pub color_fallback_en: String,
    pub color_fallback_zh: String,
    /// Words that make a quoted term before them a named state, and what replaces that term
    /// with its quote marks, per language (see `assets/rules/dilute.toml`).
    pub state_nouns_en: Vec<String>,
    pub state_nouns_zh: Vec<String>,
    pub state_replace_en: String,
    pub state_replace_zh: String,
    pub heads_en: Vec<String>,
    pub heads_zh: Vec<String>,
    pub adjectives_en: Vec<String>,
    pub adjectives_zh: Vec<String>,
    pub policy: FxHashMap<Category, [Action; 3]>,
    pub cues: Vec<Cue>,
    /// Cues in the nearest heading ("Gotchas", "踩坑", "Escalation"): evidence for every block of
    /// the section, with the lowercased words that name them.
    pub section_cues: Vec<(Cue, Vec<String>)>,
    /// Every word of `section_cues` in one matcher (all occurrences), with its cue's index.
    pub section_words: (aho_corasick::AhoCorasick, Vec<usize>),
    /// Every word list in one scanner: cue words (English ones ASCII case-insensitive;
    /// Chinese ones with their compounds), topic nouns, topic-map terms, number words and the
    /// literals the patterns need.
    pub words: WordScanner,
    pub patterns: Vec<CuePattern>,
    /// For every rule id the classifier can name: "{id}.below-threshold", then "{id}+{category}"
    /// for each category in `Category::ALL` order (composed once, not per block).
    derived_rules: FxHashMap<String, Box<[String; 8]>>,
    pub signals: FxHashMap<String, Signal>,
    pub units_en: FxHashSet<String>,
    /// Words before a quotation that make it a phrasing (lowercase en; zh as written).
    pub say_verbs_en: Vec<String>,
    pub say_verbs_zh: Vec<String>,
    /// Chinese units (and a few Latin ones such as GB) by first character, longest first.
    units_zh_by_char: FxHashMap<char, Vec<String>>,
    pub zh_numerals: Vec<char>,
    /// English number words ("three", "a couple of") and the nouns they count ("days").
    pub number_words_en: Vec<String>,
    pub counted_en: Vec<String>,
    pub bank_en: Bank,
    pub bank_zh: Bank,
    /// How many distinct filler texts the banks hold (ids run below it).
    pub filler_ids: usize,
    pub topics_en_list: Vec<String>,
    pub topics_zh_list: Vec<String>,
    /// Specific term (lowercase) → (en, zh) generic topic.
    pub topic_map: FxHashMap<String, (String, String)>,
    /// English topic nouns that take no article in filler (uncountable or process nouns).
    pub bare_topics_en: FxHashSet<String>,
    pub topic_map_keys: Vec<String>,
    pub first_names_en: FxHashSet<String>,
    pub ambiguous_first_names_en: FxHashSet<String>,
    pub titles_en: FxHashSet<String>,
    pub surnames_zh: Vec<String>,
    /// Surnames by first character, longest first, for a cheap lookup at each CJK character.
    pub surnames_by_char: FxHashMap<char, Vec<String>>,
    /// Bit per Basic Multilingual Plane character: a surname starts with it (a quick no before
    /// the lookup in `surnames_by_char`).
    surname_starts: Vec<u64>,
    pub not_names_zh: FxHashSet<String>,
    pub contexts_zh_before: FxHashSet<String>,
    pub contexts_zh_after: FxHashSet<String>,
    pub contexts_en_before: FxHashSet<String>,
    /// Longest entry, in characters, of each set above (bounds the suffix/prefix lookups).
    pub longest_zh_context: usize,
    pub longest_not_name_zh: usize,
    pub longest_en_context_words: usize,
    pub given_name_stop_zh: FxHashSet<char>,
    pub not_name_words_en: FxHashSet<String>,
    /// Titles after a surname that make it a person (longest first).
    pub titles_zh: Vec<String>,
    /// Job titles after which a masked Chinese name is dropped rather than given a role.
    pub roles_before_zh: Vec<String>,
    /// Last words of a company's name ("Lumen Corp"): such a name is masked as `org_en`/`org_zh`.
    pub org_suffixes_en: FxHashSet<String>,
    pub org_en: String,
    pub org_zh: String,
}

/// The process-wide lexicon.
pub fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::load().expect("embedded assets are validated by build.rs and tests"))
}

/// Why the embedded assets could not be loaded (only reachable if `assets/` is edited badly).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LexiconError {
    #[error("assets/{file}: {source}")]
    Toml { file: &'static str, source: toml::de::Error },
    #[error("assets/{file}: {what}")]
    Invalid { file: &'static str, what: String },
}

fn parse<T: for<'de> Deserialize<'de>>(file: &'static str, text: &str) -> Result<T, LexiconError> {
    toml::from_str(text).map_err(|source| LexiconError::Toml { file, source })
}

fn category(file: &'static str, s: &str) -> Result<Category, LexiconError> {
    s.parse().map_err(|e: crate::model::UnknownName| LexiconError::Invalid { file, what: e.to_string() })
}

fn action(file: &'static str, s: &str) -> Result<Action, LexiconError> {
    Ok(match s {
        "keep" => Action::Keep,
        "mask" => Action::Mask,
        "dilute" => Action::Dilute,
        "hollow" => Action::Hollow,
        other => return Err(LexiconError::Invalid { file, what: format!("unknown action {other:?}") }),
    })
}

fn longest_first(mut v: Vec<String>) -> Vec<String> {
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Filler variants from a TOML list, with ids from `ids` (text → id, shared by all banks).
fn fillers(v: Option<&toml::Value>, ids: &mut FxHashMap<String, u32>) -> Vec<Filler> {
    strings(v)
        .into_iter()
        .map(|text| {
            let next = ids.len() as u32;
            let id = *ids.entry(text.clone()).or_insert(next);
            Filler { chars: text.chars().count(), text, id }
        })
        .collect()
}

fn bank(file: &'static str, text: &str, ids: &mut FxHashMap<String, u32>) -> Result<Bank, LexiconError> {
    let raw: FillerFile = parse(file, text)?;
    let mut b = Bank::default();
    for (key, v) in &raw.categories {
        match key.as_str() {
            "roles" => b.roles = fillers(v.get("names"), ids),
            "dialogue" => b.dialogue = fillers(v.get("lines"), ids),
            "phrases" => b.phrases = fillers(v.get("lines"), ids),
            "enumerations" => b.enumerations = fillers(v.get("lines"), ids),
            "topic_defaults" => {
                if let Some(t) = v.as_table() {
                    for (k, d) in t {
                        if let Some(d) = d.as_str() {
                            b.topic_defaults.insert(category(file, k)?, d.to_string());
                        }
                    }
                }
            }
            "vague" => {
                if let Some(t) = v.as_table() {
                    for (k, list) in t {
                        b.vague.insert(k.clone(), strings(Some(list)));
                    }
                }
            }
            cat => {
                let c = category(file, cat)?;
                b.sentences.insert(c, fillers(v.get("sentences"), ids));
                b.items.insert(c, fillers(v.get("items"), ids));
                b.cells.insert(c, fillers(v.get("cells"), ids));
            }
        }
    }
    for c in Category::ALL.into_iter().filter(|c| *c != Category::Shareable) {
        if b.sentences.get(&c).is_none_or(|v| v.is_empty()) {
            return Err(LexiconError::Invalid { file, what: format!("no sentences for {c}") });
        }
    }
    if b.roles.is_empty() || b.dialogue.is_empty() || b.phrases.is_empty() || b.enumerations.is_empty() {
        return Err(LexiconError::Invalid {
            file,
            what: "roles, dialogue, phrases and enumerations must not be empty".into(),
        });
    }
    Ok(b)
}

impl Lexicon {
    /// "{rule}.below-threshold" for a rule id of the classifier (None for any other id).
    pub fn below_threshold_rule(&self, rule: &str) -> Option<&str> {
        self.derived_rules.get(rule).map(|d| d[0].as_str())
    }

    /// "{rule}+{category}" for a rule id of the classifier (None for any other id).
    pub fn with_category_rule(&self, rule: &str, c: Category) -> Option<&str> {
        let k = Category::ALL.iter().position(|x| *x == c)?;
        self.derived_rules.get(rule).map(|d| d[k + 1].as_str())
    }

    /// Parse and compile every embedded asset.
    pub fn load() -> Result<Self, LexiconError> {
        let policy: PolicyFile = parse("rules/policy.toml", POLICY)?;
        let mut filler_ids = FxHashMap::default();
        let bank_en = bank("filler/en.toml", FILLER_EN, &mut filler_ids)?;
        let bank_zh = bank("filler/zh.toml", FILLER_ZH, &mut filler_ids)?;
        let threshold = [
            policy.threshold.get("light").copied().unwrap_or(0.5),
            policy.threshold.get("medium").copied().unwrap_or(0.4),
            policy.threshold.get("heavy").copied().unwrap_or(0.25),
        ];
        let mut pol = FxHashMap::default();
        for (k, v) in &policy.actions {
            let c = category("rules/policy.toml", k)?;
            let a = [
                action("rules/policy.toml", &v[0])?,
                action("rules/policy.toml", &v[1])?,
                action("rules/policy.toml", &v[2])?,
            ];
            pol.insert(c, a);
        }
        if pol.len() != Category::ALL.len() {
            return Err(LexiconError::Invalid {
                file: "rules/policy.toml",
                what: "every category needs actions".into(),
            });
        }

        let dil: DiluteFile = parse("rules/dilute.toml", DILUTE)?;
        let rules = |raw: Vec<DiluteRuleRaw>| -> Result<Vec<DiluteRule>, LexiconError> {
            raw.into_iter()
                .map(|r| {
                    let before = Regex::new(&r.before).map_err(|e| LexiconError::Invalid {
                        file: "rules/dilute.toml",
                        what: e.to_string(),
                    })?;
                    Ok(DiluteRule { kinds: r.kinds, before, replace: r.replace })
                })
                .collect()
        };
        let dilute_en = rules(dil.en)?;
        let dilute_zh = rules(dil.zh)?;

        let cue_file: CueFile = parse("rules/cues.toml", CUES)?;
        let mut section_cues: Vec<(Cue, Vec<String>)> = Vec::new();
        for c in &cue_file.section {
            let cue = Cue {
                id: c.id.clone(),
                category: category("rules/cues.toml", &c.category)?,
                weight: c.weight,
            };
            section_cues.push((cue, c.en.iter().chain(&c.zh).map(|w| w.to_lowercase()).collect()));
        }
        let mut cues = Vec::new();
        let (mut en_words, mut en_ids, mut zh_words, mut zh_ids) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for c in cue_file.cue {
            let idx = cues.len();
            cues.push(Cue {
                id: c.id,
                category: category("rules/cues.toml", &c.category)?,
                weight: c.weight,
            });
            for w in c.en {
                en_words.push(w.to_lowercase());
                en_ids.push(idx);
            }
            for w in c.zh {
                zh_words.push(w);
                zh_ids.push(idx);
            }
        }
        for w in cue_file.zh_compounds.words {
            zh_words.push(w);
            zh_ids.push(usize::MAX);
        }
        let mut patterns = Vec::new();
        for p in cue_file.pattern {
            let re = Regex::new(&p.regex).map_err(|e| LexiconError::Invalid {
                file: "rules/cues.toml",
                what: format!("{}: {e}", p.id),
            })?;
            // Chinese characters and no English word (two letters not after a backslash).
            let english_word = p
                .regex
                .as_bytes()
                .windows(3)
                .any(|w| w[0] != b'\\' && w[1].is_ascii_alphabetic() && w[2].is_ascii_alphabetic());
            let chinese = p.regex.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            let cue = Cue { id: p.id, category: category("rules/cues.toml", &p.category)?, weight: p.weight };
            let alone = p.alone.as_deref().map(|c| category("rules/cues.toml", c)).transpose()?;
            let triggered = crate::words::required_literals(&p.regex);
            patterns.push((
                CuePattern {
                    cue,
                    regex: re,
                    chinese,
                    latin: english_word,
                    needs_digit: p.needs_digit,
                    triggered: triggered.is_some(),
                    alone,
                },
                triggered,
            ));
        }

        let sig: SignalFile = parse("rules/signals.toml", SIGNALS)?;
        let mut signals = FxHashMap::default();
        for (k, v) in sig.signal {
            let c = if v.category == "specific" {
                None
            } else {
                Some(category("rules/signals.toml", &v.category)?)
            };
            signals.insert(k, Signal { category: c, weight: v.weight });
        }
        for required in [
            "number_unit",
            "bare_number",
            "zh_numeral",
            "identifier",
            "name",
            "quote_phrasing",
            "quote_long",
            "quote_short",
            "first_person",
        ] {
            if !signals.contains_key(required) {
                return Err(LexiconError::Invalid {
                    file: "rules/signals.toml",
                    what: format!("missing signal.{required}"),
                });
            }
        }
        let mut units_zh = sig.units.zh;
        units_zh.sort_by_key(|u| std::cmp::Reverse(u.len()));

        let topics: TopicsFile = parse("lexicon/topics.toml", TOPICS)?;
        // Both numbers of each English topic: "runbooks" also finds "runbook".
        let mut topics_en_list: Vec<String> = Vec::new();
        let mut seen_topics = HashSet::new();
        for t in topics.generic.en.iter().map(|s| s.to_lowercase()) {
            let other = if let Some(stem) = t.strip_suffix("ies") {
                format!("{stem}y")
            } else if let Some(stem) = t.strip_suffix('s').filter(|s| !s.ends_with('s')) {
                stem.to_string()
            } else if let Some(stem) = t.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
                format!("{stem}ies")
            } else {
                format!("{t}s")
            };
            for v in [t, other] {
                if seen_topics.insert(v.clone()) {
                    topics_en_list.push(v);
                }
            }
        }
        let topics_zh_list = topics.generic.zh.clone();
        let topic_map: FxHashMap<String, (String, String)> =
            topics.map.into_iter().map(|(k, v)| (k.to_lowercase(), (v.en, v.zh))).collect();
        let topic_map_keys: Vec<String> = topic_map.keys().cloned().collect();

        let names: NamesFile = parse("lexicon/names.toml", NAMES)?;
        let mut surnames_zh = names.surnames_zh;
        surnames_zh.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut surnames_by_char: FxHashMap<char, Vec<String>> = FxHashMap::default();
        for s in &surnames_zh {
            if let Some(c) = s.chars().next() {
                surnames_by_char.entry(c).or_default().push(s.clone());
            }
        }

        // Per pattern: the literals one of which each of its matches holds, if it has such a set.
        type Literals = Option<Vec<Vec<u8>>>;
        let (patterns, triggers): (Vec<CuePattern>, Vec<Literals>) = patterns.into_iter().unzip();
        let id32 = |id: usize| u32::try_from(id).unwrap_or(u32::MAX);
        let cue_en: Vec<(String, u32)> = en_words.into_iter().zip(en_ids.into_iter().map(id32)).collect();
        let cue_zh: Vec<(String, u32)> = zh_words.into_iter().zip(zh_ids.into_iter().map(id32)).collect();
        let words = WordScanner::new(&Lists {
            cue_en: &cue_en,
            cue_zh: &cue_zh,
            topic_map: &topic_map_keys,
            topics_en: &topics_en_list,
            topics_zh: &topics_zh_list,
            number_words: &sig.number_words.en,
            triggers: &triggers,
        })
        .map_err(|what| LexiconError::Invalid { file: "lexicon", what })?;

        let export: ExportFile = parse("rules/export.toml", EXPORT)?;
        let mut rule_ids: Vec<&str> = cues
            .iter()
            .map(|c| c.id.as_str())
            .chain(patterns.iter().map(|p| p.cue.id.as_str()))
            .chain(section_cues.iter().map(|(c, _)| c.id.as_str()))
            .collect();
        for id in crate::classify::fixed_rules() {
            rule_ids.push(id);
        }
        let derived_rules = rule_ids
            .into_iter()
            .map(|id| {
                (
                    id.to_string(),
                    Box::new(std::array::from_fn(|k| {
                        if k == 0 {
                            format!("{id}.below-threshold")
                        } else {
                            format!("{id}+{}", Category::ALL[k - 1])
                        }
                    })),
                )
            })
            .collect();
        Ok(Lexicon {
            derived_rules,
            threshold,
            meta: export.meta,
            always_mask: policy.mask.always,
            dilute_en,
            dilute_zh,
            dilute_fallback_en: dil.en_fallback.into_iter().collect(),
            dilute_fallback_zh: dil.zh_fallback.into_iter().collect(),
            file_extensions: dil.files.extensions.into_iter().collect(),
            identifier_kinds: dil.identifier_kind,
            colors_en: dil.colors.en.into_iter().collect(),
            colors_zh: dil.colors.zh,
            color_fallback_en: dil.colors.en_fallback,
            color_fallback_zh: dil.colors.zh_fallback,
            state_nouns_en: longest_first(dil.quoted_state.en_nouns),
            state_nouns_zh: longest_first(dil.quoted_state.zh_nouns),
            state_replace_en: dil.quoted_state.en_replace,
            state_replace_zh: dil.quoted_state.zh_replace,
            heads_en: longest_first(dil.heads.en),
            heads_zh: longest_first(dil.heads.zh),
            adjectives_en: dil.adjectives.en,
            adjectives_zh: dil.adjectives.zh,
            policy: pol,
            cues,
            words,
            patterns,
            section_words: {
                let (words, cues): (Vec<&String>, Vec<usize>) = section_cues
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (_, ws))| ws.iter().map(move |w| (w, i)))
                    .unzip();
                let ac = aho_corasick::AhoCorasick::new(words)
                    .map_err(|e| LexiconError::Invalid { file: "rules/cues.toml", what: e.to_string() })?;
                (ac, cues)
            },
            section_cues,
            signals,
            units_en: sig.units.en.into_iter().map(|u| u.to_lowercase()).collect(),
            say_verbs_en: sig.say_verbs.en.into_iter().map(|u| u.to_lowercase()).collect(),
            say_verbs_zh: sig.say_verbs.zh,
            units_zh_by_char: {
                let mut by: FxHashMap<char, Vec<String>> = FxHashMap::default();
                for u in &units_zh {
                    if let Some(c) = u.chars().next() {
                        by.entry(c).or_default().push(u.clone());
                    }
                }
                by
            },
            zh_numerals: sig.zh_numerals.chars.chars().collect(),
            number_words_en: sig.number_words.en,
            counted_en: sig.number_words.counted,
            bank_en,
            bank_zh,
            filler_ids: filler_ids.len(),
            topics_en_list,
            topics_zh_list,
            topic_map,
            bare_topics_en: topics.articles.bare_en.iter().map(|w| w.to_lowercase()).collect(),
            topic_map_keys,
            first_names_en: names.first_names_en.into_iter().collect(),
            ambiguous_first_names_en: names.ambiguous_first_names_en.into_iter().collect(),
            titles_en: names.titles_en.into_iter().collect(),
            surnames_zh,
            surname_starts: {
                let mut bits = vec![0u64; 0x10000 / 64];
                for c in surnames_by_char.keys().map(|&c| c as usize).filter(|&c| c < 0x10000) {
                    bits[c / 64] |= 1 << (c % 64);
                }
                bits
            },
            surnames_by_char,
            longest_zh_context: names
                .contexts_zh_before
                .iter()
                .chain(&names.contexts_zh_after)
                .map(|w| w.chars().count())
                .max()
                .unwrap_or(0),
            longest_not_name_zh: names.not_names_zh.iter().map(|w| w.chars().count()).max().unwrap_or(0),
            longest_en_context_words: names
                .contexts_en_before
                .iter()
                .map(|w| w.split_whitespace().count())
                .max()
                .unwrap_or(0),
            not_names_zh: names.not_names_zh.into_iter().collect(),
            contexts_zh_before: names.contexts_zh_before.into_iter().collect(),
            contexts_zh_after: names.contexts_zh_after.into_iter().collect(),
            contexts_en_before: names.contexts_en_before.into_iter().map(|s| s.to_lowercase()).collect(),
            given_name_stop_zh: names.given_name_stop_zh.chars().collect(),
            not_name_words_en: names.not_name_words_en.into_iter().collect(),
            titles_zh: longest_first(names.titles_zh),
            roles_before_zh: longest_first(names.roles_before_zh),
            org_suffixes_en: names.org_suffixes_en.into_iter().collect(),
            org_en: names.org_en,
            org_zh: names.org_zh,
        })
    }

    pub fn bank(&self, lang: Lang) -> &Bank {
        match lang {
            Lang::En => &self.bank_en,
            Lang::Zh => &self.bank_zh,
        }
    }

    /// The action the policy gives `category` at `level`.
    pub fn action(&self, category: Category, level: Level) -> Action {
        self.policy.get(&category).map_or(Action::Keep, |a| a[level_index(level)])
    }

    pub fn threshold(&self, level: Level) -> f32 {
        self.threshold[level_index(level)]
    }

    pub fn signal(&self, name: &str) -> Signal {
        self.signals.get(name).copied().unwrap_or(Signal { category: None, weight: 0.0 })
    }
}

impl Lexicon {
    /// The longest Chinese unit that `s` starts with.
    pub fn unit_zh_at(&self, s: &str) -> Option<&str> {
        let c = s.chars().next()?;
        self.units_zh_by_char.get(&c)?.iter().find(|u| s.starts_with(u.as_str())).map(String::as_str)
    }

    /// Whether some surname may start with `c` (false only when none does).
    pub fn may_start_surname(&self, c: char) -> bool {
        let c = c as usize;
        c >= 0x10000 || self.surname_starts[c / 64] & (1 << (c % 64)) != 0
    }
}

pub fn level_index(level: Level) -> usize {
    match level {
        Level::Light => 0,
        Level::Medium => 1,
        Level::Heavy => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_assets_load_and_are_complete() {
        let lex = Lexicon::load().expect("assets load");
        assert!(lex.cues.len() >= 6);
        assert_eq!(lex.action(Category::Judgment, Level::Light), Action::Dilute);
        assert_eq!(lex.action(Category::Shareable, Level::Heavy), Action::Keep);
        assert!(lex.threshold(Level::Light) > lex.threshold(Level::Heavy));
        for lang in [Lang::En, Lang::Zh] {
            let b = lex.bank(lang);
            for c in Category::ALL.into_iter().filter(|c| *c != Category::Shareable) {
                assert!(b.sentences[&c].len() >= 20, "{c} {lang:?}");
            }
        }
    }

    #[test]
    fn the_same_filler_text_has_the_same_id_in_every_list() {
        let lex = Lexicon::load().expect("assets load");
        let mut by_text: HashMap<&str, u32> = HashMap::new();
        for b in [&lex.bank_en, &lex.bank_zh] {
            let lists = b.sentences.values().chain(b.items.values()).chain(b.cells.values()).chain([
                &b.roles,
                &b.dialogue,
                &b.phrases,
                &b.enumerations,
            ]);
            for f in lists.flatten() {
                assert!((f.id as usize) < lex.filler_ids);
                assert_eq!(*by_text.entry(&f.text).or_insert(f.id), f.id, "{}", f.text);
            }
        }
        assert_eq!(by_text.len(), lex.filler_ids);
    }

    #[test]
    fn derived_rule_ids_are_the_composed_strings() {
        let lex = Lexicon::load().expect("assets load");
        let ids = lex
            .cues
            .iter()
            .map(|c| c.id.clone())
            .chain(lex.patterns.iter().map(|p| p.cue.id.clone()))
            .chain(lex.section_cues.iter().map(|(c, _)| c.id.clone()))
            .chain(crate::classify::fixed_rules().map(String::from));
        for id in ids {
            assert_eq!(lex.below_threshold_rule(&id), Some(format!("{id}.below-threshold").as_str()));
            for c in Category::ALL {
                assert_eq!(lex.with_category_rule(&id, c), Some(format!("{id}+{c}").as_str()));
            }
        }
        assert_eq!(lex.below_threshold_rule("not.a-rule"), None);
    }

    #[test]
    fn fillers_hold_no_digits_and_one_topic_slot() {
        let lex = Lexicon::load().expect("assets load");
        for lang in [Lang::En, Lang::Zh] {
            let b = lex.bank(lang);
            for list in b.sentences.values().chain(b.items.values()) {
                for f in list {
                    let s = &f.text;
                    assert!(!s.chars().any(|c| c.is_ascii_digit()), "{s}");
                    assert_eq!(s.matches("{topic}").count(), 1, "{s}");
                    assert_eq!(f.chars, s.chars().count(), "{s}");
                }
            }
        }
    }
}
