"""Morphology values and the learnt (SimCLR) representation on the SAME cells: does averaging the two classifiers'
class probabilities, or one forest on both feature sets concatenated, lift the worst lab pair? Not product code.

Commands (from the repository root; 2-core CPU, Debian's python3-torch 1.13, one thread):
    WORK_DIR=/tmp/lg-results-work MAX_PER_CLASS=200 METHODS=morphology OUT_DIR=/tmp/combo-results scripts/results.sh
    DUMP=/tmp/dump ACEVEDO_PER_CLASS=200 node training/classifier-exploration/dump-cells.mjs      # Acevedo-20 capped at 200 a class, seed 0
    /usr/bin/python3 training/classifier-exploration/combo-views.py /tmp/dump ssl-seed0-long joint-seed0

Inputs: /tmp/dump/cells.csv + crops.u8 (the product's 128 px crop of each detected cell, its box in the crop and its
59 morphology values, written by dump-cells.mjs with ACEVEDO_PER_CLASS=200) and the encoders trained by multilab-ssl.py under /tmp/ssl-study.
Learnt view: a 64 px crop cut from the product's 128 px crop exactly as multilab-ssl.py cuts one from an image (a
square of 1.2 x the box's longer side around the box, edge-padded, LANCZOS), embedded by the encoder (training
BatchNorm statistics, 192-d pooled output), z-scored on the source's cells, logistic regression C=0.1 (variant (a)).
Morphology view: sklearn RandomForest 100 trees, max_depth 16, on the 59 values as they are (no stain step) -- a
proxy of the product's forest, not the product's own (which results.sh runs on a different A split, 80/20).
avg: mean of the two classifiers' class probabilities. cat: one forest (same settings) on the 59 values + the 192
raw embedding values. Added after the first run (which showed the no-step forest far below the product's figures):
-c rows, the same forests with the product's 'centred' stain step on the target (stain-steps.ts: each colour column of
the target lab moved by one offset, its median onto the source training cells' median; one of the two members of
the product's default 'ensemble' step; the other, prior_mix, is not reproduced here). Forest seeds 0 and 1. Acevedo-20: stratified 50/50, seed 0 (A = train half, Ah = held-out);
A->B, A->Z train on A; B->A, Z->A are scored on Ah. Everything fixed before any target was scored.
"""
import sys, os, csv, json, time, math, importlib.util
import numpy as np, torch
from PIL import Image
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('mssl', os.path.join(HERE, 'multilab-ssl.py'))
M = importlib.util.module_from_spec(spec); spec.loader.exec_module(M)
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

DUMP = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dump'
ENCS = sys.argv[2:] or ['ssl-seed0-long', 'joint-seed0']
t0 = time.time()
rows = list(csv.reader(open(f'{DUMP}/cells.csv')))
head, rows = rows[0], rows[1:]
N = len(rows)
crops = np.fromfile(f'{DUMP}/crops.u8', np.uint8)
assert crops.size == N * 128 * 128 * 3, (crops.size, N)
crops = crops.reshape(N, 128, 128, 3)
dom = np.array([r[0] for r in rows]); lbl = np.array([r[1] for r in rows])
box = np.array([[float(v) for v in r[3:7]] for r in rows]) * 128  # box in the crop, fractions -> pixels
mor = np.array([[float(v) for v in r[13:]] for r in rows], np.float64)
assert mor.shape[1] == 59, mor.shape
keep = lbl != ''
print('cells', N, 'labelled', keep.sum(), 'non-finite morphology values', int((~np.isfinite(mor)).sum()), flush=True)
mor = np.nan_to_num(mor, nan=0.0, posinf=0.0, neginf=0.0)
CL = sorted(set(lbl[keep]))
y = np.array([CL.index(l) if l else -1 for l in lbl])
lab = np.where(dom == 'acevedo20', 'A', np.where(dom == 'bccd', 'B', 'Z'))
for g in 'ABZ':
    print(g, {c: int(((lab == g) & (y == i)).sum()) for i, c in enumerate(CL)}, flush=True)

# the learnt view's input: 64 px crops cut from the 128 px crops around the box, as multilab-ssl.py cuts them
X64 = np.stack([M.crop(crops[i], box[i]) for i in range(N)])
Image.fromarray(np.concatenate([np.concatenate(list(X64[np.where(lab == g)[0][:16]]), 1) for g in 'ABZ'], 0)).save('/tmp/combo-montage.png')
Xt = torch.tensor(X64).permute(0, 3, 1, 2).float() / 255.

ia = np.where((lab == 'A') & keep)[0]
a_tr, a_ho = train_test_split(ia, test_size=0.5, stratify=y[ia], random_state=0)
sets = {'A': a_tr, 'Ah': a_ho, 'B': np.where((lab == 'B') & keep)[0], 'Z': np.where((lab == 'Z') & keep)[0]}
# MORPHOLOGY_COLOUR_COLUMNS of src/imaging/cell-morphology.ts (the stain-dependent values)
COLOUR = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
          41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58]
PAIRS = [('A', 'Ah'), ('A', 'B'), ('A', 'Z'), ('B', 'A'), ('B', 'Z'), ('Z', 'A'), ('Z', 'B')]
NAME = {('A', 'Ah'): 'A in-domain'}


def wilson(k, n):
    p, lo, hi = M.wilson(k, n); return f'{p:.1f} ({lo:.0f}-{hi:.0f})'


res = {}  # (encoder, method, forest seed) -> {pair: (k, n)}
for enc in ENCS:
    net = M.Enc(); net.load_state_dict(torch.load(f'{M.CACHE}/{enc}.pt'))
    te = time.time(); E = M.embeds(net, Xt, lab, False); print(enc, 'embedded in', round(time.time() - te, 1), 's', flush=True)
    for fs in (0, 1):
        for s, t in PAIRS:
            tt = 'Ah' if t == 'A' else t
            S, T = sets[s], sets[tt]
            mu, sd = E[S].mean(0), E[S].std(0) + 1e-6
            lr = LogisticRegression(C=0.1, max_iter=3000).fit((E[S] - mu) / sd, y[S])
            ps = lr.predict_proba((E[T] - mu) / sd)
            rf = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(mor[S], y[S])
            pm = rf.predict_proba(mor[T])
            assert list(rf.classes_) == list(lr.classes_)
            cat = np.hstack([mor, E])
            rc = RandomForestClassifier(100, max_depth=16, random_state=fs, n_jobs=2).fit(cat[S], y[S])
            pc = rc.predict_proba(cat[T])
            # the product's 'centred' stain step (one of the two members of its default 'ensemble'): the target lab's
            # colour columns moved by one offset each, its median onto the source's (unlabelled; no target label used)
            mT = mor[T].copy(); mT[:, COLOUR] += np.median(mor[S][:, COLOUR], 0) - np.median(mT[:, COLOUR], 0)
            pmc = rf.predict_proba(mT)
            pcc = rc.predict_proba(np.hstack([mT, E[T]]))
            cls = rf.classes_
            for meth, p in (('m', pm), ('s', ps), ('avg', (pm + ps) / 2), ('cat', pc),
                            ('mc', pmc), ('avgc', (pmc + ps) / 2), ('catc', pcc)):
                k = int((cls[p.argmax(1)] == y[T]).sum())
                res.setdefault((enc, meth, fs), {})[NAME.get((s, t), f'{s}->{t}')] = (k, len(T))
    print(enc, 'scored', round(time.time() - t0, 1), 's', flush=True)

order = [NAME.get(p, f'{p[0]}->{p[1]}') for p in PAIRS]
MN = {'m': '(m) forest, 59 morphology values', 's': '(s) LR on embeddings', 'avg': '(avg) mean of (m), (s) probabilities',
      'cat': '(cat) forest on 59 values + embeddings', 'mc': '(m-c) (m) + centred stain step',
      'avgc': '(avg-c) mean of (m-c), (s)', 'catc': '(cat-c) (cat) + centred stain step'}
print('\n| encoder | method | forest seed | ' + ' | '.join(order) + ' | worst pair |')
print('| --- | --- | ---: | ' + ' | '.join(['---:'] * len(order)) + ' | --- |')
for (enc, meth, fs), r in res.items():
    if meth == 's' and fs == 1: continue  # the LR does not depend on the forest seed
    cross = {k: 100 * r[k][0] / r[k][1] for k in order if k != 'A in-domain'}
    w = min(cross, key=cross.get)
    print(f'| {enc} | {MN[meth]} | {"-" if meth == "s" else fs} | ' + ' | '.join(wilson(*r[k]) for k in order) + f' | {w} {cross[w]:.1f} |')
r0 = next(iter(res.values()))
print('(n: A in-domain %d, B %d, Z %d, A train half %d)' % (r0['A in-domain'][1], r0['A->B'][1], r0['A->Z'][1], len(a_tr)))
json.dump({f'{e}|{m}|{f}': v for (e, m, f), v in res.items()}, open('/tmp/combo-results.json', 'w'))
print('total', round(time.time() - t0, 1), 's')
