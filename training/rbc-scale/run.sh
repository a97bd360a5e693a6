#!/bin/sh
# Rerun everything (single process, niced). ~15 min on 2 shared cores.
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3   # Debian python3-opencv/-skimage/-scipy/-sklearn
N_TXL=40 nice -n 10 $PY validate_rbc.py                      # -> rbc_validation.csv
$PY summarize_validation.py rbc_validation.csv gran,gran_f,peak,comp > validation_table.md
nice -n 10 $PY segcheck.py 0.4 0.3 > segcheck.txt             # unsupervised WBC seg vs Zheng masks
N_ACE=70 OVERLAYS=8 nice -n 10 $PY collect_features.py       # -> features.csv, overlays/
RBC=rbc_gran WBC=gold        $PY transfer.py > transfer_gran_gold.md
GATE=1 RBC=rbc_gran WBC=gold $PY transfer.py > transfer_gran_gold_gated.md
GATE=1 RBC=rbc_gran WBC=seg  $PY transfer.py > transfer_gran_seg_gated.md
