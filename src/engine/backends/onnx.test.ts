import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnnxSession, runOnnx, disposeOnnxSession, runWithCpuFallback } from './onnx.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const modelPath = process.env.LEUKOGRAPH_DETECTOR_MODEL ?? path.join(root, 'models/detector.onnx');

test('a failed load is not memoised', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onnx-'));
  const bad = path.join(dir, 'bad.onnx');
  writeFileSync(bad, 'not a model');
  await assert.rejects(loadOnnxSession(bad, { prefer: 'cpu', intraOpNumThreads: 1 }));
  if (!existsSync(modelPath)) return;
  copyFileSync(modelPath, bad); // the same path now holds a model: a memoised failure would still reject
  const s = await loadOnnxSession(bad, { prefer: 'cpu', intraOpNumThreads: 1 });
  assert.deepEqual([...s.outputNames], ['boxes', 'scores', 'masks', 'features']);
  await disposeOnnxSession(s);
});

test('sessions are shared per path and options, run returns typed arrays, the last dispose releases', { skip: existsSync(modelPath) ? false : `no model at ${modelPath}` }, async () => {
  const a = await loadOnnxSession(modelPath, { prefer: 'cpu', intraOpNumThreads: 1 });
  const a2 = await loadOnnxSession(modelPath, { prefer: 'cpu', intraOpNumThreads: 1 });
  assert.equal(a2.info, a.info); // the same native session behind two handles
  assert.equal(a.info.backend, 'onnxruntime');
  assert.equal(a.info.device, 'cpu');
  assert.match(a.info.version, /^\d+\.\d+/);
  assert.deepEqual([...a.inputNames], ['image']);
  const out = await runOnnx(a, { image: { type: 'float32', data: new Float32Array(3 * 64 * 64).fill(235), dims: [3, 64, 64] } });
  assert.ok(out.boxes!.data instanceof Float32Array);
  assert.equal(out.boxes!.dims.length, 2);
  await disposeOnnxSession(a);
  await assert.rejects(runOnnx(a, { image: { type: 'float32', data: new Float32Array(3), dims: [3, 1, 1] } }), /disposed/);
  const again = await runOnnx(a2, { image: { type: 'float32', data: new Float32Array(3 * 64 * 64).fill(235), dims: [3, 64, 64] } });
  assert.ok(again.scores!.data instanceof Float32Array); // the other handle still works
  await disposeOnnxSession(a2);
  const b = await loadOnnxSession(modelPath, { prefer: 'cpu', intraOpNumThreads: 1 });
  assert.notEqual(b.info, a.info); // released: a new session
  await disposeOnnxSession(b);
});

test('a failed webgpu run is run again on a cpu session (created once), noted in the info; a cpu failure is thrown', async () => {
  const gpu = { name: 'gpu' } as never;
  const cpu = { name: 'cpu' } as never;
  let created = 0;
  const state = {
    session: gpu,
    info: { backend: 'onnxruntime' as const, device: 'webgpu' as const, version: 'x', detail: '', notes: [] as string[] },
    fallbackRuns: 0,
    createCpu: async () => (created++, cpu),
  };
  const run = async (s: { name: string }) => {
    if (s.name === 'gpu') throw new Error('Invalid dispatch group size (4, 7, 0)');
    return `ran on ${s.name}`;
  };
  assert.equal(await runWithCpuFallback(state, run as never), 'ran on cpu');
  assert.equal(await runWithCpuFallback(state, run as never), 'ran on cpu');
  assert.equal(created, 1);
  assert.equal(state.info.notes.length, 1);
  assert.match(state.info.notes[0]!, /webgpu run failed 2 time\(s\).*Invalid dispatch group size/);
  const onCpu = { ...state, session: gpu, info: { ...state.info, device: 'cpu' as const, notes: [] } };
  await assert.rejects(runWithCpuFallback(onCpu, run as never), /Invalid dispatch/);
});
