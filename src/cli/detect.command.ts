// `leukograph detect <image files or folders> [--json] [--model path] [--precision p]`: runs the WBC detector over images
// (folders searched recursively) and prints one line per image; a failing image does not stop the rest.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDetector, resolveDetectorPrecision, type Detection, type DetectorPrecision } from '../engine/detector/index.js';
import { cutByBorder } from '../imaging/border.js';
import { logger } from '../logger.js';
import { choiceFlag, intFlag, parseFlags, UsageError, type FlagSpecs } from './args.js';

const log = logger('detect');

export const DETECT_USAGE = `Usage: leukograph detect <image files or folders ...> [--json] [--model detector.onnx] [--threads N] [--device auto|webgpu|cpu]
                        [--precision auto|float|int8]
  Detects white blood cells. Folders are searched recursively for .jpg .jpeg .png .tif .tiff .bmp.
  --json    one JSON line per image: {"image", "width", "height", "cells": [{"box", "score", "mask"}]}
            (mask: uncompressed COCO RLE, column-major, background run first); a failed image prints
            {"image", "error"}.
  --model   the .onnx file (its .json beside it); default $LEUKOGRAPH_DETECTOR_MODEL or models/detector.onnx.
  --precision  auto (default, or $LEUKOGRAPH_DETECTOR_PRECISION): what the server's jobs run, the model's accepted
            int8 variant on the CPU, the float model on WebGPU; float or int8 to choose.
Exit code 1 when no image was found or every image failed.`;

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp']);

interface DetectArgs {
  inputs: string[];
  json: boolean;
  model?: string;
  threads?: number;
  device?: 'auto' | 'webgpu' | 'cpu';
  precision: DetectorPrecision;
  help: boolean;
}

const DETECT_FLAGS = {
  json: { type: 'boolean' },
  model: { type: 'string', value: 'detector.onnx' },
  threads: { type: 'string', value: 'N' },
  device: { type: 'string', value: 'auto|webgpu|cpu' },
  precision: { type: 'string', value: 'auto|float|int8' },
} as const satisfies FlagSpecs;

export function parseDetectArgs(args: readonly string[]): DetectArgs {
  const command = 'leukograph detect';
  const { flags, positional } = parseFlags(args, DETECT_FLAGS, { command, positionals: 'any' });
  const threads = intFlag(command, 'threads', flags.threads, 1);
  return {
    inputs: positional, json: flags.json === true, help: flags.help === true, model: flags.model,
    // The server's rule (engine/detector-loader.ts), so that a cell detected here is the one its jobs would detect.
    precision: flags.precision !== undefined ? choiceFlag(command, 'precision', flags.precision, ['auto', 'float', 'int8'] as const, 'auto') : resolveDetectorPrecision(process.env.LEUKOGRAPH_DETECTOR_PRECISION),
    ...(threads !== undefined ? { threads } : {}),
    ...(flags.device !== undefined ? { device: choiceFlag(command, 'device', flags.device, ['auto', 'webgpu', 'cpu'] as const, 'auto') } : {}),
  };
}

/** Image files under the inputs: files as given, folders recursively (sorted, image extensions only). */
export async function listImages(inputs: readonly string[]): Promise<{ path: string; missing?: string }[]> {
  const found: { path: string; missing?: string }[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch (err) {
      found.push({ path: input, missing: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message });
      continue;
    }
    if (!st.isDirectory()) {
      found.push({ path: input });
      continue;
    }
    const entries = await readdir(input, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && IMAGE_EXT.has(path.extname(e.name).toLowerCase()))
      .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
      .sort();
    for (const f of files) found.push({ path: f });
  }
  return found;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function jsonLine(image: string, d: Detection): string {
  return JSON.stringify({
    image,
    width: d.width,
    height: d.height,
    cells: d.cells.map((c) => ({ box: c.box.map(r2), score: Math.round(c.score * 1e4) / 1e4, mask: c.mask, cutByBorder: cutByBorder(c.box, d.width, d.height) })),
  });
}

function humanLine(image: string, d: Detection): string {
  const n = d.cells.length;
  const cut = d.cells.filter((c) => cutByBorder(c.box, d.width, d.height)).length;
  const scores = n ? ` (scores ${d.cells.map((c) => c.score.toFixed(3)).join(', ')})${cut ? `, ${cut} cut by the border` : ''}` : '';
  return `${image}: ${d.width}x${d.height}, ${n} cell${n === 1 ? '' : 's'}${scores}`;
}

/** Runs the command; returns the exit code (non-zero when no image was found or every image failed). */
export async function detectCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  let opts: DetectArgs;
  try {
    opts = parseDetectArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.write(`${err.message}\n${DETECT_USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    out.write(DETECT_USAGE + '\n');
    return 0;
  }
  const images = await listImages(opts.inputs);
  if (images.length === 0) {
    out.write(opts.inputs.length ? 'no images found\n' : DETECT_USAGE + '\n');
    return 1;
  }
  const detector = await createDetector({ modelPath: opts.model, prefer: opts.device, intraOpNumThreads: opts.threads, precision: opts.precision });
  log.info('detector loaded', { model: detector.modelPath, modelVersion: detector.model.version, precision: detector.variant.precision, why: detector.variant.reason, ...detector.backend });
  let ok = 0;
  const fail = (image: string, message: string) =>
    out.write(opts.json ? JSON.stringify({ image, error: message }) + '\n' : `${image}: error: ${message}\n`);
  try {
    const present = images.filter((i) => !i.missing);
    const results = detector.detectMany(present.map((i) => () => readFile(i.path)));
    let next = await results.next();
    for (const img of images) {
      if (img.missing) {
        fail(img.path, img.missing);
        continue;
      }
      if (next.done) throw new Error('detector returned fewer results than images');
      const r = next.value;
      if (r.result) {
        ok++;
        out.write((opts.json ? jsonLine(img.path, r.result) : humanLine(img.path, r.result)) + '\n');
      } else fail(img.path, r.error?.message ?? 'unknown error');
      next = await results.next();
    }
  } finally {
    await detector.dispose();
  }
  return ok > 0 ? 0 : 1;
}
