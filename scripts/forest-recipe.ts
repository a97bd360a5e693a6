/**
 * The tables of docs/forest-recipe.md (issue 17: in-domain >= 98 % without losing the worst lab), from
 * scripts/unseen.sh runs (each OUT_DIR holding unseen-labs.json), read at the default stain step.
 * Usage: node dist/scripts/forest-recipe.js NAME=DIR [NAME=DIR ...]   (scripts/forest-recipe.sh runs the recipes)
 * - one row per run;
 * - runs named RECIPE-sN (forest seed N): per recipe, the mean over its seeds and the range;
 * - LABS=recipe,recipe,...: each lab's accuracy per recipe, the mean over its seeds;
 * - ROUTE=plain,augmented,limit: what a classifier would score that used the `plain` recipe's forest on a lab whose
 *   stain shift (the stain step's statistic) is at most `limit` and the `augmented` recipe's elsewhere, per seed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabScore, UnseenLabsReport } from '../src/evaluation/unseen-labs.js';
import { DEFAULT_STAIN_STEP } from '../src/engine/classifier/stain-steps.js';

const p1 = (v: number) => (100 * v).toFixed(1);
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const span = (v: readonly number[]) => `${p1(mean(v))} (${p1(Math.min(...v))}-${p1(Math.max(...v))})`;
const runs = new Map<string, UnseenLabsReport>();
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf('=');
  const [name, dir] = at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, arg];
  runs.set(name, JSON.parse(readFileSync(join(dir, 'unseen-labs.json'), 'utf8')) as UnseenLabsReport);
}
const scoresOf = (r: UnseenLabsReport) => r.scores.filter((x) => x.step === DEFAULT_STAIN_STEP);

/** In-domain, worst selection and worst scoring lab of a set of scores (one classifier recipe, one seed). */
function headline(scores: readonly LabScore[], accuracy: (s: LabScore) => number = (s) => s.accuracy) {
  const out = scores.filter((s) => s.kind !== 'in-domain');
  const worst = (role: LabScore['role']) => out.filter((s) => s.role === role).reduce((a, b) => (accuracy(b) < accuracy(a) ? b : a));
  const ind = scores.find((s) => s.kind === 'in-domain')!;
  const [sel, sco] = [worst('selection'), worst('scoring')];
  return { ind, inDomain: accuracy(ind), sel, selection: accuracy(sel), sco, scoring: accuracy(sco), mean: mean(out.map(accuracy)) };
}

const lines = [
  '| recipe | in-domain % (95 % interval) | worst selection lab % | worst scoring lab % | mean over the other labs % | source fit s | source model kB gz |',
  '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
];
const bySeed = new Map<string, Array<ReturnType<typeof headline> & { fit: number; bytes: number }>>();
for (const [name, r] of runs) {
  const h = headline(scoresOf(r));
  const fit = r.timings.fitSource ?? NaN;
  const bytes = r.settings.sourceModelBytes ?? NaN;
  const seeded = /^(.*)-s\d+$/.exec(name);
  if (seeded) (bySeed.get(seeded[1]!) ?? bySeed.set(seeded[1]!, []).get(seeded[1]!)!).push({ ...h, fit, bytes });
  lines.push(
    `| ${name} | ${p1(h.inDomain)} (${p1(h.ind.ci95[0])}-${p1(h.ind.ci95[1])}) | ${p1(h.selection)} (${h.sel.trainedOn} -> ${h.sel.lab}) | ` +
      `${p1(h.scoring)} (${h.sco.trainedOn} -> ${h.sco.lab}) | ${p1(h.mean)} | ${fit.toFixed(1)} | ${Math.round(bytes / 1000)} |`,
  );
}
if (bySeed.size) {
  lines.push('', '| recipe | forest seeds | in-domain % mean (range) | worst selection lab % mean (range) | worst scoring lab % mean (range) | mean over the other labs % | source fit s | source model kB gz |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, rs] of bySeed) {
    lines.push(
      `| ${name} | ${rs.length} | ${span(rs.map((x) => x.inDomain))} | ${span(rs.map((x) => x.selection))} | ${span(rs.map((x) => x.scoring))} | ` +
        `${p1(mean(rs.map((x) => x.mean)))} | ${mean(rs.map((x) => x.fit)).toFixed(1)} | ${Math.round(mean(rs.map((x) => x.bytes)) / 1000)} |`,
    );
  }
}
const seedsOf = (recipe: string) => [...runs.keys()].filter((n) => n.startsWith(`${recipe}-s`) && /^\d+$/.test(n.slice(recipe.length + 2)));
if (process.env.LABS) {
  const recipes = process.env.LABS.split(',');
  const perLab = new Map<string, Map<string, number[]>>();
  for (const recipe of recipes) for (const n of seedsOf(recipe)) for (const s of scoresOf(runs.get(n)!)) {
    const key = `${s.trainedOn} -> ${s.lab} (${s.role})`;
    const m = perLab.get(key) ?? perLab.set(key, new Map()).get(key)!;
    (m.get(recipe) ?? m.set(recipe, []).get(recipe)!).push(s.accuracy);
  }
  lines.push('', `| lab (role) | ${recipes.map((r) => `${r} (${seedsOf(r).length} seeds)`).join(' | ')} |`, `| --- | ${recipes.map(() => '---:').join(' | ')} |`);
  for (const [lab, m] of perLab) lines.push(`| ${lab} | ${recipes.map((r) => (m.get(r) ? p1(mean(m.get(r)!)) : '—')).join(' | ')} |`);
}
if (process.env.ROUTE) {
  const [plain, augmented, limitText] = process.env.ROUTE.split(',');
  const limit = Number(limitText);
  lines.push('', `| forest seed | routed in-domain % | routed worst selection lab % | routed worst scoring lab % | labs given the ${plain} forest |`, '| ---: | ---: | ---: | ---: | --- |');
  const all: Array<ReturnType<typeof headline>> = [];
  for (const n of seedsOf(augmented!)) {
    const seed = n.slice(augmented!.length + 2);
    const p = runs.get(`${plain}-s${seed}`);
    if (!p) continue;
    const twin = (s: LabScore) => scoresOf(p).find((x) => x.lab === s.lab && x.trainedOn === s.trainedOn)!;
    // The stain step's median shift (the same cells under either forest): its own field; a JSON written before
    // LabScore carried stainShift has it only in the note's words.
    const shift = (s: LabScore) => s.stainShift ?? Number(/shift ([0-9.]+)/.exec(s.note)?.[1] ?? Infinity);
    const routed = (s: LabScore) => (shift(s) <= limit ? twin(s).accuracy : s.accuracy);
    const h = headline(scoresOf(runs.get(n)!), routed);
    all.push(h);
    const toPlain = scoresOf(runs.get(n)!).filter((s) => shift(s) <= limit).map((s) => `${s.trainedOn} -> ${s.lab}`);
    lines.push(`| ${seed} | ${p1(h.inDomain)} | ${p1(h.selection)} | ${p1(h.scoring)} | ${toPlain.join(', ') || 'none'} |`);
  }
  if (all.length) lines.push(`| mean | ${p1(mean(all.map((h) => h.inDomain)))} | ${p1(mean(all.map((h) => h.selection)))} | ${p1(mean(all.map((h) => h.scoring)))} | |`);
}
process.stdout.write(lines.join('\n') + '\n');
