#!/usr/bin/env bash
# Debian/Ubuntu system packages Lantern needs: Qt WebEngine's shared libraries
# (runtime) and, for the tests, GDAL's command-line tools (ogrinfo and GDAL's
# GeoPackage validator), QGIS's Python bindings (a test opens the demo in QGIS),
# the launcher/AppStream validators, and PostgreSQL with PostGIS (the shared-workspace tests start a
# throwaway server of their own; the installed service is not used). Installs only what is missing, says
# what and how (apt-get, through sudo when not root) before it starts, and waits
# for another package manager (apt, unattended-upgrades) to finish.
# Usage: packaging/sysdeps.sh [runtime|test]
# Environment:
#   LANTERN_SKIP_SYSDEPS=1        skip this step (the libraries are already there, or you install them yourself)
#   LANTERN_APT_LOCK_TIMEOUT=300  seconds to wait for a busy package manager
set -euo pipefail
what=${1:-runtime}

if [ -n "${LANTERN_SKIP_SYSDEPS:-}" ] && [ "${LANTERN_SKIP_SYSDEPS}" != 0 ]; then
  echo "sysdeps: skipped (LANTERN_SKIP_SYSDEPS=${LANTERN_SKIP_SYSDEPS}); no system package is checked or installed."
  exit 0
fi

runtime=(libnss3 libnspr4 "libasound2t64|libasound2" libegl1 libgl1 libgbm1 libfontconfig1 libxkbcommon0
  libxkbcommon-x11-0 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libx11-xcb1 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libdbus-1-3
  fonts-dejavu-core)
test_tools=(gdal-bin python3-gdal poppler-utils python3-qgis desktop-file-utils appstream default-jre-headless
  postgresql postgresql-postgis)
wanted=("${runtime[@]}")
[ "$what" = test ] && wanted+=("${test_tools[@]}")
lock_timeout=${LANTERN_APT_LOCK_TIMEOUT:-300}
case $lock_timeout in ''|*[!0-9]*) echo "sysdeps: LANTERN_APT_LOCK_TIMEOUT must be a number of seconds" >&2; exit 2;; esac

command -v dpkg >/dev/null 2>&1 || {
  echo "sysdeps: not a Debian-like system; install the equivalents of: ${wanted[*]}"
  echo "sysdeps: then set LANTERN_SKIP_SYSDEPS=1 to skip this step."
  exit 0
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
missing=()
for spec in "${wanted[@]}"; do
  IFS='|' read -ra alts <<<"$spec"
  ok=0
  for p in "${alts[@]}"; do installed "$p" && ok=1 && break; done
  [ $ok = 1 ] || missing+=("$spec")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
how="apt-get (as root)"
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "sysdeps: these system packages are missing: ${missing[*]//|/ or }" >&2
    echo "sysdeps: not root and no sudo: install them as root, then run again (or set LANTERN_SKIP_SYSDEPS=1)." >&2
    exit 1
  fi
  sudo=(sudo)
  how="sudo apt-get (sudo may ask for your password)"
fi
echo "sysdeps: Lantern needs these system packages, which are missing: ${missing[*]//|/ or }"
echo "sysdeps: installing them now with $how: apt-get update, then apt-get install --no-install-recommends."
echo "sysdeps: a busy package manager is waited for up to ${lock_timeout}s. To skip this step: LANTERN_SKIP_SYSDEPS=1"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

busy() { grep -qiE "could not get lock|unable to (lock|acquire)" "$log"; }
gave_up() {
  echo "sysdeps: another package manager (apt, dpkg or unattended-upgrades) kept its lock for ${lock_timeout}s." >&2
  echo "sysdeps: let it finish (or close Software Updater) and run again; LANTERN_APT_LOCK_TIMEOUT sets the wait." >&2
  exit 1
}
failed() { cat "$log" >&2; echo "sysdeps: $1 failed (above); nothing else was changed." >&2; exit 1; }

# apt-get update ignores DPkg::Lock::Timeout for the lists lock (apt 2.6), so it is retried here
deadline=$((SECONDS + lock_timeout))
until "${sudo[@]}" apt-get -o "DPkg::Lock::Timeout=$lock_timeout" update -qq >"$log" 2>&1; do
  busy || failed "apt-get update"
  [ $SECONDS -ge $deadline ] && gave_up
  echo "sysdeps: waiting for another package manager to finish…"
  sleep 5
done

pkgs=()
for spec in "${missing[@]}"; do
  IFS='|' read -ra alts <<<"$spec"
  for p in "${alts[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p"); break; fi
  done
done
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$lock_timeout" \
    install -y -qq --no-install-recommends "${pkgs[@]}" >"$log" 2>&1; then
  busy && gave_up
  failed "apt-get install"
fi
echo "sysdeps: installed ${pkgs[*]}"
