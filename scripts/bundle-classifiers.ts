// Bundles the classifiers scripts/train-default-classifiers.sh trained into models/: each forest gzipped, with
// a metadata file (what the server registers on its first start) holding the numbers the jobs measured:
// the held-out score in Acevedo-20 and the classify jobs' agreement with BCCD's and Zheng DS2's labels.
//   node dist/scripts/bundle-classifiers.js <jobs-output-dir> <models-dir>   (LEUKOGRAPH_URL: the server; LEUKOGRAPH_DATA_DIR: its data directory)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleArgs, labSummary, modelFile, pct, readJob, writeGzipped } from './bundle-lib.js';

const { outDir, modelsDir } = bundleArgs('bundle-classifiers.js');
const read = (name: string) => readJob(outDir, name);

// MAPS (space- or comma-separated; default both): the class maps trained this time; the others' files stay.
const maps = (process.env.MAPS ?? 'common5 common5_ig').split(/[\s,]+/).filter(Boolean);
for (const map of maps) {
  const heldout = read(`${map}.heldout.json`);
  const final = read(`${map}.final.json`);
  if (heldout.status !== 'succeeded' || final.status !== 'succeeded') throw new Error(`${map}: a training job did not succeed`);
  const { model, bytes: json } = await modelFile(final.result.modelId);
  const base = `classifier-${map.replace('_', '-')}`;
  const out = writeGzipped(modelsDir, `${base}.json.gz`, json, 'acevedo20-all');
  const h = heldout.result.heldOut;
  const labs: Record<string, unknown> = {};
  for (const lab of ['bccd', 'zheng-ds2']) {
    labs[lab] = labSummary(read(`${map}.${lab}.json`));
  }
  const meta = {
    name: `morphology-forest-${map}`,
    ...out,
    active: map === 'common5',
    params: { classMap: map, features: 'morphology', trees: model.params.trees, maxDepth: model.params.maxDepth, seed: model.params.seed, minConfidence: model.params.minConfidence },
    metrics: {
      features: 'morphology', classes: final.result.classes, trainCells: final.result.trainCells,
      heldOut: h, heldOutNote: `a forest with the same settings on a stratified, seeded 80 % of the cells (${heldout.result.trainCells}), scored on the other 20 % (${heldout.result.heldOutCells}); the shipped forest is trained on every cell`,
      // The self-check's confidence calibration the file carries (cross-fitted over every cell: docs/self-check.md).
      calibration: final.result.calibration ?? null,
      // A file that carries its training cells can be self-trained by a classify job (the server reads this to allow it).
      ...(final.result.trainingCellsKept === true ? { trainingCellsKept: true } : {}),
      otherLabs: labs,
    },
    jobs: { heldOut: heldout.jobId, final: final.jobId },
  };
  writeFileSync(join(modelsDir, `${base}.meta.json`), JSON.stringify(meta, null, 1) + '\n');
  process.stdout.write(`${base}: ${out.bytes} bytes gzipped (${json.length} raw); held-out accuracy ${pct(h?.accuracy)} %; ` +
    Object.entries(labs).map(([k, v]: [string, any]) => `${k} ${v.everyCellByBestGuess?.accuracyPct} % (every cell) / ${v.givenAClass?.accuracyPct} % (given a class)`).join(', ') + '\n');
}
