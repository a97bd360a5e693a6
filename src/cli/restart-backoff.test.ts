// The engine supervisor's back-off: doubling for crashes in a row, from the start again after a healthy run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartBackoff } from './main.js';

test('crashes in a row wait 1, 2, 4, ... 30 s; a healthy run resets the back-off', () => {
  let restarts = 0;
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const next = restartBackoff(restarts, 500);
    restarts = next.restarts;
    delays.push(next.delayMs);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual(restartBackoff(restarts, 5 * 60_000), { restarts: 1, delayMs: 1000 }, 'after five healthy minutes');
  assert.deepEqual(restartBackoff(restarts, 30_000), { restarts: 9, delayMs: 30000 }, 'thirty seconds is not yet healthy');
});
