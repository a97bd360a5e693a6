"""Exploration (issue 5): are Zheng DS2's lymphocytes a different population from Acevedo-20's, or a measuring artefact?

Compares the detector's box with the box of the ground-truth cell mask (Zheng DS2 has masks: 128 cytoplasm,
255 nucleus), the nucleus share of the cell from the masks with the morphology's nucleus_fraction, and the
nucleus fraction of lymphocytes and monocytes in each lab.

usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/zheng-lymphocytes.py
"""
import os

import numpy as np
import pandas as pd
from PIL import Image

DUMP = os.environ.get('DUMP', '/tmp/dump')
DATA = os.environ.get('DATA', os.path.join(os.path.dirname(__file__), '../../../shared/data'))
D = pd.read_csv(os.path.join(DUMP, 'cells.csv'))
rows = []
for _, r in D[D.domain == 'zheng-ds2'].iterrows():
    rel = r['id'].strip('"')
    m = np.asarray(Image.open(os.path.join(DATA, 'zheng-ds2', rel.replace('images', 'masks'))))
    if m.ndim == 3:
        m = m[..., 0]
    cell, nuc = m > 64, m > 190
    ys, xs = np.nonzero(cell)
    mask_side = ((xs.max() + 1 - xs.min()) + (ys.max() + 1 - ys.min())) / 2
    det_side = ((r.ib2 - r.ib0) + (r.ib3 - r.ib1)) / 2
    rows.append((r.label, det_side / mask_side, nuc.sum() / cell.sum(), r.nucleus_fraction))
Z = pd.DataFrame(rows, columns=['class', 'detector box / mask box', 'nucleus share (mask)', 'nucleus_fraction (morphology)'])
print('Zheng DS2, medians per class:')
print(Z.groupby('class').median().round(2).to_string())
print('\nnucleus_fraction of lymphocytes and monocytes: median, share under 0.62, p10-p90')
for d in ['acevedo20', 'bccd', 'zheng-ds2']:
    for c in ['lymphocyte', 'monocyte']:
        v = D[(D.domain == d) & (D.label == c)].nucleus_fraction
        print(f'  {d:10s} {c:10s} n={len(v):4d}  {v.median():.2f}  {(v < 0.62).mean():.2f}  {np.percentile(v, 10):.2f}-{np.percentile(v, 90):.2f}')
