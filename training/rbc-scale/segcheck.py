"""Check the unsupervised WBC segmentation against Zheng DS2 and BCCD gold masks (cell and nucleus eq. diameter)."""
import csv, sys, os, cv2, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rbcscale as R
from scipy import stats
D = os.environ.get('DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../shared/data')) + '/'
if len(sys.argv) > 1: R.FG_K = float(sys.argv[1])
if len(sys.argv) > 2: R.OPEN_K = float(sys.argv[2])
res = {}
for r in list(csv.DictReader(open(D + 'zheng-ds2/labels.csv')))[:int(os.environ.get('NZ', 100))]:
    img = cv2.imread(D + 'zheng-ds2/' + r['image']); m = cv2.imread(D + 'zheng-ds2/' + r['mask'], 0)
    gc, gn = m > 64, m > 192
    ys, xs = np.nonzero(gc); box = [xs.min(), ys.min(), xs.max(), ys.max()]
    ex = np.zeros(gc.shape, bool); ex[ys.min():ys.max(), xs.min():xs.max()] = True
    e = R.estimate_rbc(img, ex)
    c, n = R.segment_wbc(img, None, e['gran_f'])
    if c is None: continue
    res.setdefault(r['class'], []).append((R.eqd(gc), R.eqd(c), R.eqd(gn), R.eqd(n), (c & gc).sum() / (c | gc).sum()))
allv = np.array([v for vs in res.values() for v in vs])
for k, vs in list(res.items()) + [('ALL', allv)]:
    v = np.array(vs)
    print(f"{k:11s} n={len(v):3d} cell seg/gold med {np.median(v[:,1]/v[:,0]):.2f} IQR {np.percentile(v[:,1]/v[:,0],25):.2f}-{np.percentile(v[:,1]/v[:,0],75):.2f}  nuc seg/gold {np.median(v[:,3]/v[:,2]):.2f}  IoU med {np.median(v[:,4]):.2f}")
print('pearson cell', stats.pearsonr(allv[:,0], allv[:,1])[0], 'nuc', stats.pearsonr(allv[:,2], allv[:,3])[0])
