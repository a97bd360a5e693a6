// What a diagnosis tool would write: send the images of one blood smear, and print the differential
// count (white cells per class, the flagged ones apart, cells cut by the border left out) live as the cells
// stream in, then a table. It imports the package by its name, as a tool outside this repository would.
//
//   node client-sdk/dist/examples/differential-count.js --url http://127.0.0.1:4000/graphql [--token T]
//        [--dataset NAME] <image files or folders>
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLeukographClient, differentialLine, differentialTable, LeukographError, type CellTally } from '@leukograph/client';

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp']);
const USAGE = `usage: differential-count --url http://127.0.0.1:4000/graphql [--token T] [--dataset NAME] <images or folders>
  --url      the server's GraphQL endpoint (default http://127.0.0.1:4000/graphql)
  --token    the server's LEUKOGRAPH_TOKEN (default: $LEUKOGRAPH_TOKEN)
  --dataset  the dataset the smear's images go to, created or reused (default: smear-<first folder or file name>)`;

function imagesIn(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
    else if (IMAGE.has(extname(p).toLowerCase())) out.push(p);
  };
  for (const p of paths) walk(resolve(p));
  return out;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:4000/graphql' },
      token: { type: 'string' },
      dataset: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const files = imagesIn(positionals);
  if (files.length === 0) {
    console.error(`no images (${[...IMAGE].join(' ')}) in ${positionals.join(' ')}`);
    return 2;
  }
  const datasetName = values.dataset ?? `smear-${basename(resolve(positionals[0]), extname(positionals[0]))}`;
  const client = createLeukographClient({ url: values.url!, token: values.token ?? process.env.LEUKOGRAPH_TOKEN });
  const live = process.stdout.isTTY;
  const imageNames = new Map<string, string>();
  const perImage = new Map<string, number>();
  try {
    const server = await client.assertCompatible();
    console.log(`server ${server.server}, schema ${server.schema} (this SDK speaks ${server.sdk})`);
    const dataset = await client.ensureDataset(datasetName, { description: 'sent by the differential-count example' });
    console.log(`dataset "${dataset.name}" (${dataset.id}): sending ${files.length} images`);
    const stream = client.analyzeImages(files, {
      datasetId: dataset.id,
      onUpload: (r, i) => imageNames.set(r.image.id, basename(files[i])),
      onJob: (job) => {
        if (job.status === 'QUEUED' || job.status === 'RUNNING') console.log(`analysis job ${job.id} started; cells as they are found:`);
      },
    });
    for await (const cell of stream) {
      const imageId = cell.image.id;
      perImage.set(imageId, (perImage.get(imageId) ?? 0) + 1);
      const line = differentialLine(stream.count);
      const last = tallyText(stream.lastTally, cell.prediction?.bestGuess ?? null);
      if (live) process.stdout.write(`\r\x1b[K${line}`);
      else console.log(`${imageNames.get(imageId) ?? imageId} #${cell.index}: ${last}  | ${line}`);
    }
    // The job's final count: the lines above showed the verdicts cells streamed with, which the job may
    // have rewritten when it ended (a failed self-check, the final classification of all its cells).
    const count = stream.count;
    if (live) process.stdout.write('\n');
    if (stream.revised.length) console.log(`\n${stream.revised.length} cells got another verdict when the job ended; the count below has the final ones`);
    const stages = (stream.job?.result?.stages as string[] | undefined) ?? [];
    console.log(`\ndifferential count of ${files.length} images (${stream.job?.message ?? ''})\n`);
    if (count.cells === 0) {
      console.log('no white cells were found in these images');
    } else if (count.unclassified > 0 && count.unclassified + count.cutByBorder === count.cells) {
      console.log(`no classifier is trained yet (the server ran ${stages.join(' → ') || 'detection only'}): ${count.cells} cells found, without classes.`);
      console.log('train one (trainClassifier) or make a bundled one active (leukograph models --use common5) to get the differential count.\n');
      for (const id of imageNames.keys()) console.log(`  ${String(perImage.get(id) ?? 0).padStart(4)} cells  ${imageNames.get(id)}`);
    } else {
      console.log(differentialTable(count));
    }
    return 0;
  } catch (err) {
    if (live) process.stdout.write('\n');
    if (err instanceof LeukographError) console.error(`${err.name} (${err.code}): ${err.message}`);
    else console.error(err);
    return 1;
  } finally {
    await client.close();
  }
}

/** One cell's verdict in words: its class and probability, or why it is kept apart (with the best guess). */
function tallyText(t: CellTally | undefined, guess: { label: string; probability: number } | null): string {
  const p = guess ? `${guess.label} ${(guess.probability * 100).toFixed(0)}%` : '';
  if (!t) return '';
  if (t.kind === 'counted') return p;
  if (t.kind === 'flagged') return `flagged (${t.reason.toLowerCase().replace('_', ' ')}; best guess ${p})`;
  if (t.kind === 'unclassified') return 'not classified';
  return 'cut by the image border: not counted';
}

process.exitCode = await main();
