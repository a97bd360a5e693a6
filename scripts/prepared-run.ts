// The measured rows of an unseen-labs run kept in a file (scripts/unseen.sh's PREPARED), so that later runs and
// scripts/shipped-self-check.ts fit and score without measuring again: JSON, Float64Arrays as plain arrays.
import { readFileSync, writeFileSync } from 'node:fs';
import type { PreparedRun } from '../src/evaluation/unseen-labs.js';

export function savePrepared(run: PreparedRun, path: string): void {
  writeFileSync(path, JSON.stringify(run, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v)));
}

export function loadPrepared(path: string): PreparedRun {
  const run = JSON.parse(readFileSync(path, 'utf8')) as PreparedRun;
  const f = (rows: unknown[]) => rows.map((r) => Float64Array.from(r as number[]));
  for (const j of run.jobs) {
    j.rows = f(j.rows);
    j.allRows = f(j.allRows);
    for (const l of j.labs) l.rows = f(l.rows);
    if (j.augRows) j.augRows = f(j.augRows);
  }
  return run;
}
