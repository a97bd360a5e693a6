// Issue 17 exploration (not the product): what a classifier trained on a small lab could reach if crossing labs
// cost nothing. For each leave-one-lab-out row trained on BCCD or Zheng DS2 (or both), a classifier is fitted as
// scripts/unseen.sh fits one, but on Acevedo-20 training cells drawn at that lab's size and class mix (BCCD: 202
// neutrophils, 84 eosinophils, 33 lymphocytes, 20 monocytes, 2 basophils), and scored on held-out Acevedo-20 cells
// drawn at the scored lab's class mix: no stain, optics or population shift at all. The seventh session's ceilings
// (README) held the scored lab fixed and asked what its own labels allow; this holds the training lab's labels fixed.
//   PREPARED=/tmp/unseen-prepared.json [DRAWS=5] node training/classifier-exploration/size-ceiling.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { argmaxRows } from '../../dist/src/engine/classifier/random-forest.js';
import { wilsonInterval } from '../../dist/src/pipeline/metrics.js';

const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-prepared.json');
const classes = run.classes;
const K = classes.length;
const draws = Number(process.env.DRAWS ?? 5);
const pct = (v) => (100 * v).toFixed(1);
const src = run.jobs.find((j) => j.trainedOn === run.source);
const heldOut = src.labs.find((l) => l.kind === 'in-domain');
const countsOf = (labels) => Object.fromEntries(classes.map((c) => [c, labels.filter((l) => l === c).length]));
const labelsOf = new Map([...run.jobs.map((j) => [j.trainedOn, j.labels]), ...src.labs.filter((l) => l.kind === 'real').map((l) => [l.name, l.labels])]);
labelsOf.set(run.source, heldOut.labels);

// A seeded shuffle (mulberry32), so that every draw is reproducible.
const rng = (seed) => () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const drawAt = (labels, counts, rand) => classes.flatMap((c) => {
  const of = labels.flatMap((l, i) => (l === c ? [i] : []));
  for (let i = of.length - 1; i > 0; i--) { const k = Math.floor(rand() * (i + 1)); [of[i], of[k]] = [of[k], of[i]]; }
  if (counts[c] > of.length) throw new Error(`size ceiling: ${counts[c]} ${c} asked for, ${of.length} there`);
  return of.slice(0, counts[c]);
});
const copies = preparedCopies(src, 2);

for (const j of [...run.jobs, ...pairJobs(run)].filter((j) => !j.trainedOn.split('+').includes(run.source))) {
  const trainCounts = countsOf(j.labels);
  for (const lab of j.labs.filter((l) => l.kind === 'real')) {
    const scoreCounts = countsOf(lab.labels);
    const accs = [];
    let right = 0, n = 0;
    for (let d = 0; d < draws; d++) {
      const rand = rng(1000 + d);
      const pick = drawAt(src.labels, trainCounts, rand);
      const at = new Map(pick.map((i, k) => [i, k]));
      const keep = copies.of.flatMap((o, k) => (at.has(o) ? [k] : []));
      const clf = trainCellClassifier({
        rows: pick.map((i) => src.rows[i]), labels: pick.map((i) => src.labels[i]), stainRows: pick.map((i) => src.rows[i]),
        classNames: classes, features: 'morphology', classMap: 'common5', seed: d, testFraction: 0,
        augmented: { rows: keep.map((k) => copies.rows[k]), of: keep.map((k) => at.get(copies.of[k])) },
      }).classifier;
      const test = drawAt(heldOut.labels, lab.name === run.source ? countsOf(heldOut.labels) : scoreCounts, rand);
      const r = classifyLab(clf, test.map((i) => heldOut.rows[i]), {});
      const top = argmaxRows(r.proba, K);
      const ok = test.filter((i, k) => classes[top[k]] === heldOut.labels[i]).length;
      accs.push(ok / test.length);
      right += ok; n += test.length;
    }
    const [lo, hi] = wilsonInterval(right, n);
    console.log(`${`${j.trainedOn} -> ${lab.name}`.padEnd(32)} trained at ${Object.values(trainCounts).join('/')} (${classes.map((c) => c.slice(0, 4)).join('/')}), scored at ${Object.values(scoreCounts).join('/')}: ${pct(right / n)} % (${pct(lo)}-${pct(hi)}; draws ${accs.map(pct).join(', ')})`);
  }
}
