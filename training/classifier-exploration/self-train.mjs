// Issue 17 exploration (not the product): self-training on the lab's own unlabelled cells. The classify job's default
// path (classifyLab: ensemble stain step, routing) labels the lab; the cells it is surest of, per predicted class,
// join the training cells under that label and the forest is fitted again, once per share in FRACTIONS (each round
// picks from the last round's labels). The issue asks to use "the structure" of a lab's unlabelled cells; unlike the label-shift and
// cluster views (README, eighth session) this lets the lab's own cells reshape the forest's boundaries.
//   raw:   the picked cells as measured; the stain reference is refitted on the training lab's cells plus every cell
//          of the lab (as a two-lab classifier is trained: pairJobs);
//   moved: the picked cells as the stain step moved them onto the training medians (classifyLab's x); the stain
//          reference stays the training lab's.
//   target: no refit of the classifier: a forest fitted on the picked cells alone (as measured, their guessed
//          classes), its probabilities over the lab averaged half and half with the classifier's. It needs nothing
//          but the lab's cells, so a classify job could run it without the training cells.
// It also prints each real lab's per-class recall under the default path (which classes the errors are).
//   PREPARED=/tmp/unseen-prepared.json [SEEDS=0] [FRACTIONS=0.4,0.8] [VARIANTS=raw,moved,target] [SKIP_PLAIN=0] node training/classifier-exploration/self-train.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
// The product's pick (the classify job's selfTraining): per predicted class, the share with the highest probability.
import { surestCells } from '../../dist/src/pipeline/self-training.js';
import { argmaxRows, fitRandomForest, predictProba } from '../../dist/src/engine/classifier/random-forest.js';
import { matrixFromRows } from '../../dist/src/engine/classifier/feature-matrix.js';

const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-prepared.json');
const classes = run.classes;
const seeds = (process.env.SEEDS ?? '0').split(',').map(Number);
const fractions = (process.env.FRACTIONS ?? '0.4,0.8').split(',').map(Number);
const variants = (process.env.VARIANTS ?? 'raw,moved').split(',');
const pct = (v) => (100 * v).toFixed(1);
const fit = (j, seed, extra) => trainCellClassifier({
  rows: extra ? [...j.rows, ...extra.rows] : j.rows,
  labels: extra ? [...j.labels, ...extra.labels] : j.labels,
  stainRows: extra?.stainRows ?? j.allRows,
  classNames: classes, features: 'morphology', classMap: 'common5', seed, testFraction: 0,
  // The augmented copies index the training lab's rows, which stay first.
  augmented: preparedCopies(j, 2),
}).classifier;
// Probabilities have a column per class the classifier saw (names: its classNames), not per class of the run.
const accOf = (proba, labels, names) => {
  const top = argmaxRows(proba, names.length);
  return labels.filter((l, i) => names[top[i]] === l).length / labels.length;
};
/** Per-class recall, "class right/all". */
const recall = (proba, labels, names) => {
  const top = argmaxRows(proba, names.length);
  return classes.map((c) => {
    const of = labels.flatMap((l, i) => (l === c ? [i] : []));
    return of.length ? `${c.slice(0, 4)} ${of.filter((i) => names[top[i]] === c).length}/${of.length}` : null;
  }).filter(Boolean).join(', ');
};

const columns = ['default', ...variants.flatMap((v) => fractions.map((_, r) => `${v} r${r + 1}`))];
for (const seed of seeds) {
  const rows = [];
  console.log(`forest seed ${seed}: ${columns.join(' | ')}`);
  for (const j of [...run.jobs, ...pairJobs(run)]) {
    const base = fit(j, seed);
    // The refitted classifiers train on the same labels and more: the same classes.
    const seen = base.classNames;
    for (const lab of j.labs) {
      const r0 = classifyLab(base, lab.rows, {});
      const row = { lab: `${j.trainedOn} -> ${lab.name}`, kind: lab.kind, role: isSelectionLab(lab, run.source) ? 'selection' : 'scoring', n: lab.labels.length, acc: [accOf(r0.proba, lab.labels, seen)], check: [r0.selfCheck.status] };
      // A lab the plain forest reads measures like the training cells: nothing to adapt to (SKIP_PLAIN=0 self-trains it too).
      const skip = process.env.SKIP_PLAIN !== '0' && r0.stain.routing?.forest === 'plain';
      for (const v of variants) {
        let r = r0;
        for (const f of fractions) {
          if (skip) { row.acc.push(row.acc[0]); row.check.push(r0.selfCheck.status); continue; }
          const { index: idx, top } = surestCells(r.proba, seen.length, f);
          if (v === 'target') {
            const own = fitRandomForest(matrixFromRows(idx.map((i) => lab.rows[i])), Int32Array.from(idx, (i) => top[i]), { numClasses: seen.length, seed });
            const po = predictProba(own, matrixFromRows(lab.rows));
            r = { ...r, proba: Float64Array.from(r0.proba, (p, i) => 0.5 * p + 0.5 * po[i]) };
            row.acc.push(accOf(r.proba, lab.labels, seen));
            row.check.push(r0.selfCheck.status);
            continue;
          }
          const cols = r.x.cols;
          const movedRow = (i) => r.x.data.subarray(i * cols, (i + 1) * cols);
          const extra = {
            rows: idx.map((i) => (v === 'moved' ? Float64Array.from(movedRow(i)) : lab.rows[i])),
            labels: idx.map((i) => seen[top[i]]),
            stainRows: v === 'raw' ? [...j.allRows, ...lab.rows] : j.allRows,
          };
          r = classifyLab(fit(j, seed, extra), lab.rows, {});
          row.acc.push(accOf(r.proba, lab.labels, seen));
          row.check.push(r.selfCheck.status);
        }
      }
      rows.push(row);
      const per = lab.kind === 'real' || lab.kind === 'in-domain' ? `   [${recall(r0.proba, lab.labels, seen)}]` : '';
      console.log(`${row.lab.padEnd(36)} ${row.role.padEnd(9)} ${String(row.n).padStart(4)}  ${row.acc.map(pct).join('  ')}${seed === seeds[0] ? per : ''}`);
    }
  }
  const out = rows.filter((r) => r.kind !== 'in-domain');
  for (const [k, name] of columns.entries()) {
    const worst = (rs) => rs.reduce((m, r) => (r.acc[k] < m.acc[k] ? r : m));
    const ws = worst(out.filter((r) => r.role === 'selection')), wc = worst(out.filter((r) => r.role === 'scoring'));
    const real = out.filter((r) => r.kind === 'real');
    // The self-check as the refitted classifier would give it (its calibration cross-fitted over pseudo-labelled cells
    // too) and as the first classification gave it: labs under 75 % it lets through, labs at 75 % or more it fails.
    const missed = (c) => out.filter((r) => r.acc[k] < 0.75 && r.check[c] !== 'failed').length;
    const alarms = (c) => out.filter((r) => r.acc[k] >= 0.75 && r.check[c] === 'failed').length;
    const under = out.filter((r) => r.acc[k] < 0.75).length;
    console.log(`  ${name.padEnd(10)} in-domain ${pct(rows.find((r) => r.kind === 'in-domain').acc[k])}, worst selection ${pct(ws.acc[k])} (${ws.lab}), worst scoring ${pct(wc.acc[k])} (${wc.lab}), mean ${pct(out.reduce((a, r) => a + r.acc[k], 0) / out.length)}, real-lab mean ${pct(real.reduce((a, r) => a + r.acc[k], 0) / real.length)}; under 75 % without a failed check: ${missed(k)} of ${under} (first classification's check: ${missed(0)}), false alarms ${alarms(k)} (${alarms(0)})`);
  }
}
