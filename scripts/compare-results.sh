#!/usr/bin/env bash
# Runs scripts/results.sh on another revision and on this checkout with the same data, detector and (small)
# size, and compares the two reports (scripts/compare-results.mjs): what a code change moved in docs/results.md.
#
#   scripts/compare-results.sh d3f60bc > /tmp/compare.md
#
# Environment: as results.sh (DATA, WORK_DIR, CACHE_DIR); MAX_PER_CLASS (60), TARGET_MAX_PER_CLASS (40), EPOCHS (4).
# Both runs use this checkout's detector file, so the second reads the first's detections from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:?usage: scripts/compare-results.sh REVISION}
export MAX_PER_CLASS=${MAX_PER_CLASS:-60} TARGET_MAX_PER_CLASS=${TARGET_MAX_PER_CLASS:-40} EPOCHS=${EPOCHS:-4}
. scripts/data-dir.sh
export MODEL=$ROOT/models/detector.onnx DATA
OLD=$(mktemp -d /tmp/leukograph-compare.XXXXXX)
trap 'rm -rf "$OLD"' EXIT
git archive "$REV" | tar -x -C "$OLD"
ln -s "$ROOT/node_modules" "$OLD/node_modules"
(cd "$OLD" && npx tsc -p tsconfig.json >&2)
[ -f dist/src/cli/evaluate.command.js ] || npx tsc -p tsconfig.json >&2
mkdir -p "$OLD/out-new" "$OLD/out-old"
OUT_DIR=$OLD/out-new scripts/results.sh >&2
(cd "$OLD" && OUT_DIR=$OLD/out-old scripts/results.sh >&2)
echo "Before: $REV; after: $(git rev-parse --short HEAD). Size: MAX_PER_CLASS=$MAX_PER_CLASS, TARGET_MAX_PER_CLASS=$TARGET_MAX_PER_CLASS, EPOCHS=$EPOCHS."
echo
node scripts/compare-results.mjs "$OLD/out-old/results.json" "$OLD/out-new/results.json"
