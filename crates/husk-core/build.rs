//! Validates the embedded assets at build time: every file under `assets/rules`, `assets/lexicon`
//! and `assets/filler` must be valid TOML with the tables the engine reads, so a bad edit fails
//! the build instead of the first sanitize. Full semantic checks live in `lexicon`'s tests.

use std::path::Path;

const REQUIRED: &[(&str, &[&str])] = &[
    ("rules/policy.toml", &["threshold", "actions"]),
    ("rules/cues.toml", &["cue", "pattern"]),
    ("rules/signals.toml", &["signal", "units", "zh_numerals", "say_verbs"]),
    (
        "rules/dilute.toml",
        &["en", "en_fallback", "zh_fallback", "heads", "adjectives", "files", "identifier_kind", "colors"],
    ),
    ("rules/export.toml", &["meta"]),
    (
        "filler/en.toml",
        &[
            "pitfall", "incident", "judgment", "network", "context", "style", "roles", "dialogue", "phrases",
            "vague",
        ],
    ),
    (
        "filler/zh.toml",
        &[
            "pitfall", "incident", "judgment", "network", "context", "style", "roles", "dialogue", "phrases",
            "vague",
        ],
    ),
    ("lexicon/topics.toml", &["generic", "map"]),
    ("lexicon/names.toml", &["first_names_en", "surnames_zh", "not_names_zh"]),
];

fn main() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    println!("cargo:rerun-if-changed={}", assets.display());
    for (file, tables) in REQUIRED {
        let path = assets.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("assets/{file}: {e}"));
        let value: toml::Table =
            text.parse().unwrap_or_else(|e| panic!("assets/{file} is not valid TOML: {e}"));
        for t in *tables {
            assert!(value.contains_key(*t), "assets/{file} lacks `{t}`");
        }
    }
}
