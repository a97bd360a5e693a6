// withItemSummary: every job's result says how many items failed and why; every item failed is FAILED. treeProgress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJobContext, HANDED_ON_ITEMS, progressSoon, treeProgress, withItemSummary, type ItemSummary } from './job-context.js';

const reasons = (n: number): ItemSummary['reasons'] => [{ reason: 'cannot read the image', count: n, example: 'img-1' }];

test('every item failed: the job fails, naming how many and why', () => {
  const out = withItemSummary({ status: 'succeeded', result: { cells: 0 }, message: '0 cells (detect)' }, { failed: 25, succeeded: 0, of: 25, reasons: reasons(25) });
  assert.equal(out.status, 'failed');
  assert.equal(out.status === 'failed' && out.error, 'every item failed (25 of 25): cannot read the image (25 items)');
  assert.deepEqual(out.result, { cells: 0, itemFailures: { failed: 25, of: 25, reasons: reasons(25) } });
});

test('some items failed: the job succeeds, and its message and result say how many and why', () => {
  const out = withItemSummary({ status: 'succeeded', message: '12 cells (detect)' }, { failed: 3, succeeded: 12, of: 25, reasons: reasons(3) });
  assert.equal(out.status, 'succeeded');
  assert.equal(out.status === 'succeeded' && out.message, '12 cells (detect); 3 of 25 items failed: cannot read the image (3 items)');
  assert.equal((out.result!.itemFailures as { failed: number }).failed, 3);
});

test('no failures, or items not counted by the progress total: nothing but the count is added', () => {
  const ok = withItemSummary({ status: 'succeeded', message: 'done' }, { failed: 0, succeeded: 7, of: 7, reasons: [] });
  assert.deepEqual(ok, { status: 'succeeded', message: 'done', result: { itemFailures: { failed: 0, of: 7, reasons: [] } } });
  // Images failed, but others were skipped as done before (fewer failures than the total): not every item failed.
  const partial = withItemSummary({ status: 'succeeded' }, { failed: 2, succeeded: 0, of: 5, reasons: reasons(2) });
  assert.equal(partial.status, 'succeeded');
  // No progress total: every reported item failed.
  assert.equal(withItemSummary({ status: 'succeeded' }, { failed: 2, succeeded: 0, of: null, reasons: reasons(2) }).status, 'failed');
});

test('cancelled and failed outcomes keep their status and gain the count', () => {
  const c = withItemSummary({ status: 'cancelled', result: { seen: 3 } }, { failed: 1, succeeded: 2, of: 10, reasons: reasons(1) });
  assert.equal(c.status, 'cancelled');
  assert.equal((c.result!.itemFailures as { failed: number }).failed, 1);
  const f = withItemSummary({ status: 'failed', error: 'no images to detect on' }, { failed: 0, succeeded: 0, of: null, reasons: [] });
  assert.deepEqual(f, { status: 'failed', error: 'no images to detect on', result: { itemFailures: { failed: 0, of: null, reasons: [] } } });
});

test('treeProgress: a report every 10 trees and at the last one, worded by the caller', () => {
  const seen: Array<[number, number | null, string | null | undefined]> = [];
  const onTree = treeProgress({ progress: async (done, total, message) => void seen.push([done, total, message]) }, (d, t) => `${d} of ${t}`);
  for (let t = 1; t <= 25; t++) onTree(t, 25);
  assert.deepEqual(seen, [[10, 25, '10 of 25'], [20, 25, '20 of 25'], [25, 25, '25 of 25']]);
});

test('progressSoon: a progress write that fails (the database away) is logged, not left unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => void unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  try {
    const onTree = treeProgress({ jobId: 'j1', progress: async () => Promise.reject(new Error('connection terminated')) }, (d, t) => `${d}/${t}`);
    for (let t = 1; t <= 20; t++) onTree(t, 20);
    progressSoon({ progress: async () => Promise.reject(new Error('connection terminated')) }, 1, null, 'epoch 1');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a step that continues a handed-on job counts the items the step before it reported', async () => {
  const carried: ItemSummary = { failed: 9, succeeded: 0, of: 10, reasons: reasons(9) };
  const ctx = createJobContext({
    jobId: 'j', params: {}, attempt: 1, ds: {} as never, cfg: {} as never, hub: { publish: async () => undefined } as never, controller: new AbortController(),
    models: {} as never, features: {} as never, blobs: {} as never, engineId: 'e2', step: 'classify', handedOn: { detect: {}, [HANDED_ON_ITEMS]: carried },
  });
  await ctx.item({ itemKind: 'cell', itemId: 'c1', index: 0, ok: true });
  const items = ctx.itemSummary();
  assert.deepEqual(items, { failed: 9, succeeded: 1, of: 10, reasons: reasons(9) });
  const out = withItemSummary({ status: 'succeeded', result: {}, message: '1 cell' }, items);
  assert.equal(out.status === 'succeeded' && out.message, '1 cell; 9 of 10 items failed: cannot read the image (9 items)');
});
