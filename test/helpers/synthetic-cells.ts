// Cells with synthetic instance features, for testing the autoencoder and classifier jobs without a
// detector: image rows point at real fixture files, each gets one cell (index 0) whose features are
// smooth, class-dependent maps written to the feature store exactly as the detect job would.
import pg from 'pg';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FeatureStore, FEATURE_LENGTH } from '../../src/engine/feature-store.js';
import { FIXTURES } from './stack.js';

const CLASSES = ['basophil', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil'];

/** Seeds `n` labelled images with one cell each into a dataset; `shift` fakes another lab. */
export async function seedSyntheticCells(databaseUrl: string, dataDir: string, datasetId: string, n: number, opts: { shift?: number; seed?: number } = {}): Promise<void> {
  const files = CLASSES.flatMap((c) => readdirSync(join(FIXTURES, 'acevedo20', c)).map((f) => ({ c, path: join(FIXTURES, 'acevedo20', c, f) })));
  const store = new FeatureStore(join(dataDir, 'features'));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) {
      const f = files[i % files.length];
      const cls = CLASSES.indexOf(f.c);
      const sha = createHash('sha256').update(`${datasetId}-${i}`).digest('hex');
      const img = await client.query(
        `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, cell_type)
         VALUES ($1, $2, $3, $4, 360, 363, 'jpeg', 1, $5, $5) RETURNING id`,
        [datasetId, `synthetic/${String(i).padStart(4, '0')}.jpg`, f.path, sha, f.c],
      );
      const imageId = img.rows[0].id as string;
      const feat = new Float32Array(FEATURE_LENGTH);
      const seed = (opts.seed ?? 1) * 7919 + i;
      for (let k = 0; k < FEATURE_LENGTH; k++) {
        const ch = Math.floor(k / 196);
        const p = k % 196;
        feat[k] = Math.sin((ch % 17) * 0.3 + cls * 1.1 + (p % 14) * 0.2) * Math.cos((p / 14) * 0.25 + ch * 0.01) + 0.05 * Math.sin(seed * 12.9898 + k) + (opts.shift ?? 0);
      }
      const file = store.fileFor('synthetic', imageId);
      await store.write(file, [feat]);
      await client.query(
        `INSERT INTO cells (image_id, detector_id, index, box, score, mask, feature_ref) VALUES ($1, NULL, 0, $2, 0.99, NULL, $3)`,
        [imageId, [90, 90, 270, 270], FeatureStore.ref(file, 0)],
      );
    }
  } finally {
    await client.end();
  }
}
