#!/usr/bin/env bash
# Measures what each speed/recall knob trades, on every shared clip: vidtag
# alone (3 runs, medians) under each setting, with eval_tags.py scores.
# The README's "What the knobs trade" table comes from this.
# Usage: scripts/sweep.sh [DATA]   (make bench-sweep)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/testdata}"
settings=(
  ""
  "--detect-every 1"
  "--detect-every 5"
  "--detect-every 10"
  "--min-face 58"
  "--detect-megapixels 1"
  "--preset veryfast"
  "--workers 1"
)
for s in "${settings[@]}"; do
  echo "== vidtag annotate ${s:-(defaults)}"
  bin/vidbench -data "$data" -only vidtag -runs 3 -vidtag-flags "$s" 2>/dev/null | awk '/ vidtag /' | sort -u
done
