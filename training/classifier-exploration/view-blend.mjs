// Issue 17 exploration (not the product): two views of the same cells as an ensemble. On rows prepared with
// EXTRA_VIEW (the 59 morphology values, then the learnt view's: ssl-view.mjs), one classifier on the 59 values
// alone (what the product fits) and one on all of them, each through the classify job's default path (classifyLab:
// ensemble stain step, routing); their class probabilities averaged with weight W on the second. Accuracy only
// (the self-check is each classifier's own; an average would need its own calibration).
// MOVE_VIEW=1: the second classifier's stain step moves the view's columns too (trainCellClassifier's stainColumns:
// the colour columns and every appended column, so each lab's embedding medians go onto the source's as its colour
// values do, prior_mix's under the lab's estimated class mix; the shape forest then reads the 14 shape columns).
//   PREPARED=/tmp/unseen-ssl-seed0-long.json [SEEDS=0,1,2,3] [WEIGHTS=0,0.25,0.5,0.75,1] [MOVE_VIEW=1] node training/classifier-exploration/view-blend.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH } from '../../dist/src/imaging/cell-morphology.js';
import { argmaxRows } from '../../dist/src/engine/classifier/random-forest.js';

const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-ssl-seed0-long.json');
const classes = run.classes;
const K = classes.length;
const seeds = (process.env.SEEDS ?? '0,1,2,3').split(',').map(Number);
const weights = (process.env.WEIGHTS ?? '0,0.25,0.5,0.75,1').split(',').map(Number);
const cut = (rows) => rows.map((r) => r.subarray(0, MORPHOLOGY_LENGTH));
const morph = (j) => ({ ...j, rows: cut(j.rows), allRows: cut(j.allRows), augRows: j.augRows && cut(j.augRows), labs: j.labs.map((l) => ({ ...l, rows: cut(l.rows) })) });
const acc = (p, labels) => {
  const top = argmaxRows(p, K);
  return labels.filter((l, i) => classes[top[i]] === l).length / labels.length;
};
const fit = (j, seed, stainColumns) => trainCellClassifier({ stainColumns, rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows, seed, testFraction: 0, augmented: preparedCopies(j, 2) }).classifier;
const pct = (v) => (100 * v).toFixed(1);
const moveView = process.env.MOVE_VIEW === '1';
/** The colour columns and every appended column: what the stain step moves with MOVE_VIEW=1. */
const viewColumns = (j) => [...MORPHOLOGY_COLOUR_COLUMNS, ...Array.from({ length: j.rows[0].length - MORPHOLOGY_LENGTH }, (_, k) => MORPHOLOGY_LENGTH + k)];
for (const seed of seeds) {
  const rows = [];
  for (const j of [...run.jobs, ...pairJobs(run)]) {
    const jm = morph(j);
    const [cm, cb] = [fit(jm, seed), fit(j, seed, moveView ? viewColumns(j) : undefined)];
    j.labs.forEach((lab, k) => {
      const pm = classifyLab(cm, jm.labs[k].rows, {}).proba;
      const pb = classifyLab(cb, lab.rows, {}).proba;
      const row = { lab: `${j.trainedOn} -> ${lab.name}`, kind: lab.kind, role: isSelectionLab(lab, run.source) ? 'selection' : 'scoring', n: lab.labels.length };
      row.acc = weights.map((w) => acc(Float64Array.from(pm, (v, i) => (1 - w) * v + w * pb[i]), lab.labels));
      rows.push(row);
      if (seed === seeds[0]) console.log(`${row.lab.padEnd(36)} ${row.role.padEnd(9)} ${String(row.n).padStart(4)}  ${row.acc.map(pct).join('  ')}`);
    });
  }
  const summary = weights.map((w, k) => {
    const out = rows.filter((r) => r.kind !== 'in-domain');
    const worst = (rs) => rs.reduce((m, r) => (r.acc[k] < m.acc[k] ? r : m));
    const ws = worst(out.filter((r) => r.role === 'selection')), wc = worst(out.filter((r) => r.role === 'scoring'));
    return `W ${w}: in-domain ${pct(rows.find((r) => r.kind === 'in-domain').acc[k])}, worst selection ${pct(ws.acc[k])} (${ws.lab}), worst scoring ${pct(wc.acc[k])} (${wc.lab}), mean ${pct(out.reduce((a, r) => a + r.acc[k], 0) / out.length)}`;
  });
  console.log(`forest seed ${seed}:\n  ${summary.join('\n  ')}`);
}
