import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetReadObjects } from 'hyparquet';
import { toCsv, toParquet, type ExportRow } from './export.command.js';

const rows: ExportRow[] = [
  { cell_id: 'a', image_id: 'i1', dataset: 'lab', source_path: 'neutrophil/SNE_1.jpg', cell_type: 'neutrophil_segmented', label_common5: 'neutrophil',
    index: 0, score: 0.98, x1: 1, y1: 2, x2: 30, y2: 40, predicted: 'neutrophil', confidence: 0.9, flagged: false, latent: [0.5, -0.25] },
  { cell_id: 'b', image_id: 'i2', dataset: 'lab', source_path: 'odd, "name".jpg', cell_type: null, label_common5: null,
    index: 0, score: 0.8, x1: 5, y1: 6, x2: 50, y2: 60, predicted: null, confidence: null, flagged: null, latent: null },
];

test('CSV export: header, quoting, one column per latent value', () => {
  const lines = toCsv(rows).trim().split('\n');
  assert.equal(lines[0].split(',').length, 15 + 2);
  assert.ok(lines[0].endsWith(',z0,z1'));
  assert.ok(lines[2].includes('"odd, ""name"".jpg"'));
  assert.ok(lines[1].endsWith(',0.5,-0.25'));
});

test('Parquet export reads back with the same values', async () => {
  const buf = toParquet(rows);
  const back = await parquetReadObjects({ file: buf });
  assert.equal(back.length, 2);
  assert.equal(back[0].cell_id, 'a');
  assert.equal(back[0].predicted, 'neutrophil');
  assert.ok(Math.abs((back[0].z1 as number) + 0.25) < 1e-6);
  assert.equal(back[1].z0, null);
  assert.equal(back[1].source_path, 'odd, "name".jpg');
});
