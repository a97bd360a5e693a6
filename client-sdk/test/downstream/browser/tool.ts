// A browser-style tool: no `ws`, no Node types. It reads its inputs from the global `process` only because
// the test runs it in Node; a page would take them from a form.
import { AnalyzeImagesDocument, createLeukographClient, LeukographError } from '@leukograph/client';

declare const process: { argv: string[] };
const [url, token, imageBase64] = process.argv.slice(2);
const client = createLeukographClient({ url: url!, token });
const server = await client.checkServer();
const dataset = await client.ensureDataset('browser-tool');
// A Blob, as a file input gives one.
const bytes = Uint8Array.from(atob(imageBase64!), (ch) => ch.charCodeAt(0));
const upload = await client.uploadImage(dataset.id, new Blob([bytes], { type: 'image/png' }), { filename: 'field 1.png' });
const { analyzeImages: job } = await client.mutate(AnalyzeImagesDocument, { input: { imageIds: [upload.image.id] } });
let subscription = 'ok';
try {
  for await (const p of client.jobProgress(job.id)) subscription = `ok ${p.status}`;
} catch (err) {
  subscription = err instanceof LeukographError ? err.code : String(err);
}
const done = await client.waitForJob(job.id);
console.log(JSON.stringify({ compatible: server.compatible, schema: server.schema, format: upload.image.format, sourcePath: upload.image.sourcePath, subscription, job: done.status }));
await client.close();
