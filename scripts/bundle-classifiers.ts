// Bundles the classifiers scripts/train-default-classifiers.sh trained into models/: each forest gzipped, with
// a metadata file (what the server registers on its first start) holding the numbers the jobs measured:
// the held-out score in Acevedo-20 and the classify jobs' agreement with BCCD's and Zheng DS2's labels.
//   node dist/scripts/bundle-classifiers.js <jobs-output-dir> <models-dir>      (LEUKOGRAPH_URL: the server)
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const [outDir, modelsDir] = process.argv.slice(2);
if (!outDir || !modelsDir) throw new Error('usage: bundle-classifiers.js <jobs-output-dir> <models-dir>');
const url = process.env.LEUKOGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';

async function gql(query: string, variables: Record<string, unknown>): Promise<any> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const b = (await r.json()) as { data?: any; errors?: { message: string }[] };
  if (b.errors?.length) throw new Error(b.errors[0]!.message);
  return b.data;
}

const read = (name: string) => JSON.parse(readFileSync(join(outDir, name), 'utf8'));
const pct = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);

for (const map of ['common5', 'common5_ig']) {
  const heldout = read(`${map}.heldout.json`);
  const final = read(`${map}.final.json`);
  if (heldout.status !== 'succeeded' || final.status !== 'succeeded') throw new Error(`${map}: a training job did not succeed`);
  const { model } = await gql(`query($id: ID!) { model(id: $id) { artifactPath params metrics } }`, { id: final.result.modelId });
  const json = readFileSync(model.artifactPath);
  const gz = gzipSync(json, { level: 9 });
  const base = `classifier-${map.replace('_', '-')}`;
  writeFileSync(join(modelsDir, `${base}.json.gz`), gz);
  const h = heldout.result.heldOut;
  const labs: Record<string, unknown> = {};
  for (const lab of ['bccd', 'zheng-ds2']) {
    const c = read(`${map}.${lab}.json`);
    const a = c.againstLabels;
    labs[lab] = {
      job: c.jobId, cells: c.differential?.cells, flagged: c.differential?.flagged, stain: c.result?.stain?.note ?? null,
      givenAClass: a && { n: a.scored, accuracyPct: pct(a.accuracy), balancedAccuracyPct: pct(a.balancedAccuracy), labelledFlagged: a.flagged },
      everyCellByBestGuess: a?.bestGuess && { n: a.bestGuess.scored, accuracyPct: pct(a.bestGuess.accuracy), balancedAccuracyPct: pct(a.bestGuess.balancedAccuracy), confusion: a.bestGuess.confusion },
    };
  }
  const meta = {
    name: `morphology-forest-${map}`,
    version: `acevedo20-all-${createHash('sha256').update(json).digest('hex').slice(0, 12)}`,
    file: `${base}.json.gz`,
    bytes: statSync(join(modelsDir, `${base}.json.gz`)).size,
    uncompressedBytes: json.length,
    sha256: createHash('sha256').update(gz).digest('hex'),
    active: map === 'common5',
    params: { classMap: map, features: 'morphology', trees: model.params.trees, maxDepth: model.params.maxDepth, seed: model.params.seed, minConfidence: model.params.minConfidence },
    metrics: {
      features: 'morphology', classes: final.result.classes, trainCells: final.result.trainCells,
      heldOut: h, heldOutNote: `a forest with the same settings on a stratified, seeded 80 % of the cells (${heldout.result.trainCells}), scored on the other 20 % (${heldout.result.heldOutCells}); the shipped forest is trained on every cell`,
      otherLabs: labs,
    },
    jobs: { heldOut: heldout.jobId, final: final.jobId },
  };
  writeFileSync(join(modelsDir, `${base}.meta.json`), JSON.stringify(meta, null, 1) + '\n');
  process.stdout.write(`${base}: ${gz.length} bytes gzipped (${json.length} raw); held-out accuracy ${pct(h?.accuracy)} %; ` +
    Object.entries(labs).map(([k, v]: [string, any]) => `${k} ${v.everyCellByBestGuess?.accuracyPct} % (every cell) / ${v.givenAClass?.accuracyPct} % (given a class)`).join(', ') + '\n');
}
