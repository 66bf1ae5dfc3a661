#!/usr/bin/env bash
# Husk's test command: installs what the tests need on a fresh Debian machine (skipping what is
# already there), then runs every test: unit, golden, CLI, integration, interop, end-to-end, and
# the sanitizer quality scorer on the dev corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${HUSK_SHARED:-$ROOT/../shared}

# ---- system packages (see ../shared/PLATFORM.md) ----
# fonts-wqy-microhei: a CJK font, so the Chinese UI is readable under Xvfb.
PKGS="libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libsoup-3.0-dev
      libjavascriptcoregtk-4.1-dev libxdo-dev libssl-dev xvfb xauth webkit2gtk-driver age imagemagick
      xdotool expect fonts-wqy-microhei"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== installing:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null
fi

# ---- tauri-driver for the end-to-end tests ----
if [ -d src-tauri ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "== installing tauri-driver"
  cargo install tauri-driver --version ^2 --locked
fi

export HUSK_SHARED="$SHARED"

# The desktop end-to-end tests (src-tauri/tests/e2e.rs) start their own Xvfb and tauri-driver,
# and fail rather than skip when CI is set and a tool is missing.
echo "== cargo test (workspace, including the desktop end-to-end tests)"
cargo test --workspace --all-targets --locked

echo "== release build + sanitizer quality on the dev corpus"
cargo build --release --locked -p husk-cli
if [ -f "$SHARED/tools/score_sanitize.py" ]; then
  python3 "$SHARED/tools/score_sanitize.py" --bin target/release/husk --corpus "$SHARED/corpus/dev" --jobs 2
else
  echo "scorer not found at $SHARED/tools (skipped)"
fi
