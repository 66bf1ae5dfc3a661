#!/usr/bin/env bash
# Husk's run command: builds the desktop app and opens it on the vault that was open last time,
# else on a copy of the demo vault (assets/demo-vault is copied, so the repository's demo is
# never modified).
#   HUSK_VAULT=/path/to/vault scripts/run.sh   opens that vault instead.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh run
cargo build --locked -p husk-desktop
BIN=target/debug/husk-desktop

# The app reopens the vault that was open last time (remembered in its config folder, named by
# the identifier in src-tauri/tauri.conf.json); the demo is only for when there is none yet.
LAST="${XDG_CONFIG_HOME:-$HOME/.config}/app.husk.desktop/last-vault.json"
if [ -z "${HUSK_VAULT:-}" ] && [ ! -f "$LAST" ]; then
  DATA="${XDG_DATA_HOME:-$HOME/.local/share}/husk"
  HUSK_VAULT="$DATA/demo-vault"
  if [ ! -d "$HUSK_VAULT" ]; then
    mkdir -p "$DATA"
    cp -r assets/demo-vault "$HUSK_VAULT"
    echo "demo vault copied to $HUSK_VAULT"
  fi
fi
if [ -n "${HUSK_VAULT:-}" ]; then export HUSK_VAULT; fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<MSG
No display found (\$DISPLAY is empty), so the window cannot open here.
Run it under a virtual X server instead, for example:
  xvfb-run -a -s "-screen 0 1280x800x24" scripts/run.sh
and take a screenshot from inside it with: import -window root shot.png
MSG
  exit 1
fi

echo "opening ${HUSK_VAULT:-the vault that was open last time}"
exec "$BIN"
