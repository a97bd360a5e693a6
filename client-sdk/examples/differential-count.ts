// What a diagnosis tool would write: send the images of one blood smear, and print the differential
// count (white cells per class, the flagged ones apart) live as the cells stream in, then a table.
//
//   node client-sdk/dist/examples/differential-count.js --url http://127.0.0.1:4000/graphql [--token T]
//        [--dataset NAME] <image files or folders>
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLeukographClient, LeukographError, type Cell } from '../src/index.js';

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

/**
 * The tally: classified cells per class, flagged ones (unlike the training data), cells without a prediction,
 * and cells cut by the image border, left out as a manual differential leaves them out (counting-frame rule).
 */
class DifferentialCount {
  readonly byClass = new Map<string, number>();
  readonly flaggedReasons = new Map<string, number>();
  flagged = 0;
  unclassified = 0;
  cutByBorder = 0;
  cells = 0;

  add(cell: Cell): string {
    this.cells++;
    if (cell.cutByBorder) {
      this.cutByBorder++;
      return 'cut by the image border: not counted';
    }
    const p = cell.prediction;
    if (!p) {
      this.unclassified++;
      return 'not classified';
    }
    if (p.flagged || !p.label) {
      this.flagged++;
      const reason = p.reason ?? 'flagged';
      // Tallied by kind ("low confidence"), without each cell's numbers; the cell's line keeps them.
      const kind = reason.replace(/\s*\(.*\)\s*$/, '');
      this.flaggedReasons.set(kind, (this.flaggedReasons.get(kind) ?? 0) + 1);
      return `flagged (${reason})`;
    }
    this.byClass.set(p.label, (this.byClass.get(p.label) ?? 0) + 1);
    const top = Math.max(...p.probabilities.map((q) => q.probability));
    return `${p.label} ${(top * 100).toFixed(0)}%`;
  }

  get classified(): number {
    return this.cells - this.flagged - this.unclassified - this.cutByBorder;
  }

  line(): string {
    const classes = [...this.byClass].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
    return [`${this.cells} cells`, ...classes, ...(this.flagged ? [`flagged ${this.flagged}`] : []), ...(this.unclassified ? [`not classified ${this.unclassified}`] : []), ...(this.cutByBorder ? [`cut by the border ${this.cutByBorder}`] : [])].join(' · ');
  }

  table(): string {
    const rows: string[] = [];
    const pct = (n: number) => (this.classified ? `${((100 * n) / this.classified).toFixed(1)}%` : '');
    rows.push(`${'class'.padEnd(24)}${'cells'.padStart(7)}${'%'.padStart(8)}`);
    for (const [k, n] of [...this.byClass].sort((a, b) => b[1] - a[1])) rows.push(`${k.padEnd(24)}${String(n).padStart(7)}${pct(n).padStart(8)}`);
    rows.push(`${'total classified'.padEnd(24)}${String(this.classified).padStart(7)}`);
    if (this.flagged) {
      rows.push('', `flagged apart (not in the percentages): ${this.flagged}`);
      for (const [reason, n] of this.flaggedReasons) rows.push(`  ${String(n).padStart(5)}  ${reason}`);
    }
    if (this.unclassified) rows.push('', `found but not classified: ${this.unclassified}`);
    if (this.cutByBorder) rows.push('', `cut by the image border (not counted): ${this.cutByBorder}`);
    return rows.join('\n');
  }
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
  const count = new DifferentialCount();
  const imageNames = new Map<string, string>();
  const perImage = new Map<string, number>();
  try {
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
      const verdict = count.add(cell);
      perImage.set(cell.imageId, (perImage.get(cell.imageId) ?? 0) + 1);
      if (live) process.stdout.write(`\r\x1b[K${count.line()}`);
      else console.log(`${imageNames.get(cell.imageId) ?? cell.imageId} #${cell.index}: ${verdict}  | ${count.line()}`);
    }
    if (live) process.stdout.write('\n');
    const stages = (stream.job?.result?.stages as string[] | undefined) ?? [];
    console.log(`\ndifferential count of ${files.length} images (${stream.job?.message ?? ''})\n`);
    if (count.cells === 0) {
      console.log('no white cells were found in these images');
    } else if (count.unclassified > 0 && count.unclassified + count.cutByBorder === count.cells) {
      console.log(`no classifier is trained yet (the server ran ${stages.join(' → ') || 'detection only'}): ${count.cells} cells found, without classes.`);
      console.log('train one (trainAutoencoder, then trainClassifier) to get the differential count.\n');
      for (const id of imageNames.keys()) console.log(`  ${String(perImage.get(id) ?? 0).padStart(4)} cells  ${imageNames.get(id)}`);
    } else {
      console.log(count.table());
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

process.exitCode = await main();
