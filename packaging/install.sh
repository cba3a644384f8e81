#!/usr/bin/env bash
# Install the one-folder Lantern bundle for one user or system-wide, with its launcher entry, icons and
# AppStream metadata. Works from a checkout (installs dist/lantern, made by `make bundle`) and from the bundle
# itself, which carries a copy of this script (lantern/install.sh), so no checkout is needed:
#
#   lantern/install.sh                      # into ~/.local (no root needed)
#   PREFIX=/opt/lantern lantern/install.sh
#   sudo PREFIX=/usr/local lantern/install.sh
#   lantern/install.sh --uninstall          # removes exactly what it installed (same PREFIX)
#   packaging/install.sh                    # the same from a checkout (DIST=folder: another bundle)
#
# Layout under PREFIX:
#   lib/lantern/                                            the bundle (replaced whole on reinstall)
#   bin/lantern                                             a symbolic link to lib/lantern/lantern
#   share/applications/io.github.lantern_gis.Lantern.desktop
#   share/icons/hicolor/{48x48,128x128,256x256}/apps/io.github.lantern_gis.Lantern.png, scalable/…svg
#   share/metainfo/io.github.lantern_gis.Lantern.metainfo.xml
set -euo pipefail

APP_ID=io.github.lantern_gis.Lantern
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
if [ -x "$HERE/lantern" ] && [ -d "$HERE/desktop" ]; then
    DIST="${DIST:-$HERE}"      # run from inside a bundle: the launcher files are in its desktop/ folder
    MATERIAL="$HERE/desktop"
else
    DIST="${DIST:-$HERE/../dist/lantern}"
    MATERIAL="$HERE"           # run from packaging/ in a checkout
fi

lib="$PREFIX/lib/lantern"
bin="$PREFIX/bin/lantern"
desktop="$PREFIX/share/applications/$APP_ID.desktop"
metainfo="$PREFIX/share/metainfo/$APP_ID.metainfo.xml"
icons="$PREFIX/share/icons/hicolor"
sizes=(48 128 256)

icon_files() {
    for size in "${sizes[@]}"; do echo "$icons/${size}x${size}/apps/$APP_ID.png"; done
    echo "$icons/scalable/apps/$APP_ID.svg"
}

refresh_caches() {
    # let menus and icon themes see the change now; harmless where the tools are missing
    if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$PREFIX/share/applications" || true; fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$icons/index.theme" ]; then
        gtk-update-icon-cache -q -t "$icons" || true
    fi
}

uninstall() {
    rm -rf "$lib"
    rm -f "$desktop" "$metainfo" $(icon_files)
    if [ -L "$bin" ]; then rm -f "$bin"; fi
    refresh_caches
    echo "Lantern removed from $PREFIX"
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: [PREFIX=DIR] [DIST=BUNDLE] $0 [--uninstall]" >&2
    exit 2
fi

if [ ! -x "$DIST/lantern" ]; then
    echo "no bundle at $DIST (expected $DIST/lantern): build it with 'make bundle'" >&2
    exit 1
fi
if [ "$(cd "$DIST" && pwd -P)" = "$(cd "$lib" 2>/dev/null && pwd -P)" ]; then
    echo "$DIST is the installed copy: run the install.sh of another bundle, or use --uninstall" >&2
    exit 1
fi
if [ -e "$bin" ] && [ ! -L "$bin" ]; then
    echo "$bin exists and is not Lantern's link: not replacing it" >&2
    exit 1
fi

# copy beside the destination, then swap, so a failed copy leaves the old install working
mkdir -p "$PREFIX/lib" "$PREFIX/bin"
staging="$(mktemp -d "$PREFIX/lib/.lantern-install.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp -a "$DIST/." "$staging/"
chmod -R u+rwX,go+rX "$staging"   # readable by everyone for a system-wide PREFIX (some files come 0600)
chmod 755 "$staging"
rm -rf "$lib.old"
if [ -e "$lib" ]; then mv "$lib" "$lib.old"; fi
mv "$staging" "$lib"
rm -rf "$lib.old"
ln -sfn "$lib/lantern" "$bin"

install -d "$(dirname "$desktop")" "$(dirname "$metainfo")"
# the menu starts the installed program by its full path (quoted: PREFIX may hold spaces); PREFIX/bin need not
# be on PATH
bin_sed=$(printf '%s' "$bin" | sed 's/[&|\\]/\\&/g')
sed -e "s|^Exec=lantern |Exec=\"$bin_sed\" |" -e "s|^TryExec=lantern\$|TryExec=$bin_sed|" \
    "$MATERIAL/lantern.desktop" > "$desktop"
chmod 644 "$desktop"
install -m 644 "$MATERIAL/$APP_ID.metainfo.xml" "$metainfo"
for size in "${sizes[@]}"; do
    install -D -m 644 "$MATERIAL/icons/lantern-$size.png" "$icons/${size}x${size}/apps/$APP_ID.png"
done
install -D -m 644 "$MATERIAL/icons/lantern.svg" "$icons/scalable/apps/$APP_ID.svg"
refresh_caches

echo "Lantern $("$bin" --version | awk '{print $2}') installed in $PREFIX"
echo "  program: $bin"
echo "  menu entry: $desktop"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "  note: $PREFIX/bin is not on PATH; the menu entry works, or run $bin" ;;
esac
