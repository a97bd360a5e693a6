import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { rateAndEta, renderBar, createProgressView } from './progress.js';

test('rate and ETA come from the progress since the first update', () => {
  const r = rateAndEta(0, 10, 5000, { done: 60, total: 110 });
  assert.equal(r.rate, 10);
  assert.equal(r.etaSec, 5);
  assert.equal(rateAndEta(0, 0, 1000, { done: 5, total: null }).etaSec, null);
});

test('the bar shows the fraction, count, rate and ETA', () => {
  const s = renderBar('import', { done: 15, total: 30, message: '2 refused' }, 3, 5, 10);
  assert.equal(s, 'import [#####.....]  50% 15/30 3.0/s ETA 5s  2 refused');
});

test('without a terminal, plain lines are written, at most one per interval, then a final line', () => {
  let out = '';
  const stream = new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } }) as unknown as NodeJS.WriteStream;
  const v = createProgressView('detect', { stream, plainEveryMs: 60_000 });
  v.update({ done: 1, total: 4 });
  v.update({ done: 2, total: 4 });
  v.end({ done: 4, total: 4, status: 'succeeded', message: '4 cells' });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^detect \[.*\] +25% 1\/4/);
  assert.equal(lines[1], 'detect: succeeded — 4/4, 4 cells');
  assert.ok(!out.includes('\r'), 'no carriage returns outside a terminal');
});
