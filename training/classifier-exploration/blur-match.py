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
import sys, os
import numpy as np
from sklearn.ensemble import RandomForestClassifier
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dumped import load, wilson, centred, PAIRS, pair_name as pname

SIGMAS = [0, 0.5, 1, 1.5, 2, 2.5, 3]
DUMP = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dump'
D = load(DUMP)
N, y, sets, a_tr, a_ho, mor0 = D['n'], D['y'], D['sets'], D['a_tr'], D['a_ho'], D['mor_raw']
MB = np.nan_to_num(np.fromfile(f'{DUMP}/mor-blur.f64').reshape(len(SIGMAS), N, 59), nan=0.0, posinf=0.0, neginf=0.0)
SH = np.fromfile(f'{DUMP}/sharp-blur.f64').reshape(len(SIGMAS), N)
ok = np.isfinite(mor0)
print('sigma-0 values equal the dump\'s:', np.allclose(MB[0][ok], mor0[ok]), flush=True)

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
            mT = centred(MB[i][T], MB[0][S])
            acc.append(int((rf.classes_[rf.predict_proba(mT).argmax(1)] == y[T]).sum()))
        pick = next((i for i in range(len(SIGMAS)) if np.median(SH[i][T]) <= ref), len(SIGMAS) - 1)
        rule[pname(s, t)] = (acc[pick], len(T), SIGMAS[pick]); every[pname(s, t)] = [a / len(T) * 100 for a in acc]
    print(f'\nforest seed {fs}')
    print('| pair | no blur | blur-matched (sigma) | every sigma ' + ' / '.join(map(str, SIGMAS)) + ' |')
    print('| --- | ---: | ---: | --- |')
    for k in rule:
        print(f'| {k} | {every[k][0]:.1f} | {wilson(rule[k][0], rule[k][1])} ({rule[k][2]}) | ' + ' / '.join(f'{a:.0f}' for a in every[k]) + ' |')
