// Float vs int8 detector on the CPU, measured in one process, interleaved image by image (the order
// alternates every round) so that other load on a shared machine hits both alike (issue 23).
//
//   node dist/bench/detector/int8-bench.js [--float models/detector.onnx] [--int8 models/detector-int8.onnx]
//        [--images 16] [--threads 1,2] [--rounds 3] [--data /work/shared/data/acevedo20]
//
// Prints one JSON document: per thread count the median model ms per image of each model and their
// ratio, and how the outputs compare (detection counts, largest box difference in input pixels).
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { prepareImage, type PreparedImage } from '../../src/engine/detector/detector.js';
import { benchArgs } from '../lib/args.js';
import { disposeOnnxSession, loadOnnxSession, runOnnx, type OnnxSession } from '../../src/engine/backends/onnx.js';

const args = benchArgs('node dist/bench/detector/int8-bench.js', {
  float: { type: 'string' }, int8: { type: 'string' }, images: { type: 'string' }, threads: { type: 'string' }, rounds: { type: 'string' }, data: { type: 'string' },
});
const arg = (name: string, dflt: string): string => args.str(name) ?? dflt;

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const floatPath = path.resolve(arg('float', path.join(REPO, 'models/detector.onnx')));
const int8Path = path.resolve(arg('int8', path.join(REPO, 'models/detector-int8.onnx')));
const nImages = Number(arg('images', '16'));
const threads = arg('threads', '1,2').split(',').map(Number);
const rounds = Number(arg('rounds', '3'));
const data = arg('data', '/work/shared/data/acevedo20');

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  // Images from every class folder in turn (sorted names; a fixed, deterministic choice).
  const classes = readdirSync(data, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  const lists = classes.map((c) => readdirSync(path.join(data, c)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => path.join(data, c, f)));
  const files: string[] = [];
  for (let i = 0; files.length < nImages; i++) for (const l of lists) if (files.length < nImages && l[i * 7]) files.push(l[i * 7]!);
  const imgs: PreparedImage[] = [];
  for (const f of files) imgs.push(await prepareImage(readFileSync(f), 256));
  const run = async (s: OnnxSession, im: PreparedImage) => {
    const t0 = performance.now();
    const out = await runOnnx(s, { image: { type: 'float32', data: im.chw, dims: [3, im.inputHeight, im.inputWidth] } });
    return { ms: performance.now() - t0, boxes: out.boxes!.data as Float32Array, n: out.boxes!.dims[0] ?? 0 };
  };
  const rows = [];
  for (const t of threads) {
    const sf = await loadOnnxSession(floatPath, { prefer: 'cpu', intraOpNumThreads: t });
    const sq = await loadOnnxSession(int8Path, { prefer: 'cpu', intraOpNumThreads: t });
    for (const im of imgs.slice(0, 2)) {
      await run(sf, im);
      await run(sq, im);
    }
    const tf: number[] = [];
    const tq: number[] = [];
    let countMismatch = 0;
    let maxBoxDiff = 0;
    for (let r = 0; r < rounds; r++) {
      for (const im of imgs) {
        const order = r % 2 === 0 ? [sf, sq] : [sq, sf];
        const a = await run(order[0]!, im);
        const b = await run(order[1]!, im);
        const [f, q] = order[0] === sf ? [a, b] : [b, a];
        tf.push(f.ms);
        tq.push(q.ms);
        if (r === 0) {
          if (f.n !== q.n) countMismatch++;
          else for (let i = 0; i < f.boxes.length; i++) maxBoxDiff = Math.max(maxBoxDiff, Math.abs(f.boxes[i]! - q.boxes[i]!));
        }
      }
    }
    await disposeOnnxSession(sf);
    await disposeOnnxSession(sq);
    rows.push({
      threads: t,
      float_ms: Number(median(tf).toFixed(1)),
      int8_ms: Number(median(tq).toFixed(1)),
      speedup: Number((median(tf) / median(tq)).toFixed(3)),
      runs_each: tf.length,
      count_mismatches: countMismatch,
      max_box_diff_px: Number(maxBoxDiff.toFixed(2)),
    });
    process.stderr.write(`threads ${t}: ${JSON.stringify(rows.at(-1))}\n`);
  }
  console.log(JSON.stringify({
    float: path.relative(REPO, floatPath),
    int8: path.relative(REPO, int8Path),
    images: files.length,
    machine: `${cpus().length} x ${cpus()[0]?.model.trim()}`,
    load_average: loadavg().map((v) => Number(v.toFixed(2))),
    rows,
  }, null, 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
