// Exploration (issue 17; not the product): two more ways to read a lab, on the prepared unseen-labs rows, beside
// the default path (classifyLab): the posterior moved to the lab's estimated class mix (label shift: Saerens et al.
// 2002's EM, alone or with a Dirichlet prior of normal blood counts worth 50 or 200 cells), and the plain and the
// augmented forest averaged. Every classifier fitted as scripts/unseen.sh fits it (2 augmented copies).
//   PREPARED=/tmp/unseen-prepared.json [FOREST_SEED=0] [VARIANTS=default,blend,...] node training/classifier-exploration/label-shift.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { estimateClassMix } from '../../dist/src/engine/classifier/stain-shift.js';
import { estimateClassMixWithPrior } from '../../dist/src/engine/classifier/stain-steps.js';
import { bloodPrior } from '../../dist/src/engine/classifier/blood-count.js';

const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-prepared.json');
const classes = run.classes;
const K = classes.length;
const seed = Number(process.env.FOREST_SEED ?? 0);
const pairs = pairJobs(run);
const argmax = (p, i) => { let b = 0; for (let c = 1; c < K; c++) if (p[i * K + c] > p[i * K + b]) b = c; return b; };
const acc = (p, labels) => { let ok = 0; for (let i = 0; i < labels.length; i++) if (classes[argmax(p, i)] === labels[i]) ok++; return ok / labels.length; };
function shiftAdjust(p, train, mix) {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length / K; i++) { let z = 0; for (let c = 0; c < K; c++) { out[i*K+c] = train[c] > 0 ? p[i*K+c] * mix[c] / train[c] : 0; z += out[i*K+c]; } for (let c = 0; c < K; c++) out[i*K+c] = z > 0 ? out[i*K+c]/z : p[i*K+c]; }
  return out;
}
const variants = (process.env.VARIANTS ?? 'default,plain,blend,ls,ls_prior50,ls_prior200,blend_ls').split(',');
const results = [];
for (const j of [...run.jobs, ...pairs]) {
  const clf = trainCellClassifier({ rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows, seed, testFraction: 0, augmented: preparedCopies(j, 2) }).classifier;
  const train = clf.stain.mix.prior;
  for (const lab of j.labs) {
    const role = isSelectionLab(lab, run.source) ? 'selection' : 'scoring';
    const def = classifyLab(clf, lab.rows, {});
    const aug = classifyLab(clf, lab.rows, { routeLimit: null });
    const pl = clf.plainForest ? classifyLab(clf, lab.rows, { routeLimit: Infinity }) : aug;
    const blend = Float64Array.from(aug.proba, (v, i) => 0.5 * v + 0.5 * pl.proba[i]);
    const row = { lab: `${j.trainedOn} -> ${lab.name}${lab.kind === 'in-domain' ? ' (in)' : ''}`, role, n: lab.labels.length };
    for (const v of variants) {
      let p;
      if (v === 'default') p = def.proba;
      else if (v === 'plain') p = pl.proba;
      else if (v === 'aug') p = aug.proba;
      else if (v === 'blend') p = blend;
      else if (v === 'ls') p = shiftAdjust(def.proba, train, estimateClassMix(def.proba, train));
      else if (v.startsWith('ls_prior')) { const s = Number(v.slice(8)); p = shiftAdjust(def.proba, train, estimateClassMixWithPrior(def.proba, train, bloodPrior(classes), s)); }
      else if (v === 'blend_ls') p = shiftAdjust(blend, train, estimateClassMix(blend, train));
      row[v] = acc(p, lab.labels);
    }
    results.push(row);
    console.log(row.lab.padEnd(40), role.padEnd(9), variants.map((v) => `${v} ${(100 * row[v]).toFixed(1)}`).join('  '));
  }
}
for (const v of variants) {
  const out = results.filter((r) => !r.lab.endsWith('(in)'));
  const sel = out.filter((r) => r.role === 'selection'), sco = out.filter((r) => r.role === 'scoring');
  const ind = results.find((r) => r.lab.endsWith('(in)'));
  console.log(`${v.padEnd(12)} in ${(100*ind[v]).toFixed(1)}  worstSel ${(100*Math.min(...sel.map(r=>r[v]))).toFixed(1)}  worstSco ${(100*Math.min(...sco.map(r=>r[v]))).toFixed(1)}  mean ${(100*out.reduce((a,r)=>a+r[v],0)/out.length).toFixed(1)}  realMean ${(100*out.filter(r=>!r.lab.includes('syn-')).reduce((a,r)=>a+r[v],0)/out.filter(r=>!r.lab.includes('syn-')).length).toFixed(1)}`);
}
