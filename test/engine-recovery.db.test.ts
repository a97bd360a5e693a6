// An engine process killed mid-job: its job is failed over by a live engine's reaper, retried, and
// ends with every image stored exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { startStack, throttle, waitFor, REPO, FIXTURES, type Stack } from './helpers/stack.js';

let s: Stack;
let child: ChildProcess | null = null;

before(async () => {
  s = await startStack({ engine: false });
});
after(async () => {
  child?.kill('SIGKILL');
  await s?.close();
});

function spawnEngine(): ChildProcess {
  return spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), 'engine'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: s.databaseUrl,
      LEUKOGRAPH_DATA_DIR: s.cfg.dataDir,
      LEUKOGRAPH_DATA_ROOTS: FIXTURES,
      LEUKOGRAPH_TEST_HOOKS: '1',
      LEUKOGRAPH_HEARTBEAT_MS: '300',
      LEUKOGRAPH_ENGINE_STALE_MS: '2000',
    },
  });
}

test('a job whose engine is killed is retried by another engine, with no lost or duplicated rows', async () => {
  child = spawnEngine();
  await waitFor(async () => (await s.ok(`{ engineStatus { id } }`)).engineStatus.length === 1, 'the engine process to register', 60_000);
  const ds = await s.ok(`mutation { createDataset(input: { name: "crash" }) { id } }`);
  const datasetId = ds.createDataset.id;
  const started = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, {
    i: { datasetId, path: 'acevedo20' },
  }, throttle(250));
  const jobId = started.importDataset.id;
  await waitFor(async () => (await s.ok(`query($id: ID!) { job(id: $id) { done } }`, { id: jobId })).job.done >= 4, 'four images imported');
  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  child = null;
  const mid = await s.ok(`query($id: ID!) { job(id: $id) { status done } images(datasetId: "${datasetId}") { total } }`, { id: jobId });
  assert.equal(mid.job.status, 'RUNNING', 'the row still says running until the engine is found dead');
  assert.ok(mid.images.total >= 4 && mid.images.total < 15);

  await s.startEngine(); // a live engine: its reaper notices the silence and fails the job over
  const job = await waitFor(async () => {
    const d = await s.ok(`query($id: ID!) { job(id: $id) { status attempts done total message error result } }`, { id: jobId });
    return d.job.status === 'SUCCEEDED' || d.job.status === 'FAILED' ? d.job : null;
  }, 'the job to end after recovery', 60_000);
  assert.equal(job.status, 'SUCCEEDED', JSON.stringify(job));
  assert.equal(job.attempts, 2);
  assert.equal(job.result.created + job.result.existing, 15);
  assert.ok(job.result.existing >= 4, 'the second run found what the first had stored');

  const c = new pg.Client({ connectionString: s.databaseUrl });
  await c.connect();
  const r = await c.query(`SELECT count(*)::int AS n, count(DISTINCT source_path)::int AS d, count(DISTINCT sha256)::int AS h FROM images WHERE dataset_id = $1`, [datasetId]);
  const stuck = await c.query(`SELECT count(*)::int AS n FROM jobs WHERE status = 'running'`);
  await c.end();
  assert.deepEqual(r.rows[0], { n: 15, d: 15, h: 15 });
  assert.equal(stuck.rows[0].n, 0, 'no job left running');
});

test('a job run again after it registered its model replaces that model instead of adding a second one', async () => {
  const { createRepositories } = await import('../src/db/repositories/index.js');
  const ds = s.api.db.dataSource;
  const repos = createRepositories(ds);
  const [{ id: jobId }] = await ds.query(`INSERT INTO jobs (kind) VALUES ('train-classifier') RETURNING id`);
  const model = (checksum: string) => ({ kind: 'classifier' as const, name: 'random-forest-common5', version: 'job-x', preset: null, metrics: { run: checksum }, params: {}, artifactPath: `models/${checksum}.json`, checksum, datasetIds: [], jobId, parentId: null });
  const first = await repos.models.registerActive(model('first'));
  const again = await repos.models.registerActive(model('second'));
  assert.equal(again, first);
  const rows = await ds.query(`SELECT id, metrics->>'run' AS run, active FROM models WHERE job_id = $1`, [jobId]);
  assert.deepEqual(rows, [{ id: first, run: 'second', active: true }]);
});
