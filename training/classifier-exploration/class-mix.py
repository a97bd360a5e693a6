# Exploration (issue 5): how much of moving a lab's stain onto the source's medians goes wrong because of the
# lab's class mix, and what re-weighting the source medians to that mix recovers. scikit-learn forests (100
# trees, depth 16) on the dumped morphology values (dump-cells.mjs), seeded stratified 80/20 splits of
# Acevedo-20. Variants per target lab:
#   none          the values as they are
#   balanced      stain columns moved onto the source's plain medians (morphology_lab_centred's move)
#   labelled_mix  onto the source medians re-weighted to the lab's labelled class mix (an oracle: uses labels)
#   labelled_all  the same, every column moved (shape too)
#   estimated_mix onto the source medians re-weighted to the mix estimated without labels, as the product does
#                 (src/evaluation/stain-shift.ts adaptStain): Saerens EM on a shape-only forest, one move, EM on
#                 the full forest, the final move
# Usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/class-mix.py [seeds]
import os, re, sys
import numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

D = pd.read_csv(os.path.join(os.environ.get('DUMP', '/tmp/dump'), 'cells.csv'))
names = list(D.columns[list(D.columns).index('nucleus_fraction'):])
stain = np.array([bool(re.search('chroma|density|texture', n)) for n in names])
X = D[names].to_numpy(float); y = D['label'].to_numpy(); dom = D['domain'].to_numpy()
if os.environ.get('RULER'):
    # red-cell-ruler.py's per-cell (white-cell box side px, red-cell diameter px): the cell's size in red cells and
    # its nucleus's, shape columns; a cell without a ruler gets its lab's median (no labels used).
    R = np.load(os.path.join(os.environ.get('DUMP', '/tmp/dump'), 'ruler.npy'))
    size = R[:, 0] / R[:, 1]
    for t in set(dom):
        m = (dom == t) & ~np.isfinite(size); size[m] = np.nanmedian(size[dom == t])
    extra = {'size_vs_red_cells': size, 'nucleus_size_vs_red_cells': size * np.sqrt(D['nucleus_fraction'].to_numpy(float))}
    if os.environ.get('RULER') == 'size': extra.pop('nucleus_size_vs_red_cells')
    X = np.column_stack([X] + list(extra.values())); names = names + list(extra)
    stain = np.append(stain, [False] * len(extra))
classes = np.array(sorted(set(y[dom == 'acevedo20'])))

def wmedian(v, w):
    o = np.argsort(v); c = np.cumsum(w[o]); return v[o][np.searchsorted(c, c[-1] / 2)]

def saerens(P, prior, iters=200):
    pi = prior.copy()
    for _ in range(iters):
        Q = P * (pi / prior); Q /= Q.sum(1, keepdims=True); pi = Q.mean(0)
    return pi

seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
acc = {}
for seed in range(seeds):
    src = np.where(dom == 'acevedo20')[0]
    tr, te = train_test_split(src, test_size=0.2, stratify=y[src], random_state=seed)
    Xtr, ytr = X[tr], y[tr]
    rf = RandomForestClassifier(100, max_depth=16, random_state=seed, n_jobs=2).fit(Xtr, ytr)
    shape = RandomForestClassifier(100, max_depth=16, random_state=seed, n_jobs=2).fit(Xtr[:, ~stain], ytr)
    prior = np.array([(ytr == c).mean() for c in classes])
    acc.setdefault(('acevedo20', 'held-out'), []).append((rf.predict(X[te]) == y[te]).mean())
    for t in sorted(set(dom) - {'acevedo20'}):
        idx = np.where(dom == t)[0]; Xt = X[idx]; med = np.median(Xt, 0)
        ref = lambda pi: np.array([wmedian(Xtr[:, j], (pi / prior)[np.searchsorted(classes, ytr)]) for j in range(X.shape[1])])
        score = lambda delta: (rf.predict(Xt - delta) == y[idx]).mean()
        labelled = np.array([(y[idx] == c).mean() for c in classes])
        pi0 = saerens(shape.predict_proba(Xt[:, ~stain]), prior)
        d0 = np.where(stain, med - ref(pi0), 0)
        pi1 = saerens(rf.predict_proba(Xt - d0), prior)
        for k, delta in {
            'none': np.zeros(X.shape[1]),
            'balanced': np.where(stain, med - np.median(Xtr, 0), 0),
            'labelled_mix': np.where(stain, med - ref(labelled), 0),
            'labelled_all': med - ref(labelled),
            'estimated_mix': np.where(stain, med - ref(pi1), 0),
        }.items():
            acc.setdefault((t, k), []).append(score(delta))
        if seed == 0: print(f'{t}: estimated mix {dict(zip(classes, np.round(pi1, 2)))}; labelled {dict(zip(classes, np.round(labelled, 2)))}')
for (t, k), v in acc.items():
    print(f'{t:10s} {k:14s} {100 * np.mean(v):5.1f} %  [{100 * min(v):.1f}-{100 * max(v):.1f}] over {len(v)} seeds')
