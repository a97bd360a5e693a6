"""The cells dump-cells.mjs writes, as the exploration scripts read them (pretrained-views.py, blur-match.py): labels,
labs, the 59 morphology values, the Acevedo-20 split and the lab pairs, in one place."""
import csv
import numpy as np
from sklearn.model_selection import train_test_split

# MORPHOLOGY_COLOUR_COLUMNS of src/imaging/cell-morphology.ts (the stain-dependent values)
COLOUR = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
          41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58]
# source -> scored cells: A = Acevedo-20's training half, Ah = its held-out half, B = BCCD, Z = Zheng DS2
PAIRS = [('A', 'Ah'), ('A', 'B'), ('A', 'Z'), ('B', 'Ah'), ('B', 'Z'), ('Z', 'Ah'), ('Z', 'B')]


def pair_name(s, t):
    return 'A in-domain' if (s, t) == ('A', 'Ah') else f'{s}->{t[0]}'


def wilson(k, n, z=1.96):
    """'accuracy % (95 % Wilson interval)' of k right out of n."""
    p = k / n; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d; h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return f'{100 * p:.1f} ({100 * (c - h):.0f}-{100 * (c + h):.0f})'


def load(dump):
    """dict: dom, lbl, lab ('A'/'B'/'Z'), y (class index, -1 unlabelled), classes, mor (N x 59, non-finite -> 0),
    mor_raw (as written), keep (labelled), sets (the scored cells of A, Ah, B, Z), a_tr, a_ho."""
    rows = list(csv.reader(open(f'{dump}/cells.csv')))[1:]
    dom = np.array([r[0] for r in rows]); lbl = np.array([r[1] for r in rows])
    raw = np.array([[float(v) for v in r[13:]] for r in rows], np.float64)
    assert raw.shape[1] == 59, raw.shape
    keep = lbl != ''
    classes = sorted(set(lbl[keep]))
    y = np.array([classes.index(l) if l else -1 for l in lbl])
    lab = np.where(dom == 'acevedo20', 'A', np.where(dom == 'bccd', 'B', 'Z'))
    ia = np.where((lab == 'A') & keep)[0]
    a_tr, a_ho = train_test_split(ia, test_size=0.5, stratify=y[ia], random_state=0)
    sets = {'A': a_tr, 'Ah': a_ho, 'B': np.where((lab == 'B') & keep)[0], 'Z': np.where((lab == 'Z') & keep)[0]}
    return dict(n=len(rows), dom=dom, lbl=lbl, lab=lab, y=y, classes=classes, keep=keep, a_tr=a_tr, a_ho=a_ho, sets=sets,
                mor_raw=raw, mor=np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0))


def centred(target_rows, source_rows):
    """The product's 'centred' stain step: each colour column of the target moved by one offset, its median onto the
    source's (stain-steps.ts; no label used)."""
    m = target_rows.copy()
    m[:, COLOUR] += np.median(source_rows[:, COLOUR], 0) - np.median(m[:, COLOUR], 0)
    return m
