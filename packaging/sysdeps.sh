#!/usr/bin/env bash
# Debian/Ubuntu system packages Lantern needs: Qt WebEngine's shared libraries
# (runtime) and GDAL's command-line tools (tests check the workspace file with
# ogrinfo and GDAL's GeoPackage validator). Installs only what is missing.
# Usage: packaging/sysdeps.sh [runtime|test]
set -euo pipefail
what=${1:-runtime}
runtime=(libnss3 libnspr4 "libasound2t64|libasound2" libegl1 libgl1 libgbm1 libfontconfig1 libxkbcommon0
  libxkbcommon-x11-0 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libx11-xcb1 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libdbus-1-3
  fonts-dejavu-core)
test_tools=(gdal-bin python3-gdal poppler-utils)
wanted=("${runtime[@]}")
[ "$what" = test ] && wanted+=("${test_tools[@]}")

command -v dpkg >/dev/null 2>&1 || { echo "sysdeps: not a Debian-like system; install the equivalents of: ${wanted[*]}"; exit 0; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
missing=()
for spec in "${wanted[@]}"; do
  IFS='|' read -ra alts <<<"$spec"
  ok=0
  for p in "${alts[@]}"; do installed "$p" && ok=1 && break; done
  [ $ok = 1 ] || missing+=("$spec")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "sysdeps: installing ${missing[*]}"
$sudo apt-get update -qq
pkgs=()
for spec in "${missing[@]}"; do
  IFS='|' read -ra alts <<<"$spec"
  for p in "${alts[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p"); break; fi
  done
done
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
