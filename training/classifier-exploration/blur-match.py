"""Issue 17 exploration: blur only a target lab that is SHARPER than the source, down to the source's sharpness,
before measuring its 59 morphology values (label-free: the choice uses the crops' sharpness, never a label). The
earlier harmonisation (README, "Every crop blurred to one softer resolution") blurred every lab, the source too, and
cost in-domain accuracy; this leaves the source and any blurrier target as they are. Not product code.

    DUMP=/tmp/dump node training/classifier-exploration/blur-match.mjs        # after dump-cells.mjs; 217 s
    /usr/bin/python3 training/classifier-exploration/blur-match.py /tmp/dump

Rule (fixed before any score): sigma = the smallest of SIGMAS at which the target's median sharpness (blur-match.mjs:
mean squared Laplacian of the grey crop over its variance) is at or under the source training cells' median at sigma
0; no blur when it already is. Classifier: combo-views.py's forest proxy (100 trees, depth 16) with the centred step.
"""
import sys, csv
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

SIGMAS = [0, 0.5, 1, 1.5, 2, 2.5, 3]
DUMP = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dump'
rows = list(csv.reader(open(f'{DUMP}/cells.csv')))[1:]
N = len(rows)
dom = np.array([r[0] for r in rows]); lbl = np.array([r[1] for r in rows])
mor0 = np.array([[float(v) for v in r[13:]] for r in rows])
MB = np.nan_to_num(np.fromfile(f'{DUMP}/mor-blur.f64').reshape(len(SIGMAS), N, 59), nan=0.0, posinf=0.0, neginf=0.0)
SH = np.fromfile(f'{DUMP}/sharp-blur.f64').reshape(len(SIGMAS), N)
ok = np.isfinite(mor0)
print('sigma-0 values equal the dump\'s:', np.allclose(MB[0][ok], mor0[ok]), flush=True)
keep = lbl != ''
CL = sorted(set(lbl[keep])); y = np.array([CL.index(l) if l else -1 for l in lbl])
lab = np.where(dom == 'acevedo20', 'A', np.where(dom == 'bccd', 'B', 'Z'))
ia = np.where((lab == 'A') & keep)[0]
a_tr, a_ho = train_test_split(ia, test_size=0.5, stratify=y[ia], random_state=0)
sets = {'A': a_tr, 'Ah': a_ho, 'B': np.where((lab == 'B') & keep)[0], 'Z': np.where((lab == 'Z') & keep)[0]}
COLOUR = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
          41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58]
PAIRS = [('A', 'Ah'), ('A', 'B'), ('A', 'Z'), ('B', 'Ah'), ('B', 'Z'), ('Z', 'Ah'), ('Z', 'B')]
pname = lambda s, t: 'A in-domain' if (s, t) == ('A', 'Ah') else f'{s}->{t[0]}'


def wilson(k, n, z=1.96):
    p = k / n; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d; h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return f'{100 * p:.1f} ({100 * (c - h):.0f}-{100 * (c + h):.0f})'


print('\nmedian sharpness per lab and sigma:')
for g, idx in (('A train', a_tr), ('A held-out', a_ho), ('B', sets['B']), ('Z', sets['Z'])):
    print(f'  {g:10s}', ' '.join(f'{s}:{np.median(SH[i][idx]):.3f}' for i, s in enumerate(SIGMAS)))

for fs in (0, 1):
    rule, every = {}, {}
    for s, t in PAIRS:
        S, T = sets[s], sets[t]
        rf = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(MB[0][S], y[S])
        ref = np.median(SH[0][S])
        acc = []
        for i in range(len(SIGMAS)):
            mT = MB[i][T].copy(); mT[:, COLOUR] += np.median(MB[0][S][:, COLOUR], 0) - np.median(mT[:, COLOUR], 0)
            acc.append(int((rf.classes_[rf.predict_proba(mT).argmax(1)] == y[T]).sum()))
        pick = next((i for i in range(len(SIGMAS)) if np.median(SH[i][T]) <= ref), len(SIGMAS) - 1)
        rule[pname(s, t)] = (acc[pick], len(T), SIGMAS[pick]); every[pname(s, t)] = [a / len(T) * 100 for a in acc]
    print(f'\nforest seed {fs}')
    print('| pair | no blur | blur-matched (sigma) | every sigma ' + ' / '.join(map(str, SIGMAS)) + ' |')
    print('| --- | ---: | ---: | --- |')
    for k in rule:
        print(f'| {k} | {every[k][0]:.1f} | {wilson(rule[k][0], rule[k][1])} ({rule[k][2]}) | ' + ' / '.join(f'{a:.0f}' for a in every[k]) + ' |')
