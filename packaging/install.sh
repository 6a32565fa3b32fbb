#!/bin/sh
# Install this Skintrack bundle for the current user (no root, no Python needed):
#   the app        -> ${XDG_DATA_HOME:-~/.local/share}/skintrack-app
#   launchers      -> ~/.local/bin/skintrack, ~/.local/bin/skintrack-gui
#   desktop menu   -> .../applications, .../icons/hicolor, .../metainfo
# Run ./uninstall.sh to remove it again. Your photo library is never touched.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
BIN=${SKINTRACK_BIN_DIR:-$HOME/.local/bin}
APP_ID=io.github.skintrack.Skintrack
APP_DIR=$DATA/skintrack-app
MANIFEST=$APP_DIR/installed-files.txt

if [ ! -x "$HERE/app/skintrack-gui" ]; then
  echo "install.sh: run me from the unpacked Skintrack folder (app/skintrack-gui is missing)" >&2
  exit 1
fi

mkdir -p "$DATA" "$BIN"
# Copy the new app beside the old one, then swap, so a failed copy leaves the old install working.
rm -rf "$APP_DIR.new"
mkdir -p "$APP_DIR.new"
cp -a "$HERE/app" "$APP_DIR.new/app"
cp "$HERE/uninstall.sh" "$APP_DIR.new/uninstall.sh"
[ -f "$HERE/VERSION" ] && cp "$HERE/VERSION" "$APP_DIR.new/VERSION"
rm -rf "$APP_DIR.old"
[ -d "$APP_DIR" ] && mv "$APP_DIR" "$APP_DIR.old"
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"

: > "$MANIFEST"
record() { echo "$1" >> "$MANIFEST"; }

for exe in skintrack skintrack-gui; do
  cat > "$BIN/$exe" <<EOF
#!/bin/sh
exec "$APP_DIR/app/$exe" "\$@"
EOF
  chmod 755 "$BIN/$exe"
  record "$BIN/$exe"
done

mkdir -p "$DATA/applications"
desktop=$DATA/applications/$APP_ID.desktop
sed -e "s|^Exec=.*|Exec=$BIN/skintrack-gui|" -e "s|^TryExec=.*|TryExec=$BIN/skintrack-gui|" \
  "$HERE/share/applications/$APP_ID.desktop" > "$desktop"
record "$desktop"

mkdir -p "$DATA/metainfo"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$DATA/metainfo/"
record "$DATA/metainfo/$APP_ID.metainfo.xml"

for icon in "$HERE"/share/icons/hicolor/*/apps/*; do
  rel=${icon#"$HERE/share/icons/"}
  mkdir -p "$DATA/icons/$(dirname "$rel")"
  cp "$icon" "$DATA/icons/$rel"
  record "$DATA/icons/$rel"
done

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" || true

echo "Skintrack $(cat "$APP_DIR/VERSION" 2>/dev/null || echo) installed."
echo "  Start it from your desktop menu, or run: $BIN/skintrack-gui"
case ":$PATH:" in
  *":$BIN:"*) ;;
  *) echo "  (add $BIN to your PATH to run 'skintrack' in a terminal)" ;;
esac
