/**
 * One replica of the autoencoder in a worker thread (parallel.ts): its own TensorFlow.js and backend,
 * the weights read from the pool's shared memory whenever their version changes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initTfjs, type TfjsBackendName } from '../backends/tfjs.js';
import { createAutoencoder, encode } from './model.js';
import { shardGradients, shardLatents, writeParams, type ShardInput } from './parallel.js';
import type { AutoencoderPreset } from './presets.js';

const init = workerData as { preset: AutoencoderPreset; seed: number; backend: TfjsBackendName; params: SharedArrayBuffer };
const port = parentPort!;
const shared = new Float32Array(init.params);

const rt = await initTfjs({ prefer: init.backend, strict: true });
const model = await createAutoencoder(init.preset, init.seed, { runtime: rt });
let loaded = -1;
const load = (version: number) => {
  if (version !== loaded) {
    writeParams(model, shared);
    loaded = version;
  }
};

type Msg =
  | { type: 'ready' }
  | { type: 'latents'; version: number; xRec: Float32Array; nRec: number; xEnc: Float32Array; nEnc: number }
  | { type: 'grads'; version: number; shard: ShardInput }
  | { type: 'encode'; version: number; features: Float32Array; n: number };

port.on('message', async (m: Msg) => {
  try {
    if (m.type === 'ready') return port.postMessage({ ok: true, backend: rt.backend });
    load(m.version);
    if (m.type === 'latents') {
      const z = shardLatents(model, m.xRec, m.nRec, m.xEnc, m.nEnc);
      port.postMessage({ z }, [z.buffer as ArrayBuffer]);
    } else if (m.type === 'grads') {
      const r = shardGradients(model, m.shard);
      port.postMessage(r, [r.grads.buffer as ArrayBuffer]);
    } else if (m.type === 'encode') {
      const z = await encode(model, m.features, m.n);
      port.postMessage({ z }, [z.buffer as ArrayBuffer]);
    }
  } catch (err) {
    port.postMessage({ error: (err as Error).stack ?? String(err) });
  }
});
