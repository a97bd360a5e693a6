// Step 1 of the review-loop benchmark: `node dist/bench/review-loop/extract.js [--data ../shared/data]
// [--work /tmp/lg-results-work/review-loop] [--cache-dir /tmp/leukograph-detections] [--out <work>/features.json]
// [--augment-copies N (default MORPHOLOGY_AUGMENT_COPIES; 0 none)] [--augment-seeds 10 (copies for job seeds 0..9,
// the run's --seeds)]`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractFeatures } from './features.js';
import { MORPHOLOGY_AUGMENT_COPIES } from '../../src/pipeline/defaults.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data' },
    work: { type: 'string', default: '/tmp/lg-results-work/review-loop' },
    'cache-dir': { type: 'string', default: '/tmp/leukograph-detections' },
    model: { type: 'string', default: 'models/detector.onnx' },
    splits: { type: 'string', default: 'training/detector/splits.json' },
    'source-max-per-class': { type: 'string', default: '200' },
    out: { type: 'string' },
    'augment-copies': { type: 'string', default: String(MORPHOLOGY_AUGMENT_COPIES) },
    'augment-seeds': { type: 'string', default: '10' },
  },
  strict: true,
});
const out = a.out ?? join(a.work!, 'features.json');
const file = await extractFeatures({
  data: a.data!, work: a.work!, cacheDir: a['cache-dir']!, modelPath: a.model!, splits: a.splits!,
  sourceMaxPerClass: Number(a['source-max-per-class']), seed: 0,
  augmentCopies: Number(a['augment-copies']), augmentSeeds: Array.from({ length: Number(a['augment-seeds']) }, (_, i) => i), log: (s) => console.error(s),
});
writeFileSync(out, JSON.stringify(file));
console.error(`wrote ${out}`);
