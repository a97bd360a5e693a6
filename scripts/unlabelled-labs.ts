/**
 * docs/unlabelled-labs.md from the classify jobs scripts/unlabelled-labs.sh ran (their last JSON line each):
 * node dist/scripts/unlabelled-labs.js <jobs-dir> <doc> <dataset> [...]. What the job told its user about each lab
 * (no labels here, so no accuracy): the self-check's verdict and every check with its value and limits, and the
 * count, or the count it withheld.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from '../src/evaluation/report.js';

interface Verdict { check: string; status: string; value: number; warnAt: number; failAt: number; note: string }

const [dir, doc, ...datasets] = process.argv.slice(2);
if (!dir || !doc || !datasets.length) throw new Error('usage: unlabelled-labs.js <jobs-dir> <doc> <dataset> [...]');
const read = (name: string): any => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const mark: Record<string, string> = { failed: '✗ failed', warning: '! warning', passed: '✓ passed' };
// A check's value as its limits read it: shares and accuracies in %, distances as they are.
const value = (v: Verdict) => (v.check === 'class_mix' || v.check === 'estimated_mix' ? v.value.toFixed(2) : pct(v.value));

const m = machineInfo();
const out: string[] = [
  '# Real labs without labels: what the classify job tells its user',
  '',
  `Produced by \`scripts/unlabelled-labs.sh\` (${new Date().toISOString().slice(0, 10)}; ${m.cores} cores (${m.cpu}), Node ${m.node}): TXL-PBC's Raabin-WBC fields and BCDD crops (Gan & Li 2024, arXiv 2407.13214, MIT; the source images keep their own terms) imported, detected and classified by the product's jobs with the server's active classifier and the default stain step. These labs carry no white-cell types here: no accuracy can be given, only what the job says. The detector was trained on TXL-PBC, so its boxes are optimistic; the classifiers never saw these labs. The question (issue 17): on a lab none of us tuned for, does the product give a confident count, or say plainly that it cannot vouch for one?`,
  '',
  '| lab | images | cells | classifier | self-check | checks that fired (value; warn, fail) | count reported | the cells by best guess |',
  '| --- | ---: | ---: | --- | --- | --- | --- | --- |',
];
const notes: string[] = [];
for (const d of datasets) {
  const c = read(`${d}.classify.json`);
  const det = read(`${d}.detect.json`);
  const r = c.result;
  const check = r.selfCheck as { status: string; verdicts: Verdict[]; warning: string | null };
  const fired = check.verdicts.filter((v) => v.status !== 'passed').map((v) => `${v.check} ${v.status} (${value(v)}; ${v.check === 'class_mix' || v.check === 'estimated_mix' ? v.warnAt : pct(v.warnAt)}, ${v.check === 'class_mix' || v.check === 'estimated_mix' ? v.failAt : pct(v.failAt)})`);
  const counts = Object.entries(r.counts as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  // The class_mix verdict's note names the best-guess mix of the cells the checks looked at, also when the count is withheld.
  const mix = check.verdicts.find((v) => v.check === 'class_mix')?.note.match(/\(([^)]*%[^)]*)\)/)?.[1] ?? '—';
  const images = det.result?.images ?? det.result?.of ?? det.result?.itemFailures?.of ?? '';
  out.push(`| ${d} | ${images} | ${r.classified} | \`${r.classifierId.slice(0, 8)}\` | ${mark[check.status] ?? check.status} | ${fired.join('; ') || '—'} | ${counts || `withheld (${c.differential?.flagged ?? '?'} cells flagged)`} | ${mix} |`);
  notes.push(`- **${d}** (job \`${c.jobId}\`): ${check.warning ?? 'every check passed.'} Stain: ${r.stain?.note ?? '—'}.`);
}
out.push('', "What each job's result said, in its own words:", '', ...notes, '');
out.push('The checks and their limits: `docs/self-check.md`; the labelled labs the limits were set and scored on: `docs/unseen-labs.md`.', '');
writeFileSync(doc, out.join('\n'));
process.stderr.write(`wrote ${doc}\n`);
