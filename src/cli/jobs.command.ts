// Command-line front ends for the server's long jobs: each starts a job through GraphQL and follows it
// with a progress bar (plain lines off a terminal, JSON lines with --json) until it ends.
import { resolve } from 'node:path';
import { connect, type Remote } from './remote.js';
import { createProgressView } from './progress.js';
import { flagInt, flagString, type ParsedArgs } from './args.js';
import { differentialTable, type DifferentialCount } from '../../client-sdk/src/differential-count.js';

const JOB_FIELDS = 'id status message result error';

async function datasetId(r: Remote, name: string, create = false): Promise<string> {
  const d = await r.request<{ datasets: { id: string; name: string }[] }>(`{ datasets { id name } }`);
  const found = d.datasets.find((x) => x.name === name);
  if (found) return found.id;
  if (!create) throw new Error(`no dataset named "${name}"`);
  const c = await r.request(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name } });
  return c.createDataset.id;
}

/** Follows a job to its end; returns the job row. Exit status: 0 succeeded, 1 otherwise. */
async function followJob(r: Remote, jobId: string, label: string, json: boolean): Promise<{ status: string; result: any; error: string | null }> {
  const view = createProgressView(label, { json });
  let last = { done: 0, total: null as number | null, message: null as string | null };
  await r.follow(jobId, (e) => {
    last = e;
    if (!['succeeded', 'failed', 'cancelled'].includes(e.status)) view.update(e);
  });
  const j = await r.request(`query($id: ID!) { job(id: $id) { ${JOB_FIELDS} done total } }`, { id: jobId });
  const status = String(j.job.status).toLowerCase();
  view.end({ ...last, done: j.job.done, total: j.job.total, status, message: j.job.error ?? j.job.message });
  return { status, result: j.job.result, error: j.job.error };
}

const DIFFERENTIAL = 'differential { cells counted byClass { label count fraction } flagged flaggedByReason { reason count } unclassified cutByBorder }';

/** A classify or analyze job's differential count, as the server's typed result gives it (null for other kinds). */
async function differentialOf(r: Remote, jobId: string): Promise<DifferentialCount | null> {
  const d = await r.request(
    `query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { ${DIFFERENTIAL} } ... on AnalyzeJobResult { ${DIFFERENTIAL} } } } }`,
    { id: jobId },
  );
  return d.job?.typedResult?.differential ?? null;
}

async function startAndFollow(r: Remote, mutation: string, input: Record<string, unknown>, label: string, json: boolean): Promise<number> {
  const typeName = mutation[0].toUpperCase() + mutation.slice(1);
  const d = await r.request(`mutation($i: ${typeName}Input!) { ${mutation}(input: $i) { id } }`, { i: input });
  const jobId: string = d[mutation].id;
  const job = await followJob(r, jobId, label, json);
  const differential = job.status === 'succeeded' && COUNTED.has(mutation) ? await differentialOf(r, jobId) : null;
  if (json) process.stdout.write(JSON.stringify({ type: 'result', jobId, ...job, ...(differential ? { differential } : {}) }) + '\n');
  else if (differential) process.stdout.write(`\n${differentialTable(differential)}\n`);
  return job.status === 'succeeded' ? 0 : 1;
}

/** The jobs whose result is a differential count. */
const COUNTED = new Set(['classifyCells', 'analyzeImages']);

export const JOB_COMMANDS = ['import', 'detect-dataset', 'train', 'train-classifier', 'classify', 'analyze', 'watch'] as const;

export const JOB_USAGE = `
Job commands (talk to a running server; --url, default http://127.0.0.1:4000/graphql; --token or LEUKOGRAPH_TOKEN; --json):
  leukograph import <dir> --dataset NAME [--layout auto|class-folders|matek|labels-csv|images] [--max-per-class N]
  leukograph detect-dataset --dataset NAME [--top-only]
  leukograph train --source NAME [--align NAME ...] [--preset cpu|paper] [--epochs N] [--batch-size N] [--align-weight W] [--seed S]
  leukograph train-classifier --dataset NAME [--dataset ...] [--classes common5|paper13] [--features latent|morphology] [--trees N]
  leukograph classify --dataset NAME [--stain auto|off|always] [--consensus on|off]
                                            (encodes, then classifies; a morphology classifier needs no encoding,
                                             --stain says what it does with another lab's stain, default auto, and
                                             --consensus whether similar cells of the dataset settle a verdict, default
                                             off: it helps the common types and costs the rare ones)
  leukograph analyze --dataset NAME         (detect, encode, classify)
  leukograph watch <jobId>
`;

export async function jobCommand(args: ParsedArgs): Promise<number> {
  const url = flagString(args, 'url') ?? process.env.LEUKOGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';
  const r = connect(url, flagString(args, 'token') ?? process.env.LEUKOGRAPH_TOKEN);
  const json = args.flags.json === true;
  const list = (name: string) => {
    const v = args.flags[name];
    return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  };
  const need = (name: string) => {
    const v = flagString(args, name) ?? list(name)[0];
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  try {
    switch (args.command) {
      case 'import': {
        const dir = args.positional[0];
        if (!dir) throw new Error('give the folder to import');
        const id = await datasetId(r, need('dataset'), true);
        return await startAndFollow(r, 'importDataset', {
          datasetId: id, path: resolve(dir), layout: (flagString(args, 'layout') ?? 'auto').toUpperCase().replace('-', '_'),
          maxPerClass: flagInt(args, 'max-per-class'),
        }, 'import', json);
      }
      case 'detect-dataset':
        return await startAndFollow(r, 'detectCells', { datasetId: await datasetId(r, need('dataset')), topOnly: args.flags['top-only'] === true }, 'detect', json);
      case 'train':
        return await startAndFollow(r, 'trainAutoencoder', {
          sourceDatasetId: await datasetId(r, need('source')),
          alignDatasetIds: await Promise.all(list('align').map((n) => datasetId(r, n))),
          preset: (flagString(args, 'preset') ?? 'cpu').toUpperCase(),
          ...(flagInt(args, 'epochs') !== undefined ? { epochs: flagInt(args, 'epochs') } : {}),
          ...(flagInt(args, 'batch-size') !== undefined ? { batchSize: flagInt(args, 'batch-size') } : {}),
          ...(flagString(args, 'align-weight') !== undefined ? { alignWeight: Number(flagString(args, 'align-weight')) } : {}),
          ...(flagInt(args, 'seed') !== undefined ? { seed: flagInt(args, 'seed') } : {}),
        }, 'train', json);
      case 'train-classifier':
        return await startAndFollow(r, 'trainClassifier', {
          datasetIds: await Promise.all(list('dataset').map((n) => datasetId(r, n))),
          classMap: (flagString(args, 'classes') ?? 'common5').toUpperCase(),
          features: (flagString(args, 'features') ?? 'latent').toUpperCase(),
          ...(flagInt(args, 'trees') !== undefined ? { trees: flagInt(args, 'trees') } : {}),
        }, 'train-classifier', json);
      case 'classify': {
        const stain = (flagString(args, 'stain') ?? 'auto').toLowerCase();
        if (!['auto', 'off', 'always'].includes(stain)) throw new Error(`--stain takes auto, off or always, not "${stain}"`);
        const consensus = (flagString(args, 'consensus') ?? 'off').toLowerCase();
        if (!['on', 'off'].includes(consensus)) throw new Error(`--consensus takes on or off, not "${consensus}"`);
        const id = await datasetId(r, need('dataset'));
        // A morphology classifier reads the cells' crops: nothing to encode first.
        const models = await r.request<{ models: { active: boolean; params: { features?: string } }[] }>(`{ models(kind: "classifier") { active params } }`);
        if (models.models.find((m) => m.active)?.params.features === 'morphology') {
          return await startAndFollow(r, 'classifyCells', { datasetId: id, stainAdaptation: stain.toUpperCase(), neighbourConsensus: consensus === 'on' }, 'classify', json);
        }
        const enc = await startAndFollow(r, 'encodeCells', { datasetId: id }, 'encode', json);
        return enc !== 0 ? enc : await startAndFollow(r, 'classifyCells', { datasetId: id }, 'classify', json);
      }
      case 'analyze':
        return await startAndFollow(r, 'analyzeImages', { datasetId: await datasetId(r, need('dataset')) }, 'analyze', json);
      case 'watch': {
        if (!args.positional[0]) throw new Error('give the job id');
        const j = await followJob(r, args.positional[0], 'job', json);
        return j.status === 'succeeded' ? 0 : 1;
      }
      default:
        throw new Error(`unknown job command ${args.command}`);
    }
  } finally {
    await r.close();
  }
}
