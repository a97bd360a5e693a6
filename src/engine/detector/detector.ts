/**
 * The WBC detector pipeline (issue 3): decode and resize with sharp -> Mask R-CNN in ONNX Runtime ->
 * boxes, scores, pasted masks (COCO RLE) and the 256x14x14 ROIAlign instance features, in the original
 * image's pixels. The model stays resident in its session until `dispose()`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnnxSession, runOnnx, disposeOnnxSession, type OnnxBackendInfo, type OnnxPreference, type OnnxSession } from '../backends/onnx.js';
import { decodeRgbFitted } from '../../imaging/image-codec.js';
import { pasteMask, type Box } from './mask-paste.js';
import { rleEncode, type Rle } from '../../imaging/rle.js';
import { suppressContained } from './containment.js';
import { chooseDetectorVariant, type DetectorPrecision, type DetectorVariant } from './variants.js';

/** Values of models/detector.json that inference needs (written by training/detector/export.py). */
export interface DetectorModelInfo {
  name: string;
  version: string;
  sha256?: string;
  /** Longer side of the network input, pixels. */
  inputSize: number;
  /** Threshold the model already applied to scores. */
  scoreThreshold: number;
  /** Of two boxes whose intersection covers this share of the smaller, the lower-scoring is dropped (0 = off). */
  containmentSuppression: number;
  /** Side of the mask grid (28). */
  maskSize: number;
  /** Shape of one cell's features, [256, 14, 14]. */
  featureShape: [number, number, number];
}

export interface DetectedCell {
  /** [x1, y1, x2, y2] in original image pixels, clipped to the image. */
  box: Box;
  score: number;
  /** Uncompressed COCO RLE in original image pixels (column-major, background run first). */
  mask: Rle;
  /** The mask head's input for this cell: 256x14x14, CHW (AE-CFE instance feature). */
  features: Float32Array;
}

export interface Detection {
  width: number;
  height: number;
  cells: DetectedCell[];
}

/** Raw model outputs for one input tensor (input-tensor pixels, masks not pasted). */
export interface RawDetections {
  n: number;
  boxes: Float32Array;
  scores: Float32Array;
  masks: Float32Array;
  features: Float32Array;
}

export interface DetectorOptions {
  /** Path of the .onnx file (its .json sits beside it). Default: $LEUKOGRAPH_DETECTOR_MODEL or models/detector.onnx. */
  modelPath?: string;
  /** Execution provider preference (default 'auto': webgpu when an adapter exists, else cpu). */
  prefer?: OnnxPreference;
  /** cpu provider threads (default: the number of cores). */
  intraOpNumThreads?: number;
  /** Keep only cells with at least this score (default: the model's own threshold). */
  minScore?: number;
  /** 'float' (default) runs modelPath; 'auto' runs its accepted int8 variant on the CPU; see variants.ts. */
  precision?: DetectorPrecision;
}

export interface Detector {
  readonly model: DetectorModelInfo;
  readonly backend: OnnxBackendInfo;
  readonly modelPath: string;
  /** The file run (float, or the int8 variant) and why. */
  readonly variant: DetectorVariant;
  /** Detects the cells of one encoded image (JPEG, PNG, TIFF, BMP). Corrupt images throw ImageRejected. */
  detect(image: Buffer): Promise<Detection>;
  /**
   * Detects several images, decoding the next image while the model runs on the current one; yields
   * results in order, a failure as `{ index, error }` without stopping the others.
   */
  detectMany(images: Iterable<Buffer | (() => Promise<Buffer>)>): AsyncGenerator<{ index: number; result?: Detection; error?: Error }>;
  /** Runs the model on a prepared CHW float tensor (RGB 0..255, longer side = inputSize). */
  runTensor(chw: Float32Array, height: number, width: number): Promise<RawDetections>;
  dispose(): Promise<void>;
}

/** Where the model is looked for by default. */
export function defaultDetectorModelPath(): string {
  const env = process.env.LEUKOGRAPH_DETECTOR_MODEL;
  if (env) return path.resolve(env);
  // dist/src/engine/detector/ -> repository root
  return fileURLToPath(new URL('../../../../models/detector.onnx', import.meta.url));
}

/** Reads the model card next to the .onnx file. */
export async function readDetectorModelInfo(modelPath: string): Promise<DetectorModelInfo> {
  const jsonPath = modelPath.replace(/\.onnx$/i, '') + '.json';
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(await readFile(jsonPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`detector model card ${jsonPath}: ${(err as Error).message}`);
  }
  const input = (meta.input ?? {}) as { input_size?: number };
  const outputs = (meta.outputs ?? {}) as { masks?: { shape?: unknown[] }; features?: { shape?: unknown[] } };
  const inputSize = Number(input.input_size);
  if (!(inputSize > 0)) throw new Error(`detector model card ${jsonPath}: input.input_size missing`);
  const maskSize = Number(outputs.masks?.shape?.[3] ?? 28);
  const fs = outputs.features?.shape ?? ['n', 256, 14, 14];
  return {
    name: String(meta.name ?? 'detector'),
    version: String(meta.version ?? '?'),
    sha256: typeof meta.sha256 === 'string' ? meta.sha256 : undefined,
    inputSize,
    scoreThreshold: Number(meta.score_threshold ?? 0.5),
    containmentSuppression: Number(meta.containment_suppression ?? 0),
    maskSize,
    featureShape: [Number(fs[1]), Number(fs[2]), Number(fs[3])],
  };
}

/** Loads the detector (model card + ONNX session). */
export async function createDetector(opts: DetectorOptions = {}): Promise<Detector> {
  const variant = await chooseDetectorVariant(path.resolve(opts.modelPath ?? defaultDetectorModelPath()), opts.precision ?? 'float', opts.prefer);
  const modelPath = variant.modelPath;
  const model = await readDetectorModelInfo(modelPath);
  const session = await loadOnnxSession(modelPath, { prefer: opts.prefer, intraOpNumThreads: opts.intraOpNumThreads });
  const minScore = opts.minScore ?? model.scoreThreshold;
  const runTensor = (chw: Float32Array, h: number, w: number) => runRaw(session, model, chw, h, w);
  const detect = async (image: Buffer) => postprocess(model, await runPrepared(session, model, await prepareImage(image, model.inputSize)), minScore);
  async function* detectMany(images: Iterable<Buffer | (() => Promise<Buffer>)>) {
    const load = (src: Buffer | (() => Promise<Buffer>)) => (typeof src === 'function' ? src() : Promise.resolve(src)).then((b) => prepareImage(b, model.inputSize));
    const it = images[Symbol.iterator]();
    let index = 0;
    let next = it.next();
    let pending = next.done ? null : settle(load(next.value));
    while (pending) {
      const current = await pending;
      next = it.next();
      pending = next.done ? null : settle(load(next.value)); // decode overlaps the model run below
      if (current.error) yield { index, error: current.error };
      else {
        try {
          yield { index, result: postprocess(model, await runPrepared(session, model, current.value!), minScore) };
        } catch (err) {
          yield { index, error: err as Error };
        }
      }
      index++;
    }
  }
  return {
    model,
    backend: session.info,
    modelPath,
    variant,
    detect,
    detectMany,
    runTensor,
    dispose: () => disposeOnnxSession(session),
  };
}

function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error instanceof Error ? error : new Error(String(error)) }),
  );
}

/** A decoded, resized image as the model's input tensor. */
export interface PreparedImage {
  chw: Float32Array;
  inputWidth: number;
  inputHeight: number;
  width: number;
  height: number;
}

/** Decode, resize (longer side = inputSize, aspect kept), HWC uint8 -> CHW float 0..255. */
export async function prepareImage(image: Buffer, inputSize: number): Promise<PreparedImage> {
  const rgb = await decodeRgbFitted(image, inputSize);
  const n = rgb.width * rgb.height;
  const chw = new Float32Array(3 * n);
  const d = rgb.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    chw[i] = d[j]!;
    chw[n + i] = d[j + 1]!;
    chw[2 * n + i] = d[j + 2]!;
  }
  return { chw, inputWidth: rgb.width, inputHeight: rgb.height, width: rgb.originalWidth, height: rgb.originalHeight };
}

async function runRaw(session: OnnxSession, model: DetectorModelInfo, chw: Float32Array, h: number, w: number): Promise<RawDetections> {
  if (chw.length !== 3 * h * w) throw new Error(`detector input: ${chw.length} values for 3x${h}x${w}`);
  const out = await runOnnx(session, { image: { type: 'float32', data: chw, dims: [3, h, w] } });
  const f32 = (name: string): Float32Array => {
    const t = out[name];
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`detector output ${name} missing or not float32`);
    return t.data;
  };
  const boxes = f32('boxes');
  const n = out.boxes!.dims[0] ?? 0;
  const masks = f32('masks');
  const features = f32('features');
  const m = model.maskSize;
  const [fc, fh, fw] = model.featureShape;
  if (masks.length !== n * m * m || features.length !== n * fc * fh * fw) {
    throw new Error(`detector outputs do not match the model card (${n} boxes, masks ${out.masks!.dims}, features ${out.features!.dims})`);
  }
  return { n, boxes, scores: f32('scores'), masks, features };
}

interface PreparedRun {
  raw: RawDetections;
  image: PreparedImage;
}

async function runPrepared(session: OnnxSession, model: DetectorModelInfo, image: PreparedImage): Promise<PreparedRun> {
  return { raw: await runRaw(session, model, image.chw, image.inputHeight, image.inputWidth), image };
}

/**
 * Duplicates held inside another box are dropped (containment.ts; the model card's containment_suppression).
 * Boxes scaled back to original pixels (per-axis ratio original/input, as torchvision's
 * transform.postprocess) and clipped; masks pasted directly in original pixels (torchvision's order:
 * resize boxes, then paste), then RLE-encoded.
 */
function postprocess(model: DetectorModelInfo, { raw, image }: PreparedRun, minScore: number): Detection {
  const { width, height } = image;
  const rx = width / image.inputWidth;
  const ry = height / image.inputHeight;
  const m = model.maskSize;
  const per = model.featureShape[0] * model.featureShape[1] * model.featureShape[2];
  const cells: DetectedCell[] = [];
  for (const i of suppressContained(raw.boxes, raw.scores, raw.n, model.containmentSuppression)) {
    const score = raw.scores[i]!;
    if (score < minScore) continue;
    const b = raw.boxes.subarray(4 * i, 4 * i + 4);
    const box: Box = [clip(b[0]! * rx, width), clip(b[1]! * ry, height), clip(b[2]! * rx, width), clip(b[3]! * ry, height)];
    const mask = rleEncode(pasteMask(raw.masks.subarray(i * m * m, (i + 1) * m * m), m, box, width, height));
    cells.push({ box, score, mask, features: raw.features.slice(i * per, (i + 1) * per) });
  }
  return { width, height, cells };
}

function clip(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}
