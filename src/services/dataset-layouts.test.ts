import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLayout, detectLayout, parseCsv } from './dataset-layouts.js';
import { syntheticCellTiff } from '../../test/helpers/synthetic-images.js';

const FIX = resolve(fileURLToPath(new URL('../../../test/fixtures', import.meta.url)));

test('Acevedo-20 class folders: class from the folder, subtype from the file-name prefix', async () => {
  const { layout, entries } = await readLayout(join(FIX, 'acevedo20'), FIX, 'auto');
  assert.equal(layout, 'class-folders');
  assert.equal(entries.length, 15);
  const n = entries.find((e) => e.rawLabel === 'neutrophil');
  assert.ok(n && ['SNE', 'BNE', 'NEUTROPHIL'].includes(n.subtype ?? ''), `subtype of ${n?.relPath}`);
  assert.ok(entries.every((e) => !e.relPath.startsWith('/') && e.relPath.includes('/')));
});

test('labels.csv layouts (Zheng DS2, BCCD) read path, class and optional columns', async () => {
  const z = await readLayout(join(FIX, 'zheng-ds2'), FIX, 'auto');
  assert.equal(z.layout, 'labels-csv');
  assert.deepEqual(z.entries.map((e) => e.rawLabel), ['lymphocyte', 'neutrophil', 'monocyte', 'eosinophil']);
  const b = await readLayout(join(FIX, 'bccd'), FIX, 'labels-csv');
  assert.equal(b.entries.length, 3);
  assert.equal(b.entries[0].relPath, 'images/BloodImage_00000.jpg');
  assert.equal(b.entries[0].rawLabel, 'neutrophil');
});

test('Matek-19 class-code folders of TIFFs are detected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'matek-'));
  for (const code of ['NGS', 'LYT', 'MON', 'EOS', 'BAS']) {
    mkdirSync(join(dir, code));
    writeFileSync(join(dir, code, `${code}_0001.tiff`), await syntheticCellTiff(code.length));
  }
  assert.equal(await detectLayout(dir), 'matek');
  const { entries } = await readLayout(dir, dir, 'auto');
  assert.equal(entries.length, 5);
  assert.deepEqual(entries.map((e) => e.rawLabel).sort(), ['BAS', 'EOS', 'LYT', 'MON', 'NGS']);
  mkdirSync(join(dir, 'misc'));
  await assert.rejects(readLayout(dir, dir, 'matek'), /not Matek-19 class codes: misc/);
});

test('CSV parsing handles quotes, commas in fields and CRLF', () => {
  assert.deepEqual(parseCsv('a,b\r\n"x, y","say ""hi"""\r\n'), [['a', 'b'], ['x, y', 'say "hi"']]);
});

test('a labels.csv path that climbs out of the folder is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-'));
  writeFileSync(join(dir, 'labels.csv'), 'path,class\n../../etc/passwd,neutrophil\n');
  await assert.rejects(readLayout(dir, dir, 'auto'), /leaves the dataset folder/);
});
