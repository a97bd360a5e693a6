// Exploration (issue 17; not the product): the lab's own structure as a view. Each lab's rows are standardised
// within the lab (no labels), clustered by k-means (k clusters, seeded k-means++, 50 iterations), and every cell's
// probabilities (the default path's, classifyLab) are averaged with its cluster's mean probabilities (weight W):
// a cluster-wide consensus, where the product's neighbour consensus takes 5 neighbours. The question: does a lab's
// cluster structure carry what the source's forest gets wrong (Zheng DS2's large lymphocytes, BCCD's small cells)?
//   PREPARED=/tmp/unseen-prepared.json [K_CLUSTERS=6,10,20] [W=0.5,1] [FOREST_SEED=0] node training/classifier-exploration/cluster-label.mjs
import { loadPrepared } from '../../dist/scripts/prepared-run.js';
import { pairJobs, preparedCopies, isSelectionLab } from '../../dist/src/evaluation/unseen-labs.js';
import { trainCellClassifier } from '../../dist/src/pipeline/classifier-training.js';
import { classifyLab } from '../../dist/src/pipeline/lab-classification.js';
import { createRng } from '../../dist/src/engine/classifier/rng.js';

const run = loadPrepared(process.env.PREPARED ?? '/tmp/unseen-prepared.json');
const classes = run.classes;
const K = classes.length;
const seed = Number(process.env.FOREST_SEED ?? 0);
const ks = (process.env.K_CLUSTERS ?? '6,10,20').split(',').map(Number);
const ws = (process.env.W ?? '0.5,1').split(',').map(Number);

const argmax = (p, i) => { let b = 0; for (let c = 1; c < K; c++) if (p[i * K + c] > p[i * K + b]) b = c; return b; };
const acc = (p, labels) => { let ok = 0; for (let i = 0; i < labels.length; i++) if (classes[argmax(p, i)] === labels[i]) ok++; return ok / labels.length; };

/** Rows standardised column by column within the lab (median and MAD-like spread: robust to a few odd cells). */
function standardise(rows) {
  const d = rows[0].length;
  const out = rows.map((r) => Float64Array.from(r));
  for (let c = 0; c < d; c++) {
    const v = rows.map((r) => r[c]).sort((a, b) => a - b);
    const med = v[v.length >> 1];
    const dev = rows.map((r) => Math.abs(r[c] - med)).sort((a, b) => a - b);
    const s = 1.4826 * dev[dev.length >> 1] || 1;
    for (const r of out) r[c] = (r[c] - med) / s;
  }
  return out;
}

/** k-means++ then Lloyd's iterations; the cluster of every row. */
function kmeans(rows, k, rng) {
  const n = rows.length;
  const d = rows[0].length;
  const dist = (a, b) => { let s = 0; for (let c = 0; c < d; c++) s += (a[c] - b[c]) ** 2; return s; };
  const centres = [Float64Array.from(rows[Math.floor(rng() * n)])];
  const near = rows.map((r) => dist(r, centres[0]));
  while (centres.length < k) {
    const total = near.reduce((a, b) => a + b, 0);
    let t = rng() * total;
    let i = 0;
    while (i < n - 1 && (t -= near[i]) > 0) i++;
    centres.push(Float64Array.from(rows[i]));
    rows.forEach((r, j) => (near[j] = Math.min(near[j], dist(r, centres.at(-1)))));
  }
  const of = new Int32Array(n);
  for (let it = 0; it < 50; it++) {
    let moved = 0;
    rows.forEach((r, j) => {
      let b = 0;
      let bd = Infinity;
      centres.forEach((c, q) => { const v = dist(r, c); if (v < bd) { bd = v; b = q; } });
      if (of[j] !== b) moved++;
      of[j] = b;
    });
    const sums = centres.map(() => new Float64Array(d));
    const counts = new Int32Array(k);
    rows.forEach((r, j) => { counts[of[j]]++; for (let c = 0; c < d; c++) sums[of[j]][c] += r[c]; });
    centres.forEach((c, q) => { if (counts[q]) for (let x = 0; x < d; x++) c[x] = sums[q][x] / counts[q]; });
    if (!moved && it) break;
  }
  return of;
}

function clusterBlend(p, of, k, w) {
  const n = of.length;
  const mean = Array.from({ length: k }, () => new Float64Array(K));
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) { counts[of[i]]++; for (let c = 0; c < K; c++) mean[of[i]][c] += p[i * K + c]; }
  const out = new Float64Array(p.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < K; c++) out[i * K + c] = (1 - w) * p[i * K + c] + w * mean[of[i]][c] / counts[of[i]];
  return out;
}

const res = [];
for (const j of [...run.jobs, ...pairJobs(run)]) {
  const clf = trainCellClassifier({ rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows, seed, testFraction: 0, augmented: preparedCopies(j, 2) }).classifier;
  for (const lab of j.labs) {
    const def = classifyLab(clf, lab.rows, {});
    const z = standardise(lab.rows);
    const row = { lab: `${j.trainedOn} -> ${lab.name}`, inDomain: lab.kind === 'in-domain', role: isSelectionLab(lab, run.source) ? 'selection' : 'scoring', real: lab.kind !== 'synthetic', def: acc(def.proba, lab.labels) };
    for (const k of ks) {
      const of = kmeans(z, Math.min(k, lab.rows.length), createRng(1000 + k).next);
      for (const w of ws) row[`k${k}w${w}`] = acc(clusterBlend(def.proba, of, k, w), lab.labels);
    }
    res.push(row);
    console.log(row.lab.padEnd(32), row.role.padEnd(9), Object.entries(row).filter(([key]) => key === 'def' || key.startsWith('k')).map(([key, v]) => `${key} ${(100 * v).toFixed(1)}`).join('  '));
  }
}
const names = ['def', ...ks.flatMap((k) => ws.map((w) => `k${k}w${w}`))];
for (const v of names) {
  const out = res.filter((r) => !r.inDomain);
  const sel = out.filter((r) => r.role === 'selection');
  const sco = out.filter((r) => r.role === 'scoring');
  const real = out.filter((r) => r.real);
  const ind = res.find((r) => r.inDomain);
  const f = (x) => (100 * x).toFixed(1);
  console.log(v.padEnd(8), `in ${f(ind[v])} worstSel ${f(Math.min(...sel.map((r) => r[v])))} worstSco ${f(Math.min(...sco.map((r) => r[v])))} mean ${f(out.reduce((a, r) => a + r[v], 0) / out.length)} real ${f(real.reduce((a, r) => a + r[v], 0) / real.length)}`);
}
