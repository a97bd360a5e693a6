#!/usr/bin/env bash
# docs/forest-recipe.md's runs (issue 17: in-domain >= 98 % without losing the worst lab): each forest recipe scored by
# scripts/unseen.sh from the same measured rows (PREPARED, made once by scripts/unseen.sh with AUGMENT_MEASURE=4), then
# the tables (scripts/forest-recipe.ts). ~10-30 s a run on 2 cores once PREPARED exists; ~25 min for every recipe.
#   PREPARED=/tmp/unseen-prepared.json scripts/forest-recipe.sh [RECIPE ...]   (default: docs/forest-recipe.md's)
# A recipe is NAME:ENV,ENV... (the settings scripts/unseen-labs.ts reads); NAME-sN for forest seed N. OUT
# (/tmp/forest-recipe) keeps each run, and a run already there is not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PREPARED:?PREPARED must name the measured rows (scripts/unseen.sh with PREPARED=... AUGMENT_MEASURE=4)}"
OUT=${OUT:-/tmp/forest-recipe}
RECIPES=("$@")
if [ ${#RECIPES[@]} -eq 0 ]; then
  # One seed: every lever.
  RECIPES=("default:" "aug0:AUGMENT=0" "aug1:AUGMENT=1" "aug3:AUGMENT=3" "aug4:AUGMENT=4" "w0.5:AUGMENT_WEIGHT=0.5"
    "w0.25:AUGMENT_WEIGHT=0.25" "w0.1:AUGMENT_WEIGHT=0.1" "t200:TREES=200" "t300:TREES=300" "plain0.5:PLAIN_TREES=0.5"
    "plain0.3:PLAIN_TREES=0.3" "mf0.25:MAX_FEATURES=0.25" "mf0.5:MAX_FEATURES=0.5" "mflog2:MAX_FEATURES=log2"
    "leaf2:MIN_LEAF=2" "leaf3:MIN_LEAF=3" "d12:MAX_DEPTH=12" "d24:MAX_DEPTH=24")
  # Eight forest seeds: the candidates.
  for s in 0 1 2 3 4 5 6 7; do
    RECIPES+=("default-s$s:FOREST_SEED=$s" "aug0-s$s:AUGMENT=0,FOREST_SEED=$s" "aug1-s$s:AUGMENT=1,FOREST_SEED=$s"
      "aug4-s$s:AUGMENT=4,FOREST_SEED=$s" "w0.25-s$s:AUGMENT_WEIGHT=0.25,FOREST_SEED=$s" "t300-s$s:TREES=300,FOREST_SEED=$s"
      "plain0.5-s$s:PLAIN_TREES=0.5,FOREST_SEED=$s" "aug1plain0.5-s$s:AUGMENT=1,PLAIN_TREES=0.5,FOREST_SEED=$s"
      "t200plain0.5-s$s:TREES=200,PLAIN_TREES=0.5,FOREST_SEED=$s" "t200plain0.6-s$s:TREES=200,PLAIN_TREES=0.6,FOREST_SEED=$s"
      "t200plain0.7-s$s:TREES=200,PLAIN_TREES=0.7,FOREST_SEED=$s")
  done
  for s in 0 1 2 3; do
    RECIPES+=("aug1t200plain0.5-s$s:AUGMENT=1,TREES=200,PLAIN_TREES=0.5,FOREST_SEED=$s" "w0.5plain0.5-s$s:AUGMENT_WEIGHT=0.5,PLAIN_TREES=0.5,FOREST_SEED=$s")
    # Fewer training cells (a learning curve: would more detections help?).
    for n in 75 150 225; do RECIPES+=("default-n$n-s$s:TRAIN_PER_CLASS=$n,FOREST_SEED=$s" "aug0-n$n-s$s:AUGMENT=0,TRAIN_PER_CLASS=$n,FOREST_SEED=$s"); done
  done
  export LABS=${LABS:-default,aug0,aug1,t200plain0.5,t200plain0.7} ROUTE=${ROUTE:-aug0,default,0.2}
fi
[ -f dist/scripts/forest-recipe.js ] && [ -f dist/scripts/unseen-labs.js ] || node node_modules/typescript/bin/tsc -p tsconfig.json
args=()
for r in "${RECIPES[@]}"; do
  name=${r%%:*}; envs=${r#*:}
  dir="$OUT/$name"
  if [ ! -f "$dir/unseen-labs.json" ]; then
    mkdir -p "$dir"
    # shellcheck disable=SC2046
    env $(tr ',' ' ' <<<"$envs") PREPARED="$PREPARED" OUT_DIR="$dir" bash scripts/unseen.sh 2>"$dir/log" || { tail "$dir/log"; exit 1; }
  fi
  args+=("$name=$dir")
done
node dist/scripts/forest-recipe.js "${args[@]}"
