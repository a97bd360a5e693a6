import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs, resetTfjsMemo, type Tensor, type Tensor4D } from '../tfjs.js';

test('auto picks a working backend, says why others were skipped, and memoises', async () => {
  const a = await initTfjs();
  assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(a.backend));
  assert.equal(a.tf.getBackend(), a.backend);
  assert.match(a.version, /^\d+\.\d+\.\d+/);
  assert.ok(a.device.length > 0);
  if (a.backend === 'wasm') {
    assert.ok(a.kernelsPatched.includes('Conv2DBackpropFilter'));
    assert.ok(a.notes.some((n) => n.startsWith('webgpu:')), a.notes.join('; '));
  }
  const b = await initTfjs({ prefer: 'auto' });
  assert.equal(b, a);
  // A small training-shaped computation runs on it (conv gradient w.r.t. the filter).
  const tf = a.tf;
  const g = tf.tidy(() => {
    const x = tf.ones([1, 5, 5, 2]) as Tensor4D;
    const w = tf.ones([3, 3, 2, 1]);
    return tf.grad((f: Tensor) => tf.conv2d(x, f as Tensor4D, 1, 'valid').sum())(w).dataSync();
  });
  assert.deepEqual(Array.from(g), new Array(18).fill(9));
});

test('an explicit backend that cannot start falls back (or fails when strict), and failures are not memoised', async () => {
  const a = await initTfjs();
  if (a.backend !== 'wasm') return; // only meaningful where there is no GPU and no tfjs-node
  const fb = await initTfjs({ prefer: 'webgpu' });
  assert.equal(fb.backend, 'wasm');
  assert.ok(fb.notes.some((n) => n.startsWith('webgpu:')));
  await assert.rejects(initTfjs({ prefer: 'webgpu', strict: true }), /no backend could start/);
  await assert.rejects(initTfjs({ prefer: 'webgpu', strict: true }), /no backend could start/);
  await assert.rejects(initTfjs({ prefer: 'tensorflow', strict: true }), /not installed/);
  const c = await initTfjs({ prefer: 'cpu', strict: true });
  assert.equal(c.backend, 'cpu');
  assert.equal(c.tf.getBackend(), 'cpu');
  // Asking again for the auto runtime re-activates its backend.
  const again = await initTfjs();
  assert.equal(again.tf.getBackend(), 'wasm');
});

test('LEUKOGRAPH_TFJS_BACKEND replaces auto', async () => {
  resetTfjsMemo();
  process.env.LEUKOGRAPH_TFJS_BACKEND = 'cpu';
  try {
    const r = await initTfjs();
    assert.equal(r.backend, 'cpu');
    process.env.LEUKOGRAPH_TFJS_BACKEND = 'tpu';
    await assert.rejects(initTfjs(), /expected one of/);
  } finally {
    delete process.env.LEUKOGRAPH_TFJS_BACKEND;
    resetTfjsMemo();
  }
  assert.equal((await initTfjs({ prefer: 'wasm' })).backend, 'wasm');
});
