"""Issue 17 exploration: label-free per-lab alignments of the 59 morphology values beyond the product's median
centring: each lab's values standardised onto the source's (mean and SD per column), matched column by column onto
the source's quantiles, or CORAL (Sun et al. 2016: the target whitened by its own covariance and re-coloured by the
source's). On the colour columns only (what the product moves) and on all 59. Not product code.

    /usr/bin/python3 training/classifier-exploration/lab-alignment.py /tmp/dump      # after dump-cells.mjs, see combo-views.py

Same cells, pairs and forest proxy as pretrained-views.py; every transform fixed before any score; labels never used
for the target. A transform's statistics are each lab's over all its scored cells (the source: its training cells).
"""
import sys, os
import numpy as np
from sklearn.ensemble import RandomForestClassifier
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dumped import load, wilson, centred, COLOUR, PAIRS, pair_name

D = load(sys.argv[1] if len(sys.argv) > 1 else '/tmp/dump')
y, mor, sets = D['y'], D['mor'], D['sets']
ALL = list(range(59))


def zscore(T, S, cols):
    m = T.copy()
    m[:, cols] = (T[:, cols] - T[:, cols].mean(0)) / (T[:, cols].std(0) + 1e-9) * S[:, cols].std(0) + S[:, cols].mean(0)
    return m


def quantiles(T, S, cols):
    m = T.copy()
    for c in cols:
        r = (np.argsort(np.argsort(T[:, c])) + 0.5) / len(T)
        m[:, c] = np.quantile(S[:, c], r)
    return m


def coral(T, S, cols, eps=1.0):
    def msqrt(C, inv):
        w, V = np.linalg.eigh(C)
        w = np.maximum(w, 1e-12)
        return (V * (w ** (-0.5 if inv else 0.5))) @ V.T
    m = T.copy()
    # on standardised columns (scales differ by orders), eps * identity added to both covariances as in the paper
    mu_s, sd_s = S[:, cols].mean(0), S[:, cols].std(0) + 1e-9
    mu_t, sd_t = T[:, cols].mean(0), T[:, cols].std(0) + 1e-9
    zt, zs = (T[:, cols] - mu_t) / sd_t, (S[:, cols] - mu_s) / sd_s
    I = np.eye(len(cols))
    A = msqrt(np.cov(zt.T) + eps * I, True) @ msqrt(np.cov(zs.T) + eps * I, False)
    m[:, cols] = (zt @ A) * sd_s + mu_s
    return m


METHODS = {
    'none': lambda T, S: T, 'centred (product member)': lambda T, S: centred(T, S),
    'z colour': lambda T, S: zscore(T, S, COLOUR), 'z all': lambda T, S: zscore(T, S, ALL),
    'quantile colour': lambda T, S: quantiles(T, S, COLOUR), 'quantile all': lambda T, S: quantiles(T, S, ALL),
    'CORAL colour': lambda T, S: coral(T, S, COLOUR), 'CORAL all': lambda T, S: coral(T, S, ALL),
}
order = [pair_name(s, t) for s, t in PAIRS]
print('| method | forest seed | ' + ' | '.join(order) + ' | worst scoring pair |')
print('| --- | ---: | ' + ' | '.join(['---:'] * len(order)) + ' | --- |')
for fs in (0, 1):
    forests = {s: RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(mor[sets[s]], y[sets[s]]) for s in 'ABZ'}
    for name, f in METHODS.items():
        r = {}
        for s, t in PAIRS:
            S, T = mor[sets[s]], mor[sets[t]]
            rf = forests[s]
            X = T if (s, t) == ('A', 'Ah') else f(T, S)  # in-domain cells are the source lab's own: no move
            r[pair_name(s, t)] = (int((rf.predict(X) == y[sets[t]]).sum()), len(T))
        cross = {k: 100 * r[k][0] / r[k][1] for k in order if k not in ('A in-domain', 'A->B')}
        w = min(cross, key=cross.get)
        print(f'| {name} | {fs} | ' + ' | '.join(wilson(*r[k]) for k in order) + f' | {w} {cross[w]:.1f} |', flush=True)
