#!/bin/bash
# lazy-cv.sh BINARY: removes OpenCV's I/O modules (imgcodecs, videoio,
# highgui) from BINARY's needed libraries, so they load when a command first
# uses them (package internal/cvlibs), not as the core starts. The loader
# spends 0.15 s of every start on them and the 110 libraries they bring in.
# The binary works unpatched too (go run, go test): then they are loaded
# from the start.
set -euo pipefail
bin=$1
command -v patchelf >/dev/null || { echo "lazy-cv.sh: patchelf is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
args=()
for lib in $(patchelf --print-needed "$bin"); do
  case $lib in
    libopencv_imgcodecs.so* | libopencv_videoio.so* | libopencv_highgui.so*) args+=(--remove-needed "$lib") ;;
  esac
done
if ((${#args[@]})); then
  patchelf "${args[@]}" "$bin"
fi
