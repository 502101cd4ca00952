#!/usr/bin/env bash
# Runs every test: installs what is missing (packages, models), checks
# formatting and vet, runs the unit and integration tests with the race
# detector, then the Mat leak tests under gocv's matprofile tag.
# Tests that need the models or ../shared/testdata skip locally when those
# are absent, and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "test: gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go vet -tags matprofile ./...
go test -race -count=1 -timeout 30m ./...
go test -tags matprofile -count=1 -timeout 15m -run 'Leak' ./annotate/ ./live/
go test -tags matprofile -count=1 -timeout 15m ./stages/ ./ultraface/
