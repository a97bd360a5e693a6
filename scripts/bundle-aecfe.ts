// Bundles the AE-CFE chain scripts/train-default-aecfe.sh trained into models/: the autoencoder's weights file and
// its latent forest, each gzipped, with a metadata file each (what the server registers on its first start, neither
// made active) holding the numbers the jobs measured: the forest's held-out score in Acevedo-20 and the classify
// jobs' agreement with BCCD's and Zheng DS2's labels.
//   node dist/scripts/bundle-aecfe.js <jobs-output-dir> <models-dir>   (LEUKOGRAPH_URL: the server; LEUKOGRAPH_DATA_DIR: its data directory)
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleArgs, labSummary, modelFile, pct, readJob, writeGzipped } from './bundle-lib.js';

const { outDir, modelsDir } = bundleArgs('bundle-aecfe.js');
const read = (name: string) => readJob(outDir, name);

const ae = read('autoencoder.json');
const heldout = read('forest.heldout.json');
const final = read('forest.final.json');
for (const [what, j] of [['autoencoder', ae], ['held-out forest', heldout], ['forest', final]] as const) {
  if (j.status !== 'succeeded') throw new Error(`${what}: the job did not succeed (${j.error})`);
}
const times = existsSync(join(outDir, 'times.json')) ? read('times.json') : {};

// The autoencoder: its weights file (no optimizer state), gzipped.
const enc = await modelFile(ae.result.modelId);
const encOut = writeGzipped(modelsDir, 'aecfe-cpu.lkae.gz', enc.bytes, 'acevedo20-sample');
const p = enc.model.params;
const last = ae.result.history.at(-1);
const encMeta = {
  name: 'aecfe-cpu',
  ...encOut,
  active: false,
  preset: p.preset,
  params: { preset: p.preset, epochs: p.epochs, batchSize: p.batchSize, learningRate: p.learningRate, alignWeight: p.alignWeight, seed: p.seed },
  metrics: {
    sourceCells: ae.result.sourceCells, alignCells: ae.result.alignCells, alignLabs: ['bccd', 'zheng-ds2'],
    final: last, parameterCount: enc.model.metrics.parameterCount, trainSeconds: times.trainAutoencoderS ?? null,
  },
  jobs: { train: ae.jobId },
};
writeFileSync(join(modelsDir, 'aecfe-cpu.meta.json'), JSON.stringify(encMeta, null, 1) + '\n');

// The latent forest, gzipped; its metadata names the encoder's, which the server registers first.
const clf = await modelFile(final.result.modelId);
const clfOut = writeGzipped(modelsDir, 'aecfe-cpu-forest-common5.json.gz', clf.bytes, 'acevedo20-all');
const labs: Record<string, unknown> = {};
for (const lab of ['bccd', 'zheng-ds2']) {
  const c = read(`forest.${lab}.json`);
  if (c.status !== 'succeeded') throw new Error(`classify ${lab}: the job did not succeed (${c.error})`);
  labs[lab] = labSummary(c);
}
const h = heldout.result.heldOut;
const fp = clf.model.params;
const clfMeta = {
  name: 'aecfe-cpu-forest-common5',
  ...clfOut,
  active: false,
  encoder: 'aecfe-cpu.meta.json',
  params: { classMap: fp.classMap, features: 'latent', trees: fp.trees, maxDepth: fp.maxDepth, seed: fp.seed, minConfidence: fp.minConfidence },
  metrics: {
    features: 'latent', classes: final.result.classes, trainCells: final.result.trainCells,
    heldOut: h, heldOutNote: `a forest with the same settings on a stratified, seeded 80 % of the cells (${heldout.result.trainCells}), scored on the other 20 % (${heldout.result.heldOutCells}); the shipped forest is trained on every cell; the autoencoder reconstructed a seeded sample of these images' cells (${ae.result.sourceCells}), without labels`,
    otherLabs: labs, encodeTrainClassifySeconds: times.encodeTrainClassifyS ?? null,
  },
  jobs: { heldOut: heldout.jobId, final: final.jobId },
};
writeFileSync(join(modelsDir, 'aecfe-cpu-forest-common5.meta.json'), JSON.stringify(clfMeta, null, 1) + '\n');
process.stdout.write(`${encOut.file}: ${encOut.bytes} bytes gzipped (${enc.bytes.length} raw); ${clfOut.file}: ${clfOut.bytes} bytes gzipped (${clf.bytes.length} raw); ` +
  `held-out accuracy ${pct(h?.accuracy)} %; ` +
  Object.entries(labs).map(([k, v]: [string, any]) => `${k} ${v.everyCellByBestGuess?.accuracyPct} % (every cell) / ${v.givenAClass?.accuracyPct} % (given a class)`).join(', ') + '\n');
