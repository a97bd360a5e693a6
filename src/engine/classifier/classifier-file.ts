// Reads a classifier file: the JSON a train-classifier job writes, or the same gzipped (`.json.gz`), as the
// classifiers bundled in models/ are kept small in the repository. The bytes come from wherever the row's
// reference points (the object store, or a bundled file): see src/storage/blobs.ts.
import { gunzipSync } from 'node:zlib';
import { classifierFromJson, type CellClassifier } from './classifier-artifact.js';

/** gzip's magic bytes: a bundled `.json.gz` keeps them whatever the reference's name. */
const isGzip = (b: Buffer) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

export function parseClassifierFile(bytes: Buffer): CellClassifier {
  return classifierFromJson((isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8'));
}

export async function readClassifierFile(blobs: { read(ref: string, what?: string): Promise<Buffer> }, ref: string): Promise<CellClassifier> {
  return parseClassifierFile(await blobs.read(ref, 'classifier file'));
}
