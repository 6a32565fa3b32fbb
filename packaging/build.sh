#!/usr/bin/env bash
# Build the standalone Linux bundle: dist/skintrack-<version>-linux-<arch>.tar.gz
#
#   bash packaging/build.sh [--smoke]
#
# 1. a clean virtual environment (default build/bundle-venv; SKINTRACK_BUILD_VENV=DIR to choose,
#    SKINTRACK_REUSE_VENV=1 to keep an existing one between builds),
# 2. pip install PyInstaller and the project itself (not editable: the bundle holds what a wheel holds),
# 3. pyinstaller packaging/skintrack.spec -> one folder with `skintrack` and `skintrack-gui`,
# 4. a tarball with that folder, install.sh / uninstall.sh, the .desktop file, AppStream metainfo
#    and icons; the version in its name comes from the installed package metadata only.
# With --smoke (or SKINTRACK_BUNDLE_TEST=1) the unpacked tarball is smoke-tested afterwards.
# SKINTRACK_BUNDLE_FFMPEG=0 leaves out imageio-ffmpeg's 80 MB ffmpeg (MP4 export then needs ffmpeg
# on the PATH).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PYTHON=${PYTHON:-python3}
VENV=${SKINTRACK_BUILD_VENV:-$ROOT/build/bundle-venv}
WORK=$ROOT/build/pyinstaller
SMOKE=${SKINTRACK_BUNDLE_TEST:-0}
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "${SKINTRACK_REUSE_VENV:-0}" != 1 ] || [ ! -x "$VENV/bin/python" ]; then
  echo "== clean venv: $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "== pip install pyinstaller + skintrack"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -c "$HERE/bundle-constraints.txt" "pyinstaller>=6.3" "$ROOT"
# same version number, newer code: make sure the venv holds the tree being built
"$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$ROOT"
# HEIC decoding through pi-heif (pillow-heif's decode-only build, same API): pillow-heif carries a
# 23 MB HEVC encoder the app never uses. skintrack.core.images takes whichever is installed.
"$VENV/bin/python" -m pip uninstall -q -y pillow-heif
"$VENV/bin/python" -m pip install -q -c "$HERE/bundle-constraints.txt" pi-heif

VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("skintrack"))')
ARCH=$(uname -m)
NAME="skintrack-$VERSION-linux-$ARCH"
echo "== pyinstaller ($NAME)"
rm -rf "$WORK"
(cd "$ROOT" && "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$WORK/dist" --workpath "$WORK/work" "$HERE/skintrack.spec")

BUNDLE=$WORK/dist/skintrack
if [ ! -e "$BUNDLE/skintrack-gui" ]; then
  ln -s skintrack "$BUNDLE/skintrack-gui"  # Linux: the same program; no subcommand opens the GUI
fi
if command -v strip >/dev/null && command -v file >/dev/null; then
  # Some libraries (libpython from pyenv, a few extension modules) ship debug info: ~40 MB. Libraries
  # in *.libs folders were patched by auditwheel and are left alone.
  find "$BUNDLE/_internal" -type f -name '*.so*' ! -path '*.libs/*' -print0 \
    | xargs -0 file | grep 'with debug_info' | cut -d: -f1 \
    | while IFS= read -r lib; do strip --strip-debug "$lib"; done
fi

echo "== staging"
STAGE=$ROOT/build/stage/$NAME
rm -rf "$ROOT/build/stage"
mkdir -p "$STAGE"
cp -a "$BUNDLE" "$STAGE/app"
cp "$HERE/install.sh" "$HERE/uninstall.sh" "$STAGE/"
chmod +x "$STAGE/install.sh" "$STAGE/uninstall.sh"
mkdir -p "$STAGE/share/applications" "$STAGE/share/metainfo" "$STAGE/share/icons"
cp "$HERE/io.github.skintrack.Skintrack.desktop" "$STAGE/share/applications/"
cp "$HERE/io.github.skintrack.Skintrack.metainfo.xml" "$STAGE/share/metainfo/"
cp -a "$HERE/icons/hicolor" "$STAGE/share/icons/"
mkdir -p "$STAGE/share/icons/hicolor/scalable/apps"
cp "$ROOT/resources/icons/skintrack.svg" "$STAGE/share/icons/hicolor/scalable/apps/io.github.skintrack.Skintrack.svg"
echo "$VERSION" > "$STAGE/VERSION"
cat > "$STAGE/README.txt" <<EOF
Skintrack $VERSION for Linux ($ARCH): a standalone build, no Python needed.

  ./install.sh      copy the app to ~/.local/share/skintrack-app, add 'skintrack' and
                    'skintrack-gui' to ~/.local/bin and Skintrack to the desktop menu
  ./uninstall.sh    remove all of that again (your photo library is never touched)
  app/skintrack-gui run it from here without installing

Skintrack is not a medical device and does not diagnose anything.
EOF

mkdir -p "$ROOT/dist"
TARBALL=$ROOT/dist/$NAME.tar.gz
tar -C "$ROOT/build/stage" -czf "$TARBALL" "$NAME"
SIZE=$(du -sm "$STAGE/app" | cut -f1)
echo "== wrote $TARBALL ($(du -m "$TARBALL" | cut -f1) MB packed, ${SIZE} MB unpacked app)"
"$STAGE/app/skintrack" --version

if [ "$SMOKE" = 1 ]; then
  bash "$HERE/smoke_test.sh" "$TARBALL"
fi
