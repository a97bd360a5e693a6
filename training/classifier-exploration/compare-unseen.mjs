// Issue 17 exploration: two or more scripts/unseen.sh pages (their .json) side by side for one stain step (default
// ensemble): every lab's accuracy with its 95 % interval and self-check verdict, then the summary figures.
//   STEP=ensemble node training/classifier-exploration/compare-unseen.mjs docs/unseen-labs.json /tmp/unseen-ssl0/unseen-labs.json ...
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
const step = process.env.STEP ?? 'ensemble';
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const pct = (v) => (100 * v).toFixed(1);
const mark = { failed: '✗', warning: '!', passed: '✓' };
const key = (s) => `${s.trainedOn} -> ${s.lab}`;
const names = [...new Set(runs.flatMap((r) => r.scores.filter((s) => s.step === step).map(key)))];
console.log(`| lab | role | n | ${files.map((f, i) => `(${i + 1})`).join(' | ')} |`);
console.log(`| --- | --- | ---: | ${files.map(() => '---').join(' | ')} |`);
for (const k of names) {
  const cells = runs.map((r) => r.scores.find((s) => s.step === step && key(s) === k));
  const any = cells.find(Boolean);
  console.log(`| ${k} | ${any.role} | ${any.n} | ${cells.map((s) => (s ? `${pct(s.accuracy)} (${pct(s.ci95[0])}-${pct(s.ci95[1])}) ${mark[s.check] ?? s.check}` : '—')).join(' | ')} |`);
}
const rows = [
  ['in-domain', (s) => pct(s.inDomain)],
  ['worst selection lab', (s) => pct(s.selectionWorst)],
  ['worst scoring lab', (s) => `${pct(s.scoringWorst.accuracy)} (${pct(s.scoringWorst.ci95[0])}-${pct(s.scoringWorst.ci95[1])}), ${s.scoringWorst.lab}`],
  ['mean over the other labs', (s) => pct(s.mean)],
  ['labs under 75 % without a failed check', (s) => (s.belowGoalSilent.length ? s.belowGoalSilent.join(', ') : 'none')],
  ['false alarms', (s) => String(s.falseAlarms.length)],
];
console.log(`\n| ${step} | ${files.map((f, i) => `(${i + 1})`).join(' | ')} |`);
console.log(`| --- | ${files.map(() => '---').join(' | ')} |`);
for (const [name, f] of rows) console.log(`| ${name} | ${runs.map((r) => f(r.summary.find((s) => s.step === step))).join(' | ')} |`);
const rule = runs.map((r) => r.rule?.steps?.find((s) => s.step === step));
if (rule.every(Boolean)) console.log(`| worst selection lab over forest seeds ${runs[0].rule.seeds.join(', ')} | ${rule.map((s) => `${pct(s.worst)} (${s.worstBySeed.map(pct).join(' / ')})`).join(' | ')} |`);
files.forEach((f, i) => console.log(`(${i + 1}) ${f}`));
