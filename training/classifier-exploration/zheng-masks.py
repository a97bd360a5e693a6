"""Exploration (issue 5): is Zheng DS2 hard for the morphology values because of their nucleus segmentation?

Zheng DS2 comes with hand-drawn masks (128 cytoplasm, 255 nucleus). From them this computes, per image, the
nucleus/cytoplasm shape (nucleus share of the cell, parts, solidity, eccentricity, roundness) and the optical
density statistics of each region (mean, spread, 90th percentile ratio, high-pass texture, red/blue share) with the
morphology's definitions approximated (optical density against the image's own white). Then it compares forests
cross-validated inside Zheng DS2 (5 folds, classes with >= 5 cells) on: the product's 59 values (its own Otsu
nucleus in the detector's box), the mask-based values, and both.

usage: DUMP=/tmp/dump DATA=../shared/data /usr/bin/python3 training/classifier-exploration/zheng-masks.py [seeds]
"""
import os
import sys
import warnings

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage as ndi
from skimage.measure import label, regionprops
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

warnings.filterwarnings('ignore', message='The least populated class')
DUMP = os.environ.get('DUMP', '/tmp/dump')
DATA = os.environ.get('DATA', os.path.join(os.path.dirname(__file__), '../../../shared/data'))
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
D = pd.read_csv(os.path.join(DUMP, 'cells.csv'))
names = list(D.columns[list(D.columns).index('nucleus_fraction'):])
Z = D[D.domain == 'zheng-ds2'].reset_index(drop=True)


def region_stats(od, tot, m):
    t = tot[m]
    mean = t.mean()
    hp = np.abs(tot - ndi.gaussian_filter(tot, 2))[m].mean() / mean
    share = od[m] / (t[:, None] + 1e-6)
    return [mean, t.std() / mean, np.percentile(t, 90) / mean, hp, share[:, 0].mean(), share[:, 2].mean()]


def mask_values(rel):
    img = np.asarray(Image.open(os.path.join(DATA, 'zheng-ds2', rel)).convert('RGB')).astype(float)
    m = np.asarray(Image.open(os.path.join(DATA, 'zheng-ds2', rel.replace('images', 'masks'))))
    if m.ndim == 3:
        m = m[..., 0]
    cell, nuc = m > 64, m > 190
    lab = label(cell)
    if lab.max() > 1:  # the largest drawn cell
        cell = lab == (np.argmax(np.bincount(lab.ravel())[1:]) + 1)
        nuc &= cell
    white = np.percentile(img.reshape(-1, 3), 97, axis=0)
    od = -np.log(np.clip(img, 1, None) / white)
    od = np.clip(od, 0, None)
    tot = od.sum(2)
    parts = regionprops(label(nuc))
    big = max(parts, key=lambda p: p.area)
    cyto = cell & ~nuc
    return [nuc.sum() / cell.sum(), sum(p.area > 0.03 * nuc.sum() for p in parts), big.area / nuc.sum(), big.solidity,
            big.eccentricity, big.perimeter ** 2 / (4 * np.pi * big.area), big.minor_axis_length / max(big.major_axis_length, 1e-6),
            *region_stats(od, tot, nuc), *(region_stats(od, tot, cyto) if cyto.sum() > 10 else [0] * 6)]


MASK = np.array([mask_values(r.strip('"')) for r in Z['id']])
keep = Z.label.map(Z.label.value_counts()).to_numpy() >= 5
y = Z.label.to_numpy()[keep]
sets = {'the product\'s 59 values': Z[names].to_numpy(float), 'mask-based values (19)': MASK,
        'both': np.hstack([Z[names].to_numpy(float), MASK])}
print(f'Zheng DS2, {keep.sum()} cells, 5-fold inside the lab, accuracy %, per seed 0-{SEEDS - 1}')
for name, X in sets.items():
    acc = [(cross_val_predict(RandomForestClassifier(100, max_depth=16, random_state=s, n_jobs=2), X[keep], y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=s)) == y).mean() * 100 for s in range(SEEDS)]
    print(f'  {name:28s} ' + ' / '.join(f'{a:.1f}' for a in acc))
