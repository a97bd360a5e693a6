// Turns a detector artifact into the CellDetector the detect job uses (engine/detector over onnxruntime).
import type { CellDetector } from './resident-models.js';

export async function loadDetector(artifactPath: string): Promise<CellDetector> {
  throw new Error(`detector runtime not available yet for ${artifactPath}`);
}
