/**
 * Which file of the detector to run (issue 23): the float model, or its int8 quantisation when that one
 * is faster on the device and its accuracy was checked against the float model.
 *
 * An int8 variant sits beside the float model as `<name>-int8.onnx` with its own card `<name>-int8.json`,
 * whose `quantization` block says which float model it was made from (`from_sha256`, the float card's
 * sha256) and whether it met the accuracy bar (`accepted`: TXL-PBC recall and precision, mask IoU on
 * BCCD and Zheng DS2 within 0.005 of the float model; figures in the block and in models/detector.md).
 *
 * precision 'auto' (the engine's default) takes the int8 file when it exists, belongs to this float
 * model, was accepted, and the session will run on the CPU (onnxruntime's int8 kernels are CPU kernels;
 * the webgpu provider runs the float model). 'float' and 'int8' force a file ('int8' fails without one).
 * LEUKOGRAPH_DETECTOR_PRECISION=auto|float|int8 sets the engine's choice.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OnnxPreference } from '../backends/onnx.js';
import { probeWebgpu } from '../backends/webgpu.js';

export type DetectorPrecision = 'auto' | 'float' | 'int8';

export interface DetectorVariant {
  modelPath: string;
  precision: 'float' | 'int8';
  /** Why this file (for logs and the engine status). */
  reason: string;
}

interface Quantization {
  from_sha256?: string;
  accepted?: boolean;
}

export function int8PathFor(floatPath: string): string {
  return floatPath.replace(/\.onnx$/i, '') + '-int8.onnx';
}

function card(modelPath: string): Record<string, unknown> | null {
  const p = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function resolveDetectorPrecision(value: string | undefined, what = 'LEUKOGRAPH_DETECTOR_PRECISION'): DetectorPrecision {
  const v = (value ?? '').trim().toLowerCase();
  if (!v) return 'auto';
  if (v !== 'auto' && v !== 'float' && v !== 'int8') throw new Error(`${what}=${value}: expected auto, float or int8`);
  return v;
}

/** Where the ONNX session would run for `prefer` (the same rule as backends/onnx.ts). */
async function willRunOnCpu(prefer: OnnxPreference | undefined): Promise<boolean> {
  let p: string = prefer ?? 'auto';
  if (p === 'auto') p = (process.env.LEUKOGRAPH_ONNX_DEVICE ?? '').trim().toLowerCase() || 'auto';
  if (p === 'cpu') return true;
  const probe = await probeWebgpu(p === 'webgpu', 10_000);
  return !probe.ok;
}

export async function chooseDetectorVariant(floatPath: string, precision: DetectorPrecision, prefer?: OnnxPreference): Promise<DetectorVariant> {
  const abs = path.resolve(floatPath);
  if (precision === 'float') return { modelPath: abs, precision: 'float', reason: 'float model asked for' };
  const q8 = int8PathFor(abs);
  const qCard = existsSync(q8) ? card(q8) : null;
  if (precision === 'int8') {
    if (!qCard) throw new Error(`detector: int8 asked for, but ${q8} (with its .json card) does not exist`);
    return { modelPath: q8, precision: 'int8', reason: 'int8 model asked for' };
  }
  if (!qCard) return { modelPath: abs, precision: 'float', reason: `no int8 variant (${path.basename(q8)})` };
  const q = (qCard.quantization ?? {}) as Quantization;
  const floatSha = card(abs)?.sha256;
  if (!q.from_sha256 || q.from_sha256 !== floatSha) return { modelPath: abs, precision: 'float', reason: `${path.basename(q8)} was made from another float model` };
  if (q.accepted !== true) return { modelPath: abs, precision: 'float', reason: `${path.basename(q8)} did not meet the accuracy bar` };
  if (!(await willRunOnCpu(prefer))) return { modelPath: abs, precision: 'float', reason: 'webgpu: the float model' };
  return { modelPath: q8, precision: 'int8', reason: 'cpu: the int8 model (faster; accuracy within 0.005 of the float model, models/detector.md)' };
}
