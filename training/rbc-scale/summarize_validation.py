import csv, sys, numpy as np
from scipy import stats
rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else 'rbc_validation.csv')))
srcs = sorted(set(r['source'] for r in rows)) + ['ALL']
print('| source | n img | estimator | n valid | Pearson r | Spearman | median est/box | median abs rel err | after 1 global scale | share >20% off after scale |')
print('|---|---|---|---|---|---|---|---|---|---|')
for est in (sys.argv[2].split(',') if len(sys.argv) > 2 else ['gran', 'gran_r', 'gran_n', 'gran_f', 'peak', 'comp']):
    allr = np.array([float(r[est]) / float(r['box_med']) for r in rows if r[est] not in ('nan', '')])
    g = np.median(allr)
    for s in srcs:
        rr = [r for r in rows if s == 'ALL' or r['source'] == s]
        e = np.array([float(r[est]) for r in rr])
        b = np.array([float(r['box_med']) for r in rr])
        ok = np.isfinite(e)
        if ok.sum() < 3:
            continue
        e, b = e[ok], b[ok]
        ratio = e / b
        print(f"| {s} | {len(rr)} | {est} | {ok.sum()} | {stats.pearsonr(e, b)[0]:.2f} | {stats.spearmanr(e, b)[0]:.2f} | "
              f"{np.median(ratio):.2f} | {np.median(np.abs(ratio - 1)):.2f} | {np.median(np.abs(ratio / g - 1)):.2f} | {np.mean(np.abs(ratio / g - 1) > 0.2):.2f} |")
