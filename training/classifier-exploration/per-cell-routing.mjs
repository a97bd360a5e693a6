// Exploration (issue 17; not the product): per-cell routing between the plain and the augmented forest by the cell's novelty score (Mahalanobis
// distance to the nearest class / that class's threshold; < 1 = like training cells).
//   PREPARED=/tmp/unseen-prepared.json [T=0.5,0.75,1,1.5] [FOREST_SEED=0] node training/classifier-exploration/per-cell-routing.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { scoreNovelty } from '../../dist/src/engine/classifier/novelty.js';
import { matrixFromRows } from '../../dist/src/engine/classifier/feature-matrix.js';
const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-prepared.json');
const classes = run.classes, K = classes.length;
const seed = Number(process.env.FOREST_SEED ?? 0);
const T = (process.env.T ?? '0.5,0.75,1,1.5').split(',').map(Number);
const res = [];
for (const j of [...run.jobs, ...pairJobs(run)]) {
  const clf = trainCellClassifier({ rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows, seed, testFraction: 0, augmented: preparedCopies(j, 2) }).classifier;
  for (const lab of j.labs) {
    const aug = classifyLab(clf, lab.rows, { routeLimit: null });
    const pl = classifyLab(clf, lab.rows, { routeLimit: Infinity });
    const def = classifyLab(clf, lab.rows, {});
    const nov = scoreNovelty(clf.novelty, matrixFromRows(lab.rows)).score;
    const acc = (pick) => { let ok = 0; for (let i = 0; i < lab.labels.length; i++) { const p = pick(i) ? pl.proba : aug.proba; let b = 0; for (let c = 1; c < K; c++) if (p[i*K+c] > p[i*K+b]) b = c; if (classes[b] === lab.labels[i]) ok++; } return ok / lab.labels.length; };
    const accP = (p) => { let ok = 0; for (let i = 0; i < lab.labels.length; i++) { let b = 0; for (let c = 1; c < K; c++) if (p[i*K+c] > p[i*K+b]) b = c; if (classes[b] === lab.labels[i]) ok++; } return ok / lab.labels.length; };
    const row = { lab: `${j.trainedOn} -> ${lab.name}`, inDomain: lab.kind === 'in-domain', role: isSelectionLab(lab, run.source) ? 'selection' : 'scoring', def: accP(def.proba) };
    for (const t of T) row[`t${t}`] = acc((i) => nov[i] < t);
    const share = (t) => nov.filter((v) => v < t).length / nov.length;
    res.push(row);
    console.log(row.lab.padEnd(32), row.role.padEnd(9), `def ${(100*row.def).toFixed(1)}`, T.map((t) => `t${t} ${(100*row[`t${t}`]).toFixed(1)} (${Math.round(100*share(t))}%)`).join('  '));
  }
}
for (const v of ['def', ...T.map((t) => `t${t}`)]) {
  const out = res.filter((r) => !r.inDomain), sel = out.filter((r) => r.role === 'selection'), sco = out.filter((r) => r.role === 'scoring'), real = out.filter((r) => !r.lab.includes('syn-'));
  const ind = res.find((r) => r.inDomain);
  console.log(v.padEnd(6), `in ${(100*ind[v]).toFixed(1)} worstSel ${(100*Math.min(...sel.map(r=>r[v]))).toFixed(1)} worstSco ${(100*Math.min(...sco.map(r=>r[v]))).toFixed(1)} mean ${(100*out.reduce((a,r)=>a+r[v],0)/out.length).toFixed(1)} real ${(100*real.reduce((a,r)=>a+r[v],0)/real.length).toFixed(1)}`);
}
