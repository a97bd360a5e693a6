// The command line against a running server: a job command follows its job to the end with plain
// progress lines (no terminal here) or JSON lines, and exits non-zero with the server's reason on refusal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parquetReadObjects } from 'hyparquet';
import pg from 'pg';
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

test('leukograph classify on cells not detected yet detects them first, then classifies with the bundled classifier', { skip: !existsSync(join(REPO, 'models/classifier-common5.meta.json')) && 'no bundled classifier' }, async () => {
  const imp = await cli('import', join(FIXTURES, 'zheng-ds2'), '--dataset', 'undetected', '--url', s.url);
  assert.equal(imp.status, 0, imp.stderr);
  const r = await cli('classify', '--dataset', 'undetected', '--url', s.url);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /no cells detected in "undetected" yet: detecting them first/);
  assert.match(r.stderr, /detect: succeeded/);
  assert.match(r.stderr, /classify: succeeded/);
  // Zheng DS2's images are labelled: the count, then the agreement with the labels.
  assert.match(r.stdout, /counted/);
  assert.match(r.stdout, /Against the labels \(common5\): accuracy [\d.]+ %, balanced accuracy [\d.]+ %/);
  assert.match(r.stdout, /label \\ called/);
  const typo = await cli('classify', '--datset', 'undetected', '--url', s.url);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown flag --datset \(did you mean --dataset\?\)/);
});

test('leukograph watch exits 3 when a classify job succeeded but its self-check failed, with the warning on stderr', async () => {
  const db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
  const finished = async (status: string, selfCheck: object) => {
    const r = await db.query(
      `INSERT INTO jobs (kind, status, params, result, message, finished_at) VALUES ('classify', $1, '{}', $2, $3, now()) RETURNING id`,
      [status, { classified: 300, flagged: 300, selfCheck }, (selfCheck as { warning: string | null }).warning ?? '300 cells'],
    );
    return String(r.rows[0].id);
  };
  try {
    const failedWarning = 'SELF-CHECK FAILED: do not report this count without review: the count is degenerate: 99 % of 300 cells are called monocyte.';
    const failed = await finished('succeeded', { status: 'failed', cells: 300, verdicts: [], skipped: [], warning: failedWarning });
    const r = await cli('watch', failed, '--url', s.url);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.stderr.includes(`${failedWarning}\n`), r.stderr);
    const json = await cli('watch', failed, '--url', s.url, '--json');
    assert.equal(json.status, 3, json.stderr);
    assert.equal(JSON.parse(json.stdout.trim().split('\n').at(-1)!).status, 'succeeded');
    const few = 'Self-check warning: review this count: too few cells (5) to check the count; a check needs at least 30 (not checked: class mix).';
    const warned = await cli('watch', await finished('succeeded', { status: 'warning', cells: 5, verdicts: [], skipped: [{ check: 'class_mix', reason: 'too few' }], warning: few }), '--url', s.url);
    assert.equal(warned.status, 0, warned.stderr);
    assert.ok(warned.stderr.includes(few), warned.stderr);
    const passed = await cli('watch', await finished('succeeded', { status: 'passed', cells: 300, verdicts: [], skipped: [], warning: null }), '--url', s.url);
    assert.equal(passed.status, 0, passed.stderr);
    assert.doesNotMatch(passed.stderr, /self-check/i);
  } finally {
    await db.end();
  }
});
