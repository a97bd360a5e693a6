// What the bundling scripts (bundle-classifiers.ts, bundle-aecfe.ts) share: their arguments, the server's GraphQL,
// the jobs' JSON lines the training scripts kept, a model's file and the summary of a classify job on a labelled lab.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** <jobs-output-dir> <models-dir> from the command line, or the usage line. */
export function bundleArgs(script: string): { outDir: string; modelsDir: string } {
  const [outDir, modelsDir] = process.argv.slice(2);
  if (!outDir || !modelsDir) throw new Error(`usage: ${script} <jobs-output-dir> <models-dir>`);
  return { outDir, modelsDir };
}

const url = process.env.LEUKOGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';

export async function gql(query: string, variables: Record<string, unknown>): Promise<any> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const b = (await r.json()) as { data?: any; errors?: { message: string }[] };
  if (b.errors?.length) throw new Error(b.errors[0]!.message);
  return b.data;
}

/** A job's last JSON line, as the training scripts saved it under <jobs-output-dir>. */
export const readJob = (outDir: string, name: string): any => JSON.parse(readFileSync(join(outDir, name), 'utf8'));
export const pct = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A model's row and file: a store reference ("store:<key>") lies under the server's data directory (the default file store). */
export async function modelFile(id: string): Promise<{ model: any; bytes: Buffer }> {
  const { model } = await gql(`query($id: ID!) { model(id: $id) { id name artifactPath params metrics } }`, { id });
  const ref: string = model.artifactPath;
  return { model, bytes: readFileSync(ref.startsWith('store:') ? join(process.env.LEUKOGRAPH_DATA_DIR ?? '.data', ref.slice('store:'.length)) : ref) };
}

/** A classify job on a labelled lab, as the model cards' metadata records it. */
export function labSummary(c: any): Record<string, unknown> {
  const a = c.againstLabels;
  return {
    job: c.jobId, cells: c.differential?.cells, flagged: c.differential?.flagged,
    // A morphology classifier's job says what its stain step did; a latent one has none.
    ...(c.result?.stain ? { stain: c.result.stain.note ?? null } : {}),
    givenAClass: a && { n: a.scored, accuracyPct: pct(a.accuracy), balancedAccuracyPct: pct(a.balancedAccuracy), labelledFlagged: a.flagged },
    everyCellByBestGuess: a?.bestGuess && { n: a.bestGuess.scored, accuracyPct: pct(a.bestGuess.accuracy), balancedAccuracyPct: pct(a.bestGuess.balancedAccuracy), confusion: a.bestGuess.confusion },
  };
}

/**
 * Writes a model's file gzipped into <models-dir> and returns what its metadata says of the file, in the
 * metadata's order: the version (the prefix and the raw file's hash), the name, both sizes and the gzip's hash.
 */
export function writeGzipped(modelsDir: string, file: string, raw: Buffer, versionPrefix: string): { version: string; file: string; bytes: number; uncompressedBytes: number; sha256: string } {
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(modelsDir, file), gz);
  return { version: `${versionPrefix}-${sha(raw).slice(0, 12)}`, file, bytes: statSync(join(modelsDir, file)).size, uncompressedBytes: raw.length, sha256: sha(gz) };
}
