// The AE-CFE training job: trains the autoencoder on the source dataset's cells, aligning its latents to
// the unlabelled cells of the datasets named for alignment. It streams each step's loss terms, saves a
// few input/reconstruction pairs and a checkpoint every epoch, resumes from the last checkpoint after a
// restart, and ends with a model row (with its lineage) made active for the engines.
import { createHash } from 'node:crypto';
import { jobObjectKey, modelObjectKey, storeRef } from '../../storage/blobs.js';
import type { JobContext } from '../job-context.js';
import type { JobOutcome, TrainAutoencoderParams } from '../../jobs/job-kinds.js';
import {
  createAutoencoder, loadAutoencoder, disposeAutoencoder, trainStep, reconstruct, shuffledIndices, saveCheckpoint,
  saveWeights, encodeWeightsFile, describeAutoencoder, type AutoencoderModel,
} from '../autoencoder/index.js';
import { listTrainingCells, TrainingData, type TrainingCell } from '../training-data.js';
import { encodePng } from '../../imaging/image-codec.js';
import { sqlRows } from '../../db/sql.js';
import { createRng, mixSeed } from '../classifier/rng.js';

interface EpochSummary {
  epoch: number;
  loss: number;
  ssim: number;
  mse: number;
  align: number;
  samplesPerSec: number;
  seconds: number;
}

interface SavedState {
  epochsDone: number;
  history: EpochSummary[];
  /** The checkpoint object of epochsDone (older states had one fixed name). */
  checkpoint?: string;
}

const PAIRS = 4;


export async function runTrainAutoencoder(ctx: JobContext<TrainAutoencoderParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const source = await listTrainingCells(ctx.ds, [p.sourceDatasetId], { detectorId: p.detectorId, limit: p.maxCells });
  if (source.length < 2) return { status: 'failed', error: `the source dataset has ${source.length} cells with features: run detection first` };
  const align: TrainingCell[][] = [];
  for (const d of p.alignDatasetIds) {
    const cells = await listTrainingCells(ctx.ds, [d], { detectorId: p.detectorId, limit: p.maxCells });
    if (cells.length < 2) return { status: 'failed', error: `alignment dataset ${d} has ${cells.length} cells with features: run detection first` };
    align.push(cells);
  }
  // Checkpoints and reconstructions go into the object store (jobs/<id>/), so that a retry on another
  // engine resumes where this one stopped. The state names its epoch's checkpoint and is written last.
  const statePath = storeRef(jobObjectKey(ctx.jobId, 'checkpoint.json'));
  const data = TrainingData.forJob(ctx);

  let model: AutoencoderModel;
  let state: SavedState = { epochsDone: 0, history: [] };
  let resumedFrom: number | null = null;
  const saved = (await ctx.blobs.exists(statePath)) ? (JSON.parse((await ctx.blobs.read(statePath)).toString('utf8')) as SavedState) : null;
  const savedCkpt = saved ? storeRef(jobObjectKey(ctx.jobId, saved.checkpoint ?? 'checkpoint.lkae')) : null;
  if (saved && savedCkpt && (await ctx.blobs.exists(savedCkpt))) {
    state = saved;
    model = await loadAutoencoder(new Uint8Array(await ctx.blobs.read(savedCkpt)));
    resumedFrom = state.epochsDone;
  } else {
    model = await createAutoencoder(p.preset, p.seed);
  }
  const info = describeAutoencoder(model);
  ctx.models.reportRuntime({ name: 'tfjs', backend: info.backend, device: info.device });
  const size = model.preset.imageSize;
  const batch = Math.min(p.batchSize, source.length);
  const stepsPerEpoch = Math.ceil(source.length / batch);
  const totalSteps = stepsPerEpoch * p.epochs;
  // Alignment batches come from a generator of their own, so they do not shift the model's stream.
  const rng = createRng(mixSeed(p.seed, 0x5eed));
  const t0 = Date.now();
  let stepsThisRun = 0;
  try {
    for (let epoch = state.epochsDone; epoch < p.epochs; epoch++) {
      const order = shuffledIndices(model, source.length);
      const sums = { loss: 0, ssim: 0, mse: 0, align: 0, n: 0 };
      const te = Date.now();
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (ctx.cancelled()) return { status: 'cancelled', result: { epochsDone: epoch, history: state.history } };
        const idx = Array.from(order.subarray(s * batch, Math.min(source.length, (s + 1) * batch)));
        if (idx.length < 2) continue; // batch statistics need two cells
        const cells = idx.map((i) => source[i]);
        const features = await data.features(cells);
        const images = await data.images(cells, size);
        const alignBatches: Float32Array[] = [];
        if (p.alignWeight > 0) {
          for (const pool of align) {
            const chosen = Array.from({ length: Math.min(idx.length, pool.length) }, () => pool[rng.nextInt(pool.length)]);
            alignBatches.push(await data.features(chosen));
          }
        }
        const r = await trainStep(model, { features, images, n: cells.length }, alignBatches, { learningRate: p.learningRate, alignWeight: p.alignWeight });
        sums.loss += r.loss * cells.length;
        sums.ssim += r.ssim * cells.length;
        sums.mse += r.mse * cells.length;
        sums.align += r.align * cells.length;
        sums.n += cells.length;
        stepsThisRun++;
        const done = epoch * stepsPerEpoch + s + 1;
        const perStep = (Date.now() - t0) / 1000 / stepsThisRun;
        await ctx.progress(done, totalSteps, `epoch ${epoch + 1}/${p.epochs}, step ${s + 1}/${stepsPerEpoch}`, {
          epoch: epoch + 1, step: r.step, loss: r.loss, ssim: r.ssim, mse: r.mse, align: r.align,
          samplesPerSec: r.samplesPerSec, etaSec: Math.round(perStep * (totalSteps - done)),
        });
      }
      const summary: EpochSummary = {
        epoch: epoch + 1, loss: sums.loss / sums.n, ssim: sums.ssim / sums.n, mse: sums.mse / sums.n, align: sums.align / sums.n,
        samplesPerSec: sums.n / ((Date.now() - te) / 1000), seconds: (Date.now() - te) / 1000,
      };
      const png = await reconstructions(model, data, source.slice(0, PAIRS), size);
      await ctx.blobs.put(jobObjectKey(ctx.jobId, `reconstructions-epoch-${epoch + 1}.png`), png);
      // Checkpoint: weights, optimizer and generator state, then the state that names it (written last).
      const previous = state.checkpoint;
      state = { epochsDone: epoch + 1, history: [...state.history, summary], checkpoint: `checkpoint-epoch-${epoch + 1}.lkae` };
      await ctx.blobs.put(jobObjectKey(ctx.jobId, state.checkpoint!), await saveCheckpoint(model));
      await ctx.blobs.put(jobObjectKey(ctx.jobId, 'checkpoint.json'), JSON.stringify(state));
      if (previous) await ctx.blobs.store.delete(jobObjectKey(ctx.jobId, previous));
      await ctx.progress((epoch + 1) * stepsPerEpoch, totalSteps, `epoch ${epoch + 1}/${p.epochs} done, checkpoint saved`, {
        epoch: epoch + 1, epochLoss: summary.loss, epochSsim: summary.ssim, epochMse: summary.mse, epochAlign: summary.align,
        epochSamplesPerSec: summary.samplesPerSec, reconstructionEpoch: epoch + 1,
      });
    }
    // The trained model: its weights file, and a row with its lineage, made active.
    const weights = encodeWeightsFile(await saveWeights(model));
    const artifact = await ctx.blobs.put(modelObjectKey(`autoencoder-${ctx.jobId}.lkae`), weights);
    const last = state.history.at(-1);
    const modelId = await ctx.ds.transaction(async (m) => {
      await m.query(`UPDATE models SET active = false WHERE kind = 'autoencoder' AND active`);
      const rows = await sqlRows<{ id: string }>(m,
        `INSERT INTO models (kind, name, version, preset, metrics, params, artifact_path, checksum, active, dataset_ids, job_id, parent_id)
         VALUES ('autoencoder', $1, $2, $3, $4, $5, $6, $7, true, $8, $9, $10) RETURNING id`,
        [`aecfe-${p.preset}`, `job-${ctx.jobId.slice(0, 8)}`, p.preset, { final: last, history: state.history, parameterCount: info.parameterCount },
          p, artifact, createHash('sha256').update(weights).digest('hex'), [p.sourceDatasetId, ...p.alignDatasetIds], ctx.jobId, p.detectorId ?? null],
      );
      return rows[0].id;
    });
    return {
      status: 'succeeded',
      result: { modelId, epochs: p.epochs, resumedFromEpoch: resumedFrom, history: state.history, sourceCells: source.length, alignCells: align.map((a) => a.length) },
      message: `trained ${p.epochs} epochs (final loss ${last?.loss.toFixed(4)})`,
    };
  } finally {
    disposeAutoencoder(model);
  }
}

/** A PNG of input/reconstruction pairs: targets on the top row, reconstructions below. */
async function reconstructions(model: AutoencoderModel, data: TrainingData, cells: TrainingCell[], size: number): Promise<Uint8Array> {
  const n = cells.length;
  const rec = await reconstruct(model, await data.features(cells), n);
  const targets = await data.images(cells, size);
  const W = n * size;
  const out = new Uint8Array(W * 2 * size * 3);
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const src = ((k * size + y) * size + x) * 3 + c;
          out[(y * W + k * size + x) * 3 + c] = Math.round(targets[src] * 255);
          out[((y + size) * W + k * size + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, rec.images[src])) * 255);
        }
      }
    }
  }
  return encodePng(out, W, 2 * size, 3);
}
