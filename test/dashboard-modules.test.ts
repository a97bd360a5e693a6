// The dashboard's browser modules that need no browser: the latents CSV reader, the PCA and the search
// for confusion matrices in evaluation reports of more than one shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './helpers/stack.js';

const js = (name: string) => pathToFileURL(join(REPO, 'src/http/dashboard/public/js', name)).href;

test('latents.csv rows are read with quoted paths, and PCA finds the main axis first', async () => {
  const { parseLatentsCsv, pca } = await import(js('pca.js'));
  const rows = parseLatentsCsv('cell_id,image_id,source_path,cell_type,z0,z1,z2\nc1,i1,"a,b/""x"".jpg",lymphocyte,1,2,3\nc2,i2,p.jpg,,4,5,6\n');
  assert.equal(rows.length, 2);
  assert.equal(rows[0].sourcePath, 'a,b/"x".jpg');
  assert.equal(rows[1].cellType, null);
  assert.deepEqual(Array.from(rows[1].z), [4, 5, 6]);

  // Points spread along (1, 1, 0) with a little noise along (0, 0, 1): PC1 is that diagonal.
  const pts = Array.from({ length: 200 }, (_, i) => {
    const t = (i - 100) / 10;
    const e = Math.sin(i * 12.9898) * 0.1;
    return [t + e, t - e, Math.cos(i * 4.1) * 0.3];
  });
  const r = pca(pts, 2);
  assert.ok(r.explained[0] > 0.95, `PC1 explains ${r.explained[0]}`);
  assert.ok(r.explained[0] >= r.explained[1]);
  const spread = (k: number) => Math.max(...r.coords.map((c: number[]) => c[k])) - Math.min(...r.coords.map((c: number[]) => c[k]));
  assert.ok(spread(0) > 10 * spread(1));
  assert.deepEqual(pca([[1, 2]], 2).explained, [0, 0], 'one row: nothing to explain');
});

test('confusion matrices are found in every report shape the evaluation may write', async () => {
  const { findConfusions } = await import(js('confusions.js'));
  const conf = { labels: ['a', 'b'], matrix: [[3, 1], [0, 4]] };
  // leukograph-evaluation/1: AE-CFE under domains, baselines under baselines.<method>.domains.
  const v1 = findConfusions({ format: 'leukograph-evaluation/1', domains: { bccd: { accuracy: 0.8, confusion: conf } }, baselines: { colour_shape: { domains: { bccd: { confusion: conf } } } } });
  assert.deepEqual(v1.map((e: { method: string; domain: string }) => `${e.method}|${e.domain}`), ['ae_cfe|bccd', 'colour_shape|bccd']);
  assert.equal(v1[0].scores.accuracy, 0.8);
  // report[method][domain].confusion, a nested count table, and a bare matrix with the report's classes.
  const other = findConfusions({ classes: ['x', 'y'], ae_cfe: { zheng: { confusion: { x: { x: 2, y: 1 }, y: { y: 5 } } } }, raw: { zheng: { confusion: [[1, 0], [2, 3]] } } });
  assert.deepEqual(other.map((e: { method: string; domain: string }) => `${e.method}|${e.domain}`), ['ae_cfe|zheng', 'raw|zheng']);
  assert.deepEqual(other[0].confusion, { labels: ['x', 'y'], matrix: [[2, 1], [0, 5]] });
  assert.deepEqual(other[1].confusion, { labels: ['x', 'y'], matrix: [[1, 0], [2, 3]] });
  assert.deepEqual(findConfusions({ notes: ['nothing here'], confusion: 'n/a' }), []);
});
