#!/usr/bin/env bash
# Installs the Debian packages keywatch and its tests need when they are missing: chromium (rendering flagged
# pages, the review UI browser tests),
# poppler-utils (pdftotext, to read notice PDFs back) and fonts-droid-fallback (CJK titles in notice PDFs).
# Needs root; otherwise says what to install.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
dpkg -s fonts-droid-fallback >/dev/null 2>&1 || need+=(fonts-droid-fallback)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: please install: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
