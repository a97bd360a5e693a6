// The self-trained page's comparison (scripts/unseen.sh with SELF_TRAINING=1): the same rows scored by the default path
// and by the default path self-trained (pipeline/self-training.ts), lab by lab, and the page's rule (pickByWorst: the
// best worst selection lab over the forest seeds; within half a point of it, the best mean) applied to the two. Whether
// self-training becomes the default is read here, from the rule fixed before, not from any one lab.
import { ci, p1, pickByWorst, type LabScore, type UnseenLabsReport } from './unseen-labs.js';
import type { StainStep } from '../engine/classifier/stain-steps.js';

export interface SelfTrainingVerdict {
  step: StainStep;
  seeds: number[];
  /** Per candidate: the worst selection lab at each seed, its worst over the seeds, the mean over the other labs (seeds' mean). */
  default: { worstBySeed: number[]; worst: number; mean: number };
  selfTrained: { worstBySeed: number[]; worst: number; mean: number };
  chosen: 'default' | 'self-trained';
}

/** The rule over the two candidates at `step`: each report's own rule over seeds when it has one, else its one seed. */
export function selfTrainingVerdict(base: UnseenLabsReport, self: UnseenLabsReport, step: StainStep): SelfTrainingVerdict {
  if (!self.settings.selfTraining || base.settings.selfTraining) throw new Error('self-training comparison: give the default report, then the self-trained one');
  const of = (r: UnseenLabsReport) => {
    const ruled = r.rule?.steps.find((x) => x.step === step);
    if (ruled) return { seeds: r.rule!.seeds, worstBySeed: ruled.worstBySeed, worst: ruled.worst, mean: ruled.mean };
    const s = r.summary.find((x) => x.step === step);
    if (!s) throw new Error(`self-training comparison: the report has no step ${step}`);
    return { seeds: [r.settings.seed], worstBySeed: [s.selectionWorst], worst: s.selectionWorst, mean: s.mean };
  };
  const a = of(base);
  const b = of(self);
  if (a.seeds.join() !== b.seeds.join()) throw new Error(`self-training comparison: seeds ${a.seeds.join(', ')} against ${b.seeds.join(', ')}`);
  const chosen = pickByWorst([{ name: 'default' as const, worst: a.worst, mean: a.mean }, { name: 'self-trained' as const, worst: b.worst, mean: b.mean }]).name;
  return { step, seeds: a.seeds, default: { worstBySeed: a.worstBySeed, worst: a.worst, mean: a.mean }, selfTrained: { worstBySeed: b.worstBySeed, worst: b.worst, mean: b.mean }, chosen };
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, v) => a + v, 0) / xs.length : NaN);

/** The page's section: lab by lab at the report's seed, the summary, and the rule's verdict. */
export function renderSelfTrainingComparison(base: UnseenLabsReport, self: UnseenLabsReport, step: StainStep): string {
  const v = selfTrainingVerdict(base, self, step);
  const at = (r: UnseenLabsReport) => r.scores.filter((s) => s.step === step);
  const key = (s: LabScore) => `${s.trainedOn} -> ${s.lab}`;
  const selfOf = new Map(at(self).map((s) => [key(s), s]));
  const rows = at(base);
  const lines = [
    '## Self-trained against the default, on the same rows',
    '',
    `The default (the classify job as it runs unless asked) and the same path self-trained (\`selfTraining: true\`), stain step ${step}, ` +
      `each classifier fitted at forest seed ${base.settings.seed}. Accuracy, % (95 % interval); ✗ the self-check failed (the first classification's, in both).`,
    '',
    '| trained on -> lab | role | n | default | self-trained | change |',
    '| --- | --- | ---: | --- | --- | ---: |',
  ];
  const mark = (s: LabScore) => (s.check === 'failed' ? ' ✗' : '');
  for (const s of rows) {
    const t = selfOf.get(key(s));
    if (!t) throw new Error(`self-training comparison: ${key(s)} is not in the self-trained report`);
    const d = 100 * (t.accuracy - s.accuracy);
    lines.push(`| ${key(s)} | ${s.role} | ${s.n} | ${p1(s.accuracy)} (${ci(s.ci95)})${mark(s)} | ${p1(t.accuracy)} (${ci(t.ci95)})${mark(t)} | ${d > 0 ? '+' : ''}${d.toFixed(1)} |`);
  }
  const out = (r: UnseenLabsReport) => at(r).filter((s) => s.kind !== 'in-domain');
  const worstOf = (ss: LabScore[]) => ss.reduce((a, s) => (s.accuracy < a.accuracy ? s : a));
  const cell = (r: UnseenLabsReport, f: (ss: LabScore[]) => string) => f(out(r));
  const scoring = (ss: LabScore[]) => {
    const w = worstOf(ss.filter((s) => s.role === 'scoring'));
    return `${p1(w.accuracy)} % (${ci(w.ci95)}), ${key(w)}`;
  };
  const bySeed = (c: SelfTrainingVerdict['default']) => `${p1(c.worst)} % (${c.worstBySeed.map(p1).join(' / ')})`;
  const inDomain = (r: UnseenLabsReport) => at(r).find((s) => s.kind === 'in-domain');
  lines.push(
    '',
    '| | default | self-trained |',
    '| --- | --- | --- |',
    `| worst selection lab over forest seeds ${v.seeds.join(', ')} (each seed's) | ${bySeed(v.default)} | ${bySeed(v.selfTrained)} |`,
    `| mean over the other labs (the seeds' mean) | ${p1(v.default.mean)} % | ${p1(v.selfTrained.mean)} % |`,
    `| worst scoring lab (seed ${base.settings.seed}) | ${cell(base, scoring)} | ${cell(self, scoring)} |`,
    `| mean over the real labs (seed ${base.settings.seed}) | ${cell(base, (ss) => `${p1(mean(ss.filter((s) => s.kind === 'real').map((s) => s.accuracy)))} %`)} | ${cell(self, (ss) => `${p1(mean(ss.filter((s) => s.kind === 'real').map((s) => s.accuracy)))} %`)} |`,
    `| in-domain (seed ${base.settings.seed}) | ${inDomain(base) ? `${p1(inDomain(base)!.accuracy)} %` : '—'} | ${inDomain(self) ? `${p1(inDomain(self)!.accuracy)} %` : '—'} |`,
    `| labs under 75 % whose self-check did not fail | ${cell(base, (ss) => String(ss.filter((s) => s.accuracy < 0.75 && s.check !== 'failed').length))} | ${cell(self, (ss) => String(ss.filter((s) => s.accuracy < 0.75 && s.check !== 'failed').length))} |`,
    `| labs at 75 % or more whose self-check failed | ${cell(base, (ss) => String(ss.filter((s) => s.accuracy >= 0.75 && s.check === 'failed').length))} | ${cell(self, (ss) => String(ss.filter((s) => s.accuracy >= 0.75 && s.check === 'failed').length))} |`,
    '',
    v.chosen === 'default'
      ? `**The page's rule keeps the default** (self-training off unless asked): its worst selection lab over the seeds, ${p1(v.default.worst)} %, against ${p1(v.selfTrained.worst)} % self-trained.`
      : `**The page's rule takes self-training** (worst selection lab over the seeds ${p1(v.selfTrained.worst)} % against the default's ${p1(v.default.worst)} %, or within half a point with the better mean): the default is out of date. Make \`selfTraining\` the classify job's default, with classifiers that carry their training cells, or say here why not.`,
    '',
  );
  return lines.join('\n');
}
