//! Helpers shared by every integration test: run the `husk` binary, make temp folders, find
//! the shared corpus and vectors.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `husk` binary under test.
pub fn husk_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_husk"))
}

/// A `husk` command with a clean environment for vault discovery.
pub fn husk() -> Command {
    let mut c = Command::new(husk_bin());
    c.env_remove("HUSK_VAULT").env_remove("HUSK_PASSPHRASE");
    c
}

/// Run and capture.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn husk")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// `../shared` beside the clone (or HUSK_SHARED), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let p =
        std::env::var_os("HUSK_SHARED").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared"));
    p.is_dir().then_some(p)
}

/// Fixtures under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("husk-it-").tempdir().expect("tempdir")
}
