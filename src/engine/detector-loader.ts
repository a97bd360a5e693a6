// Turns a detector artifact into the CellDetector the jobs use: the ONNX pipeline of engine/detector,
// with its execution provider (webgpu when an adapter exists, else cpu) reported in the engine status.
// On the CPU the engine runs the detector's accepted int8 variant when there is one (detector/variants.ts;
// LEUKOGRAPH_DETECTOR_PRECISION=float keeps the float model).
import { createDetector, resolveDetectorPrecision } from './detector/index.js';
import type { CellDetector } from './resident-models.js';

export async function loadDetector(artifactPath: string): Promise<CellDetector> {
  const d = await createDetector({ modelPath: artifactPath, precision: resolveDetectorPrecision(process.env.LEUKOGRAPH_DETECTOR_PRECISION) });
  return {
    detect: (image) => d.detect(image),
    runtime: () => ({
      name: 'onnxruntime',
      backend: `onnxruntime-node ${d.backend.version}`,
      device: d.backend.device,
      detail: [d.backend.detail, `${d.variant.precision} model (${d.variant.reason})`, ...d.backend.notes].filter(Boolean).join('; '),
    }),
    dispose: () => d.dispose(),
  };
}
