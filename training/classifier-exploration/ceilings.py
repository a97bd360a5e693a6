"""Exploration (issue 5): how far can the morphology values carry each lab at all, given that lab's own labels?

Three forests (scikit-learn, 100 trees, depth 16, on the dumped morphology values), accuracy %:
  within     5-fold cross-validation inside one lab (classes with >= 5 cells): what the values allow with that
             lab's own labels. For scale, the same on Acevedo-20 subsampled to Zheng DS2's size and class mix.
  plus       Acevedo-20's every cell plus 4/5 of the target lab's labelled cells, scored on the other fifth
             (5 folds, every cell scored once): the source's labels with some of the target's added.
  across     what the product does with no target label (docs/results.md, morphology_adaptive), for comparison.
and the lymphocyte-vs-monocyte AUC of each value inside each lab, which shows which values carry the split
where.

usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/ceilings.py [seeds]
"""
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

warnings.filterwarnings('ignore', message='The least populated class')
DUMP = os.environ.get('DUMP', '/tmp/dump')
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
D = pd.read_csv(os.path.join(DUMP, 'cells.csv'))
names = list(D.columns[list(D.columns).index('nucleus_fraction'):])
A = D[D.domain == 'acevedo20']


def forest(seed):
    return RandomForestClassifier(100, max_depth=16, random_state=seed, n_jobs=2)


def common(S):
    """The lab's cells of classes with >= 5 cells there (5-fold stratification needs them)."""
    n = S.label.value_counts()
    return S[S.label.isin(n[n >= 5].index)]


def within(S, seed):
    S = common(S)
    X, y = S[names].to_numpy(float), S.label.to_numpy()
    p = cross_val_predict(forest(seed), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    return (p == y).mean()


def plus(T, seed):
    Xa, ya = A[names].to_numpy(float), A.label.to_numpy()
    Xt, yt = T[names].to_numpy(float), T.label.to_numpy()
    strata = np.where(T.label.map(T.label.value_counts()) >= 5, yt, 'rare')
    pred = np.empty(len(yt), object)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(Xt, strata):
        rf = forest(seed).fit(np.vstack([Xa, Xt[tr]]), np.concatenate([ya, yt[tr]]))
        pred[te] = rf.predict(Xt[te])
    return (pred == yt).mean()


def like(T, seed):
    """Acevedo-20 cells drawn at T's size and class mix (only T's classes with >= 5 cells)."""
    rng = np.random.default_rng(seed)
    mix = common(T).label.value_counts()
    idx = np.concatenate([rng.choice(np.where(A.label == c)[0], k, replace=False) for c, k in mix.items()])
    return A.iloc[idx]


def fmt(v):
    v = 100 * np.array(v)
    return f'{v.mean():.1f} [{v.min():.1f}-{v.max():.1f}]'


rows = []
for lab in ['bccd', 'zheng-ds2']:
    T = D[D.domain == lab]
    rows.append((lab, len(common(T)), fmt([within(T, s) for s in range(SEEDS)]),
                 fmt([within(like(T, s), s) for s in range(SEEDS)]), fmt([plus(T, s) for s in range(SEEDS)])))
print(f'accuracy %, mean [range] over seeds 0-{SEEDS - 1}')
print(pd.DataFrame(rows, columns=['lab', 'cells (classes >= 5)', 'within the lab, 5-fold',
                                  'Acevedo-20 at its size and mix, 5-fold', 'Acevedo-20 + 4/5 of the lab']).to_string(index=False))

print('\nlymphocyte-vs-monocyte AUC inside each lab (0.5: no split; the 12 values that split Acevedo-20 best)')
auc = []
for n in names:
    r = [n]
    for lab in ['acevedo20', 'bccd', 'zheng-ds2']:
        S = D[(D.domain == lab) & D.label.isin(['lymphocyte', 'monocyte'])]
        r.append(roc_auc_score(S.label == 'lymphocyte', S[n]))
    auc.append(r)
T = pd.DataFrame(auc, columns=['value', 'acevedo20', 'bccd', 'zheng-ds2'])
print(T.iloc[(T.acevedo20 - 0.5).abs().sort_values(ascending=False).index[:12]].round(2).to_string(index=False))
