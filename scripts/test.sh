#!/usr/bin/env bash
# Husk's test command: installs what the tests need on a fresh Debian machine (skipping what is
# already there), then runs every test: unit, golden, CLI, integration, interop, end-to-end,
# clippy, and the sanitizer quality scorer on the dev corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${HUSK_SHARED:-$ROOT/../shared}

# ---- system packages and tauri-driver ----
./scripts/setup.sh test
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

export HUSK_SHARED="$SHARED"

# The desktop end-to-end tests (src-tauri/tests/e2e.rs) start their own Xvfb and tauri-driver,
# and fail rather than skip when CI is set and a tool is missing.
echo "== cargo test (workspace, including the desktop end-to-end tests)"
cargo test --workspace --all-targets --locked

echo "== clippy (warnings are errors)"
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --locked -- -D warnings
else
  echo "clippy is not installed with this toolchain (skipped)"
fi

echo "== release build + sanitizer quality on the dev corpus"
cargo build --release --locked -p husk-cli
if [ -f "$SHARED/tools/score_sanitize.py" ]; then
  python3 "$SHARED/tools/score_sanitize.py" --bin target/release/husk --corpus "$SHARED/corpus/dev" --jobs 2
else
  echo "scorer not found at $SHARED/tools (skipped)"
fi
