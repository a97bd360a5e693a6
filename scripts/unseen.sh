#!/usr/bin/env bash
# Produces docs/unseen-labs.md (and docs/unseen-labs.json) with one command (issue 17): every stain step of the
# classify job on labs it was not trained on (leave-one-lab-out over Acevedo-20, BCCD and Zheng DS2, and seeded
# synthetic labs from held-out Acevedo-20 cells), the worst lab beside the mean, and the job's self-check per lab.
#
#   scripts/unseen.sh        # ~10 min on 2 cores once the detections are cached (WORK_DIR/CACHE_DIR shared with results.sh);
#                            # ~23 min with an empty detection cache (3,441 images through the detector)
#
# Settings (environment): DATA (../shared/data), MODEL (models/detector.onnx), MAX_PER_CLASS (Acevedo-20 images per
# class, 600), SEED (0), TREES (100), SYNTH_SIZE (cells per synthetic lab, 120), OUT_DIR (docs), RULE_SEEDS (forest seeds the
# stain step's rule is read over, 4), AUGMENT (augmented copies per
# training cell, MORPHOLOGY_AUGMENT_COPIES), PREPARED (a file keeping the measured rows, to score again without measuring),
# WORK_DIR (/tmp/lg-results-work), CACHE_DIR (/tmp/leukograph-detections).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/data-dir.sh
export DATA WORK_DIR=${WORK_DIR:-/tmp/lg-results-work} CACHE_DIR=${CACHE_DIR:-/tmp/leukograph-detections}
[ -f dist/scripts/unseen-labs.js ] || node node_modules/typescript/bin/tsc -p tsconfig.json
exec nice -n "${NICE:-10}" node dist/scripts/unseen-labs.js
