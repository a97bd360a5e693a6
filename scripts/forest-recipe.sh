#!/usr/bin/env bash
# docs/forest-recipe.md's runs (issue 17): each forest recipe scored by scripts/unseen.sh from the same measured rows
# (PREPARED, made once with AUGMENT_MEASURE=4), then one table. Each run: ~1-3 min on 2 cores.
#   PREPARED=/tmp/unseen-prepared.json scripts/forest-recipe.sh [RECIPE ...]   (default: every recipe below)
# A recipe is NAME:ENV,ENV... (the settings scripts/unseen-labs.ts reads); OUT (/tmp/forest-recipe) keeps each run.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PREPARED:?PREPARED must name the measured rows (scripts/unseen.sh with PREPARED=... AUGMENT_MEASURE=4)}"
OUT=${OUT:-/tmp/forest-recipe}
RECIPES=("$@")
[ ${#RECIPES[@]} -gt 0 ] || RECIPES=(
  "default:"
)
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
