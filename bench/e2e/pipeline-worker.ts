// The engine's per-image chain without the server and PostgreSQL (what the analyze job does between
// reading an image and storing its cells): detect -> encode -> classify through the pipeline's stages
// (src/pipeline), with the same models, in a
// child process of its own. Answers one JSON line per request on stdin:
//   {"cmd":"init","detector":PATH,"autoencoder":PATH|null,"classifier":PATH|null}
//   {"cmd":"run","files":[...],"minCells":N}   images in order, repeated until N cells (default one pass)
//   {"cmd":"stages","files":[...]}             mean ms per image of decode+resize, model, rest
//   {"cmd":"memory"}                            this process's resident and peak memory, MiB
import { readFile } from 'node:fs/promises';
import { parseClassifierFile } from '../../src/engine/classifier/classifier-file.js';
import { createInterface } from 'node:readline';
import { createDetector, resolveDetectorPrecision, type Detector } from '../../src/engine/detector/index.js';
import { createAutoencoder, loadAutoencoder, type AutoencoderModel } from '../../src/engine/autoencoder/index.js';
import { encodeCells } from '../../src/pipeline/encode.js';
import { classifyCells } from '../../src/pipeline/classify.js';
import { procMemory } from '../lib/stats.js';
import { detectorStages } from '../lib/detector-stages.js';

let detector: Detector | null = null;
let ae: AutoencoderModel | null = null;
let clf: import('../../src/engine/classifier/classifier-artifact.js').CellClassifier | null = null;

async function init(msg: { detector: string; autoencoder?: string | null; classifier?: string | null }) {
  // The engine's choice of file (the int8 variant on the CPU when accepted; detector-loader.ts).
  detector = await createDetector({ modelPath: msg.detector, precision: resolveDetectorPrecision(process.env.LEUKOGRAPH_DETECTOR_PRECISION) });
  ae = msg.autoencoder ? await loadAutoencoder(new Uint8Array(await readFile(msg.autoencoder))) : await createAutoencoder('cpu', 0);
  clf = msg.classifier ? parseClassifierFile(await readFile(msg.classifier)) : null;
  return { backend: detector.backend, variant: detector.variant, autoencoder: msg.autoencoder ? 'trained' : 'untrained cpu preset', classifier: Boolean(clf) };
}

async function run(msg: { files: string[]; minCells?: number }) {
  const det = detector!;
  const bufs = await Promise.all(msg.files.map((f) => readFile(f)));
  let cells = 0;
  let images = 0;
  const t0 = performance.now();
  const checkpoints: { cells: number; s: number }[] = [];
  let nextMark = 1000;
  do {
    for (const b of bufs) {
      // As the analyze job: one image at a time, its cells encoded and classified together.
      const found = await det.detect(b);
      images++;
      const n = found.cells.length;
      if (n) {
        // The pipeline's stages, as the analyze job runs them per image.
        const z = await encodeCells(ae!, found.cells.map((c) => c.features));
        if (clf) classifyCells(clf, { data: z, rows: n, cols: z.length / n });
      }
      cells += n;
      if (cells >= nextMark) {
        checkpoints.push({ cells, s: (performance.now() - t0) / 1000 });
        nextMark *= 10;
      }
      if (msg.minCells && cells >= msg.minCells) break;
    }
  } while (msg.minCells && cells < msg.minCells && bufs.length);
  const wallS = (performance.now() - t0) / 1000;
  return { images, cells, wallS, checkpoints, memory: procMemory(process.pid) };
}

async function stages(msg: { files: string[] }) {
  return detectorStages(detector!, await Promise.all(msg.files.map((f) => readFile(f))));
}

const memory = async () => procMemory(process.pid);
const handlers: Record<string, (m: any) => Promise<unknown>> = { init, run, stages, memory };

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    let out: unknown;
    try {
      const msg = JSON.parse(line) as { cmd: string };
      const h = handlers[msg.cmd];
      out = h ? await h(msg) : { error: `unknown cmd ${msg.cmd}` };
    } catch (err) {
      out = { error: (err as Error).stack ?? String(err) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  });
});
rl.on('close', () => void chain.then(() => detector?.dispose()).then(() => process.exit(0)));
