// The command line against a running server: a job command follows its job to the end with plain
// progress lines (no terminal here) or JSON lines, and exits non-zero with the server's reason on refusal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parquetReadObjects } from 'hyparquet';
import { readFileSync } from 'node:fs';
import { startStack, REPO, FIXTURES, type Stack } from './helpers/stack.js';
import { seedSyntheticCells } from './helpers/synthetic-cells.js';
import { differentialTable } from '../client-sdk/src/differential-count.js';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => s?.close());

// Asynchronous: the server under test runs in this process and must keep answering.
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), ...args], {
      env: { ...process.env, DATABASE_URL: s.databaseUrl, LEUKOGRAPH_DATA_DIR: s.cfg.dataDir },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('leukograph import follows the job to its end', async () => {
  const r = await cli('import', join(FIXTURES, 'zheng-ds2'), '--dataset', 'zheng', '--url', s.url);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /import: succeeded — 4\/4, 4 new/);
  const j = await cli('import', join(FIXTURES, 'zheng-ds2'), '--dataset', 'zheng', '--url', s.url, '--json');
  const last = JSON.parse(j.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual([last.type, last.status, last.result.existing], ['result', 'succeeded', 4]);
});

test('a refused job command exits 1 with the reason', async () => {
  const r = await cli('import', '/etc', '--dataset', 'x', '--url', s.url);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /outside the data roots/);
});

test('leukograph export writes CSV, Parquet and COCO of a dataset\'s cells from the server; no cells is an error', async () => {
  const d = await s.ok(`mutation { createDataset(input: { name: "exported" }) { id } }`);
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  const empty = await cli('export', '--dataset', 'exported', '--out', join(dir, 'e.csv'), '--url', s.url);
  assert.equal(empty.status, 1, empty.stderr);
  assert.match(empty.stderr, /dataset "exported" has no cells, so nothing was written: import images first \(leukograph import/);
  assert.equal(existsSync(join(dir, 'e.csv')), false);
  await seedSyntheticCells(s.databaseUrl, s.cfg.dataDir, d.createDataset.id, 6);
  const csv = await cli('export', '--dataset', 'exported', '--out', join(dir, 'c.csv'), '--url', s.url);
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(readFileSync(join(dir, 'c.csv'), 'utf8').trim().split('\n').length, 7);
  const coco = await cli('export', '--dataset', 'exported', '--out', join(dir, 'c.json'), '--url', s.url);
  assert.equal(coco.status, 0, coco.stderr);
  const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
  assert.equal(c.annotations.length, 6);
  assert.equal(c.images.length, new Set(c.annotations.map((a: { image_id: number }) => a.image_id)).size);
  for (const a of c.annotations) assert.equal(a.bbox.length, 4);
  const pq = await cli('export', '--dataset', 'exported', '--out', join(dir, 'c.parquet'), '--url', s.url);
  assert.equal(pq.status, 0, pq.stderr);
  const b = readFileSync(join(dir, 'c.parquet'));
  const rows = await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer });
  assert.equal(rows.length, 6);
  assert.equal(rows[0].dataset, 'exported');
});

test('leukograph analyze prints the differential count, the same as the server\'s typed result', { skip: !existsSync(join(REPO, 'models/detector.json')) && 'no detector' }, async () => {
  const j = await cli('analyze', '--dataset', 'zheng', '--url', s.url, '--json');
  assert.equal(j.status, 0, j.stderr);
  const last = JSON.parse(j.stdout.trim().split('\n').at(-1)!);
  const { job } = await s.ok(`query($id: ID!) { job(id: $id) { typedResult { ... on AnalyzeJobResult { cells differential { cells counted byClass { label count fraction } flagged flaggedByReason { reason count } unclassified cutByBorder } } } } }`, { id: last.jobId });
  assert.deepEqual(last.differential, job.typedResult.differential);
  assert.equal(last.differential.cells, job.typedResult.cells);
  assert.ok(last.differential.cells >= 4, JSON.stringify(last.differential));
  const text = await cli('analyze', '--dataset', 'zheng', '--url', s.url);
  assert.equal(text.status, 0, text.stderr);
  assert.ok(text.stdout.includes(differentialTable(job.typedResult.differential)), text.stdout);
});
