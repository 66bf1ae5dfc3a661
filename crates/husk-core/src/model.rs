//! The domain vocabulary shared by every part of Husk: levels, categories, actions and the
//! user's forced overrides. Plain data with stable string names (used in reports, the index and IPC).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much knowledge an export retains: about 80 %, 60 % and 40 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Light,
    Medium,
    Heavy,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Light, Level::Medium, Level::Heavy];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Light => "light",
            Level::Medium => "medium",
            Level::Heavy => "heavy",
        }
    }
}

/// The error for a name that is not a level, category or action.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {kind} {name:?} (expected one of: {expected})")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static str,
}

impl FromStr for Level {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "light" => Ok(Level::Light),
            "medium" => Ok(Level::Medium),
            "heavy" => Ok(Level::Heavy),
            _ => Err(UnknownName { kind: "level", name: s.into(), expected: "light, medium, heavy" }),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of knowledge a block carries. The first six are the high-value classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Pitfall,
    Incident,
    Judgment,
    Network,
    Context,
    Style,
    Shareable,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Pitfall,
        Category::Incident,
        Category::Judgment,
        Category::Network,
        Category::Context,
        Category::Style,
        Category::Shareable,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pitfall => "pitfall",
            Category::Incident => "incident",
            Category::Judgment => "judgment",
            Category::Network => "network",
            Category::Context => "context",
            Category::Style => "style",
            Category::Shareable => "shareable",
        }
    }
}

impl FromStr for Category {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownName {
            kind: "category",
            name: s.into(),
            expected: "pitfall, incident, judgment, network, context, style, shareable",
        })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rewriter does to a block. `Withhold` removes a block entirely (private markers,
/// private overrides); the others follow the level policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Keep,
    Mask,
    Dilute,
    Hollow,
    Withhold,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Mask => "mask",
            Action::Dilute => "dilute",
            Action::Hollow => "hollow",
            Action::Withhold => "withhold",
        }
    }
    /// Share of the block's knowledge that survives, for the retention figure.
    pub fn retained(self) -> f64 {
        match self {
            Action::Keep => 1.0,
            Action::Mask | Action::Dilute => 0.5,
            Action::Hollow | Action::Withhold => 0.0,
        }
    }
    /// True when some of the block's specific content is withheld from the husk.
    pub fn withholds(self) -> bool {
        !matches!(self, Action::Keep)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user's word on one block, which always beats the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forced {
    Keep,
    Hollow,
    Private,
}

impl Forced {
    pub fn as_str(self) -> &'static str {
        match self {
            Forced::Keep => "keep",
            Forced::Hollow => "hollow",
            Forced::Private => "private",
        }
    }
}

impl FromStr for Forced {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "keep" => Ok(Forced::Keep),
            "hollow" => Ok(Forced::Hollow),
            "private" => Ok(Forced::Private),
            _ => Err(UnknownName { kind: "override", name: s.into(), expected: "keep, hollow, private" }),
        }
    }
}

/// A whole note's visibility, from its front matter key `husk: private|public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Auto,
    Private,
    Public,
}

/// A digest in lowercase hex, `N` digits held inline: a block's fingerprint ([`Fingerprint`])
/// or the SHA-256 of its text ([`Sha256Hex`]). Reads as a `str` and serializes as a string, so
/// reports, the index and IPC see the same text a `String` gave, without an allocation per block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hex<const N: usize>([u8; N]);

/// The first 16 bytes of a block's fingerprint hash, in hex (see `markdown::fingerprint`).
pub type Fingerprint = Hex<32>;
/// A SHA-256 in hex.
pub type Sha256Hex = Hex<64>;

impl<const N: usize> Hex<N> {
    /// The first `N / 2` bytes of `bytes` in lowercase hex (all of them when shorter, the rest
    /// of the digits then `0`).
    pub fn of(bytes: &[u8]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'0'; N];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        Hex(out)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> std::ops::Deref for Hex<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> fmt::Display for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<const N: usize> From<Hex<N>> for String {
    fn from(h: Hex<N>) -> String {
        h.as_str().to_string()
    }
}

impl<const N: usize> PartialEq<String> for Hex<N> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_hex_and_serializes_as_a_string() {
        let bytes: Vec<u8> = (0..=255).collect();
        for chunk in bytes.chunks(32) {
            let h = Sha256Hex::of(chunk);
            assert_eq!(h, hex::encode(chunk));
            assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{}\"", hex::encode(chunk)));
            assert_eq!(String::from(h), h.to_string());
        }
        // A fingerprint keeps the first 16 bytes.
        assert_eq!(Fingerprint::of(&bytes[..32]), hex::encode(&bytes[..16]));
        assert_eq!(format!("{:?}", Fingerprint::of(&[0xab; 16])), format!("{:?}", "ab".repeat(16)));
    }
}
