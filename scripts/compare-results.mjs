#!/usr/bin/env node
// Compares two evaluation reports (results.json of scripts/results.sh) cell count by cell count: per method
// and domain, the accuracy and whether the confusion matrix, the flag scores and the self-check (morphology_default's
// verdict and routing; '—' where neither report has one, and not compared where only one has) are the same; per autoencoder, the epoch losses. Prints Markdown. Usage: node scripts/compare-results.mjs OLD.json NEW.json
import { readFileSync } from 'node:fs';

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error('usage: node scripts/compare-results.mjs OLD.json NEW.json');
  process.exit(2);
}
const a = JSON.parse(readFileSync(oldPath, 'utf8'));
const b = JSON.parse(readFileSync(newPath, 'utf8'));
const rows = (r) => ({ ae_cfe: r.domains, ...Object.fromEntries(Object.entries(r.baselines).map(([m, v]) => [m, v.domains])) });
const ra = rows(a);
const rb = rows(b);
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
const pct = (v) => (100 * v).toFixed(1);
const out = ['| method | domain | n | accuracy before | accuracy after | confusion matrix | flag scores | self-check |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
let moved = 0;
for (const m of Object.keys(ra)) {
  for (const d of Object.keys(ra[m])) {
    const x = ra[m][d];
    const y = rb[m]?.[d];
    if (!y) {
      out.push(`| ${m} | ${d} | ${x.n} | ${pct(x.accuracy)} | (missing) | | | |`);
      moved++;
      continue;
    }
    const c = same(x.confusion, y.confusion);
    const f = same(x.flags, y.flags);
    // A report written before the evaluation kept the check has none: nothing to compare, not a move.
    const both = x.selfCheck !== undefined && y.selfCheck !== undefined;
    const k = both ? same([x.selfCheck, x.routing], [y.selfCheck, y.routing]) : null;
    if (!c || !f || k === false) moved++;
    const check = k === null ? (x.selfCheck !== undefined || y.selfCheck !== undefined ? 'in one report only' : '—') : k ? 'same' : 'differs';
    out.push(`| ${m} | ${d} | ${x.n} | ${pct(x.accuracy)} | ${pct(y.accuracy)} | ${c ? 'same' : 'differs'} | ${f ? 'same' : 'differs'} | ${check} |`);
  }
}
out.push('', '| autoencoder | epoch losses before | epoch losses after |', '| --- | --- | --- |');
for (const k of Object.keys(a.autoencoders ?? {})) {
  const la = a.autoencoders[k].epochs.map((e) => e.loss.toFixed(6)).join(', ');
  const lb = (b.autoencoders?.[k]?.epochs ?? []).map((e) => e.loss.toFixed(6)).join(', ');
  if (la !== lb) moved++;
  out.push(`| ${k} | ${la} | ${lb} |`);
}
const cells = (r) => Object.entries(r.datasets).map(([d, v]) => `${d} ${v.cells}`).join(', ');
out.push('', `Cells: before ${cells(a)}; after ${cells(b)}. ${moved ? `${moved} row(s) moved.` : 'No figure moved.'}`);
console.log(out.join('\n'));
