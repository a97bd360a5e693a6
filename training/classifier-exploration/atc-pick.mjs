import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { preparedCopies, pairJobs, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
const run = loadPrepared(process.argv[2] ?? '/tmp/unseen-prepared.json');
const classes = run.classes;
const steps = ['none', 'centred', 'prior_mix', 'ensemble'];
const rows = [];
for (const j of [...run.jobs, ...pairJobs(run)]) {
  const clf = trainCellClassifier({ rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows, seed: 0, testFraction: 0, augmented: preparedCopies(j, 2) }).classifier;
  for (const lab of j.labs) {
    if (lab.kind === 'in-domain') continue;
    const res = {};
    for (const s of steps) {
      const r = classifyLab(clf, lab.rows, { step: s });
      const acc = lab.labels.filter((t, i) => clf.classNames[r.views.reported[i]] === t).length / lab.labels.length;
      res[s] = { acc, atc: r.accuracyEstimates?.atc_max ?? NaN, check: r.selfCheck.status };
    }
    const sel = isSelectionLab(lab, run.source) ? 'S' : ' ';
    const pick = ['none', 'ensemble'].reduce((a, b) => (res[b].atc > res[a].atc ? b : a));
    const pick4 = steps.reduce((a, b) => (res[b].atc > res[a].atc ? b : a));
    rows.push({ name: `${j.trainedOn}->${lab.name}`, sel, res, pick, pick4 });
    console.log(`${sel} ${j.trainedOn}->${lab.name}: ` + steps.map((s) => `${s} ${(100*res[s].acc).toFixed(1)}/${(100*res[s].atc).toFixed(0)}`).join('  ') + `  | pick2 ${pick} ${(100*res[pick].acc).toFixed(1)} pick4 ${pick4} ${(100*res[pick4].acc).toFixed(1)}`);
  }
}
const worst = (f, filt) => Math.min(...rows.filter(filt).map(f));
const mean = (f, filt) => { const r = rows.filter(filt); return r.reduce((a, x) => a + f(x), 0) / r.length; };
for (const [n, f] of [['ensemble', (x) => x.res.ensemble.acc], ['pick2', (x) => x.res[x.pick].acc], ['pick4', (x) => x.res[x.pick4].acc]]) {
  console.log(n, 'worst sel', (100*worst(f, (x) => x.sel === 'S')).toFixed(1), 'worst scoring', (100*worst(f, (x) => x.sel !== 'S')).toFixed(1), 'mean', (100*mean(f, () => true)).toFixed(1));
}
