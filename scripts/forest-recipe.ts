/**
 * The table of docs/forest-recipe.md (issue 17: in-domain >= 98 % without losing the worst lab): one row per
 * scripts/unseen.sh run (its OUT_DIR holding unseen-labs.json), read at the default stain step.
 * Usage: node dist/scripts/forest-recipe.js NAME=DIR [NAME=DIR ...]   (scripts/forest-recipe.sh runs the recipes)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UnseenLabsReport } from '../src/evaluation/unseen-labs.js';
import { DEFAULT_STAIN_STEP } from '../src/engine/classifier/stain-steps.js';

const p1 = (v: number) => (100 * v).toFixed(1);
const lines = [
  `| recipe | in-domain % (95 % interval) | worst selection lab % | worst scoring lab % | mean over the other labs % | source fit s | source model kB gz |`,
  `| --- | ---: | ---: | --- | ---: | ---: | ---: |`,
];
for (const arg of process.argv.slice(2)) {
  const [name, dir] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, arg];
  const r = JSON.parse(readFileSync(join(dir!, 'unseen-labs.json'), 'utf8')) as UnseenLabsReport;
  const s = r.summary.find((x) => x.step === DEFAULT_STAIN_STEP)!;
  const ind = r.scores.find((x) => x.kind === 'in-domain' && x.step === DEFAULT_STAIN_STEP)!;
  const sel = r.scores.filter((x) => x.step === DEFAULT_STAIN_STEP && x.role === 'selection' && x.kind !== 'in-domain');
  const worstSel = sel.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
  lines.push(
    `| ${name} | ${p1(ind.accuracy)} (${p1(ind.ci95[0])}-${p1(ind.ci95[1])}) | ${p1(s.selectionWorst)} (${worstSel.trainedOn} -> ${worstSel.lab}) | ` +
      `${p1(s.scoringWorst.accuracy)} (${s.scoringWorst.lab}) | ${p1(s.mean)} | ${r.timings.fitSource?.toFixed(1) ?? '—'} | ${r.settings.sourceModelBytes ? Math.round(r.settings.sourceModelBytes / 1000) : '—'} |`,
  );
}
process.stdout.write(lines.join('\n') + '\n');
