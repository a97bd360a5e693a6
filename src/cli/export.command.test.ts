import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetReadObjects } from 'hyparquet';
import { toCoco, toCsv, toParquet, formatOf, type ExportRow } from './export.command.js';

const base = { image_width: 40, image_height: 50, cut_by_border: false, flag_reason: null, reason: null, classifier_id: 'm1' };
const rows: ExportRow[] = [
  { ...base, cell_id: 'a', image_id: 'i1', dataset: 'lab', source_path: 'neutrophil/SNE_1.jpg', cell_type: 'neutrophil_segmented', label_common5: 'neutrophil',
    index: 0, score: 0.98, x1: 1, y1: 2, x2: 30, y2: 40, predicted: 'neutrophil', best_guess: 'neutrophil', probability: 0.9, flagged: false,
    mask_rle: '10 5 1985', probabilities: { neutrophil: 0.9, lymphocyte: 0.1 }, latent: [0.5, -0.25] },
  { ...base, cell_id: 'b', image_id: 'i2', dataset: 'lab', source_path: 'odd, "name".jpg', cell_type: null, label_common5: null, cut_by_border: true,
    index: 0, score: 0.8, x1: 5, y1: 6, x2: 40, y2: 50, predicted: null, best_guess: 'lymphocyte', probability: 0.35, flagged: true, flag_reason: 'LOW_CONFIDENCE',
    reason: 'low confidence (0.35 < 0.4)', mask_rle: null, probabilities: { neutrophil: 0.3, lymphocyte: 0.35, monocyte: 0.35 }, latent: null },
];

test('CSV export: the verdict with its best guess, every class probability, the mask, one column per latent value', () => {
  const lines = toCsv(rows).trim().split('\n');
  const head = lines[0]!.split(',');
  assert.deepEqual(head.slice(14, 22), ['cut_by_border', 'predicted', 'best_guess', 'probability', 'flagged', 'flag_reason', 'reason', 'classifier_id']);
  assert.deepEqual(head.slice(22), ['p_lymphocyte', 'p_monocyte', 'p_neutrophil', 'mask_rle', 'z0', 'z1']);
  assert.ok(lines[2]!.includes('"odd, ""name"".jpg"'));
  assert.ok(lines[2]!.includes(',true,,lymphocyte,0.35,true,LOW_CONFIDENCE,low confidence (0.35 < 0.4),m1,0.35,0.35,0.3,,,'), lines[2]);
  assert.ok(lines[1]!.endsWith(',0.1,,0.9,10 5 1985,0.5,-0.25'), lines[1]);
});

test('Parquet export reads back with the same values', async () => {
  const back = await parquetReadObjects({ file: toParquet(rows) });
  assert.equal(back.length, 2);
  assert.equal(back[0]!.cell_id, 'a');
  assert.equal(back[0]!.predicted, 'neutrophil');
  assert.equal(back[1]!.best_guess, 'lymphocyte');
  assert.equal(back[1]!.flagged, true);
  assert.ok(Math.abs((back[0]!.z1 as number) + 0.25) < 1e-6);
  assert.ok(Math.abs((back[1]!.p_monocyte as number) - 0.35) < 1e-6);
  assert.equal(back[1]!.z0, null);
  assert.equal(back[1]!.source_path, 'odd, "name".jpg');
});

test('COCO export: images, annotations with [x, y, w, h] boxes and RLE masks, categories by best guess', () => {
  const coco = toCoco('lab', rows) as { images: any[]; annotations: any[]; categories: any[] };
  assert.deepEqual(coco.categories.map((c) => c.name), ['lymphocyte', 'neutrophil']);
  assert.deepEqual(coco.images[0], { id: 1, file_name: 'neutrophil/SNE_1.jpg', width: 40, height: 50, leukograph_image_id: 'i1' });
  const [a, b] = coco.annotations;
  assert.deepEqual(a.bbox, [1, 2, 29, 38]);
  assert.deepEqual(a.segmentation, { size: [50, 40], counts: [10, 5, 1985] });
  assert.equal(a.area, 5);
  assert.equal(a.iscrowd, 0);
  assert.equal(coco.categories.find((c) => c.id === b.category_id).name, 'lymphocyte');
  assert.equal(b.flagged, true);
  assert.equal(b.segmentation, undefined);
});

test('the format follows --format, else the file name', () => {
  assert.equal(formatOf('x', 'a.parquet', undefined), 'parquet');
  assert.equal(formatOf('x', 'a.json', undefined), 'coco');
  assert.equal(formatOf('x', 'a.out', 'csv'), 'csv');
  assert.throws(() => formatOf('x', 'a.txt', undefined), /--out must end in/);
});
