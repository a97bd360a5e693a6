/**
 * onnxruntime's intra-op spinning on and off: wall and CPU ms per detector run (2 threads, cpu provider)
 * on the committed Acevedo-20 input tensor, alternating settings. The engine runs without spinning
 * (src/engine/backends/onnx.ts); run this with the machine idle and again with other work on the cores.
 *
 *   npm run build && node dist/bench/detector/ort-spinning.js [--runs 10] [--rounds 2] [--threads 2]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { disposeOnnxSession, loadOnnxSession, runOnnx } from '../../src/engine/backends/onnx.js';
import { REPO } from '../lib/server.js';
import { benchArgs } from '../lib/args.js';

const { num } = benchArgs('node dist/bench/detector/ort-spinning.js', { runs: { type: 'string' }, threads: { type: 'string' }, rounds: { type: 'string' } });

const dir = join(REPO, 'test/fixtures/detector-onnx-check');
const entry = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ name: string; image: { file: string; shape: number[] } }>).find((e) => e.name === 'acevedo')!;
const buf = readFileSync(join(dir, entry.image.file));
const image = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const runs = num('runs', 10);
const threads = num('threads', 2);
for (let round = 0; round < num('rounds', 2); round++) {
  for (const spinning of [true, false]) {
    const s = await loadOnnxSession(join(REPO, 'models/detector.onnx'), { prefer: 'cpu', intraOpNumThreads: threads, spinning });
    const feeds = { image: { type: 'float32' as const, data: image, dims: entry.image.shape } };
    await runOnnx(s, feeds);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await runOnnx(s, feeds);
    const c = process.cpuUsage(c0);
    console.log(`spinning ${spinning ? 'on ' : 'off'}: wall ${((performance.now() - t0) / runs).toFixed(1)} ms, CPU ${((c.user + c.system) / 1000 / runs).toFixed(1)} ms per run`);
    await disposeOnnxSession(s);
  }
}
