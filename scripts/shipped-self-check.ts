/**
 * The shipped classifier's self-check on Zheng DS2 and BCCD (issue 17, docs/self-check.md): the file read as the
 * engine reads it (parseClassifierFile) and each lab's cells through the classify job's own path (classifyLab:
 * stain step, forest, self-check), on the rows scripts/unseen.sh measured (PREPARED: the detector's top cell of
 * each image, cropped by src/pipeline/crop.ts and measured by cell-morphology.ts as the classify job does).
 *
 * The shipped file may carry no calibration (trained before it existed, on every Acevedo-20 cell: none is left
 * that it did not see). Then the verdict is shown twice: as the file is (the fixed limits), and with a stand-in
 * calibration: the shipped recipe (100 trees, depth 16, seed 0, 2 augmented copies) cross-fitted over the
 * prepared Acevedo-20 training cells, forests that never saw the cells they score. The stand-in is the recipe's
 * calibration at 1,500 cells, not the shipped forest's own: retraining the file (scripts/train-default-classifiers.sh)
 * stores its own.
 *
 *   npx tsc -p tsconfig.json && PREPARED=/tmp/unseen-prepared.json node dist/scripts/shipped-self-check.js
 *
 * Environment: PREPARED (/tmp/unseen-prepared.json), CLASSIFIER (models/classifier-common5.json.gz), AUGMENT (2).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClassifierFile } from '../src/engine/classifier/classifier-file.js';
import type { CellClassifier } from '../src/engine/classifier/classifier-artifact.js';
import { classifyLab } from '../src/pipeline/lab-classification.js';
import { failedBecause } from '../src/engine/classifier/self-check.js';
import { trainCellClassifier } from '../src/pipeline/classifier-training.js';
import { MORPHOLOGY_AUGMENT_COPIES } from '../src/pipeline/defaults.js';
import { preparedCopies, type PreparedRun } from '../src/evaluation/unseen-labs.js';
import { loadPrepared } from './prepared-run.js';

const REPO = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const PREPARED = resolve(process.env.PREPARED || '/tmp/unseen-prepared.json');
const CLASSIFIER = resolve(process.env.CLASSIFIER || join(REPO, 'models/classifier-common5.json.gz'));
const AUGMENT = Number(process.env.AUGMENT ?? MORPHOLOGY_AUGMENT_COPIES);


const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function report(what: string, clf: CellClassifier, labs: PreparedRun['jobs'][number]['labs']): void {
  console.log(`\n${what}`);
  for (const lab of labs) {
    const r = classifyLab(clf, lab.rows);
    const right = Array.from(r.views.reported).filter((k, i) => clf.classNames[k] === lab.labels[i]).length;
    const conf = r.selfCheck.verdicts.find((v) => v.check === 'confidence');
    const est = r.accuracyEstimates;
    console.log(
      `  ${lab.name} (${lab.rows.length} cells): accuracy ${pct(right / lab.rows.length)} by best guess; self-check ${r.selfCheck.status.toUpperCase()}` +
        ` (failed: ${failedBecause(r.selfCheck) || 'none'})`,
    );
    console.log(`    confidence check ${conf?.status}: ${conf?.note}`);
    if (est) console.log(`    estimates: DoC ${pct(est.doc)}, ATC ${pct(est.atc_max)}, ATC on entropy ${pct(est.atc_entropy)}`);
  }
}

function main(): void {
  const shipped = parseClassifierFile(readFileSync(CLASSIFIER));
  const run = loadPrepared(PREPARED);
  const source = run.jobs.find((j) => j.trainedOn === run.source)!;
  const labs = source.labs.filter((l) => l.kind === 'real');
  console.log(`${CLASSIFIER}: ${shipped.forest.trees.length} trees, classes ${shipped.classNames.join(', ')}; calibration: ${shipped.calibration ? JSON.stringify(shipped.calibration) : 'none'}`);
  report(shipped.calibration ? 'As shipped (its own calibration):' : 'As shipped (no calibration: the fixed mean-confidence limits):', shipped, labs);
  if (shipped.calibration) return;
  const augmented = preparedCopies(source, AUGMENT);
  const t0 = performance.now();
  const standIn = trainCellClassifier({
    rows: source.rows, labels: source.labels, classNames: run.classes, features: 'morphology', classMap: 'common5', stainRows: source.allRows,
    trees: shipped.forest.params.nEstimators, maxDepth: shipped.forest.params.maxDepth ?? undefined, seed: 0, testFraction: 0,
    augmented,
  }).classifier.calibration!;
  console.log(`\nStand-in calibration (the shipped recipe cross-fitted over ${source.rows.length} prepared ${run.source} cells + ${augmented?.rows.length ?? 0} copies, ${((performance.now() - t0) / 1000).toFixed(0)} s): ${JSON.stringify(standIn)}`);
  report('The shipped forest with the stand-in calibration:', { ...shipped, calibration: standIn }, labs);
}

main();
