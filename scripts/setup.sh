#!/usr/bin/env bash
# Installs the Debian packages Husk needs (see ../shared/PLATFORM.md), skipping those already
# present. `scripts/setup.sh run` installs what building and running the desktop app needs;
# `scripts/setup.sh test` adds the test tools (Xvfb, WebKitWebDriver, age, expect, …) and
# tauri-driver. Both README commands call it, so they work on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

PKGS="libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libsoup-3.0-dev
      libjavascriptcoregtk-4.1-dev libxdo-dev libssl-dev fonts-wqy-microhei"
if [ "$what" = test ]; then
  # fonts-wqy-microhei (above): a CJK font, so the Chinese UI is readable under Xvfb.
  # python3: the quality scorer in ../shared/tools (stdlib only).
  PKGS="$PKGS xvfb xauth webkit2gtk-driver age imagemagick xdotool expect python3"
fi

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

if [ "$what" = test ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "== installing tauri-driver"
  cargo install tauri-driver --version ^2 --locked
fi
