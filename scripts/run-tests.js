#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with node's own test runner: all of them against the
// embedded PostgreSQL, then the database tests (*.db.test.js) again against a PostgreSQL server when
// LEUKOGRAPH_TEST_SERVER_URL names one. Ends with one line "N passed, N failed" over both runs.
// Node 20's `node --test` takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.js [substring filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function run(files, env, label) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${label}: ${files.length} test files ===\n`);
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
      // Engines and APIs under test log only warnings and errors unless asked otherwise.
      env: { LEUKOGRAPH_LOG_LEVEL: 'warn', ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail += d.toString();
    });
    child.on('close', (code) => {
      // The runner's own summary is the last 'ℹ pass N' etc. of the run.
      const num = (k) => Number([...tail.matchAll(new RegExp(`^ℹ ${k} (\\d+)`, 'gm'))].at(-1)?.[1] ?? 0);
      resolve({ code: code ?? 1, pass: num('pass'), fail: num('fail'), skipped: num('skipped') });
    });
  });
}

const filters = process.argv.slice(2);
const files = walk('dist').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const results = [await run(files, { LEUKOGRAPH_TEST_SERVER_URL: '' }, 'all tests, embedded PostgreSQL')];
const server = process.env.LEUKOGRAPH_TEST_SERVER_URL;
const dbFiles = files.filter((f) => f.endsWith('.db.test.js'));
if (server && dbFiles.length) results.push(await run(dbFiles, { LEUKOGRAPH_TEST_SERVER_URL: server }, `database tests, PostgreSQL server ${server.replace(/:[^:@/]*@/, ':***@')}`));
const total = results.reduce((a, r) => ({ pass: a.pass + r.pass, fail: a.fail + r.fail, skipped: a.skipped + r.skipped }), { pass: 0, fail: 0, skipped: 0 });
const failedRun = results.some((r) => r.code !== 0);
process.stdout.write(`\n${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped\n`);
process.exit(failedRun || total.fail > 0 ? 1 : 0);
