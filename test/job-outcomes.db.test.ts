// Jobs say how many items failed and why, and a job whose every item failed ends FAILED (import and
// analyze, the example); cancelJob ends a job no engine runs; a job whose run an outage cut off is
// found by the engine's sweep and retried; `datasets { stats }` is one statement however many datasets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, cpSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startStack, waitFor, FIXTURES, REPO, type Stack } from './helpers/stack.js';

let s: Stack;
let root: string;
let db: pg.Client;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'leukograph-outcomes-'));
  mkdirSync(join(root, 'all-bad', 'neutrophil'), { recursive: true });
  for (const [name, bytes] of [['a.jpg', 'not an image'], ['b.png', ''], ['c.jpg', 'still not']] as const) writeFileSync(join(root, 'all-bad', 'neutrophil', name), bytes);
  mkdirSync(join(root, 'half-bad', 'neutrophil'), { recursive: true });
  const good = readdirSync(join(FIXTURES, 'acevedo20', 'neutrophil'))[0];
  cpSync(join(FIXTURES, 'acevedo20', 'neutrophil', good), join(root, 'half-bad', 'neutrophil', 'good.jpg'));
  writeFileSync(join(root, 'half-bad', 'neutrophil', 'bad.jpg'), 'not an image');
  s = await startStack({ dataRoots: [root] });
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
});
after(async () => {
  await db?.end();
  await s?.close();
});

async function ended(jobId: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(async () => {
    const j = (await s.ok(`query($id: ID!) { job(id: $id) { status error message result attempts } }`, { id: jobId })).job;
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
  }, `job ${jobId} to end`, timeoutMs);
}

async function dataset(name: string): Promise<string> {
  return (await s.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: name })).createDataset.id;
}

test('an import whose every image is refused ends FAILED with the reasons; a partly refused one says how many', async () => {
  const id = await dataset('all-bad');
  const all = await ended((await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path: 'all-bad' } })).importDataset.id);
  assert.equal(all.status, 'FAILED', JSON.stringify(all));
  assert.match(all.error, /^every item failed \(3 of 3\): /);
  assert.equal(all.result.itemFailures.failed, 3);
  assert.equal(all.result.itemFailures.of, 3);
  assert.equal(all.result.itemFailures.reasons.reduce((n: number, r: { count: number }) => n + r.count, 0), 3);
  assert.ok(all.result.itemFailures.reasons.every((r: { reason: string; example: string }) => r.reason && r.example));

  const half = await ended((await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: await dataset('half-bad'), path: 'half-bad' } })).importDataset.id);
  assert.equal(half.status, 'SUCCEEDED');
  assert.match(half.message, /1 of 2 items failed: .*not a JPEG/i);
  assert.equal(half.result.itemFailures.failed, 1);
});

test('analyzeImages over images the engine cannot read ends FAILED and says why (the issue\'s example)', { skip: !existsSync(join(REPO, 'models/detector.json')) && 'no detector model' }, async () => {
  const id = await dataset('unreadable');
  const gone = join(mkdtempSync(join(tmpdir(), 'gone-')), 'x');
  for (let i = 0; i < 4; i++) {
    await db.query(
      `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes) VALUES ($1, $2, $3, $4, 10, 10, 'png', 18)`,
      [id, `lost/${i}.png`, `${gone}-${i}.png`, String(i).repeat(64)],
    );
  }
  const job = await ended((await s.ok(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { datasetId: id } })).analyzeImages.id, 120_000);
  assert.equal(job.status, 'FAILED', JSON.stringify(job));
  assert.match(job.error, /every item failed \(4 of 4\): .*is not on this machine/);
  assert.equal(job.result.failed, 4);
});

test('cancelJob ends at once a running job that no live engine runs', async () => {
  const r = await db.query(
    `INSERT INTO jobs (kind, status, params, attempts, engine_id, started_at, updated_at) VALUES ('import', 'running', '{}', 1, 'ghost-engine', now() - interval '1 minute', now() - interval '1 minute') RETURNING id`,
  );
  const t0 = Date.now();
  const c = await s.ok(`mutation($id: ID!) { cancelJob(id: $id) { status message } }`, { id: r.rows[0].id });
  assert.equal(c.cancelJob.status, 'CANCELLED');
  assert.match(c.cancelJob.message, /no engine was running it/);
  assert.ok(Date.now() - t0 < 5000);
});

test('jobs an outage left behind are found by the engine sweep and run again', async () => {
  await s.engine!.close(); // no engine takes the jobs while they are made to look cut off
  // 1: its row says running on an engine that is gone, and its queue entry is claimed (active): only the sweep can free it.
  const cut = (await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: await dataset('cut-off'), path: 'half-bad' } })).importDataset.id;
  // 2: its queue entry was claimed, but the row could not be (still queued).
  const unclaimed = (await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: await dataset('never-claimed'), path: 'half-bad' } })).importDataset.id;
  await db.query(`UPDATE jobs SET status = 'running', attempts = 1, engine_id = 'engine-gone-in-the-outage', updated_at = now() - interval '1 minute' WHERE id = $1`, [cut]);
  await db.query(`UPDATE jobs SET updated_at = now() - interval '1 minute' WHERE id = $1`, [unclaimed]);
  await db.query(`UPDATE pgboss.job SET state = 'active', started_on = now() - interval '1 minute' WHERE id IN (SELECT boss_id FROM jobs WHERE id = ANY($1::uuid[]))`, [[cut, unclaimed]]);
  await s.startEngine();
  for (const [id, attempts] of [[cut, 2], [unclaimed, 1]] as const) {
    const job = await ended(id, 60_000);
    assert.equal(job.status, 'SUCCEEDED', JSON.stringify(job));
    assert.equal(job.attempts, attempts);
  }
  const stuck = await db.query(`SELECT count(*)::int AS n FROM jobs WHERE status IN ('running', 'queued')`);
  assert.equal(stuck.rows[0].n, 0);
});

test('datasets { stats } answers every dataset with one statement', async () => {
  const ids = [await dataset('stats-a'), await dataset('stats-b'), await dataset('stats-c')];
  for (const [k, id] of ids.entries()) {
    for (let i = 0; i <= k; i++) {
      await db.query(
        `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, cell_type) VALUES ($1, $2, '/dev/null', $3, 1, 1, 'png', 1, $4)`,
        [id, `p/${i}.png`, `${k}${i}`.padEnd(64, '0'), i === 0 ? null : 'lymphocyte'],
      );
    }
  }
  const ds = s.api.services.ds;
  const original = ds.query.bind(ds);
  let statements = 0;
  ds.query = (async (q: string, p?: unknown[]) => {
    if (/FROM images/.test(q)) statements++;
    return original(q, p);
  }) as typeof ds.query;
  try {
    const d = await s.ok(`{ datasets { name stats { images labelled cells byType { cellType count } } } }`);
    const byName = Object.fromEntries(d.datasets.map((x: { name: string; stats: unknown }) => [x.name, x.stats]));
    assert.deepEqual(byName['stats-a'], { images: 1, labelled: 0, cells: 0, byType: [{ cellType: null, count: 1 }] });
    assert.deepEqual(byName['stats-c'], { images: 3, labelled: 2, cells: 0, byType: [{ cellType: 'lymphocyte', count: 2 }, { cellType: null, count: 1 }] });
    assert.ok(d.datasets.length >= 6);
    assert.equal(statements, 1, `one statement for ${d.datasets.length} datasets`);
  } finally {
    ds.query = original;
  }
});
