// The product and the evaluation run one pipeline: on fixture cells of two labs (Acevedo-20 as the
// source; Zheng and BCCD fields as the other lab), the classifyCells job's verdicts (stain step and
// neighbour consensus included) equal the evaluation's for the same method, cell for cell; and the
// autoencoder the trainAutoencoder job trains equals the one the evaluation trains with the same seed, data
// and epochs (the same latents, to float tolerance).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { startStack, waitFor, FIXTURES, type Stack } from './helpers/stack.js';
import { FeatureStore, FEATURE_LENGTH } from '../src/engine/feature-store.js';
import { CellRepository } from '../src/db/repositories/index.js';
import { TrainingData } from '../src/engine/training-data.js';
import { storedDomain } from '../src/engine/handlers/evaluate.handler.js';
import { runEvaluation, type EvaluationDomain } from '../src/evaluation/pipeline.js';
import { loadAutoencoder, disposeAutoencoder, type AutoencoderModel } from '../src/engine/autoencoder/index.js';
import { encodeCells } from '../src/pipeline/encode.js';
import { Blobs } from '../src/storage/blobs.js';
import { openStore } from '../src/storage/open-store.js';
import type { CellVerdict } from '../src/pipeline/types.js';
import { flagReasonOf } from '../client-sdk/src/differential-count.js';

let s: Stack;
let ds: DataSource;
const ids: Record<string, string> = {};
const SEED = 3;

interface FixtureCell { path: string; label: string; width: number; height: number; box: [number, number, number, number] }

function acevedoCells(): FixtureCell[] {
  const dir = join(FIXTURES, 'acevedo20');
  return readdirSync(dir).sort().flatMap((c) => readdirSync(join(dir, c)).sort().map((f) => ({ path: join(dir, c, f), label: c, width: 360, height: 363, box: [90, 90, 270, 270] as FixtureCell['box'] })));
}

/** The other lab: Zheng's single-cell crops (the cell fills the middle) and BCCD's fields (their annotated white cell). */
function otherLabCells(): FixtureCell[] {
  const zheng = readFileSync(join(FIXTURES, 'zheng-ds2/labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const bccd = readFileSync(join(FIXTURES, 'bccd/labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  return [
    ...zheng.map(([img, , cls]) => ({ path: join(FIXTURES, 'zheng-ds2', img!), label: cls!, width: 300, height: 300, box: [60, 60, 240, 240] as FixtureCell['box'] })),
    ...bccd.map((r) => ({ path: join(FIXTURES, 'bccd', r[0]!), label: r[2]!, width: 640, height: 480, box: r[7]!.split(' ').map(Number) as FixtureCell['box'] })),
  ];
}

/** n image rows of a dataset over the given fixture cells (cycled), one cell each with smooth label-dependent features. */
async function seed(datasetId: string, cells: FixtureCell[], n: number, shift: number): Promise<void> {
  const labels = ['basophil', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil'];
  const store = new FeatureStore(join(s.cfg.dataDir, 'features'));
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) {
      const c = cells[i % cells.length]!;
      const sha = createHash('sha256').update(`${datasetId}-${i}`).digest('hex');
      const img = await client.query(
        `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, cell_type)
         VALUES ($1, $2, $3, $4, $5, $6, 'jpeg', 1, $7, $7) RETURNING id`,
        [datasetId, `golden/${String(i).padStart(4, '0')}`, c.path, sha, c.width, c.height, c.label],
      );
      const imageId = img.rows[0].id as string;
      const k = labels.indexOf(c.label);
      const feat = new Float32Array(FEATURE_LENGTH);
      for (let j = 0; j < FEATURE_LENGTH; j++) feat[j] = Math.sin((Math.floor(j / 196) % 17) * 0.3 + k * 1.1 + (j % 14) * 0.2) + 0.05 * Math.sin(i * 12.9898 + j) + shift;
      const file = store.fileFor('golden', imageId);
      await store.write(file, [feat]);
      await client.query(`INSERT INTO cells (image_id, detector_id, index, box, score, mask, feature_ref) VALUES ($1, NULL, 0, $2, 0.99, NULL, $3)`, [imageId, c.box, FeatureStore.ref(file, 0)]);
    }
  } finally {
    await client.end();
  }
}

async function runJob(mutation: string, type: string, input: Record<string, unknown>): Promise<any> {
  const id = (await s.ok(`mutation($i: ${type}!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id;
  let j: any;
  await waitFor(async () => {
    j = (await s.ok(`query($id: ID!) { job(id: $id) { id status result error } }`, { id })).job;
    return j.status !== 'QUEUED' && j.status !== 'RUNNING';
  }, mutation, 240_000);
  assert.equal(j.status, 'SUCCEEDED', JSON.stringify(j));
  return j;
}

/** The two labs as the evaluate job builds them from the database. */
async function domains(): Promise<EvaluationDomain[]> {
  const cells = new CellRepository(ds);
  const store = new FeatureStore(join(s.cfg.dataDir, 'features'));
  const crops = new TrainingData(store, join(s.cfg.dataDir, 'crops'));
  return [
    await storedDomain('lab-a', await cells.trainingCells([ids.a!]), store, crops, { classes: 'common5', seed: SEED }),
    await storedDomain('lab-b', await cells.trainingCells([ids.b!]), store, crops, { classes: 'common5', seed: SEED }),
  ];
}

before(async () => {
  s = await startStack({ engine: false });
  for (const k of ['a', 'b']) ids[k] = (await s.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: `lab-${k}` })).createDataset.id;
  await seed(ids.a!, acevedoCells(), 45, 0);
  await seed(ids.b!, otherLabCells(), 35, 0.3);
  await s.startEngine();
  ds = new DataSource({ type: 'postgres', url: s.databaseUrl });
  await ds.initialize();
});
after(async () => {
  await ds?.destroy();
  await s?.close();
});

test('classifyCells (stain step + consensus) gives the evaluation\'s morphology_consensus verdicts, cell for cell', async () => {
  const trained = await runJob('trainClassifier', 'TrainClassifierInput', { datasetIds: [ids.a], features: 'MORPHOLOGY', seed: SEED });
  // morphology_consensus is the adaptive stain step with consensus (the default step is another since issue 17).
  const classified = await runJob('classifyCells', 'ClassifyCellsInput', { datasetId: ids.b, classifierId: trained.result.modelId, stainAdaptation: 'ADAPTIVE', neighbourConsensus: true });
  // The job checks its count (the evaluation scores every cell): where the check failed, it withheld every class.
  const withheld = classified.result.selfCheck?.status === 'failed';
  assert.equal(classified.result.consensus.applied, true, JSON.stringify(classified.result.consensus));
  assert.equal(typeof classified.result.stain.statistic, 'number', 'the stain step measured the lab');
  const rows = (await ds.query(`SELECT c.id, c.prediction FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = $1`, [ids.b])) as { id: string; prediction: CellVerdict }[];
  const job = new Map(rows.map((r) => [r.id, r.prediction]));

  const evaluated = new Map<string, CellVerdict>();
  await runEvaluation(await domains(), {
    source: 'lab-a', targets: ['lab-b'], align: [], classes: 'common5', methods: ['morphology_consensus'], seed: SEED,
    onVerdicts: (_method, domain, cells) => {
      if (domain === 'lab-b') for (const c of cells) evaluated.set(String(c.id), c.verdict);
    },
  });
  assert.equal(evaluated.size, 35);
  const tops = new Set<string>();
  for (const [id, v] of evaluated) {
    const p = job.get(id);
    assert.ok(p, `cell ${id} has no job verdict`);
    if (withheld && !v.flagged) {
      assert.deepEqual([p.label, p.flagged], [null, true], `cell ${id}`);
      assert.match(p.reason ?? '', /^self-check failed/, `cell ${id}`);
    } else {
      assert.equal(p.label, v.label, `cell ${id}`);
      assert.equal(p.flagged, v.flagged, `cell ${id}`);
      assert.equal(p.reason, v.reason, `cell ${id}`);
    }
    for (const [c, q] of Object.entries(v.probabilities)) assert.ok(Math.abs(p.probabilities[c]! - q) < 1e-9, `cell ${id} ${c}: ${p.probabilities[c]} vs ${q}`);
    tops.add(Object.entries(v.probabilities).sort((x, y) => y[1] - x[1])[0]![0]);
  }
  // Not a degenerate case: the forest's most probable class differs between cells.
  assert.ok(tops.size >= 2, `top classes ${[...tops]}`);
});

test("classifyCells with its defaults gives the evaluation's morphology_default verdicts, cell for cell, withheld ones included", async () => {
  const trained = await runJob('trainClassifier', 'TrainClassifierInput', { datasetIds: [ids.a], features: 'MORPHOLOGY', seed: SEED });
  const classified = await runJob('classifyCells', 'ClassifyCellsInput', { datasetId: ids.b, classifierId: trained.result.modelId });
  const rows = (await ds.query(`SELECT c.id, c.prediction FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = $1`, [ids.b])) as { id: string; prediction: CellVerdict }[];
  const job = new Map(rows.map((r) => [r.id, r.prediction]));
  const evaluated = new Map<string, CellVerdict>();
  const report = await runEvaluation(await domains(), {
    source: 'lab-a', targets: ['lab-b'], align: [], classes: 'common5', methods: ['morphology_default'], seed: SEED,
    onVerdicts: (_method, domain, cells) => {
      if (domain === 'lab-b') for (const c of cells) evaluated.set(String(c.id), c.verdict);
    },
  });
  assert.equal(evaluated.size, 35);
  // The same path whole: the same stain step, check and verdicts (the job's check withholds; so does the evaluation's).
  const note = report.notes.find((n) => n.startsWith('morphology_default: lab-b:'));
  assert.ok(note?.includes(`self-check ${classified.result.selfCheck.status}`), `${note} vs ${classified.result.selfCheck.status}`);
  // The report keeps the check as data, verdict for verdict the job's, and which forest read the lab.
  const scored = report.baselines.morphology_default!.domains['lab-b']!;
  assert.deepEqual(scored.selfCheck, classified.result.selfCheck);
  assert.deepEqual(scored.routing, classified.result.stain.routing ?? null);
  for (const [id, v] of evaluated) {
    const p = job.get(id);
    assert.ok(p, `cell ${id} has no job verdict`);
    assert.deepEqual([p.label, p.flagged, p.reason], [v.label, v.flagged, v.reason], `cell ${id}`);
    for (const [c, q] of Object.entries(v.probabilities)) assert.ok(Math.abs(p.probabilities[c]! - q) < 1e-9, `cell ${id} ${c}: ${p.probabilities[c]} vs ${q}`);
  }
  // The report's flag counts are the job's flags, read as GraphQL reads them (flagReasonOf).
  const reasons = [...evaluated.keys()].map((id) => job.get(id)!).map((p) => (p.flagged ? flagReasonOf(p) : null));
  const count = (r: string | null) => reasons.filter((x) => x === r).length;
  assert.deepEqual(
    [scored.flags!.flagged, scored.flags!.novel, scored.flags!.low_confidence, scored.flags!.self_check],
    [reasons.length - count(null), count('NOVEL'), count('LOW_CONFIDENCE'), count('SELF_CHECK')],
  );
});

test('classifyCells with selfTraining fits the classifier again on the lab\'s surest cells and says so; a classifier without training cells is refused', async () => {
  const trained = await runJob('trainClassifier', 'TrainClassifierInput', { datasetIds: [ids.a], features: 'MORPHOLOGY', seed: SEED });
  const modelId = trained.result.modelId as string;
  assert.equal(trained.result.trainingCellsKept, true);
  const cellsOf = async () => new Map(((await ds.query(`SELECT c.id, c.prediction FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = $1`, [ids.b])) as { id: string; prediction: CellVerdict }[]).map((r) => [r.id, r.prediction]));
  const first = await runJob('classifyCells', 'ClassifyCellsInput', { datasetId: ids.b, classifierId: modelId });
  assert.equal(first.result.selfTraining, undefined, 'off unless asked for');
  const before = await cellsOf();
  const st = await runJob('classifyCells', 'ClassifyCellsInput', { datasetId: ids.b, classifierId: modelId, selfTraining: true });
  const r = st.result.selfTraining;
  assert.equal(r.applied, true, r.note);
  // 40 % of each predicted class's 35 cells, rounded per class.
  const added = Object.values(r.added as Record<string, number>).reduce((a, n) => a + n, 0);
  assert.ok(added >= 12 && added <= 16, JSON.stringify(r.added));
  assert.match(r.note, /^self-training: the \d+ cells the forest was surest of/);
  // The first classification's check and stain outcome stay; the probabilities are the refitted forests'.
  assert.deepEqual(st.result.selfCheck, first.result.selfCheck);
  assert.deepEqual(st.result.stain, first.result.stain);
  const after = await cellsOf();
  const moved = [...after].filter(([id, p]) => JSON.stringify(p.probabilities) !== JSON.stringify(before.get(id)!.probabilities)).length;
  assert.ok(moved > 0, 'the refitted forests give other probabilities');
  // Shown through GraphQL as the job's typed result.
  const typed = (await s.ok(`query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { selfTraining } } } }`, { id: st.id })).job.typedResult;
  assert.equal(typed.selfTraining.applied, true);
  // A classifier that kept no training cells (shipped, latent or older ones) cannot self-train: refused before any job.
  await ds.query(`UPDATE models SET metrics = metrics - 'trainingCellsKept' WHERE id = $1`, [modelId]);
  const refused = await s.gql(`mutation($i: ClassifyCellsInput!) { classifyCells(input: $i) { id } }`, { i: { datasetId: ids.b, classifierId: modelId, selfTraining: true } });
  assert.match(refused.errors?.[0]?.message ?? '', /selfTraining: classifier .* carries no training cells/);
});

test('trainAutoencoder trains the autoencoder the evaluation trains (same seed, data and epochs: same latents)', async () => {
  const epochs = 2;
  const batchSize = 16;
  const trained = await runJob('trainAutoencoder', 'TrainAutoencoderInput', { sourceDatasetId: ids.a, alignDatasetIds: [ids.b], preset: 'CPU', epochs, batchSize, seed: SEED });
  const [row] = (await ds.query(`SELECT artifact_path FROM models WHERE id = $1`, [trained.result.modelId])) as { artifact_path: string }[];
  const blobs = new Blobs(await openStore(s.cfg.storageUrl, { dataDir: s.cfg.dataDir, databaseUrl: s.databaseUrl }));
  const jobModel = await loadAutoencoder(new Uint8Array(await blobs.read(row!.artifact_path)));
  const doms = await domains();
  const probe = [...doms[0]!.cells, ...doms[1]!.cells].map((c) => c.features as Float32Array);
  let fromEvaluation: Float32Array | null = null;
  try {
    await runEvaluation(doms, {
      source: 'lab-a', targets: ['lab-b'], align: ['lab-b'], classes: 'common5', methods: ['ae_cfe'], preset: 'cpu', epochs, batchSize, learningRate: 1e-3, seed: SEED,
      onAutoencoder: async (_m, model: AutoencoderModel) => {
        fromEvaluation = await encodeCells(model, probe);
      },
    });
    const fromJob = await encodeCells(jobModel, probe);
    assert.ok(fromEvaluation);
    const ev = fromEvaluation as Float32Array;
    assert.equal(ev.length, fromJob.length);
    let worst = 0;
    for (let i = 0; i < ev.length; i++) worst = Math.max(worst, Math.abs(ev[i]! - fromJob[i]!));
    assert.ok(worst < 1e-4, `largest latent difference ${worst}`);
    assert.deepEqual(trained.result.history.map((h: any) => h.epoch), [1, 2]);
  } finally {
    disposeAutoencoder(jobModel);
  }
});
