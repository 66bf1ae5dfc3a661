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
