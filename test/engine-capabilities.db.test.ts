// Engines say what they can run: their job kinds (LEUKOGRAPH_ENGINE_KINDS) and whether they have a GPU
// (LEUKOGRAPH_ENGINE_GPU, or a hardware WebGPU adapter). Training goes to an engine with a GPU while one
// is alive, and to any engine when none is; an engine never takes a kind it does not list. The engines
// are processes of their own (training holds a process's event loop; two engines in one would miss
// each other's heartbeats).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, type Stack } from './helpers/stack.js';
import { startEngineProcess } from './helpers/processes.js';
import { seedSyntheticCells } from './helpers/synthetic-cells.js';
import { loadConfig, parseEngineKinds, parseGpuSetting } from '../src/config.js';

let s: Stack;
let source: string;

before(async () => {
  s = await startStack({ engine: false });
  source = (await s.ok(`mutation { createDataset(input: { name: "caps-a" }) { id } }`)).createDataset.id;
  await seedSyntheticCells(s.databaseUrl, s.cfg.dataDir, source, 16, { seed: 4 });
});
after(async () => {
  await s?.close();
});

/** An engine process on the test database and data directory. */
const engine = (env: Record<string, string>) =>
  startEngineProcess(s.databaseUrl, s.cfg.dataDir, { LEUKOGRAPH_HEARTBEAT_MS: '500', LEUKOGRAPH_ENGINE_STALE_MS: '10000', ...env });

async function train(): Promise<string> {
  const d = await s.ok(`mutation($i: TrainAutoencoderInput!) { trainAutoencoder(input: $i) { id } }`, {
    i: { sourceDatasetId: source, preset: 'CPU', epochs: 1, batchSize: 8, seed: 1 },
  });
  return d.trainAutoencoder.id;
}

async function ended(jobId: string): Promise<{ status: string; engineId: string; error: string | null }> {
  return waitFor(async () => {
    const d = await s.ok(`query($id: ID!) { job(id: $id) { status engineId error } }`, { id: jobId });
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(d.job.status) ? d.job : null;
  }, `job ${jobId}`, 120_000);
}

test('engine settings are checked when read', () => {
  assert.deepEqual(parseEngineKinds('detect, classify'), ['detect', 'classify']);
  assert.equal(parseEngineKinds(''), null);
  assert.throws(() => parseEngineKinds('detect,train'), /unknown job kind\(s\) train; known: import, detect/);
  assert.equal(parseGpuSetting(undefined), 'auto');
  assert.equal(parseGpuSetting('0'), 'no');
  assert.throws(() => parseGpuSetting('maybe'), /expected auto, yes or no/);
  const prev = process.env.LEUKOGRAPH_ENGINE_KINDS;
  process.env.LEUKOGRAPH_ENGINE_KINDS = 'analyse';
  try {
    assert.throws(() => loadConfig(), /LEUKOGRAPH_ENGINE_KINDS=analyse/);
  } finally {
    if (prev === undefined) delete process.env.LEUKOGRAPH_ENGINE_KINDS;
    else process.env.LEUKOGRAPH_ENGINE_KINDS = prev;
  }
});

test('training prefers the engine with a GPU while it lives; without one any engine trains', async () => {
  const gpu = await engine({ LEUKOGRAPH_ENGINE_GPU: 'yes' });
  const cpu = await engine({ LEUKOGRAPH_ENGINE_GPU: 'no', LEUKOGRAPH_ENGINE_KINDS: 'train-autoencoder,encode' });
  const status = await s.ok(`{ engineStatus { id gpu gpuDetail kinds storage alive } }`);
  const byId = new Map(status.engineStatus.map((e: any) => [e.id, e]));
  assert.deepEqual(byId.get(gpu.id), {
    id: gpu.id, gpu: true, gpuDetail: 'LEUKOGRAPH_ENGINE_GPU=yes', alive: true, storage: `file://${s.cfg.dataDir}`,
    kinds: ['import', 'detect', 'train-autoencoder', 'encode', 'train-classifier', 'classify', 'analyze', 'evaluate'],
  });
  assert.deepEqual((byId.get(cpu.id) as any).kinds, ['train-autoencoder', 'encode']);
  assert.equal((byId.get(cpu.id) as any).gpu, false);

  // Two training jobs at once: the GPU engine runs both in turn, the idle CPU engine leaves them.
  const [a, b] = [await train(), await train()];
  for (const id of [a, b]) {
    const j = await ended(id);
    assert.equal(j.status, 'SUCCEEDED', j.error ?? '');
    assert.equal(j.engineId, gpu.id);
  }
  await gpu.stop();
  const c = await ended(await train());
  assert.equal(c.status, 'SUCCEEDED', c.error ?? '');
  assert.equal(c.engineId, cpu.id, 'with no GPU engine alive, the CPU engine trains');
  await cpu.stop();
});

test('an engine takes only the kinds it lists', async () => {
  const importer = await engine({ LEUKOGRAPH_ENGINE_GPU: 'no', LEUKOGRAPH_ENGINE_KINDS: 'import' });
  const d = await s.ok(`mutation($i: EncodeCellsInput!) { encodeCells(input: $i) { id } }`, { i: { datasetId: source } });
  const jobId = d.encodeCells.id;
  await new Promise((r) => setTimeout(r, 2500));
  const waiting = await s.ok(`query($id: ID!) { job(id: $id) { status engineId } }`, { id: jobId });
  assert.deepEqual(waiting.job, { status: 'QUEUED', engineId: null }, 'no engine that encodes: the job waits in the queue');
  const encoder = await engine({ LEUKOGRAPH_ENGINE_GPU: 'no', LEUKOGRAPH_ENGINE_KINDS: 'encode' });
  const j = await ended(jobId);
  assert.equal(j.status, 'SUCCEEDED', j.error ?? '');
  assert.equal(j.engineId, encoder.id);
  await importer.stop();
  await encoder.stop();
});
