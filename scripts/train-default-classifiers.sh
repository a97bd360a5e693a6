#!/usr/bin/env bash
# Trains the classifiers shipped in models/ through the product's own jobs (the CLI against a running server),
# scores them on the other labs with classify jobs, and bundles them (gzip, metadata with the measured numbers).
#
#   npx leukograph serve --data-root ../shared/data --data-root /tmp/lg-views &   # a server whose data roots hold the data
#   scripts/train-default-classifiers.sh                                         # --url from LEUKOGRAPH_URL
#
# LEUKOGRAPH_URL is the server's GraphQL endpoint (http://HOST:PORT/graphql); LEUKOGRAPH_DATA_DIR its data directory
# (the bundling step reads the trained model files from it; default .data, a server started here without --data-dir).
#
# Data (DATA, default ../shared/data): every image of Acevedo-20 (6,586; the `ig` folder is used only by the
# common5_ig classifier), BCCD's 341 fields with one labelled white cell, Zheng DS2's 100 images.
# SKIP_IMPORT=1 skips import and detection (the datasets already detected on the server).
# MAPS (default "common5 common5_ig"): the class maps to train and bundle (the others' files in models/ are left as they are).
# MAX_PER_CLASS=N trains on a seeded, stratified sample of N Acevedo-20 images per class (dataset acevedo20-sample)
# instead of all of them: what the bundled files were trained on (models/classifier-*.md says why).
# OUT (default /tmp/lg-default-classifiers) keeps each job's JSON lines; models/ receives the bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/data-dir.sh
VIEWS=${VIEWS:-/tmp/lg-views}
OUT=${OUT:-/tmp/lg-default-classifiers}
LG="node bin/leukograph.js"
SOURCE=acevedo20${MAX_PER_CLASS:+-sample}
mkdir -p "$OUT"
if [ "${SKIP_IMPORT:-0}" != 1 ]; then
  # BCCD: the fields with one labelled white cell (label_kind = single, n_wbc_boxes = 1), as docs/results.md scores it.
  mkdir -p "$VIEWS/bccd-single/images"
  node --input-type=module - "$DATA/bccd" "$VIEWS/bccd-single" <<'JS'
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, basename } from 'node:path';
const [src, dst] = process.argv.slice(2);
const rows = readFileSync(join(src, 'labels.csv'), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
const h = rows[0]; const [img, cat, kind, n] = ['image', 'category', 'label_kind', 'n_wbc_boxes'].map((k) => h.indexOf(k));
const keep = rows.slice(1).filter((r) => r[kind] === 'single' && r[n] === '1');
for (const r of keep) copyFileSync(join(src, r[img]), join(dst, 'images', basename(r[img])));
writeFileSync(join(dst, 'labels.csv'), ['image,category', ...keep.map((r) => `images/${basename(r[img])},${r[cat]}`)].join('\n') + '\n');
JS
  $LG import "$DATA/acevedo20" --dataset $SOURCE ${MAX_PER_CLASS:+--max-per-class $MAX_PER_CLASS}
  $LG import "$DATA/zheng-ds2" --dataset zheng-ds2
  $LG import "$VIEWS/bccd-single" --dataset bccd
  for d in $SOURCE bccd zheng-ds2; do $LG detect-dataset --dataset $d; done
fi
# Per class map: the held-out score (a stratified, seeded 20 % of the labelled cells kept out) and the shipped
# forest, on every cell; then the other labs classified by each shipped forest as a user would classify them (stain
# step auto, the default). The first job caches every cell's crop; the other three then run side by side (one
# engine each). Started together on uncached crops, four jobs crop the same cells four times over.
MAPS=${MAPS:-common5 common5_ig}
FIRST=${MAPS%% *}
$LG train-classifier --dataset $SOURCE --classes $FIRST --test-fraction 0.2 --json | tail -1 > "$OUT/$FIRST.heldout.json"
$LG train-classifier --dataset $SOURCE --classes $FIRST --test-fraction 0 --json | tail -1 > "$OUT/$FIRST.final.json" &
for MAP in ${MAPS#"$FIRST"}; do
  $LG train-classifier --dataset $SOURCE --classes $MAP --test-fraction 0.2 --json | tail -1 > "$OUT/$MAP.heldout.json" &
  $LG train-classifier --dataset $SOURCE --classes $MAP --test-fraction 0 --json | tail -1 > "$OUT/$MAP.final.json" &
done
wait
# One class map at a time: a job's typed result reads the verdicts its classifier left on the cells.
for MAP in $MAPS; do
  ID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).result.modelId)' "$OUT/$MAP.final.json")
  for d in bccd zheng-ds2; do $LG classify --dataset $d --classifier "$ID" --json | tail -1 > "$OUT/$MAP.$d.json" & done
  wait
done
MAPS="$MAPS" node dist/scripts/bundle-classifiers.js "$OUT" models
