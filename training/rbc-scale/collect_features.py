"""Step 2: per-cell features for Acevedo-20 (sample), BCCD (single, 1 WBC box) and Zheng DS2.
Writes features.csv with, per cell: RBC diameter estimates (px), WBC equivalent diameter from the
lab's mask (gold: BCCD, Zheng) and from the unsupervised segmentation (all labs), WBC box diameter,
nucleus equivalent diameter and nucleus/cell area fraction.
Env: N_ACE (per class, default 80), OVERLAYS (number of overlay PNGs per lab, default 6)."""
import csv, os, sys, random
import xml.etree.ElementTree as ET
import cv2, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbcscale import estimate_rbc, segment_wbc, eqd

D = os.environ.get('DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../shared/data')) + '/'
HERE = os.path.dirname(os.path.abspath(__file__))
N_ACE = int(os.environ.get('N_ACE', 80))
OVER = int(os.environ.get('OVERLAYS', 6))
CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil']
os.makedirs(os.path.join(HERE, 'overlays'), exist_ok=True)


def bbox_of(mask):
    ys, xs = np.nonzero(mask)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def box_mask(shape, b, pad=4):
    m = np.zeros(shape[:2], bool)
    m[max(0, int(b[1]) - pad):int(b[3]) + pad, max(0, int(b[0]) - pad):int(b[2]) + pad] = True
    return m


def touches(b, w, h, m=2):
    return int(b[0] <= m or b[1] <= m or b[2] >= w - m or b[3] >= h - m)


def items():
    rng = random.Random(0)
    ace = [r for r in csv.DictReader(open(D + 'acevedo20/labels.csv')) if r['class'] in CLASSES]
    for c in CLASSES:
        rs = [r for r in ace if r['class'] == c]
        rng.shuffle(rs)
        for r in rs[:N_ACE]:
            yield 'acevedo', r['path'], c, D + 'acevedo20/' + r['path'], None, None
    for r in csv.DictReader(open(D + 'bccd/labels.csv')):
        if r['label_kind'] == 'single' and r['n_wbc_boxes'] == '1' and r['category'] in CLASSES:
            box = [float(v) for v in r['wbc_boxes_xyxy'].split()]
            yield 'bccd', r['image'], r['category'], D + 'bccd/' + r['image'], D + 'bccd/' + r['mask'], box
    for r in csv.DictReader(open(D + 'zheng-ds2/labels.csv')):
        yield 'zheng', r['image'], r['class'], D + 'zheng-ds2/' + r['image'], D + 'zheng-ds2/' + r['mask'], None


rows = []
nover = {}
import itertools
LABS = os.environ.get('LABS', 'acevedo,bccd,zheng').split(',')
for lab, name, cls, ip, mp, box in itertools.islice(items(), int(os.environ.get('LIMIT', 10 ** 9))):
    if lab not in LABS:
        continue
    img = cv2.imread(ip)
    h, w = img.shape[:2]
    row = dict(lab=lab, image=name, cls=cls, w=w, h=h)
    gold_cell = gold_nuc = None
    if mp:
        m = cv2.imread(mp, 0)
        if lab == 'bccd':
            gold_cell, gold_nuc = m > 100, m > 200
        else:
            gold_cell, gold_nuc = m > 64, m > 192
    # WBC box: BCCD annotated box; Zheng bbox of its mask; Acevedo bbox of the segmentation
    if box is None and gold_cell is not None and gold_cell.any():
        box = bbox_of(gold_cell)
    seg_cell, seg_nuc = segment_wbc(img, box)
    if box is None and seg_cell is not None and seg_cell.any():
        box = bbox_of(seg_cell)
    if box is None:
        row['fail'] = 'no_wbc'
        rows.append(row)
        continue
    e = estimate_rbc(img, box_mask(img.shape, box))
    row.update({'rbc_' + k: v for k, v in e.items()})
    # second pass of the segmentation with the RBC scale known
    seg_cell, seg_nuc = segment_wbc(img, box, e['gran_f'])
    if lab == 'acevedo' and seg_cell is not None and seg_cell.any():
        box2 = bbox_of(seg_cell)
        if box2 != box:
            box = box2
            e = estimate_rbc(img, box_mask(img.shape, box))
            row.update({'rbc_' + k: v for k, v in e.items()})
    row['box_d'] = float(np.sqrt((box[2] - box[0]) * (box[3] - box[1])))
    row['box_touch'] = touches(box, w, h)
    if seg_cell is not None:
        row['seg_cell_d'] = eqd(seg_cell)
        row['seg_nuc_d'] = eqd(seg_nuc)
        row['seg_nuc_frac'] = float(seg_nuc.sum() / max(1, (seg_cell | seg_nuc).sum()))
    if gold_cell is not None:
        row['gold_cell_d'] = eqd(gold_cell)
        row['gold_nuc_d'] = eqd(gold_nuc)
        row['gold_nuc_frac'] = float(gold_nuc.sum() / max(1, gold_cell.sum()))
    rows.append(row)
    if nover.get(lab, 0) < OVER and seg_cell is not None:
        nover[lab] = nover.get(lab, 0) + 1
        ov = img.copy()
        cnts, _ = cv2.findContours(seg_cell.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(ov, cnts, -1, (0, 255, 0), 2)
        cnts, _ = cv2.findContours(seg_nuc.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(ov, cnts, -1, (255, 0, 0), 1)
        r = e['gran_f'] / 2
        cv2.circle(ov, (int(r) + 3, int(r) + 3), int(r), (0, 0, 255), 2)  # estimated RBC size, top-left
        cv2.imwrite(os.path.join(HERE, 'overlays', f'{lab}_{nover[lab]}_{cls}.png'), ov)
    if len(rows) % 50 == 0:
        print(len(rows), flush=True)

keys = []
for r in rows:
    for k in r:
        if k not in keys:
            keys.append(k)
with open(os.path.join(HERE, os.environ.get('OUTCSV', 'features.csv')), 'w', newline='') as f:
    wr = csv.DictWriter(f, keys)
    wr.writeheader()
    wr.writerows(rows)
print('wrote', len(rows))
