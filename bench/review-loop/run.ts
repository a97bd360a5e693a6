// The review-loop benchmark (issue 20): `npm run bench:review-loop` (after `node dist/bench/review-loop/extract.js`
// has written the labs' cells). For BCCD and Zheng DS2, with their labels standing in for the reviewer: the
// accuracy on the cells nobody reviewed after 0, 10, 25 and 50 reviews, the product's queue against a random
// order over several seeds, beside the ceiling (5-fold cross-validation on all of the lab's own labels, the
// same morphology values). Writes a Markdown report (default bench/review-loop/RESULTS.md) and its JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ceiling, runLoop, type Lab, type LoopPoint, type Order } from './loop.js';
import { wilsonInterval } from '../../src/pipeline/metrics.js';
import { DEFAULT_REVIEW_SHARE } from '../../src/pipeline/defaults.js';
import type { FeatureFile } from './features.js';
import { QUEUE_DEFAULTS } from '../../src/services/review-order.js';
import { REVIEWED_STAIN_MOVE, REVIEWED_STAIN_PRIOR } from '../../src/pipeline/reviewed-cells.js';

const { values: a } = parseArgs({
  options: {
    features: { type: 'string', default: '/tmp/lg-results-work/review-loop/features.json' },
    seeds: { type: 'string', default: '5' },
    'first-seed': { type: 'string', default: '0' },
    budgets: { type: 'string', default: '10,25,50' },
    labs: { type: 'string', default: 'bccd,zheng-ds2' },
    share: { type: 'string', default: String(DEFAULT_REVIEW_SHARE) },
    embedding: { type: 'string', default: 'probabilities' },
    power: { type: 'string', default: String(QUEUE_DEFAULTS.uncertaintyPower) },
    stain: { type: 'string', default: 'lab' },
    'distance-cap': { type: 'string', default: String(QUEUE_DEFAULTS.distanceCap) },
    'review-move': { type: 'string', default: 'job' },
    'review-stain': { type: 'string', default: REVIEWED_STAIN_MOVE },
    'stain-prior': { type: 'string' },
    out: { type: 'string', default: 'bench/review-loop/RESULTS.md' },
    'no-augment': { type: 'boolean', default: false },
  },
  strict: true,
});

const file = JSON.parse(readFileSync(a.features!, 'utf8')) as FeatureFile;
const byName = new Map(file.labs.map((l) => [l.name, l]));
const source = byName.get('acevedo20')! as Lab;
const budgets = a.budgets!.split(',').map(Number);
const seeds = Array.from({ length: Number(a.seeds) }, (_, i) => Number(a['first-seed']) + i);
const share = Number(a.share);
const stainPrior = a['stain-prior'] === undefined ? REVIEWED_STAIN_PRIOR : Number(a['stain-prior']);
const augment = !a['no-augment'];
const copies = augment ? (source.augmented?.[0]?.copies ?? 0) : 0;
const t0 = performance.now();
const load0 = loadavg()[0]!;

/** Mean and a t-interval (95 %) over seeds. */
function meanCi(v: number[]): { mean: number; lo: number; hi: number } {
  const n = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const t = [0, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26][n - 1] ?? 2.0;
  return { mean, lo: mean - (t * sd) / Math.sqrt(n), hi: mean + (t * sd) / Math.sqrt(n) };
}
const pct = (x: number) => (100 * x).toFixed(1);

/** The lab's cells right after review, reviewed cells counted with the class they were given: mean over seeds. */
const whole = (runs: LoopPoint[][], k: number) => runs.reduce((a, run) => a + (run[k]!.correct + run[k]!.reviews) / (run[k]!.n + run[k]!.reviews), 0) / runs.length;

const results: Record<string, { ceiling: { accuracy: number; n: number; ci: [number, number] }; runs: Record<Order, LoopPoint[][]> }> = {};
const lines: string[] = [];
for (const name of a.labs!.split(',')) {
  const lab = byName.get(name) as Lab | undefined;
  if (!lab) throw new Error(`no lab ${name} in ${a.features}`);
  const ceil = ceiling(lab, 0);
  const runs: Record<Order, LoopPoint[][]> = { queue: [], random: [] };
  for (const seed of seeds) {
    for (const order of ['queue', 'random'] as const) {
      runs[order].push(runLoop(source, lab, budgets, order, seed, { share, embedding: a.embedding as 'probabilities' | 'morphology', uncertaintyPower: Number(a.power), stain: a.stain as 'lab' | 'measure', distanceCap: Number(a['distance-cap']), reviewMove: a['review-move'] as 'job' | 'adaptive' | 'select', reviewStain: a['review-stain'] as 'labelled' | 'job', stainPrior, augment }));
      const last = runs[order].at(-1)!;
      console.error(`${name} seed ${seed} ${order}: ${last.map((p) => `${p.reviews}:${pct(p.accuracy)}`).join(' ')}`);
    }
  }
  results[name] = { ceiling: { accuracy: ceil.accuracy, n: ceil.n, ci: wilsonInterval(ceil.correct, ceil.n) }, runs };
}

const counts = (l: Lab) => Object.entries(l.labels.reduce<Record<string, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {})).map(([c, n]) => `${c} ${n}`).join(', ');
lines.push(
  '# Review loop: accuracy on the cells nobody reviewed, queue order against random',
  '',
  `Command: \`npm run build && nice -n 10 node dist/bench/review-loop/extract.js && nice -n 10 node dist/bench/review-loop/run.js --seeds ${seeds.length}${seeds[0] ? ` --first-seed ${seeds[0]}` : ''}${augment ? '' : ' --no-augment'}\` ` +
    `(training-time augmentation: ${augment ? `${copies} augmented copies of each source cell, made with each run's seed` : 'none'}; share of the training weight given to reviewed cells: ${share}; stain move of the reviewed lab: ${a['review-stain']}` +
    `${a['review-stain'] === 'labelled' ? `, ${stainPrior} pseudo-reviews for the classify job's move` : ''}; queue uncertainty power ${a.power}, distance cap ${a['distance-cap']}). Machine: ${cpus().length} x ${cpus()[0]?.model.trim()}, no GPU, ` +
    `shared with other work (load average ${load0.toFixed(1)} at the start); ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  '',
  'What runs, per lab and seed (`bench/review-loop/loop.ts`): the morphology classifier trained on Acevedo-20 as `trainClassifier` trains it ' +
    `(${source.x.length} cells: ${counts(source)}` +
    `${augment ? `, each also as ${copies} seeded, randomly transformed copies of its crop (\`augmentCrop\`, \`src/pipeline/augment.ts\`, seeded by the run's seed and \`cellSeed\` of the cell's id), which join the forest's training rows with the cell's class` : '; no augmented copies'}); the lab classified as \`classifyCells\` classifies it (stain step AUTO); then reviews in steps ` +
    `(to ${budgets.join(', ')}): the next cells picked by the review queue (\`src/services/review-order.ts\`, on the current classifier's verdicts) or ` +
    'in a seeded random order; the lab\'s own label of each picked cell given as the review; the classifier retrained with the reviewed cells ' +
    (a['review-stain'] === 'labelled'
      ? '(moved onto the source\'s stain by the move they tell: each reviewed cell\'s distance from the source\'s median of its class, the median of those ' +
        'over the reviewed cells pooled with the move of the lab\'s first classify job as n reviews against the pseudo-reviews above, `reviewedStainOffsets` ' +
        'in `src/pipeline/reviewed-cells.ts`; repeated so that they weigh the share above of all training rows, augmented copies included: `src/pipeline/reviewed-cells.ts`) '
      : '(moved onto the source\'s stain by the move of the lab\'s first classify job, as `trainClassifier` moves them; not augmented, as in `trainClassifier`; repeated so that they weigh the share above of all training rows, augmented copies included: `src/pipeline/reviewed-cells.ts`) ') +
    'and the lab classified again, moved by the same move (as a classify job with that classifier moves it: `src/engine/reviewed-stain.ts`). Accuracy is over the cells not reviewed (the top class, flagged cells included). ' +
    'Seeds change the forests and the random order. Intervals: 95 % t-intervals of the mean over seeds; the ceiling\'s: Wilson.',
  '',
  'Read with care: the queue takes the hard cells out of the cells scored (that is its purpose), so part of its lead in the "queue" column is an easier ' +
    'remainder; the last column scores every cell of the lab, each reviewed cell counted with the class it was given, the same cells for both orders.',
  '',
  'The ceiling: 5-fold stratified cross-validation of the same forest (100 trees, depth 16) on all of the lab\'s own labelled cells, the same morphology values (no source cells, no augmented copies).',
  '',
);
for (const [name, r] of Object.entries(results)) {
  const lab = byName.get(name)!;
  lines.push(`## ${name} (${lab.x.length} cells: ${counts(lab as Lab)})`, '');
  lines.push(`Ceiling (5-fold CV on the lab's own labels): **${pct(r.ceiling.accuracy)} %** (${pct(r.ceiling.ci[0])}-${pct(r.ceiling.ci[1])}, n = ${r.ceiling.n})`, '');
  lines.push('| reviews | cells scored | queue | random | queue - random | queue vs ceiling | whole lab after review: queue / random |', '| --- | --- | --- | --- | --- | --- | --- |');
  const steps = r.runs.queue[0]!.map((p) => p.reviews);
  steps.forEach((reviews, k) => {
    const q = meanCi(r.runs.queue.map((run) => run[k]!.accuracy));
    const rd = meanCi(r.runs.random.map((run) => run[k]!.accuracy));
    const diff = meanCi(r.runs.queue.map((run, s) => run[k]!.accuracy - r.runs.random[s]![k]!.accuracy));
    lines.push(
      `| ${reviews} | ${r.runs.queue[0]![k]!.n} | ${pct(q.mean)} (${pct(q.lo)}-${pct(q.hi)}) | ${pct(rd.mean)} (${pct(rd.lo)}-${pct(rd.hi)}) | ` +
        `${diff.mean >= 0 ? '+' : ''}${pct(diff.mean)} (${pct(diff.lo)} to ${pct(diff.hi)}) | ${pct(q.mean - r.ceiling.accuracy)} | ${pct(whole(r.runs.queue, k))} / ${pct(whole(r.runs.random, k))} |`,
    );
  });
  lines.push('');
}
writeFileSync(a.out!, lines.join('\n') + '\n');
writeFileSync(a.out!.replace(/\.md$/, '.json'), JSON.stringify({ augmentCopies: copies, share, stainPrior, reviewStain: a['review-stain'], power: Number(a.power), seeds, budgets, results }, null, 1));
console.error(`wrote ${a.out}`);
