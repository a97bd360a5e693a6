// Reads a classifier file: the JSON a train-classifier job writes, or the same gzipped (`.json.gz`), as the
// classifiers bundled in models/ are kept small in the repository.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { classifierFromJson, type CellClassifier } from './classifier-artifact.js';

export async function readClassifierFile(path: string): Promise<CellClassifier> {
  const bytes = await readFile(path);
  return classifierFromJson((path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
}
