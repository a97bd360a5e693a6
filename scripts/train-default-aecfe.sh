#!/usr/bin/env bash
# Trains the AE-CFE chain shipped in models/ (the `cpu` autoencoder and its latent forest) through the product's
# own jobs (the CLI against a running server), scores the forest on the other labs with classify jobs, and bundles
# both (gzip, metadata with the measured numbers). Registered on a server's first start, not active: the
# morphology classifier stays the default; `leukograph models --use common5 --features latent` picks this chain.
#
#   npx leukograph serve --data-root ../shared/data --data-root /tmp/lg-views &   # a server whose data roots hold the data
#   scripts/train-default-aecfe.sh                                               # --url from LEUKOGRAPH_URL
#
# Data (DATA, default ../shared/data): the autoencoder reconstructs a seeded, stratified sample of MAX_PER_CLASS
# (default 200) Acevedo-20 images per class folder (dataset acevedo20-sample, `ig` included; what a shared 2-core
# machine trains in about 40 minutes) and aligns their latents to BCCD's 341 single-cell fields and Zheng DS2's 100
# images, without their labels (docs/aecfe-method.md §4). The forest then learns from every labelled Acevedo-20 cell
# of the five classes (dataset acevedo20, as scripts/train-default-classifiers.sh imports and detects it; encoding
# is cheap next to training) and is scored on BCCD and Zheng DS2 with their labels: labs the latents were aligned
# to, as in the paper, so a lab nobody aligned to should expect less.
# SKIP_IMPORT=1 skips import and detection (the four datasets already detected on the server).
# EPOCHS (default: the cpu preset's, src/pipeline/defaults.ts). OUT (default /tmp/lg-default-aecfe) keeps each
# job's JSON lines; models/ receives the bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/data-dir.sh
VIEWS=${VIEWS:-/tmp/lg-views}
OUT=${OUT:-/tmp/lg-default-aecfe}
LG="node bin/leukograph.js"
SOURCE=acevedo20-sample
FOREST=acevedo20
mkdir -p "$OUT"
if [ "${SKIP_IMPORT:-0}" != 1 ]; then
  # The same datasets as scripts/train-default-classifiers.sh (the BCCD view is made there), and the sample.
  [ -f "$VIEWS/bccd-single/labels.csv" ] || { echo "make $VIEWS/bccd-single first (scripts/train-default-classifiers.sh does)" >&2; exit 1; }
  $LG import "$DATA/acevedo20" --dataset $SOURCE --max-per-class "${MAX_PER_CLASS:-200}"
  $LG import "$DATA/acevedo20" --dataset $FOREST
  $LG import "$DATA/zheng-ds2" --dataset zheng-ds2
  $LG import "$VIEWS/bccd-single" --dataset bccd
  for d in $SOURCE bccd zheng-ds2 $FOREST; do $LG detect-dataset --dataset $d; done
fi
start=$(date +%s)
# The autoencoder (it becomes the active one on this server), then every cell of the three labs encoded with it.
$LG train --source $SOURCE --align bccd --align zheng-ds2 --preset cpu ${EPOCHS:+--epochs $EPOCHS} --json | tail -1 > "$OUT/autoencoder.json"
AE=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (j.status !== "succeeded") throw new Error(j.error); console.log(j.result.modelId)' "$OUT/autoencoder.json")
trained=$(date +%s)
for d in $FOREST bccd zheng-ds2; do $LG encode --dataset $d --autoencoder "$AE" --json | tail -1 > "$OUT/encode.$d.json"; done
# The forest on the latents: a held-out score (stratified, seeded 20 % kept out), then the shipped forest on every cell.
$LG train-classifier --dataset $FOREST --classes common5 --features latent --test-fraction 0.2 --json | tail -1 > "$OUT/forest.heldout.json"
$LG train-classifier --dataset $FOREST --classes common5 --features latent --test-fraction 0 --json | tail -1 > "$OUT/forest.final.json"
ID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).result.modelId)' "$OUT/forest.final.json")
for d in bccd zheng-ds2; do $LG classify --dataset $d --classifier "$ID" --json | tail -1 > "$OUT/forest.$d.json"; done
end=$(date +%s)
printf '{"trainAutoencoderS": %d, "encodeTrainClassifyS": %d}\n' $((trained - start)) $((end - trained)) > "$OUT/times.json"
node dist/scripts/bundle-aecfe.js "$OUT" models
