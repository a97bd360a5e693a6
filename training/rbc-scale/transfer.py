"""Steps 2-3: per-lab per-class table of RBC-relative size, and cross-lab transfer of simple classifiers.
Usage: python3 transfer.py [features.csv]   env RBC=rbc_gran_f (which RBC estimator), WBC=gold|seg|box"""
import csv, os, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import roc_auc_score

F = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'features.csv')
RBC = os.environ.get('RBC', 'rbc_gran_f')
WBC = os.environ.get('WBC', 'gold')
CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil']
AB = dict(neutrophil='NEU', lymphocyte='LYM', monocyte='MON', eosinophil='EOS', basophil='BAS')
LABS = ['acevedo', 'bccd', 'zheng']


def num(r, k):
    try:
        return float(r.get(k, 'nan') or 'nan')
    except ValueError:
        return np.nan


rows = [r for r in csv.DictReader(open(F)) if not r.get('fail')]
for r in rows:
    if WBC == 'gold' and r['lab'] != 'acevedo':
        r['cell_d'], r['nuc_frac'], r['nuc_d'] = num(r, 'gold_cell_d'), num(r, 'gold_nuc_frac'), num(r, 'gold_nuc_d')
    elif WBC == 'box':
        r['cell_d'], r['nuc_frac'], r['nuc_d'] = num(r, 'box_d'), num(r, 'seg_nuc_frac'), num(r, 'seg_nuc_d')
    else:
        r['cell_d'], r['nuc_frac'], r['nuc_d'] = num(r, 'seg_cell_d'), num(r, 'seg_nuc_frac'), num(r, 'seg_nuc_d')
    r['rbc'] = num(r, RBC)
    r['ratio'] = r['cell_d'] / r['rbc']
    r['nuc_ratio'] = r['nuc_d'] / r['rbc']
rows = [r for r in rows if np.isfinite(r['ratio']) and np.isfinite(r['nuc_frac'])]
GATE = os.environ.get('GATE', '0') == '1'
if GATE:  # reliable RBC measurement: enough red foreground, >=3 DT peaks, granulometry and peak estimators agree
    rows = [r for r in rows if num(r, 'rbc_fg_frac') > 0.10 and num(r, 'rbc_n_peak') >= 3
            and abs(num(r, 'rbc_peak') / r['rbc'] - 0.93) < 0.25]

print(f'## RBC estimator {RBC}, WBC size source {WBC}, RBC-quality gate {GATE} (gold = lab mask for BCCD/Zheng, segmentation for Acevedo)\n')
print('### RBC diameter per lab (px): median [IQR]\n')
for lab in LABS:
    v = [r['rbc'] for r in rows if r['lab'] == lab]
    print(f'- {lab}: {np.median(v):.0f} [{np.percentile(v, 25):.0f}-{np.percentile(v, 75):.0f}], n={len(v)}')
print('\n### WBC diameter / RBC diameter, median [IQR] (n); raw WBC diameter px; nucleus/cell area\n')
print('| lab | class | n | WBC/RBC | raw WBC px | nucleus/cell area | nucleus d / RBC |')
print('|---|---|---|---|---|---|---|')
for lab in LABS:
    for c in CLASSES:
        rr = [r for r in rows if r['lab'] == lab and r['cls'] == c]
        if not rr:
            continue
        def q(k):
            v = np.array([r[k] for r in rr])
            return f'{np.median(v):.2f} [{np.percentile(v, 25):.2f}-{np.percentile(v, 75):.2f}]'
        def qp(k):
            v = np.array([r[k] for r in rr])
            return f'{np.median(v):.0f} [{np.percentile(v, 25):.0f}-{np.percentile(v, 75):.0f}]'
        print(f'| {lab} | {c} | {len(rr)} | {q("ratio")} | {qp("cell_d")} | {q("nuc_frac")} | {q("nuc_ratio")} |')

FEATS = {
    'ratio': ['ratio'],
    'ratio+nucfrac': ['ratio', 'nuc_frac'],
    'ratio+nucratio': ['ratio', 'nuc_ratio'],
    'raw_px': ['cell_d'],
    'raw_px+nucfrac': ['cell_d', 'nuc_frac'],
    'nucfrac': ['nuc_frac'],
}
MODELS = {
    'logreg': lambda: make_pipeline(StandardScaler(), LogisticRegression(class_weight='balanced', max_iter=2000)),
    'tree3': lambda: DecisionTreeClassifier(max_depth=3, class_weight='balanced', random_state=0),
    'rf': lambda: RandomForestClassifier(200, max_depth=4, min_samples_leaf=3, class_weight='balanced', random_state=0),
}


def XY(lab, feats, classes=CLASSES):
    rr = [r for r in rows if r['lab'] == lab and r['cls'] in classes]
    return np.array([[r[f] for f in feats] for r in rr]), np.array([r['cls'] for r in rr])


print('\n### Transfer: train on one lab, test on another (5 classes; class_weight=balanced)\n')
print('acc = accuracy; bal = mean recall over target classes with >=5 cells; per-class recall NEU/LYM/MON/EOS (BAS omitted: <5 outside Acevedo)\n')
print('| model | features | train->test | acc | bal | NEU | LYM | MON | EOS | LYM called NEU/EOS |')
print('|---|---|---|---|---|---|---|---|---|---|')
summary = {}
for mname, mk in MODELS.items():
    for fname, feats in FEATS.items():
        for src in LABS:
            Xs, ys = XY(src, feats)
            m = mk().fit(Xs, ys)
            for tgt in LABS:
                if tgt == src:
                    continue
                Xt, yt = XY(tgt, feats)
                p = m.predict(Xt)
                rec = {c: (p[yt == c] == c).mean() if (yt == c).sum() else np.nan for c in CLASSES}
                big = [c for c in CLASSES if (yt == c).sum() >= 5]
                bal = np.mean([rec[c] for c in big])
                lym = yt == 'lymphocyte'
                lne = np.isin(p[lym], ['neutrophil', 'eosinophil']).mean() if lym.any() else np.nan
                summary[(mname, fname, src, tgt)] = ((p == yt).mean(), bal)
                print(f'| {mname} | {fname} | {src}->{tgt} | {(p == yt).mean():.2f} | {bal:.2f} | ' +
                      ' | '.join(f'{rec[c]:.2f}' for c in CLASSES[:4]) + f' | {lne:.2f} |')

print('\n### Summary: balanced recall (5-class), rows = features x model, columns = train->test\n')
pairs = [(s, t) for s in LABS for t in LABS if s != t]
print('| model | features | ' + ' | '.join(f'{s[:3]}->{t[:3]}' for s, t in pairs) + ' | mean |')
print('|---|---|' + '---|' * (len(pairs) + 1))
for mname in MODELS:
    for fname in FEATS:
        v = [summary[(mname, fname, s, t)][1] for s, t in pairs]
        print(f'| {mname} | {fname} | ' + ' | '.join(f'{x:.2f}' for x in v) + f' | {np.mean(v):.2f} |')

print('\n### Lymphocyte vs neutrophil only\n')
print('AUC of the single feature within each lab (lymphocyte = positive when smaller), and transfer of a logistic regression trained on the source lab\n')
print('| feature | AUC acevedo | AUC bccd | AUC zheng | ' + ' | '.join(f'{s[:3]}->{t[:3]} acc' for s, t in pairs) + ' |')
print('|---|---|---|---|' + '---|' * len(pairs))
for fname in ['ratio', 'raw_px', 'nucfrac', 'ratio+nucfrac']:
    feats = FEATS[fname]
    aucs = []
    for lab in LABS:
        X, y = XY(lab, feats, ['lymphocyte', 'neutrophil'])
        aucs.append(roc_auc_score(y == 'lymphocyte', -X[:, 0]) if len(feats) == 1 else np.nan)
    accs = []
    for s, t in pairs:
        Xs, ys = XY(s, feats, ['lymphocyte', 'neutrophil'])
        Xt, yt = XY(t, feats, ['lymphocyte', 'neutrophil'])
        m = MODELS['logreg']().fit(Xs, ys)
        p = m.predict(Xt)
        # balanced accuracy over the two classes
        accs.append(np.mean([(p[yt == c] == c).mean() for c in ['lymphocyte', 'neutrophil']]))
    print(f'| {fname} | ' + ' | '.join(f'{a:.2f}' for a in aucs) + ' | ' + ' | '.join(f'{a:.2f}' for a in accs) + ' |')

print('\n### In-lab 5-fold CV balanced recall (ceiling), logreg\n')
from sklearn.model_selection import cross_val_predict, StratifiedKFold
for fname in ['ratio', 'ratio+nucfrac', 'raw_px', 'raw_px+nucfrac']:
    out = []
    for lab in LABS:
        X, y = XY(lab, FEATS[fname])
        keep = np.isin(y, [c for c in CLASSES if (y == c).sum() >= 5])
        X, y = X[keep], y[keep]
        p = cross_val_predict(MODELS['logreg'](), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
        out.append(np.mean([(p[y == c] == c).mean() for c in np.unique(y)]))
    print(f'- {fname}: ' + ', '.join(f'{l} {v:.2f}' for l, v in zip(LABS, out)))
