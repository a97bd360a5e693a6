// Exploration only: dump every cell's 128 px crop, box and morphology values for Python.
// ACEVEDO_PER_CLASS=200 caps Acevedo-20 at that many cells a class (seed 0, as scripts/results.sh samples it); default every cell.
import { mkdirSync, writeFileSync } from 'node:fs';
// Run from the repository root after a build (npm ci) and a scripts/results.sh run with WORK_DIR=/tmp/lg-results-work
// (its prepared views and detection cache); writes $DUMP (default /tmp/dump)/cells.csv and crops.u8.
const R = new URL('../../dist/src', import.meta.url).pathname;
const DUMP = process.env.DUMP ?? '/tmp/dump';
const DATA = process.env.DATA ?? new URL('../../../shared/data', import.meta.url).pathname;
const { loadFolderDomain, detectorCacheKey } = await import(`${R}/evaluation/folder-dataset.js`);
const { createDetector } = await import(`${R}/engine/detector/index.js`);
const { morphologyFeatures, MORPHOLOGY_NAMES } = await import(`${R}/imaging/cell-morphology.js`);
const model = 'models/detector.onnx';
const detector = await createDetector({ modelPath: model });
const cache = { dir: '/tmp/leukograph-detections', key: await detectorCacheKey(model, detector) };
const acevedoCap = Number(process.env.ACEVEDO_PER_CLASS ?? 100000);
const doms = [['acevedo20', '/tmp/lg-results-work/acevedo20'], ['bccd', '/tmp/lg-results-work/bccd'], ['zheng-ds2', `${DATA}/zheng-ds2`]];
mkdirSync(DUMP, { recursive: true });
const rows = [['domain', 'label', 'id', 'b0', 'b1', 'b2', 'b3', 'ib0', 'ib1', 'ib2', 'ib3', 'img_w', 'img_h', ...MORPHOLOGY_NAMES].join(',')];
const crops = [];
for (const [name, dir] of doms) {
  const { domain, stats } = await loadFolderDomain({ name, dir, classes: 'common5', maxPerClass: name === 'acevedo20' ? acevedoCap : 100000, seed: 0, imageSize: 128, detector, cache });
  console.error(name, stats.cells, stats.cached);
  for (const c of domain.cells) {
    const crop = typeof c.crop === 'function' ? await c.crop() : c.crop;
    const f = morphologyFeatures(crop, 128, c.box);
    rows.push([name, c.label ?? '', JSON.stringify(c.id ?? ''), ...(c.box ?? [0, 0, 0, 0]), ...(c.imageBox?.box ?? [0, 0, 0, 0]), c.imageBox?.width ?? 0, c.imageBox?.height ?? 0, ...Array.from(f)].join(','));
    crops.push(Buffer.from(crop));
  }
}
writeFileSync(`${DUMP}/cells.csv`, rows.join('\n') + '\n');
writeFileSync(`${DUMP}/crops.u8`, Buffer.concat(crops));
await detector.dispose?.();
