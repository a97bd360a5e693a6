// Command-line front ends for the server's long jobs: each starts a job through GraphQL and follows it
// with a progress bar (plain lines off a terminal, JSON lines with --json) until it ends. Each command
// declares its flags (args.ts refuses any other) and checks what its job needs before starting it, so that
// a mistake is reported in the command line's words (commands and flags), not the API's.
import { resolve } from 'node:path';
import { connect, type Remote } from './remote.js';
import { createProgressView } from './progress.js';
import { choiceFlag, flagHelp, intFlag, numberFlag, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { differentialTable, type DifferentialCount } from '../../client-sdk/src/differential-count.js';
import { exportCommand, EXPORT_FLAGS } from './export.command.js';
import { agreementTable, type LabelAgreementView } from './label-agreement.js';

const JOB_FIELDS = 'id status message result error';

/** Flags every job command takes. */
export const REMOTE_FLAGS = {
  url: { type: 'string', value: 'URL', help: 'the server (default $LEUKOGRAPH_URL or http://127.0.0.1:4000/graphql)' },
  token: { type: 'string', value: 'TOKEN', help: 'bearer token (default $LEUKOGRAPH_TOKEN)' },
  json: { type: 'boolean', help: 'JSON lines instead of a progress bar and tables' },
} as const satisfies FlagSpecs;

const DATASET = { type: 'string', value: 'NAME', help: 'the dataset, by name' } as const;

export const JOB_SPECS = {
  import: {
    args: '<dir>', positionals: 1,
    summary: 'imports a server folder into a dataset (created if new)',
    flags: { dataset: DATASET, layout: { type: 'string', value: 'LAYOUT', help: 'auto (default), class-folders, matek, labels-csv or images' }, 'max-per-class': { type: 'string', value: 'N', help: 'a seeded sample of at most N images per class' } },
  },
  'detect-dataset': {
    args: '', positionals: 0,
    summary: "detects the white cells of a dataset's images (the detectCells job)",
    flags: { dataset: DATASET, 'top-only': { type: 'boolean', help: 'keep only the highest-scoring cell of each image' } },
  },
  train: {
    args: '', positionals: 0,
    summary: 'trains the AE-CFE autoencoder (the trainAutoencoder job)',
    flags: {
      source: { type: 'string', value: 'NAME', help: 'the labelled dataset reconstructed' },
      align: { type: 'string', multiple: true, value: 'NAME', help: 'a dataset whose unlabelled cells the latents are aligned to' },
      preset: { type: 'string', value: 'cpu|paper', help: 'default cpu' },
      epochs: { type: 'string', value: 'N' }, 'batch-size': { type: 'string', value: 'N' }, 'align-weight': { type: 'string', value: 'W' }, seed: { type: 'string', value: 'S' },
    },
  },
  encode: {
    args: '', positionals: 0,
    summary: "encodes a dataset's detected cells into AE-CFE latents (the encodeCells job); classify does it for a latent classifier",
    flags: {
      dataset: DATASET,
      autoencoder: { type: 'string', value: 'ID', help: 'this autoencoder instead of the active one (leukograph models lists them)' },
    },
  },
  'train-classifier': {
    args: '', positionals: 0,
    summary: 'trains a random forest on labelled, detected cells; it becomes the active classifier (the trainClassifier job)',
    flags: {
      dataset: { ...DATASET, multiple: true },
      classes: { type: 'string', value: 'MAP', help: 'common5 (default), common5_ig (the five and immature granulocytes) or paper13' },
      features: { type: 'string', value: 'morphology|latent', help: "morphology (default: each cell's stain-normalised shape and colour) or latent (AE-CFE; needs a trained autoencoder)" },
      trees: { type: 'string', value: 'N', help: 'default 100' },
      'test-fraction': { type: 'string', value: 'F', help: 'held out to score the forest (default 0.2; 0 trains on every cell)' },
      seed: { type: 'string', value: 'S' },
    },
  },
  classify: {
    args: '', positionals: 0,
    summary: "classifies a dataset's cells with the active classifier (the classifyCells job; detects them first when none are detected yet)",
    flags: {
      dataset: DATASET,
      classifier: { type: 'string', value: 'ID', help: 'this classifier instead of the active one (leukograph models lists them)' },
      stain: { type: 'string', value: 'auto|off|always|centred|adaptive|prior_mix|ensemble', help: "a morphology classifier's stain step (default auto: the winner of docs/unseen-labs.md)" },
      consensus: { type: 'string', value: 'on|off', help: 'similar cells of the dataset settle a verdict (default off: it helps the common types and costs the rare ones)' },
      'self-training': { type: 'string', value: 'on|off', help: "fit the classifier again with the dataset's surest cells, then classify again (default off; classifiers trained by train-classifier only)" },
    },
  },
  analyze: {
    args: '', positionals: 0,
    summary: 'detects and classifies image by image with the active models (the analyzeImages job)',
    flags: { dataset: DATASET },
  },
  export: { args: '', positionals: 0, summary: "writes a dataset's cells as CSV, Parquet or COCO instances JSON", flags: EXPORT_FLAGS },
  models: {
    args: '', positionals: 0,
    summary: 'lists the models; --use picks the classifier by class map (--features latent: the AE-CFE chain), --activate one by id',
    flags: {
      use: { type: 'string', value: 'MAP', help: 'make the newest classifier of this class map active (common5, common5_ig, paper13)' },
      features: { type: 'string', value: 'morphology|latent', help: "with --use: the classifier reads morphology (default) or AE-CFE latents (latent: the bundled AE-CFE chain, or one you trained)" },
      activate: { type: 'string', value: 'ID', help: 'make this model the active one of its kind' },
    },
  },
  watch: { args: '<jobId>', positionals: 1, summary: 'follows a job to its end', flags: {} },
} as const satisfies Record<string, { args: string; positionals: number; summary: string; flags: FlagSpecs }>;

export type JobCommandName = keyof typeof JOB_SPECS;
export const JOB_COMMANDS = Object.keys(JOB_SPECS) as JobCommandName[];

const EXIT_HELP = 'Exit codes: 0 the job succeeded, 1 it failed or the server refused it, 2 a command-line mistake, ' +
  "3 a classify or analyze job succeeded but its self-check failed (its count is withheld for review; the check's warning goes to stderr).";

function commandUsage(name: JobCommandName): string {
  const s = JOB_SPECS[name];
  return `Usage: leukograph ${name}${s.args ? ` ${s.args}` : ''} [flags]\n  ${s.summary}\n${flagHelp({ ...s.flags, ...REMOTE_FLAGS })}\n${EXIT_HELP}`;
}

export const JOB_USAGE = `
Job commands (talk to a running server: --url, default http://127.0.0.1:4000/graphql; --token or LEUKOGRAPH_TOKEN; --json):
${JOB_COMMANDS.map((n) => {
  const s = JOB_SPECS[n];
  const flags = Object.entries(s.flags as FlagSpecs).map(([k, f]) => `[--${k}${f.type === 'string' ? ` ${f.value ?? 'V'}` : ''}]`).join(' ');
  return `  leukograph ${n}${s.args ? ` ${s.args}` : ''} ${flags}\n      ${s.summary}`;
}).join('\n')}
  ${EXIT_HELP}
`;

interface DatasetRow {
  id: string;
  name: string;
  stats: { images: number; labelled: number; cells: number };
}

async function findDataset(r: Remote, command: string, name: string, create = false): Promise<DatasetRow> {
  const d = await r.request<{ datasets: DatasetRow[] }>(`{ datasets { id name stats { images labelled cells } } }`);
  const found = d.datasets.find((x) => x.name === name);
  if (found) return found;
  if (!create) {
    const names = d.datasets.map((x) => x.name);
    throw new UsageError(`leukograph ${command}: no dataset named "${name}"${names.length ? `; the server has ${names.map((n) => `"${n}"`).join(', ')}` : '; import one first (leukograph import <dir> --dataset NAME)'}`);
  }
  const c = await r.request(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name } });
  return { id: c.createDataset.id, name, stats: { images: 0, labelled: 0, cells: 0 } };
}

/**
 * The job commands' exit codes: a script that pipes the command line tells them apart. A classify or analyze job
 * that ran to its end but whose self-check failed (docs/self-check.md) has a count withheld for review: that is
 * not a failed job, and not a count to use either.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, selfCheckFailed: 3 } as const;

/** Follows a job to its end; returns the job row (jobExitCode turns it into the exit code). */
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
const AGREEMENT = 'againstLabels { scored correct accuracy balancedAccuracy flagged classMap confusion { labels matrix } bestGuess { scored correct accuracy balancedAccuracy confusion { labels matrix } } }';

/** A classify or analyze job's differential count and its agreement with the labels, as the server's typed result gives them. */
async function typedResultOf(r: Remote, jobId: string): Promise<{ differential: DifferentialCount; againstLabels: LabelAgreementView | null } | null> {
  const d = await r.request(
    `query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { ${DIFFERENTIAL} ${AGREEMENT} } ... on AnalyzeJobResult { ${DIFFERENTIAL} ${AGREEMENT} } } } }`,
    { id: jobId },
  );
  const t = d.job?.typedResult;
  return t?.differential ? { differential: t.differential, againstLabels: t.againstLabels ?? null } : null;
}

/**
 * A finished job's exit code: 0 succeeded, 1 failed or cancelled, 3 succeeded but its self-check failed. The
 * self-check's warning (a warning or a failure) goes to stderr, where a script that reads stdout still sees it.
 */
export function jobExitCode(job: { status: string; result: unknown }, stderr: (line: string) => void = (l) => process.stderr.write(l)): number {
  if (job.status !== 'succeeded') return EXIT.failed;
  const check = (job.result as { selfCheck?: { status?: unknown; warning?: unknown } } | null)?.selfCheck;
  if (typeof check?.warning === 'string' && check.warning) stderr(`${check.warning}\n`);
  return check?.status === 'failed' ? EXIT.selfCheckFailed : EXIT.ok;
}

/** The mutations whose result is a differential count. */
const COUNTED = new Set(['classifyCells', 'analyzeImages']);

async function startAndFollow(r: Remote, mutation: string, input: Record<string, unknown>, label: string, json: boolean): Promise<number> {
  const typeName = mutation[0]!.toUpperCase() + mutation.slice(1);
  const d = await r.request(`mutation($i: ${typeName}Input!) { ${mutation}(input: $i) { id } }`, { i: input });
  const jobId: string = d[mutation].id;
  const job = await followJob(r, jobId, label, json);
  const typed = job.status === 'succeeded' && COUNTED.has(mutation) ? await typedResultOf(r, jobId) : null;
  if (json) process.stdout.write(JSON.stringify({ type: 'result', jobId, ...job, ...(typed ?? {}) }) + '\n');
  else if (typed) {
    process.stdout.write(`\n${differentialTable(typed.differential)}\n`);
    if (typed.againstLabels) process.stdout.write(`\n${agreementTable(typed.againstLabels)}\n`);
  }
  return jobExitCode(job);
}

interface ModelRow {
  id: string;
  type: string;
  name: string;
  active: boolean;
  params: Record<string, unknown>;
  createdAt: string;
}

async function listModels(r: Remote, kind?: string): Promise<ModelRow[]> {
  const d = await r.request<{ models: ModelRow[] }>(`query($t: ModelKind) { models(type: $t) { id type name active params createdAt } }`, { t: kind ? kind.toUpperCase() : null });
  return d.models;
}

/** A classifier's class map and features, from its params (bundled models keep them in their metadata). */
function classifierInfo(m: ModelRow): { classMap: string; features: string } {
  return { classMap: String(m.params.classMap ?? '?'), features: String(m.params.features ?? 'latent') };
}

/** Runs a job command; returns the exit code (usage mistakes throw a UsageError). */
export async function jobCommand(command: JobCommandName, argv: readonly string[]): Promise<number> {
  const spec = JOB_SPECS[command];
  const cmd = `leukograph ${command}`;
  const parsed = parseFlags(argv, { ...spec.flags, ...REMOTE_FLAGS } as FlagSpecs, { command: cmd, positionals: spec.positionals });
  const f = parsed.flags as Record<string, string | boolean | string[] | undefined>;
  const positional = parsed.positional;
  if (f.help) {
    process.stdout.write(commandUsage(command) + '\n');
    return 0;
  }
  const str = (k: string) => f[k] as string | undefined;
  const need = (k: string): string => {
    const v = f[k];
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s !== 'string' || !s) throw new UsageError(`${cmd}: --${k} is required`);
    return s;
  };
  const url = str('url') ?? process.env.LEUKOGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';
  const json = f.json === true;
  if (spec.positionals && positional.length < spec.positionals) throw new UsageError(`${cmd}: give ${spec.args}`);
  // Every flag is checked before the server is asked anything.
  const int = (k: string, min?: number) => intFlag(cmd, k, str(k), min);
  const checked = {
    layout: choiceFlag(cmd, 'layout', str('layout'), ['auto', 'class-folders', 'matek', 'labels-csv', 'images'], 'auto'),
    preset: choiceFlag(cmd, 'preset', str('preset'), ['cpu', 'paper'], 'cpu'),
    classes: choiceFlag(cmd, 'classes', str('classes'), ['common5', 'common5_ig', 'paper13'], 'common5'),
    features: choiceFlag(cmd, 'features', str('features'), ['morphology', 'latent'], 'morphology'),
    stain: choiceFlag(cmd, 'stain', str('stain'), ['auto', 'off', 'always', 'centred', 'adaptive', 'prior_mix', 'ensemble'], 'auto'),
    consensus: choiceFlag(cmd, 'consensus', str('consensus'), ['on', 'off'], 'off'),
    selfTraining: choiceFlag(cmd, 'self-training', str('self-training'), ['on', 'off'], 'off'),
    use: str('use') === undefined ? undefined : choiceFlag(cmd, 'use', str('use'), ['common5', 'common5_ig', 'paper13'], 'common5'),
  };
  if (command === 'export') return exportCommand(cmd, f, url);
  const r = connect(url, str('token') ?? process.env.LEUKOGRAPH_TOKEN);
  try {
    switch (command) {
      case 'import': {
        const ds = await findDataset(r, command, need('dataset'), true);
        return await startAndFollow(r, 'importDataset', {
          datasetId: ds.id, path: resolve(positional[0]!), layout: checked.layout.toUpperCase().replace('-', '_'), maxPerClass: int('max-per-class', 1),
        }, 'import', json);
      }
      case 'detect-dataset': {
        const ds = await findDataset(r, command, need('dataset'));
        return await startAndFollow(r, 'detectCells', { datasetId: ds.id, topOnly: f['top-only'] === true }, 'detect', json);
      }
      case 'train': {
        const source = await findDataset(r, command, need('source'));
        const align = Array.isArray(f.align) ? (f.align as string[]) : [];
        const alignWeight = numberFlag(cmd, 'align-weight', str('align-weight'));
        return await startAndFollow(r, 'trainAutoencoder', {
          sourceDatasetId: source.id,
          alignDatasetIds: await Promise.all(align.map(async (n) => (await findDataset(r, command, n)).id)),
          preset: checked.preset.toUpperCase(),
          ...(int('epochs', 1) !== undefined ? { epochs: int('epochs', 1) } : {}),
          ...(int('batch-size', 2) !== undefined ? { batchSize: int('batch-size', 2) } : {}),
          ...(alignWeight !== undefined ? { alignWeight } : {}),
          ...(int('seed', 0) !== undefined ? { seed: int('seed', 0) } : {}),
        }, 'train', json);
      }
      case 'encode': {
        const ds = await findDataset(r, command, need('dataset'));
        if (ds.stats.cells === 0) throw new UsageError(`${cmd}: no detected cells in "${ds.name}": run leukograph detect-dataset --dataset ${ds.name} first`);
        const chosen = str('autoencoder');
        const encoders = await listModels(r, 'autoencoder');
        if (chosen ? !encoders.some((m) => m.id === chosen) : !encoders.some((m) => m.active)) {
          throw new UsageError(chosen
            ? `${cmd}: no autoencoder with id ${chosen} (leukograph models lists them)`
            : `${cmd}: no autoencoder is active: give one (--autoencoder ID; leukograph models lists them) or train one (leukograph train --source NAME)`);
        }
        return await startAndFollow(r, 'encodeCells', { datasetId: ds.id, ...(chosen ? { autoencoderId: chosen } : {}) }, 'encode', json);
      }
      case 'train-classifier': {
        const names = Array.isArray(f.dataset) ? (f.dataset as string[]) : [];
        if (names.length === 0) throw new UsageError(`${cmd}: --dataset is required (repeat it for several)`);
        const testFraction = numberFlag(cmd, 'test-fraction', str('test-fraction'));
        if (testFraction !== undefined && !(testFraction >= 0 && testFraction < 1)) throw new UsageError(`${cmd}: --test-fraction must be at least 0 and below 1, got ${testFraction}`);
        const sets = await Promise.all(names.map((n) => findDataset(r, command, n)));
        const undetected = sets.filter((s) => s.stats.cells === 0);
        if (undetected.length) throw new UsageError(`${cmd}: no detected cells in ${undetected.map((s) => `"${s.name}"`).join(', ')}: run leukograph detect-dataset --dataset ${undetected[0]!.name} first`);
        const encoders = checked.features === 'latent' ? await listModels(r, 'autoencoder') : [];
        if (checked.features === 'latent' && !encoders.some((m) => m.active)) {
          const bundled = encoders.find((m) => m.params.bundled === true);
          throw new UsageError(bundled
            ? `${cmd}: --features latent reads the active autoencoder and none is active: make the bundled one active (leukograph models --activate ${bundled.id}) or train one (leukograph train --source NAME)`
            : `${cmd}: --features latent needs a trained autoencoder and there is none: train one (leukograph train --source NAME), or leave --features at morphology`);
        }
        return await startAndFollow(r, 'trainClassifier', {
          datasetIds: sets.map((s) => s.id), classMap: checked.classes.toUpperCase(), features: checked.features.toUpperCase(),
          ...(int('trees', 1) !== undefined ? { trees: int('trees', 1) } : {}),
          ...(testFraction !== undefined ? { testFraction } : {}),
          ...(int('seed', 0) !== undefined ? { seed: int('seed', 0) } : {}),
        }, 'train-classifier', json);
      }
      case 'classify': {
        const ds = await findDataset(r, command, need('dataset'));
        if (ds.stats.images === 0) throw new UsageError(`${cmd}: dataset "${ds.name}" has no images: import some first (leukograph import <dir> --dataset ${ds.name})`);
        const classifiers = await listModels(r, 'classifier');
        const chosen = str('classifier');
        const active = chosen ? classifiers.find((m) => m.id === chosen) : classifiers.find((m) => m.active);
        if (chosen && !active) throw new UsageError(`${cmd}: no classifier with id ${chosen} (leukograph models lists them)`);
        if (!active) throw new UsageError(`${cmd}: there is no classifier: train one (leukograph train-classifier --dataset NAME) or pick one (leukograph models --use common5)`);
        const byId = chosen ? { classifierId: chosen } : {};
        // Cells that are not detected yet are detected first: one command, both jobs followed.
        if (ds.stats.cells === 0) {
          if (!json) process.stderr.write(`no cells detected in "${ds.name}" yet: detecting them first\n`);
          const det = await startAndFollow(r, 'detectCells', { datasetId: ds.id }, 'detect', json);
          if (det !== 0) return det;
        }
        if (classifierInfo(active).features === 'morphology') {
          return await startAndFollow(r, 'classifyCells', { datasetId: ds.id, ...byId, stainAdaptation: checked.stain.toUpperCase(), neighbourConsensus: checked.consensus === 'on', ...(checked.selfTraining === 'on' ? { selfTraining: true } : {}) }, 'classify', json);
        }
        // A latent classifier reads the AE-CFE latents of its own encoder (not necessarily the active one): encode first.
        const encoderId = typeof active.params.encoderId === 'string' ? { autoencoderId: active.params.encoderId } : {};
        const enc = await startAndFollow(r, 'encodeCells', { datasetId: ds.id, ...encoderId }, 'encode', json);
        return enc !== 0 ? enc : await startAndFollow(r, 'classifyCells', { datasetId: ds.id, ...byId }, 'classify', json);
      }
      case 'analyze': {
        const ds = await findDataset(r, command, need('dataset'));
        if (ds.stats.images === 0) throw new UsageError(`${cmd}: dataset "${ds.name}" has no images: import some first (leukograph import <dir> --dataset ${ds.name})`);
        return await startAndFollow(r, 'analyzeImages', { datasetId: ds.id }, 'analyze', json);
      }
      case 'models': {
        let models = await listModels(r);
        if (checked.use || str('activate')) {
          let id = str('activate');
          if (checked.use) {
            const fits = models.filter((m) => m.type === 'CLASSIFIER' && classifierInfo(m).classMap === checked.use && classifierInfo(m).features === checked.features);
            if (!fits.length) throw new UsageError(`${cmd}: no ${checked.features} classifier of class map ${checked.use}: train one (leukograph train-classifier --dataset NAME --classes ${checked.use} --features ${checked.features})`);
            id = fits.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]!.id;
          }
          const d = await r.request<{ activateModel: ModelRow }>(`mutation($id: ID!) { activateModel(id: $id) { id type name } }`, { id });
          if (!json) process.stderr.write(`active ${d.activateModel.type.toLowerCase()}: ${d.activateModel.name} (${d.activateModel.id})\n`);
          models = await listModels(r);
        }
        if (json) process.stdout.write(JSON.stringify({ type: 'models', models }) + '\n');
        else {
          for (const m of models) {
            const c = m.type === 'CLASSIFIER' ? ` classes ${classifierInfo(m).classMap}, ${classifierInfo(m).features}` : '';
            process.stdout.write(`${m.active ? '*' : ' '} ${m.type.toLowerCase().padEnd(11)} ${m.name}${c}  ${m.id}\n`);
          }
        }
        return 0;
      }
      case 'watch': {
        return jobExitCode(await followJob(r, positional[0]!, 'job', json));
      }
    }
  } finally {
    await r.close();
  }
}
