"""Exploration (issue 5): variants of the morphology forest across labs, scored the product's way.

Each variant trains on a seeded stratified 80 % of Acevedo-20 (scikit-learn forests, 100 trees, depth 16) and
scores the other 20 %, BCCD and Zheng DS2. BCCD is moved onto the source medians under its estimated class mix
(as src/evaluation/stain-shift.ts adaptStain does: Saerens EM on a shape-only forest, a move, EM on the full
forest, the final move); Zheng DS2 is scored as it is (its stain shift is under the product's limit).

usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/variants.py MODE [seeds]
  subsets     feature subsets (without the cytoplasm's colours, without any chromaticity, ...)
  structure   forest settings and forests on feature groups whose probabilities are summed
  blur        training rows doubled with the same crops blurred (needs dump-degraded.mjs's cells-blur*.csv)
  neighbours  neighbour consensus: probabilities averaged with the k nearest cells of the same lab
"""
import os
import re
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

DUMP = os.environ.get('DUMP', '/tmp/dump')
D = pd.read_csv(os.path.join(DUMP, 'cells.csv'))
names = list(D.columns[list(D.columns).index('nucleus_fraction'):])
N = np.array(names)
X0 = D[names].to_numpy(float)
y = D['label'].to_numpy()
dom = D['domain'].to_numpy()
classes = np.array(sorted(set(y[dom == 'acevedo20'])))
STAIN = np.array([bool(re.search('chroma|density|texture', n)) for n in names])


def wmedian(v, w):
    o = np.argsort(v)
    c = np.cumsum(w[o])
    return v[o][np.searchsorted(c, c[-1] / 2)]


def saerens(P, prior, iters=200):
    pi = prior.copy()
    for _ in range(iters):
        Q = P * (pi / prior)
        Q /= Q.sum(1, keepdims=True)
        pi = Q.mean(0)
    return pi


def forest(seed, **kw):
    return RandomForestClassifier(100, max_depth=kw.pop('depth', 16), random_state=seed, n_jobs=2, **kw)


def evaluate(seeds, keep=None, groups=None, extra_train=(), forest_kw=None, after=None):
    """Mean accuracy % per domain. keep: columns used; groups: column masks whose forests' probabilities are
    summed; extra_train: more feature tables whose training rows are added; after(proba, Xt): a revision of the
    probabilities of one scored domain."""
    keep = np.ones(len(names), bool) if keep is None else keep
    X = X0[:, keep]
    stain = STAIN[keep]
    groups = groups or [np.ones(X.shape[1], bool)]
    res = {}
    for seed in range(seeds):
        src = np.where(dom == 'acevedo20')[0]
        tr, te = train_test_split(src, test_size=0.2, stratify=y[src], random_state=seed)
        Xtr, ytr = X[tr], y[tr]
        Xfit = np.vstack([Xtr] + [E[:, keep][tr] for E in extra_train])
        yfit = np.concatenate([ytr] * (1 + len(extra_train)))
        rf = forest(seed).fit(Xtr, ytr)
        shape = forest(seed).fit(Xtr[:, ~stain], ytr)
        gf = [(g, forest(seed, **(forest_kw or {})).fit(Xfit[:, g], yfit)) for g in groups]
        prior = np.array([(ytr == c).mean() for c in classes])

        def proba(Z):
            return sum(f.predict_proba(Z[:, g]) for g, f in gf) / len(gf)

        def score(name, idx, Z):
            P = proba(Z)
            if after is not None:
                P = after(P, X[idx])
            res.setdefault(name, []).append((classes[P.argmax(1)] == y[idx]).mean())

        score('acevedo20 held-out', te, X[te])
        for t in ['bccd', 'zheng-ds2']:
            idx = np.where(dom == t)[0]
            Xt = X[idx]
            if t == 'bccd':
                med = np.median(Xt, 0)
                w = lambda pi: (pi / prior)[np.searchsorted(classes, ytr)]
                ref = lambda pi: np.array([wmedian(Xtr[:, j], w(pi)) for j in range(X.shape[1])])
                pi0 = saerens(shape.predict_proba(Xt[:, ~stain]), prior)
                pi1 = saerens(rf.predict_proba(Xt - np.where(stain, med - ref(pi0), 0)), prior)
                Xt = Xt - np.where(stain, med - ref(pi1), 0)
            score(t, idx, Xt)
    return '  '.join(f'{k} {100 * np.mean(v):.1f} [{100 * min(v):.1f}-{100 * max(v):.1f}]' for k, v in res.items())


def neighbour_consensus(k, weight):
    def revise(P, Xraw):
        Z = (Xraw - Xraw.mean(0)) / (Xraw.std(0) + 1e-9)
        _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
        return (1 - weight) * P + weight * P[idx[:, 1:]].mean(1)
    return revise


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else 'neighbours'
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if mode == 'subsets':
        cyto_colour = np.array([n.startswith(('cytoplasm_chroma', 'cytoplasm_median_chroma')) for n in N])
        cyto_all = np.array([n.startswith('cytoplasm_') and n != 'cytoplasm_to_nucleus_density' for n in N])
        chroma = np.array(['chroma' in n for n in N])
        for label, keep in [('all 59 values', None), ('without the cytoplasm\'s chromaticity', ~cyto_colour),
                            ('without the cytoplasm\'s colour and texture', ~cyto_all), ('without any chromaticity', ~chroma)]:
            print(f'{label}: {evaluate(seeds, keep=keep)}', flush=True)
    elif mode == 'structure':
        shape = ~STAIN
        nuc = np.array([n.startswith('nucleus') for n in N])
        cyto = np.array([n.startswith('cytoplasm') for n in N])
        every = np.ones(len(N), bool)
        for label, kw in [('depth 8', {'forest_kw': {'depth': 8}}), ('min 5 cells a leaf', {'forest_kw': {'min_samples_leaf': 5}}),
                          ('half the features a split', {'forest_kw': {'max_features': 0.5}}),
                          ('shape+nucleus, shape+cytoplasm', {'groups': [shape | nuc, shape | cyto]}),
                          ('shape, nucleus, cytoplasm', {'groups': [shape, nuc, cyto]}),
                          ('all, shape+nucleus, shape+cytoplasm', {'groups': [every, shape | nuc, shape | cyto]})]:
            print(f'{label}: {evaluate(seeds, **kw)}', flush=True)
    elif mode == 'blur':
        for sigmas in (['1.5'], ['2.5'], ['1.5', '2.5']):
            extra = [pd.read_csv(os.path.join(DUMP, f'cells-blur{s}.csv'))[names].to_numpy(float) for s in sigmas]
            print(f'training rows + blurred (sigma {", ".join(sigmas)} px): {evaluate(seeds, extra_train=extra)}', flush=True)
    elif mode == 'neighbours':
        print(f'no consensus: {evaluate(seeds)}', flush=True)
        for k, w in [(3, 0.5), (5, 0.3), (5, 0.5), (7, 0.5)]:
            print(f'k {k}, weight {w}: {evaluate(seeds, after=neighbour_consensus(k, w))}', flush=True)
    else:
        sys.exit(f'unknown mode {mode}')


if __name__ == '__main__':
    main()
