//! The sanitize pipeline: block map → classify → policy → rewrite → leak gate → splice.
//! This is the one entry point the CLI, the vault and the desktop app use to make a husk.

use crate::markdown::BlockKind;
use crate::model::{Action, Category, Fingerprint, Forced, Level, Sha256Hex, Visibility};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// The user's overrides for one note, keyed by block fingerprint
/// ([`crate::markdown::fingerprint`]: normalized text plus heading path).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    map: HashMap<String, Forced>,
}

impl Overrides {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&mut self, fingerprint: impl Into<String>, forced: Forced) {
        self.map.insert(fingerprint.into(), forced);
    }
    pub fn remove(&mut self, fingerprint: &str) {
        self.map.remove(fingerprint);
    }
    pub fn get(&self, fingerprint: &str) -> Option<Forced> {
        self.map.get(fingerprint).copied()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// How to make one husk.
#[derive(Debug, Clone)]
pub struct SanitizeOptions {
    pub level: Level,
    /// Varies the filler choice; the same input, level and seed always give the same output.
    pub seed: u64,
    pub overrides: Overrides,
}

impl SanitizeOptions {
    pub fn new(level: Level) -> Self {
        Self { level, seed: 0, overrides: Overrides::new() }
    }
}

/// What happened to one block. Carries no note text, only its location and a hash of it,
/// so it may be stored in the ledger and shown in reports.
#[derive(Debug, Clone, Serialize)]
pub struct BlockOutcome {
    /// Byte range of the block's text in the source.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (in characters) of the block's first byte.
    pub line: usize,
    pub column: usize,
    pub kind: BlockKind,
    pub category: Category,
    pub score: f32,
    pub rule: Cow<'static, str>,
    pub action: Action,
    /// Set when a marker, front matter or an override decided the action.
    pub forced: Option<Forced>,
    pub fingerprint: Fingerprint,
    /// SHA-256 (hex) of the block's original text.
    pub sha256: Sha256Hex,
}

impl BlockOutcome {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// A sanitized document.
#[derive(Debug, Clone, Serialize)]
pub struct Husk {
    pub text: String,
    pub blocks: Vec<BlockOutcome>,
    /// (kept + 0.5 × diluted or masked) / total blocks, in 0..=1.
    pub retention: f64,
    pub visibility: Visibility,
}

/// One block's classification with its action at every level, for `husk classify`.
#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
    pub kind: BlockKind,
    pub category: Category,
    pub score: f32,
    pub rule: Cow<'static, str>,
    pub forced: Option<Forced>,
    pub fingerprint: Fingerprint,
    /// Actions at light, medium and heavy.
    pub actions: [Action; 3],
}

/// Why a husk could not be made. Never carries note text.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SanitizeError {
    /// Front matter says `husk: private`: the note is never exported.
    #[error("the note is marked `husk: private` and is never exported")]
    PrivateNote,
    /// A distinctive token of a withheld block still shows in the husk after the hardest rewrite.
    #[error("withheld content from the block at line {line}, column {column} still appears in the husk")]
    Leak { line: usize, column: usize },
}

/// Make a husk of `src`.
pub fn sanitize(src: &str, opts: &SanitizeOptions) -> Result<Husk, SanitizeError> {
    crate::rewrite::run(src, opts)
}

/// Classify every block of `src`, with the action each level would take.
pub fn classify_note(src: &str, overrides: &Overrides) -> Vec<Classified> {
    crate::rewrite::classify_all(src, overrides)
}

/// Sanitize a short free-text fragment (a front matter description, a meta.json field) as if it
/// were one paragraph. Always returns text in the fragment's language.
pub fn sanitize_fragment(text: &str, level: Level, seed: u64) -> String {
    crate::rewrite::fragment(text, level, seed)
}
