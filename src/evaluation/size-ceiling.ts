// How far a classifier trained on a small lab could go if crossing labs cost nothing (issue 17). A leave-one-lab-out
// row trained on BCCD (341 cells, 2 of them basophils) scores labs whose cells are a fifth basophils: part of what it
// misses is no shift at all but its training lab's size and class mix. For each such row this fits a classifier as
// the page fits one, on source cells drawn at the training lab's size and class mix, and scores it through the classify
// job's path on held-out source cells drawn at the scored lab's mix: same lab, camera and stain. The page shows it
// beside what the row reads: a row far below its ceiling loses to the shift, one near it to its training lab's size
// and mix. It is what these values give at that size and mix with nothing to cross, not a proof that no method
// could pass it.
import { trainCellClassifier, type ClassifierTrainingInput } from '../pipeline/classifier-training.js';
import { classifyLab } from '../pipeline/lab-classification.js';
import { wilsonInterval } from '../pipeline/metrics.js';
import { argmaxRows } from '../engine/classifier/random-forest.js';
import { createRng, mixSeed, shuffleInPlace, type Rng } from '../engine/classifier/rng.js';
import { ci, countsText, p1, pairJobs, preparedCopies, type LabScore, type PreparedRun } from './unseen-labs.js';

export interface SizeCeiling {
  trainedOn: string;
  lab: string;
  /** Cells per class drawn for training (the training lab's) and for scoring (the scored lab's). */
  trainCounts: Record<string, number>;
  scoreCounts: Record<string, number>;
  /** Accuracy over every draw's scored cells, its 95 % Wilson interval, and each draw's own. */
  accuracy: number;
  ci95: [number, number];
  draws: number[];
}

export interface SizeCeilingOptions extends Pick<ClassifierTrainingInput, 'trees' | 'maxDepth' | 'minSamplesLeaf' | 'maxFeatures' | 'augmentWeight' | 'plainTreeShare' | 'balanced'> {
  /** Augmented copies per training cell, as the page's classifiers have. */
  copies: number;
  /** Draws per row (default 5); draw d fits with forest seed seed + d. */
  draws?: number;
  seed?: number;
}

const countsOf = (labels: readonly string[], classes: readonly string[]) => Object.fromEntries(classes.map((c) => [c, labels.filter((l) => l === c).length]));

/** `counts[c]` indices of each class, drawn without replacement. */
function drawAt(labels: readonly string[], counts: Record<string, number>, rng: Rng, what: string): number[] {
  return Object.entries(counts).flatMap(([c, n]) => {
    const of = labels.flatMap((l, i) => (l === c ? [i] : []));
    if (n > of.length) throw new Error(`size ceiling: ${what} needs ${n} ${c} cells, the source has ${of.length}`);
    return shuffleInPlace(of, rng).slice(0, n);
  });
}

/** Every row of the run (pairs included) trained without the source lab, on each real lab it scores. */
export function sizeCeilings(run: PreparedRun, opts: SizeCeilingOptions): SizeCeiling[] {
  const { classes } = run;
  const src = run.jobs.find((j) => j.trainedOn === run.source);
  const heldOut = src?.labs.find((l) => l.kind === 'in-domain');
  if (!src || !heldOut) throw new Error(`size ceiling: the run has no ${run.source} classifier with held-out cells`);
  const copies = preparedCopies(src, opts.copies);
  const seed = opts.seed ?? 0;
  const nDraws = opts.draws ?? 5;
  const out: SizeCeiling[] = [];
  for (const j of [...run.jobs, ...pairJobs(run)].filter((x) => !x.trainedOn.split('+').includes(run.source))) {
    const trainCounts = countsOf(j.labels, classes);
    for (const lab of j.labs.filter((l) => l.kind === 'real')) {
      // Held-out source cells scored at the lab's class mix; the source itself, as it is.
      const scoreCounts = countsOf(lab.name === run.source ? heldOut.labels : lab.labels, classes);
      const draws: number[] = [];
      let right = 0;
      let n = 0;
      for (let d = 0; d < nDraws; d++) {
        const rng = createRng(mixSeed(seed + d, out.length));
        const pick = drawAt(src.labels, trainCounts, rng, `${j.trainedOn}'s training mix`);
        const at = new Map(pick.map((i, k) => [i, k]));
        const keep = copies ? copies.of.flatMap((o, k) => (at.has(o) ? [k] : [])) : [];
        const clf = trainCellClassifier({
          rows: pick.map((i) => src.rows[i]!), labels: pick.map((i) => src.labels[i]!), stainRows: pick.map((i) => src.rows[i]!),
          classNames: classes, features: 'morphology', classMap: 'common5', seed: seed + d, testFraction: 0,
          trees: opts.trees, maxDepth: opts.maxDepth, minSamplesLeaf: opts.minSamplesLeaf, maxFeatures: opts.maxFeatures,
          augmentWeight: opts.augmentWeight, plainTreeShare: opts.plainTreeShare, balanced: opts.balanced,
          augmented: keep.length ? { rows: keep.map((k) => copies!.rows[k]!), of: keep.map((k) => at.get(copies!.of[k]!)!) } : undefined,
        }).classifier;
        const test = drawAt(heldOut.labels, scoreCounts, rng, `${lab.name}'s mix`);
        // The classifier predicts only the classes it saw (a mix without basophils: four columns).
        const top = argmaxRows(classifyLab(clf, test.map((i) => heldOut.rows[i]!), {}).proba, clf.classNames.length);
        const ok = test.filter((i, k) => clf.classNames[top[k]!] === heldOut.labels[i]).length;
        draws.push(ok / test.length);
        right += ok;
        n += test.length;
      }
      out.push({ trainedOn: j.trainedOn, lab: lab.name, trainCounts, scoreCounts, accuracy: right / n, ci95: wilsonInterval(right, n), draws });
    }
  }
  return out;
}

/** The page's section: each row's ceiling beside what the default step reads on it (`scores`: the default step's). */
export function renderSizeCeilings(ceilings: readonly SizeCeiling[], scores: readonly LabScore[], command: string): string {
  const lines = [
    '### How far each small training lab could go with no lab shift at all',
    '',
    `Each row trained on a lab other than the source, refitted as above on source cells drawn at its training lab's size and class mix, and ` +
      `scored through the same path on held-out source cells drawn at the scored lab's mix (same lab, camera and stain; ` +
      `${ceilings[0]?.draws.length ?? 0} draws, the interval over every draw's cells; \`src/evaluation/size-ceiling.ts\`, \`${command}\`). ` +
      'It is what the classifier gives at that training size and mix with no shift to cross: a row far below it loses to the shift, ' +
      'a row near it to its training lab\'s size and mix (a lab with 2 basophils reads almost none). It is what these values give at that ' +
      'size and mix with nothing to cross, not a proof that no method could pass it.',
    '',
    '| trained on -> lab | trained at | scored at | the default reads | with no shift at all | draws |',
    '| --- | --- | --- | ---: | ---: | --- |',
  ];
  for (const c of ceilings) {
    const s = scores.find((x) => x.trainedOn === c.trainedOn && x.lab === c.lab);
    lines.push(`| ${c.trainedOn} -> ${c.lab} | ${countsText(c.trainCounts)} | ${countsText(c.scoreCounts)} | ${s ? `${p1(s.accuracy)} % (${ci(s.ci95)})` : '—'} | ${p1(c.accuracy)} % (${ci(c.ci95)}) | ${ci([Math.min(...c.draws), Math.max(...c.draws)])} % |`);
  }
  return lines.join('\n');
}
