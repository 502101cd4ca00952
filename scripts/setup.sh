#!/usr/bin/env bash
# Installs what vidtag needs to build and run, and skips what is already there:
# Debian/Ubuntu packages (with sudo when not root) and the three dlib models.
# Usage: scripts/setup.sh            (packages + models)
#        scripts/setup.sh --test     (also what the tests need: Xvfb, xdotool, python3, and
#                                     headless Chromium for the review page's test)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(pkg-config libopencv-dev libdlib-dev libatlas-base-dev libopenblas-dev liblapack-dev libjpeg62-turbo-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg curl ca-certificates patchelf)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(xvfb xdotool x11-apps imagemagick python3 chromium)
fi
# Ubuntu calls Debian's chromium chromium-browser.
if [[ " ${pkgs[*]} " == *" chromium "* ]] && ! apt-cache show chromium >/dev/null 2>&1; then
  pkgs=("${pkgs[@]/chromium/chromium-browser}")
fi
# Ubuntu names the libjpeg-turbo package differently.
if ! apt-cache show libjpeg62-turbo-dev >/dev/null 2>&1; then
  pkgs=("${pkgs[@]/libjpeg62-turbo-dev/libjpeg-turbo8-dev}")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not installed; install Go 1.21 or newer (https://go.dev/dl/) and run this again" >&2
  exit 1
fi

exec scripts/fetch-models.sh
