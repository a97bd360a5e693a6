#!/usr/bin/env bash
# Two real labs with no labels here (issue 17: "on a lab none of us has images of ... saying plainly that it is
# not" right): TXL-PBC's Raabin-WBC fields (500, 575x575) and BCDD crops (100, 256x256: the cell fills much of the
# frame), through the product's own jobs: import, detect-dataset, classify with the server's active classifier (the
# default path a lab runs). Without labels no accuracy can be given; what is shown is what the job tells its user:
# the count, the self-check's verdict and checks, the classifier's estimated accuracy. Writes docs/unlabelled-labs.md.
#
#   npx leukograph serve --data-root "$VIEWS" &     # a server whose data roots hold VIEWS (default /tmp/lg-views)
#   scripts/unlabelled-labs.sh                      # --url from LEUKOGRAPH_URL; ~3 min on 2 cores (600 images)
#
# The detector was trained on TXL-PBC (models/detector.md): its boxes here are optimistic; the classifiers never saw
# these labs. Settings: DATA (../shared/data), VIEWS (/tmp/lg-views), OUT (/tmp/lg-unlabelled), DOC (docs/unlabelled-labs.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/data-dir.sh
VIEWS=${VIEWS:-/tmp/lg-views}
OUT=${OUT:-/tmp/lg-unlabelled}
DOC=${DOC:-docs/unlabelled-labs.md}
LG="node bin/leukograph.js"
mkdir -p "$OUT"
[ -f dist/scripts/unlabelled-labs.js ] || node node_modules/typescript/bin/tsc -p tsconfig.json
for SRC in Raabin-WBC BCDD; do
  NAME=txl-$(echo "$SRC" | tr 'A-Z' 'a-z')
  # Copies, not links: the importer refuses a link that leads out of its data root.
  if [ ! -d "$VIEWS/$NAME" ]; then
    mkdir -p "$VIEWS/$NAME"
    awk -F, -v s="$SRC" 'NR > 1 && $2 == s { print $3 }' "$DATA/txl-pbc/metadata.csv" | while read -r f; do
      p=$(find "$DATA/txl-pbc/images" -name "$f" -print -quit); cp "$p" "$VIEWS/$NAME/$f"
    done
  fi
  $LG import "$VIEWS/$NAME" --dataset "$NAME" --layout images --json | tail -1 > "$OUT/$NAME.import.json"
  $LG detect-dataset --dataset "$NAME" --json | tail -1 > "$OUT/$NAME.detect.json"
  $LG classify --dataset "$NAME" --json | tail -1 > "$OUT/$NAME.classify.json"
done
node dist/scripts/unlabelled-labs.js "$OUT" "$DOC" txl-raabin-wbc txl-bcdd
