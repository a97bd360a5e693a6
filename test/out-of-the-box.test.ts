// A fresh install, as a new user meets it: `leukograph serve` on an empty data directory (its own embedded
// PostgreSQL), images of two labs uploaded, analyzeImages, and every cell comes back with a class, or a flag
// with the classifier's best guess: the bundled detector and classifier are registered and active on the
// first start, with no training step. Also: serve names the dashboard, and a machine without a GPU hears
// about it once in the engine status, not in Vulkan warnings. The bundled AE-CFE chain (encoder and latent
// forest) is registered beside them, not active, and classifies a lab's cells when picked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, FIXTURES } from './helpers/stack.js';
import { gpuDeviceNodes } from '../src/engine/backends/gpu-devices.js';

const BUNDLED = existsSync(join(REPO, 'models/classifier-common5.meta.json')) && existsSync(join(REPO, 'models/detector.json'));
const AECFE = existsSync(join(REPO, 'models/aecfe-cpu.meta.json')) && existsSync(join(REPO, 'models/aecfe-cpu-forest-common5.meta.json'));

/** Two images of each lab: Acevedo-20 (CellaVision, Barcelona) and Zheng DS2 (other CellaVision labs). */
const LABS = {
  acevedo: ['neutrophil/BNE_108161.jpg', 'lymphocyte/LY_109093.jpg'].map((f) => join(FIXTURES, 'acevedo20', f)),
  zheng: readdirSync(join(FIXTURES, 'zheng-ds2/images')).sort().slice(0, 2).map((f) => join(FIXTURES, 'zheng-ds2/images', f)),
};

test('a fresh install classifies every cell of two labs with no training step', { skip: !BUNDLED && 'no bundled models', timeout: 600_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'leukograph-fresh-'));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), LEUKOGRAPH_DATA_DIR: dataDir, LEUKOGRAPH_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.LEUKOGRAPH_DATA_ROOTS;
  const serve = spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), 'serve', '--port', '0'], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  serve.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => serve.once('exit', () => r()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start: ${err.slice(-2000)}`)), 180_000);
      serve.stdout.on('data', (d) => {
        out += d;
        const m = /leukograph API at (\S+)/.exec(out);
        if (m && out.includes('\n')) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      serve.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err.slice(-2000)}`)));
    });
    const base = url.replace(/\/graphql$/, '');
    assert.match(out, new RegExp(`dashboard at ${base.replace(/[.]/g, '\\.')}/dashboard`));
    const gql = async (query: string, variables?: Record<string, unknown>) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      const b = (await r.json()) as { data?: any; errors?: { message: string }[] };
      if (b.errors?.length) throw new Error(b.errors.map((e) => e.message).join('; '));
      return b.data;
    };
    // The engine registers the bundled models as it starts, one after the other: wait for the last classifier too
    // (waiting for the active one alone raced the registration of the one with immature granulocytes).
    let models: { name: string; active: boolean; type: string; params: Record<string, unknown> }[] = [];
    const registered = () => models.some((m) => m.type === 'CLASSIFIER' && m.active) && models.some((m) => m.type === 'CLASSIFIER' && m.params.classMap === 'common5_ig');
    for (let i = 0; i < 120 && !registered(); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      models = (await gql(`{ models { name active type params } }`)).models;
    }
    const active = models.filter((m) => m.active).map((m) => m.type).sort();
    assert.deepEqual(active, ['CLASSIFIER', 'DETECTOR'], JSON.stringify(models));
    assert.equal(models.find((m) => m.type === 'CLASSIFIER' && m.active)!.params.classMap, 'common5');
    assert.ok(models.some((m) => m.type === 'CLASSIFIER' && !m.active && m.params.classMap === 'common5_ig'), 'the classifier with immature granulocytes is there to pick');
    for (const [lab, files] of Object.entries(LABS)) {
      const ds = (await gql(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: lab } })).createDataset.id as string;
      for (const f of files) {
        const r = await fetch(`${base}/upload?datasetId=${ds}&filename=${encodeURIComponent(f.split('/').pop()!)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: readFileSync(f) });
        assert.equal(r.status, 201, await r.text());
      }
      const job = (await gql(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { datasetId: ds } })).analyzeImages.id as string;
      let status = '';
      for (let i = 0; i < 300 && !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        status = (await gql(`query($id: ID!) { job(id: $id) { status error } }`, { id: job })).job.status;
      }
      assert.equal(status, 'SUCCEEDED', lab);
      const { cells } = await gql(
        `query($d: ID!) { cells(datasetId: $d, limit: 100) { items { id cutByBorder prediction { label flagged flagReason bestGuess { label probability } probabilities { label probability } } } } }`,
        { d: ds },
      );
      assert.ok(cells.items.length >= files.length, `${lab}: ${cells.items.length} cells`);
      for (const c of cells.items) {
        const p = c.prediction;
        assert.ok(p, `${lab}: cell ${c.id} has no verdict`);
        assert.ok(p.label || (p.flagged && p.flagReason && p.bestGuess.label), `${lab}: cell ${c.id}: ${JSON.stringify(p)}`);
        assert.equal(p.probabilities.length, 5);
      }
      const { job: done } = await gql(`query($id: ID!) { job(id: $id) { typedResult { ... on AnalyzeJobResult { stages differential { cells counted flagged } } } } }`, { id: job });
      assert.deepEqual(done.typedResult.stages, ['detect', 'classify']);
    }
    // The paper's chain, bundled too (not active): the AE-CFE encoder and its latent forest. Chosen by the user, it
    // classifies a lab's cells with no training step: encode with the forest's encoder, then classify.
    if (AECFE) {
      const all = (await gql(`{ models { id name active type params parent { id } } }`)).models as Array<{ id: string; active: boolean; type: string; params: Record<string, unknown>; parent: { id: string } | null }>;
      const forest = all.find((m) => m.type === 'CLASSIFIER' && m.params.features === 'latent');
      const encoder = all.find((m) => m.type === 'AUTOENCODER');
      assert.ok(forest && encoder, `the bundled AE-CFE chain is registered: ${JSON.stringify(all)}`);
      assert.equal(forest.active, false, 'the morphology classifier stays the default');
      assert.equal(encoder.active, false);
      assert.equal(forest.params.encoderId, encoder.id, "the forest reads this database's registration of its encoder");
      assert.equal(forest.parent?.id, encoder.id);
      // The user's switch: `leukograph models --use common5 --features latent`, and back with `--use common5`.
      const activeClassifier = async () => ((await gql(`{ models(type: CLASSIFIER) { id active } }`)).models as Array<{ id: string; active: boolean }>).find((m) => m.active)?.id;
      const cli = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/leukograph.js'), 'models', ...args, '--url', url], { encoding: 'utf8' });
      const morphologyId = await activeClassifier();
      assert.equal(cli('--use', 'common5', '--features', 'latent').status, 0);
      assert.equal(await activeClassifier(), forest.id);
      assert.equal(cli('--use', 'common5').status, 0);
      assert.equal(await activeClassifier(), morphologyId);
      const ds = (await gql(`{ datasets { id name } }`)).datasets.find((d: { name: string }) => d.name === 'zheng').id as string;
      const run = async (mutation: string, input: Record<string, unknown>) => {
        const id = (await gql(`mutation($i: ${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id as string;
        let job = { status: '', error: null as string | null };
        for (let i = 0; i < 300 && !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status); i++) {
          await new Promise((r) => setTimeout(r, 1000));
          job = (await gql(`query($id: ID!) { job(id: $id) { status error } }`, { id })).job;
        }
        assert.equal(job.status, 'SUCCEEDED', `${mutation}: ${job.error}`);
        return id;
      };
      await run('encodeCells', { datasetId: ds, autoencoderId: encoder.id });
      const job = await run('classifyCells', { datasetId: ds, classifierId: forest.id });
      const { cells } = await gql(
        `query($d: ID!) { cells(datasetId: $d, limit: 100) { items { id latent prediction { label flagged flagReason modelId bestGuess { label probability } probabilities { label probability } } } } }`,
        { d: ds },
      );
      assert.ok(cells.items.length >= LABS.zheng.length);
      for (const c of cells.items) {
        const p = c.prediction;
        assert.equal(c.latent?.length, 50, `cell ${c.id} is encoded`);
        assert.equal(p?.modelId, forest.id, `cell ${c.id}: the latent forest's verdict`);
        assert.ok(p.label || (p.flagged && p.flagReason && p.bestGuess.label), `cell ${c.id}: ${JSON.stringify(p)}`);
        assert.equal(p.probabilities.length, 5);
      }
      const { job: done } = await gql(`query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { differential { cells } } } } }`, { id: job });
      assert.equal(done.typedResult.differential.cells, cells.items.length);
    }
    if (gpuDeviceNodes()?.length === 0) {
      const { engineStatus } = await gql(`{ engineStatus { alive gpu gpuDetail } }`);
      assert.ok(engineStatus.some((e: { gpuDetail: string }) => /^webgpu: no adapter/.test(e.gpuDetail)), JSON.stringify(engineStatus));
      assert.doesNotMatch(err, /XDG_RUNTIME_DIR|Vulkan/);
    }
  } finally {
    serve.kill('SIGTERM');
    await exited;
  }
});
