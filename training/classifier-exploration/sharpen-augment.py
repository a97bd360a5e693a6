"""Issue 17 exploration: the forest trained on the source's cells plus sharpened copies of them (unsharp mask,
sharpen-augment.mjs), so that a sharper target lab than the source is inside what training covered; scored with the
centred step as pretrained-views.py. Amounts fixed before any score: each alone, and all three together. Not product code.

    DUMP=/tmp/dump node training/classifier-exploration/sharpen-augment.mjs
    /usr/bin/python3 training/classifier-exploration/sharpen-augment.py /tmp/dump
"""
import sys, os
import numpy as np
from sklearn.ensemble import RandomForestClassifier
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dumped import load, wilson, centred, PAIRS, pair_name

AMOUNTS = [0.5, 1, 2]
DUMP = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dump'
D = load(DUMP)
y, mor, sets, N = D['y'], D['mor'], D['sets'], D['n']
SH = np.nan_to_num(np.fromfile(f'{DUMP}/mor-sharp.f64').reshape(len(AMOUNTS), N, 59), nan=0.0, posinf=0.0, neginf=0.0)
VARIANTS = {'source only': [], 'sharpened x0.5': [0], 'sharpened x1': [1], 'sharpened x2': [2], 'sharpened x0.5, x1, x2': [0, 1, 2]}
order = [pair_name(s, t) for s, t in PAIRS]
print('| training copies | forest seed | ' + ' | '.join(order) + ' | worst scoring pair |')
print('| --- | ---: | ' + ' | '.join(['---:'] * len(order)) + ' | --- |')
for fs in (0, 1):
    for name, amounts in VARIANTS.items():
        r = {}
        for s, t in PAIRS:
            S, T = sets[s], sets[t]
            X = np.vstack([mor[S]] + [SH[a][S] for a in amounts]); Y = np.concatenate([y[S]] * (1 + len(amounts)))
            rf = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(X, Y)
            XT = mor[T] if (s, t) == ('A', 'Ah') else centred(mor[T], mor[S])
            r[pair_name(s, t)] = (int((rf.predict(XT) == y[T]).sum()), len(T))
        cross = {k: 100 * r[k][0] / r[k][1] for k in order if k not in ('A in-domain', 'A->B')}
        w = min(cross, key=cross.get)
        print(f'| {name} | {fs} | ' + ' | '.join(wilson(*r[k]) for k in order) + f' | {w} {cross[w]:.1f} |', flush=True)
