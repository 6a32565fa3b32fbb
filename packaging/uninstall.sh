#!/bin/sh
# Remove a Skintrack bundle installed by install.sh. The photo library (by default
# ~/.local/share/Skintrack, capital S) and its photos are NOT removed.
set -eu

DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APP_DIR=$DATA/skintrack-app
MANIFEST=$APP_DIR/installed-files.txt

if [ ! -d "$APP_DIR" ]; then
  echo "Skintrack is not installed in $APP_DIR"
  exit 0
fi
if [ -f "$MANIFEST" ]; then
  while IFS= read -r path; do
    case "$path" in
      "$DATA"/*|"$HOME"/*|"${SKINTRACK_BIN_DIR:-$HOME/.local/bin}"/*) rm -f "$path" ;;
      *) echo "uninstall.sh: skipping unexpected path $path" >&2 ;;
    esac
  done < "$MANIFEST"
fi
rm -rf "$APP_DIR"

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" || true

echo "Skintrack removed. Your photo library was kept."
