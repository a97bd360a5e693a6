// Turns a detector artifact into the CellDetector the jobs use: the ONNX pipeline of engine/detector,
// with its execution provider (webgpu when an adapter exists, else cpu) reported in the engine status.
import { createDetector } from './detector/index.js';
import type { CellDetector } from './resident-models.js';

export async function loadDetector(artifactPath: string): Promise<CellDetector> {
  const d = await createDetector({ modelPath: artifactPath });
  return {
    detect: (image) => d.detect(image),
    runtime: () => ({
      name: 'onnxruntime',
      backend: `onnxruntime-node ${d.backend.version}`,
      device: d.backend.device,
      detail: [d.backend.detail, ...d.backend.notes].filter(Boolean).join('; '),
    }),
    dispose: () => d.dispose(),
  };
}
