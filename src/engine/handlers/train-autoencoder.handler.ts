// The AE-CFE training job: trains the autoencoder on the source dataset's cells, aligning its latents to
// the unlabelled cells of the datasets named for alignment, with the pipeline's epoch loop
// (src/pipeline/autoencoder-training.ts). It streams each step's loss terms, saves a
// few input/reconstruction pairs and a checkpoint every epoch, resumes from the last checkpoint after a
// restart, and ends with a model row (with its lineage) made active for the engines.
import { createHash } from 'node:crypto';
import { jobObjectKey, modelObjectKey, storeRef } from '../../storage/blobs.js';
import type { JobContext } from '../job-context.js';
import type { JobOutcome, TrainAutoencoderParams } from '../../jobs/job-kinds.js';
import {
  createAutoencoder, loadAutoencoder, disposeAutoencoder, reconstruct, saveCheckpoint,
  saveWeights, encodeWeightsFile, describeAutoencoder, chooseTrainingBackend, type AutoencoderModel,
} from '../autoencoder/index.js';
import { TrainingData, type TrainingCell } from '../training-data.js';
import { encodePng } from '../../imaging/image-codec.js';
import { trainAutoencoderEpochs } from '../../pipeline/autoencoder-training.js';
import type { EpochSummary } from '../../pipeline/types.js';

interface SavedState {
  epochsDone: number;
  history: EpochSummary[];
  /** The checkpoint object of epochsDone (older states had one fixed name). */
  checkpoint?: string;
}

const PAIRS = 4;

export async function runTrainAutoencoder(ctx: JobContext<TrainAutoencoderParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const source = await ctx.repos.cells.trainingCells([p.sourceDatasetId], { detectorId: p.detectorId, limit: p.maxCells });
  if (source.length < 2) return { status: 'failed', error: `the source dataset has ${source.length} cells with features: run detection first` };
  const align: TrainingCell[][] = [];
  for (const d of p.alignDatasetIds) {
    const cells = await ctx.repos.cells.trainingCells([d], { detectorId: p.detectorId, limit: p.maxCells });
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
  // The steps themselves run where the epoch loop's default puts them (onnxruntime on a CPU, issue 23).
  if (chooseTrainingBackend(model) === 'onnx') {
    ctx.models.reportRuntime({ name: 'autoencoder-training', backend: 'onnxruntime', device: 'cpu', detail: 'train-step graph (engine/autoencoder/onnx-train.ts)' });
  }
  const size = model.preset.imageSize;
  const stepsPerEpoch = Math.ceil(source.length / Math.min(p.batchSize, source.length));
  const totalSteps = stepsPerEpoch * p.epochs;
  const t0 = Date.now();
  let stepsThisRun = 0;
  try {
    // The pipeline's epoch loop; this job adds progress, reconstructions and a checkpoint per epoch.
    const run = await trainAutoencoderEpochs(model, data.trainingSet(source), align.map((a) => data.alignmentSet(a)), {
      seed: p.seed, epochs: p.epochs, batchSize: p.batchSize, learningRate: p.learningRate, alignWeight: p.alignWeight,
      startEpoch: state.epochsDone,
      shouldStop: () => ctx.cancelled(),
      onStep: async ({ epoch, step, result: r }) => {
        stepsThisRun++;
        const done = (epoch - 1) * stepsPerEpoch + step;
        const perStep = (Date.now() - t0) / 1000 / stepsThisRun;
        await ctx.progress(done, totalSteps, `epoch ${epoch}/${p.epochs}, step ${step}/${stepsPerEpoch}`, {
          epoch, step: r.step, loss: r.loss, ssim: r.ssim, mse: r.mse, align: r.align,
          samplesPerSec: r.samplesPerSec, etaSec: Math.round(perStep * (totalSteps - done)),
        });
      },
      onEpoch: async (summary) => {
        const epoch = summary.epoch;
        const png = await reconstructions(model, data, source.slice(0, PAIRS), size);
        await ctx.blobs.put(jobObjectKey(ctx.jobId, `reconstructions-epoch-${epoch}.png`), png);
        // Checkpoint: weights, optimizer and generator state, then the state that names it (written last).
        const previous = state.checkpoint;
        state = { epochsDone: epoch, history: [...state.history, summary], checkpoint: `checkpoint-epoch-${epoch}.lkae` };
        await ctx.blobs.put(jobObjectKey(ctx.jobId, state.checkpoint!), await saveCheckpoint(model));
        await ctx.blobs.put(jobObjectKey(ctx.jobId, 'checkpoint.json'), JSON.stringify(state));
        if (previous) await ctx.blobs.store.delete(jobObjectKey(ctx.jobId, previous));
        await ctx.progress(epoch * stepsPerEpoch, totalSteps, `epoch ${epoch}/${p.epochs} done, checkpoint saved`, {
          epoch, epochLoss: summary.loss, epochSsim: summary.ssim, epochMse: summary.mse, epochAlign: summary.align,
          epochSamplesPerSec: summary.samplesPerSec, reconstructionEpoch: epoch,
        });
      },
    });
    if (run.stopped) return { status: 'cancelled', result: { epochsDone: state.epochsDone, history: state.history } };
    // The trained model: its weights file, and a row with its lineage, made active.
    const weights = encodeWeightsFile(await saveWeights(model));
    const artifact = await ctx.blobs.put(modelObjectKey(`autoencoder-${ctx.jobId}.lkae`), weights);
    const last = state.history.at(-1);
    const modelId = await ctx.repos.models.registerActive({
      kind: 'autoencoder', name: `aecfe-${p.preset}`, version: `job-${ctx.jobId.slice(0, 8)}`, preset: p.preset,
      metrics: { final: last, history: state.history, parameterCount: info.parameterCount }, params: p, artifactPath: artifact,
      checksum: createHash('sha256').update(weights).digest('hex'), datasetIds: [p.sourceDatasetId, ...p.alignDatasetIds], jobId: ctx.jobId, parentId: p.detectorId ?? null,
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
