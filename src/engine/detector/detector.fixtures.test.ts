// The committed detector on fixture images of two labs (BCCD, Zheng DS2): the top detection's box and
// mask against the annotations. Uses $LEUKOGRAPH_DETECTOR_MODEL or models/detector.onnx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeRgb } from '../../imaging/image-codec.js';
import { createDetector, defaultDetectorModelPath, type Detector } from './detector.js';
import { rleDecode } from '../../imaging/rle.js';
import type { Box } from './mask-paste.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixtures = path.join(root, 'test/fixtures');
// Floors set from what the detector achieved on these images. All seven are in its TRAINING split
// (training/detector/splits.json), so this checks the pipeline end to end, not generalisation; the
// issue's held-out goal (mask IoU >= 0.85) is measured by training/detector/evaluate.py.
// models/detector.onnx of 2026-11-26 04:42 (sha256 07698749f128, 2618 iterations): box IoU 0.70-0.95,
// mask IoU 0.805-0.964, mean 0.890 (a trial export at 25 % of training: mask IoU 0.69-0.87).
const MIN_BOX_IOU = 0.5;
const MIN_MASK_IOU = 0.75;
const MIN_MEAN_MASK_IOU = 0.85;

interface Case {
  lab: string;
  image: string;
  box: Box;
  mask: Uint8Array;
  width: number;
  height: number;
}

/** Grey level (PIL "L") above `level` = cell, as training/detector/data.py reads these masks. */
async function cellMask(file: string, level: number): Promise<{ mask: Uint8Array; width: number; height: number }> {
  const rgb = await decodeRgb(readFileSync(file));
  const n = rgb.width * rgb.height;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const l = (rgb.data[3 * i]! * 299 + rgb.data[3 * i + 1]! * 587 + rgb.data[3 * i + 2]! * 114) / 1000;
    mask[i] = l > level ? 1 : 0;
  }
  return { mask, width: rgb.width, height: rgb.height };
}

function maskBox(mask: Uint8Array, w: number, h: number): Box {
  let x1 = w, y1 = h, x2 = 0, y2 = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) {
    x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + 1); y2 = Math.max(y2, y + 1);
  }
  return [x1, y1, x2, y2];
}

async function loadCases(): Promise<Case[]> {
  const cases: Case[] = [];
  const bccd = readFileSync(path.join(fixtures, 'bccd/labels.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of bccd) {
    const f = line.split(',');
    const box = f[7]!.trim().split(/\s+/).map(Number) as Box;
    const m = await cellMask(path.join(fixtures, 'bccd', f[4]!), 40);
    cases.push({ lab: 'bccd', image: path.join(fixtures, 'bccd', f[0]!), box, ...m });
  }
  const zheng = readFileSync(path.join(fixtures, 'zheng-ds2/labels.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of zheng) {
    const f = line.split(',');
    const m = await cellMask(path.join(fixtures, 'zheng-ds2', f[1]!), 0);
    cases.push({ lab: 'zheng-ds2', image: path.join(fixtures, 'zheng-ds2', f[0]!), box: maskBox(m.mask, m.width, m.height), ...m });
  }
  return cases;
}

function boxIou(a: Readonly<Box>, b: Readonly<Box>): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

let detector: Detector;
const modelPath = defaultDetectorModelPath();
before(async () => {
  if (!existsSync(modelPath)) {
    assert.fail(`no detector model at ${modelPath}: train and export it (training/detector/export.py) or set LEUKOGRAPH_DETECTOR_MODEL`);
  }
  detector = await createDetector({ modelPath, prefer: 'cpu' });
});
after(async () => detector?.dispose());

test('top detection matches the annotated WBC box and mask on BCCD and Zheng DS2 fixtures', async (t) => {
  const cases = await loadCases();
  assert.equal(cases.length, 7);
  const rows: string[] = [];
  const failures: string[] = [];
  const maskIous: number[] = [];
  for (const c of cases) {
    const d = await detector.detect(readFileSync(c.image));
    assert.equal(d.width, c.width, `${c.image}: width`);
    assert.equal(d.height, c.height, `${c.image}: height`);
    if (d.cells.length === 0) {
      failures.push(`${c.image}: no detection`);
      continue;
    }
    const top = d.cells.reduce((a, b) => (b.score > a.score ? b : a));
    const bIou = boxIou(top.box, c.box);
    const m = rleDecode(top.mask).data;
    let inter = 0, uni = 0;
    for (let i = 0; i < m.length; i++) {
      inter += m[i]! & c.mask[i]!;
      uni += m[i]! | c.mask[i]!;
    }
    const mIou = inter / uni;
    maskIous.push(mIou);
    rows.push(`${c.lab} ${path.basename(c.image)}: ${d.cells.length} cells, top score ${top.score.toFixed(3)}, box IoU ${bIou.toFixed(3)}, mask IoU ${mIou.toFixed(3)}`);
    if (bIou < MIN_BOX_IOU) failures.push(`${c.image}: box IoU ${bIou.toFixed(3)} < ${MIN_BOX_IOU}`);
    if (mIou < MIN_MASK_IOU) failures.push(`${c.image}: mask IoU ${mIou.toFixed(3)} < ${MIN_MASK_IOU}`);
  }
  const mean = maskIous.reduce((a, b) => a + b, 0) / Math.max(1, maskIous.length);
  if (mean < MIN_MEAN_MASK_IOU) failures.push(`mean mask IoU ${mean.toFixed(3)} < ${MIN_MEAN_MASK_IOU}`);
  for (const r of rows) t.diagnostic(r);
  t.diagnostic(`mean mask IoU ${mean.toFixed(3)}`);
  t.diagnostic(`model ${modelPath} (${detector.model.version}, sha256 ${detector.model.sha256?.slice(0, 12)})`);
  assert.deepEqual(failures, []);
});
