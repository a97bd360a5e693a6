import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFolderDomain, sampleEntries } from './folder-dataset.js';
import { fakeDetector } from '../../test/helpers/fake-detector.js';
import { FEATURE_LENGTH } from '../engine/autoencoder/layout.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

test('sampleEntries: at most N per group, seeded, independent of listing order', () => {
  const entries = Array.from({ length: 30 }, (_, i) => ({ relPath: `${i % 3 === 0 ? 'a' : 'b'}/${String(i).padStart(2, '0')}.jpg`, g: i % 3 === 0 ? 'a' : 'b' }));
  const s1 = sampleEntries(entries, (e) => e.g, 4, 1);
  const s2 = sampleEntries([...entries].reverse(), (e) => e.g, 4, 1);
  const s3 = sampleEntries(entries, (e) => e.g, 4, 2);
  assert.deepEqual(s1.map((e) => e.relPath), s2.map((e) => e.relPath));
  assert.notDeepEqual(s1.map((e) => e.relPath), s3.map((e) => e.relPath));
  assert.equal(s1.filter((e) => e.g === 'a').length, 4);
  assert.equal(s1.filter((e) => e.g === 'b').length, 4);
  assert.equal(sampleEntries(entries, (e) => e.g, undefined, 1).length, 30);
  assert.throws(() => sampleEntries(entries, (e) => e.g, 0, 1), /maxPerClass/);
});

test('loadFolderDomain: class folders, top cell, crops at the preset size, misses counted per class', async () => {
  const det = fakeDetector({ miss: (b) => b.length % 5 === 0 });
  const { domain, stats } = await loadFolderDomain({ name: 'acevedo', dir: join(FIXTURES, 'acevedo20'), classes: 'common5', imageSize: 64, detector: det, maxPerClass: 2, seed: 3 });
  assert.equal(stats.layout, 'class-folders');
  assert.equal(stats.images, 15);
  assert.equal(stats.sampled, 10);
  assert.equal(det.calls, 10);
  assert.equal(stats.cells + stats.noDetection + stats.failed, 10);
  assert.equal(Object.values(stats.noDetectionByClass).reduce((s, v) => s + v, 0), stats.noDetection);
  assert.equal(domain.cells.length, stats.cells);
  for (const c of domain.cells) {
    assert.equal(c.features.length, FEATURE_LENGTH);
    assert.equal((c.crop as Uint8Array).length, 64 * 64 * 3);
    assert.ok(['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'].includes(c.label!));
  }
  assert.deepEqual(domain.loading?.noDetection, stats.noDetection);
  // Same seed, same sample.
  const again = await loadFolderDomain({ name: 'acevedo', dir: join(FIXTURES, 'acevedo20'), classes: 'common5', imageSize: 64, detector: fakeDetector(), maxPerClass: 2, seed: 3 });
  const ids = (d: typeof domain) => d.cells.map((c) => c.id);
  assert.deepEqual(ids(again.domain).filter((i) => ids(domain).includes(i)), ids(domain));
});

test('loadFolderDomain: labels.csv layouts (Zheng, BCCD whole fields); unmapped labels kept unlabelled or dropped; bad images listed', async () => {
  const zheng = await loadFolderDomain({ name: 'zheng', dir: join(FIXTURES, 'zheng-ds2'), classes: 'common5', imageSize: 64, detector: fakeDetector() });
  assert.equal(zheng.stats.layout, 'labels-csv');
  assert.equal(zheng.stats.cells, 4);
  assert.deepEqual(zheng.domain.cells.map((c) => c.label).sort(), ['eosinophil', 'lymphocyte', 'monocyte', 'neutrophil']);
  const bccd = await loadFolderDomain({ name: 'bccd', dir: join(FIXTURES, 'bccd'), classes: 'common5', imageSize: 128, detector: fakeDetector() });
  assert.equal(bccd.stats.cells, 3);
  assert.equal((bccd.domain.cells[0]!.crop as Uint8Array).length, 128 * 128 * 3);

  const dir = await mkdtemp(join(tmpdir(), 'lg-folder-'));
  try {
    await mkdir(join(dir, 'ig'));
    await mkdir(join(dir, 'lymphocyte'));
    await copyFile(join(FIXTURES, 'acevedo20/lymphocyte/LY_109093.jpg'), join(dir, 'lymphocyte/LY_1.jpg'));
    await copyFile(join(FIXTURES, 'acevedo20/lymphocyte/LY_118333.jpg'), join(dir, 'lymphocyte/LY_2.jpg'));
    await copyFile(join(FIXTURES, 'acevedo20/monocyte/MO_10819.jpg'), join(dir, 'ig/IG_1.jpg'));
    await writeFile(join(dir, 'lymphocyte/LY_3.jpg'), Buffer.from('not an image'));
    const kept = await loadFolderDomain({ name: 'x', dir, classes: 'common5', imageSize: 64, detector: fakeDetector() });
    assert.deepEqual(kept.stats.unmapped, { ig: 1 });
    assert.equal(kept.stats.failed, 1);
    assert.equal(kept.stats.failures[0]!.path, 'lymphocyte/LY_3.jpg');
    assert.equal(kept.stats.cells, 3);
    assert.equal(kept.stats.labelled, 2);
    assert.equal(kept.domain.cells.filter((c) => c.label === null).length, 1);
    const dropped = await loadFolderDomain({ name: 'x', dir, classes: 'common5', imageSize: 64, detector: fakeDetector(), keepUnmapped: false });
    assert.equal(dropped.stats.cells, 2);
    assert.equal(dropped.stats.unmappedDropped, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadFolderDomain: the cache returns the same cells without detecting again; another key misses', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lg-cache-'));
  try {
    const base = { name: 'z', dir: join(FIXTURES, 'zheng-ds2'), classes: 'common5' as const, imageSize: 64 };
    const d1 = fakeDetector({ miss: (b) => b.length % 3 === 0 });
    const first = await loadFolderDomain({ ...base, detector: d1, cache: { dir, key: 'k1' } });
    const d2 = fakeDetector({ miss: (b) => b.length % 3 === 0 });
    const second = await loadFolderDomain({ ...base, detector: d2, cache: { dir, key: 'k1' } });
    assert.equal(d2.calls, 0);
    assert.equal(second.stats.cached, 4);
    assert.equal(second.stats.noDetection, first.stats.noDetection);
    assert.equal(second.domain.cells.length, first.domain.cells.length);
    second.domain.cells.forEach((c, i) => {
      const f = first.domain.cells[i]!;
      assert.equal(c.id, f.id);
      assert.equal(c.label, f.label);
      assert.deepEqual(c.features, f.features);
      assert.deepEqual(c.crop, f.crop);
    });
    const d3 = fakeDetector();
    await loadFolderDomain({ ...base, detector: d3, cache: { dir, key: 'k2' } });
    assert.equal(d3.calls, 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
