#!/usr/bin/env bash
# Trains the AE-CFE chain shipped in models/ (the `cpu` autoencoder and its latent forest) through the product's
# own jobs (the CLI against a running server), scores the forest on the other labs with classify jobs, and bundles
# both (gzip, metadata with the measured numbers). Registered on a server's first start, not active: the
# morphology classifier stays the default; `leukograph models --use common5 --features latent` picks this chain.
#
#   npx leukograph serve --data-root ../shared/data --data-root /tmp/lg-views &   # a server whose data roots hold the data
#   scripts/train-default-aecfe.sh                                               # --url from LEUKOGRAPH_URL
#
# Data (DATA, default ../shared/data): a seeded, stratified sample of MAX_PER_CLASS (default 200) Acevedo-20 images
# per class folder (dataset acevedo20-sample: the source the autoencoder reconstructs and the forest learns from,
# its `ig` cells reconstructed but not in the common5 forest), BCCD's 341 single-cell fields and Zheng DS2's 100
# images: the labs whose cells the latents are aligned to, without their labels (docs/aecfe-method.md §4), and on
# which the forest is then scored with their labels.
# SKIP_IMPORT=1 skips import and detection (the three datasets already detected on the server).
# EPOCHS (default: the cpu preset's, src/pipeline/defaults.ts). OUT (default /tmp/lg-default-aecfe) keeps each
# job's JSON lines; models/ receives the bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(cd "${DATA:-../shared/data}" 2>/dev/null && pwd || cd /work/shared/data && pwd)
VIEWS=${VIEWS:-/tmp/lg-views}
OUT=${OUT:-/tmp/lg-default-aecfe}
LG="node bin/leukograph.js"
SOURCE=acevedo20-sample
mkdir -p "$OUT"
if [ "${SKIP_IMPORT:-0}" != 1 ]; then
  # The same datasets as scripts/train-default-classifiers.sh with MAX_PER_CLASS (the BCCD view is made there).
  $LG import "$DATA/acevedo20" --dataset $SOURCE --max-per-class "${MAX_PER_CLASS:-200}"
  $LG import "$DATA/zheng-ds2" --dataset zheng-ds2
  [ -f "$VIEWS/bccd-single/labels.csv" ] || { echo "make $VIEWS/bccd-single first (scripts/train-default-classifiers.sh does)" >&2; exit 1; }
  $LG import "$VIEWS/bccd-single" --dataset bccd
  for d in $SOURCE bccd zheng-ds2; do $LG detect-dataset --dataset $d; done
fi
start=$(date +%s)
# The autoencoder (it becomes the active one on this server), then every cell of the three labs encoded with it.
$LG train --source $SOURCE --align bccd --align zheng-ds2 --preset cpu ${EPOCHS:+--epochs $EPOCHS} --json | tail -1 > "$OUT/autoencoder.json"
AE=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (j.status !== "succeeded") throw new Error(j.error); console.log(j.result.modelId)' "$OUT/autoencoder.json")
trained=$(date +%s)
for d in $SOURCE bccd zheng-ds2; do $LG encode --dataset $d --autoencoder "$AE" --json | tail -1 > "$OUT/encode.$d.json"; done
# The forest on the latents: a held-out score (stratified, seeded 20 % kept out), then the shipped forest on every cell.
$LG train-classifier --dataset $SOURCE --classes common5 --features latent --test-fraction 0.2 --json | tail -1 > "$OUT/forest.heldout.json"
$LG train-classifier --dataset $SOURCE --classes common5 --features latent --test-fraction 0 --json | tail -1 > "$OUT/forest.final.json"
ID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).result.modelId)' "$OUT/forest.final.json")
for d in bccd zheng-ds2; do $LG classify --dataset $d --classifier "$ID" --json | tail -1 > "$OUT/forest.$d.json"; done
end=$(date +%s)
printf '{"trainAutoencoderS": %d, "encodeTrainClassifyS": %d}\n' $((trained - start)) $((end - trained)) > "$OUT/times.json"
node dist/scripts/bundle-aecfe.js "$OUT" models
