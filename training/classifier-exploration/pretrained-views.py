"""Issue 17 exploration: does an ImageNet-initialised backbone (nsfwjs's InceptionV3 / MobileNetV2, the only
pretrained image networks the npm registry ships with their weights; see pretrained-embed.mjs) carry a lab's labels
to another lab better than the 59 morphology values, alone or beside them? Not product code. Same cells, splits,
forest proxy and 'centred' step as combo-views.py.

    DUMP=/tmp/dump ACEVEDO_PER_CLASS=200 node training/classifier-exploration/dump-cells.mjs   # after results.sh, see combo-views.py
    NSFWJS=... MODEL=inception_v3 SIZE=224 node training/classifier-exploration/pretrained-embed.mjs   # and MODEL=mobilenet_v2
    /usr/bin/python3 training/classifier-exploration/pretrained-views.py /tmp/dump emb-inception_v3-224 emb-mobilenet_v2-224

Methods (fixed before any target was scored):
  (m-c)   sklearn forest (100 trees, depth 16) on the 59 values, target colour columns centred on the source (proxy
          of the product's forest and one member of its default stain step)
  (s-a)   logistic regression C=0.1 on the embedding z-scored on the source's cells
  (s-b)   the same, each lab's embedding z-scored on its own (unlabelled) cells
  (avg-a), (avg-b)  mean of (m-c)'s and (s-a)'s / (s-b)'s class probabilities
  (cat-c) one forest on the centred 59 values + the embedding's first 64 principal components (PCA fitted on every
          lab's cells, unlabelled)
Pairs: A = Acevedo-20 training half (stratified 50/50, seed 0), Ah = its held-out half, B = BCCD, Z = Zheng DS2.
"""
import sys, os, json, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.decomposition import PCA
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dumped import load, wilson, centred, PAIRS, pair_name as pname

DUMP = sys.argv[1]
EMBS = sys.argv[2:]
D = load(DUMP)
N, lab, y, mor, sets = D['n'], D['lab'], D['y'], D['mor'], D['sets']
t0 = time.time()
res = {}
for emb in EMBS:
    E = np.fromfile(f'{DUMP}/{emb}.f32', np.float32).astype(np.float64)
    E = E.reshape(N, -1)
    Eb = E.copy()  # (s-b): each lab z-scored on all its own cells, labels unused
    for g in 'ABZ':
        i = np.where(lab == g)[0]; Eb[i] = (E[i] - E[i].mean(0)) / (E[i].std(0) + 1e-6)
    P = PCA(64, random_state=0).fit(E).transform(E)
    for s, t in PAIRS:
        S, T = sets[s], sets[t]
        mu, sd = E[S].mean(0), E[S].std(0) + 1e-6
        # the logistic regressions do not depend on the forest seed: fitted once per pair
        pa = LogisticRegression(C=0.1, max_iter=3000).fit((E[S] - mu) / sd, y[S]).predict_proba((E[T] - mu) / sd)
        pb = LogisticRegression(C=0.1, max_iter=3000).fit(Eb[S], y[S]).predict_proba(Eb[T])
        mT = centred(mor[T], mor[S])
        for fs in (0, 1):
            rf = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(mor[S], y[S])
            pm = rf.predict_proba(mT)
            rc = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(np.hstack([mor[S], P[S]]), y[S])
            pc = rc.predict_proba(np.hstack([mT, P[T]]))
            cls = rf.classes_
            for meth, p in (('m-c', pm), ('s-a', pa), ('s-b', pb), ('avg-a', (pm + pa) / 2), ('avg-b', (pm + pb) / 2), ('cat-c', pc)):
                res.setdefault((emb, meth, fs), {})[pname(s, t)] = (int((cls[p.argmax(1)] == y[T]).sum()), len(T))
    print(emb, 'scored', round(time.time() - t0, 1), 's', flush=True)

order = [pname(s, t) for s, t in PAIRS]
print('\n| embedding | method | forest seed | ' + ' | '.join(order) + ' | worst scoring pair |')
print('| --- | --- | ---: | ' + ' | '.join(['---:'] * len(order)) + ' | --- |')
for (emb, meth, fs), r in res.items():
    if meth.startswith('s-') and fs == 1: continue
    cross = {k: 100 * r[k][0] / r[k][1] for k in order if k not in ('A in-domain', 'A->B')}
    w = min(cross, key=cross.get)
    print(f'| {emb} | ({meth}) | {"-" if meth.startswith("s-") else fs} | ' + ' | '.join(wilson(*r[k]) for k in order) + f' | {w} {cross[w]:.1f} |')
r0 = next(iter(res.values()))
print('(n: A in-domain %d, B %d, Z %d; A->B is the selection pair)' % (r0['A in-domain'][1], r0['A->B'][1], r0['A->Z'][1]))
json.dump({f'{e}|{m}|{f}': v for (e, m, f), v in res.items()}, open('/tmp/pretrained-views.json', 'w'))
