"""Step 1: validate the unsupervised RBC diameter estimators against annotated RBC boxes.
BCCD (VOC, all 'single' fields with one WBC box) and TXL-PBC (YOLO class 1; up to N per source).
WBC boxes are excluded from the red-cell foreground, as the product would exclude its detected box.
Writes rbc_validation.csv and prints per-source correlation / relative error."""
import csv, os, sys, glob, random
import xml.etree.ElementTree as ET
import cv2, numpy as np
from scipy import stats
sys.path.insert(0, os.path.dirname(__file__))
from rbcscale import estimate_rbc

D = os.environ.get('DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../shared/data')) + '/'
N_TXL = int(os.environ.get('N_TXL', 60))
rows = []


def box_diams(boxes, w, h, margin=2):
    out = []
    for x0, y0, x1, y1 in boxes:
        if x0 <= margin or y0 <= margin or x1 >= w - 1 - margin or y1 >= h - 1 - margin:
            continue
        out.append(((x1 - x0) + (y1 - y0)) / 2)
    return out


def exclude_mask(shape, boxes, pad=3):
    m = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        m[max(0, int(y0) - pad):int(y1) + pad, max(0, int(x0) - pad):int(x1) + pad] = True
    return m


def run(src, name, img, rbc_boxes, wbc_boxes):
    h, w = img.shape[:2]
    d = box_diams(rbc_boxes, w, h)
    if len(d) < 3:
        return
    e = estimate_rbc(img, exclude_mask(img.shape, wbc_boxes))
    rows.append(dict(source=src, image=name, w=w, h=h, n_rbc_boxes=len(d), box_med=float(np.median(d)), **e))


for r in csv.DictReader(open(D + 'bccd/labels.csv')):
    if r['label_kind'] != 'single' or r['n_wbc_boxes'] != '1':
        continue
    t = ET.parse(D + 'bccd/' + r['voc_xml']).getroot()
    rb, wb = [], []
    for o in t.iter('object'):
        b = o.find('bndbox')
        bb = [float(b.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
        (rb if o.find('name').text == 'RBC' else wb if o.find('name').text == 'WBC' else []).append(bb)
    run('bccd-voc', r['image'], cv2.imread(D + 'bccd/' + r['image']), rb, wb)

meta = {m['New_Image_Name']: m['Source_Dataset'] for m in csv.DictReader(open(D + 'txl-pbc/metadata.csv'))}
bysrc = {}
for p in sorted(glob.glob(D + 'txl-pbc/images/*/*.png')):
    bysrc.setdefault(meta.get(os.path.basename(p), '?'), []).append(p)
rng = random.Random(0)
for src, ps in sorted(bysrc.items()):
    rng.shuffle(ps)
    for p in ps[:N_TXL]:
        lp = p.replace('/images/', '/labels/')[:-4] + '.txt'
        if not os.path.exists(lp):
            continue
        img = cv2.imread(p)
        h, w = img.shape[:2]
        rb, wb = [], []
        for line in open(lp):
            c, x, y, bw, bh = line.split()[:5]
            x, y, bw, bh = float(x) * w, float(y) * h, float(bw) * w, float(bh) * h
            bb = [x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2]
            if c == '1':
                rb.append(bb)
            elif c == '0':
                wb.append(bb)
        run('txl-' + src, os.path.basename(p), img, rb, wb)

keys = list(rows[0].keys())
with open(os.path.join(os.path.dirname(__file__) or '.', 'rbc_validation.csv'), 'w', newline='') as f:
    wr = csv.DictWriter(f, keys)
    wr.writeheader()
    wr.writerows(rows)
