#!/usr/bin/env bash
# Husk's run command: builds the desktop app and opens it on a copy of the demo vault
# (assets/demo-vault is copied, so the repository's demo is never modified).
#   HUSK_VAULT=/path/to/vault scripts/run.sh   opens your own vault instead.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -p husk-desktop
BIN=target/debug/husk-desktop

if [ -z "${HUSK_VAULT:-}" ]; then
  DATA="${XDG_DATA_HOME:-$HOME/.local/share}/husk"
  HUSK_VAULT="$DATA/demo-vault"
  if [ ! -d "$HUSK_VAULT" ]; then
    mkdir -p "$DATA"
    cp -r assets/demo-vault "$HUSK_VAULT"
    echo "demo vault copied to $HUSK_VAULT"
  fi
fi
export HUSK_VAULT

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<MSG
No display found (\$DISPLAY is empty), so the window cannot open here.
Run it under a virtual X server instead, for example:
  xvfb-run -a -s "-screen 0 1280x800x24" scripts/run.sh
and take a screenshot from inside it with: import -window root shot.png
MSG
  exit 1
fi

echo "opening $HUSK_VAULT"
exec "$BIN"
