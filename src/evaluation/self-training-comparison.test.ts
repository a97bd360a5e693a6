import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepared } from './unseen-labs.fixture.js';
import { ruleOverSeeds, scoreUnseenLabs, type UnseenLabsReport } from './unseen-labs.js';
import { renderSelfTrainingComparison, selfTrainingVerdict } from './self-training-comparison.js';

const run = prepared();
const ruled = (selfTraining: boolean): UnseenLabsReport => {
  const reports = [1, 2].map((seed) => scoreUnseenLabs(run, { seed, trees: 5, maxDepth: 6, augmentCopies: 1, steps: ['ensemble'], selfTraining }));
  return { ...reports[0]!, rule: ruleOverSeeds(reports) };
};
const base = ruled(false);
const self = ruled(true);

test('a self-trained report scores every lab through self-training, its classifiers carrying their cells; the default does not', () => {
  assert.equal(base.settings.selfTraining, false);
  assert.equal(self.settings.selfTraining, true);
  assert.deepEqual(self.scores.map((s) => `${s.trainedOn} -> ${s.lab}`), base.scores.map((s) => `${s.trainedOn} -> ${s.lab}`));
  // The self-check is the first classification's in both: the same verdict on every lab.
  assert.deepEqual(self.scores.map((s) => s.check), base.scores.map((s) => s.check));
  // Every lab here is shifted from its training lab (the augmented forest reads it): each was self-trained, and some probability moved.
  assert.ok(self.scores.some((s, i) => s.meanConfidence !== base.scores[i]!.meanConfidence), 'self-training changed the probabilities');
});

test("the comparison reads the page's rule over the two candidates, and says which one it keeps", () => {
  const v = selfTrainingVerdict(base, self, 'ensemble');
  assert.deepEqual(v.seeds, [1, 2]);
  assert.deepEqual(v.default.worstBySeed, base.rule!.steps[0]!.worstBySeed);
  assert.deepEqual(v.selfTrained.worstBySeed, self.rule!.steps[0]!.worstBySeed);
  const md = renderSelfTrainingComparison(base, self, 'ensemble');
  assert.match(md, /^## Self-trained against the default, on the same rows/);
  assert.equal(md.split('\n').filter((l) => /^\| \S+ -> \S+ \| (selection|scoring) \|/.test(l)).length, base.scores.length);
  assert.match(md, v.chosen === 'default' ? /The page's rule keeps the default/ : /The page's rule takes self-training/);
  // The rule's arithmetic on made-up candidates (this fixture has no selection lab): a worse worst selection lab loses
  // whatever its mean; within half a point, the better mean wins.
  const withRule = (r: UnseenLabsReport, worst: number, mean: number): UnseenLabsReport => ({ ...r, rule: { ...r.rule!, steps: [{ ...r.rule!.steps[0]!, worst, mean }] } });
  const b0 = withRule(base, 0.73, 0.8);
  assert.equal(selfTrainingVerdict(b0, withRule(self, 0.713, 0.816), 'ensemble').chosen, 'default');
  assert.equal(selfTrainingVerdict(b0, withRule(self, 0.75, 0.7), 'ensemble').chosen, 'self-trained');
  assert.equal(selfTrainingVerdict(b0, withRule(self, 0.726, 0.81), 'ensemble').chosen, 'self-trained');
  assert.equal(selfTrainingVerdict(b0, withRule(self, 0.726, 0.79), 'ensemble').chosen, 'default');
  assert.match(renderSelfTrainingComparison(b0, withRule(self, 0.713, 0.816), 'ensemble'), /The page's rule keeps the default\*\* \(self-training off unless asked\): its worst selection lab over the seeds, 73\.0 %, against 71\.3 % self-trained/);
  assert.throws(() => selfTrainingVerdict(self, base, 'ensemble'), /give the default report, then the self-trained one/);
  assert.throws(() => selfTrainingVerdict(base, self, 'none'), /no step none/);
});

test('the committed docs/unseen-labs-self-trained.json chose what the classify job does unless told', async () => {
  // As docs/unseen-labs.json holds DEFAULT_STAIN_STEP: self-training made the default (or left off) without the page's
  // rule saying so is caught here.
  const { readFileSync } = await import('node:fs');
  const { SELF_TRAINING_BY_DEFAULT } = await import('../pipeline/defaults.js');
  const { DEFAULT_STAIN_STEP } = await import('../engine/classifier/stain-steps.js');
  const page = JSON.parse(readFileSync(new URL('../../../docs/unseen-labs-self-trained.json', import.meta.url), 'utf8')) as UnseenLabsReport & { selfTrainingVerdict: ReturnType<typeof selfTrainingVerdict> };
  assert.equal(page.settings.selfTraining, true);
  assert.equal(page.selfTrainingVerdict.step, DEFAULT_STAIN_STEP);
  assert.ok(page.selfTrainingVerdict.seeds.length >= 2, 'read over forest seeds');
  assert.equal(page.selfTrainingVerdict.chosen, SELF_TRAINING_BY_DEFAULT ? 'self-trained' : 'default');
});
