#!/usr/bin/env bash
# Smoke-test a built bundle tarball without Python on the PATH mattering:
#   bash packaging/smoke_test.sh dist/skintrack-<version>-linux-x86_64.tar.gz
# --version, a headless demo library, the GUI offscreen for a few seconds, install + uninstall
# into a throw-away HOME.
set -euo pipefail

TARBALL=$(realpath "$1")
GUI_SECONDS=${SKINTRACK_SMOKE_GUI_SECONDS:-6}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
tar -C "$TMP" -xzf "$TARBALL"
DIR=$(find "$TMP" -mindepth 1 -maxdepth 1 -type d -name 'skintrack-*' | head -n1)
APP=$DIR/app
# Run from an empty folder with a bare environment: nothing from the source tree or a venv may leak in.
cd "$TMP"
run() { env -i HOME="$TMP/home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen LANG=C.UTF-8 "$@"; }
mkdir -p "$TMP/home"

echo "== bundled skintrack --version"
version_out=$(run "$APP/skintrack" --version)
echo "$version_out"
[ "$version_out" = "skintrack $(cat "$DIR/VERSION")" ] || { echo "version mismatch" >&2; exit 1; }

if [ "${SKINTRACK_BUNDLE_FFMPEG:-1}" != 0 ]; then
  echo "== bundled ffmpeg (MP4 export)"
  find "$APP/_internal/imageio_ffmpeg/binaries" -name 'ffmpeg-*' -perm -u+x | grep -q . \
    || { echo "imageio-ffmpeg's ffmpeg binary is missing from the bundle" >&2; exit 1; }
fi

echo "== bundled skintrack demo"
run "$APP/skintrack" demo --library "$TMP/lib"
run "$APP/skintrack" region list --library "$TMP/lib" --json > "$TMP/regions.json"
grep -q '"name"' "$TMP/regions.json" || { echo "demo library has no regions" >&2; exit 1; }

echo "== bundled MP4 export (H.264 yuv420p through the bundled ffmpeg)"
run "$APP/skintrack" export --library "$TMP/lib" --region "Left forearm" --format mp4 --out "$TMP/forearm.mp4"
test -s "$TMP/forearm.mp4" || { echo "MP4 export wrote nothing" >&2; exit 1; }
if command -v ffprobe >/dev/null; then
  probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,pix_fmt -of csv=p=0 "$TMP/forearm.mp4")
  echo "$probe"
  [ "$probe" = "h264,yuv420p" ] || { echo "MP4 is not H.264 yuv420p: $probe" >&2; exit 1; }
fi

if run "$APP/skintrack" --help | grep -q -E "^ +card "; then
  echo "== bundled skintrack card (reportlab, OpenCV ArUco)"
  run "$APP/skintrack" card --out "$TMP/card.pdf"
  head -c 5 "$TMP/card.pdf" | grep -q "%PDF" || { echo "card.pdf is not a PDF" >&2; exit 1; }
fi

echo "== bundled GUI offscreen for ${GUI_SECONDS}s"
run "$APP/skintrack-gui" --library "$TMP/lib" > "$TMP/gui.log" 2>&1 &
pid=$!
sleep "$GUI_SECONDS"
if ! kill -0 "$pid" 2>/dev/null; then
  wait "$pid" && rc=0 || rc=$?
  echo "GUI exited early (code $rc):" >&2
  cat "$TMP/gui.log" >&2
  exit 1
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
if grep -q -E "Traceback|Error|could not load the Qt platform plugin" "$TMP/gui.log"; then
  cat "$TMP/gui.log" >&2
  exit 1
fi

echo "== install.sh / uninstall.sh into a throw-away HOME"
run "$DIR/install.sh"
test -x "$TMP/home/.local/bin/skintrack-gui"
test -f "$TMP/home/.local/share/applications/io.github.skintrack.Skintrack.desktop"
test -f "$TMP/home/.local/share/icons/hicolor/256x256/apps/io.github.skintrack.Skintrack.png"
[ "$(run "$TMP/home/.local/bin/skintrack" --version)" = "$version_out" ]
run "$TMP/home/.local/share/skintrack-app/uninstall.sh"
test ! -e "$TMP/home/.local/bin/skintrack-gui"
test ! -e "$TMP/home/.local/share/skintrack-app"

echo "bundle smoke test passed ($(du -sm "$APP" | cut -f1) MB unpacked)"
