// `leukograph evaluate`: the cross-domain evaluation of issue 5 from folders — detect, train the
// autoencoder (source + unlabelled alignment domains), encode, fit forests on 80 % of the source, score the
// held-out 20 % and every target — written as report.json and report.md. Progress goes to stderr.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellDetector } from '../engine/resident-models.js';
import { ALIGN_SCALES, PRESETS, type AlignScale, type PresetName } from '../engine/autoencoder/index.js';
import { CLASS_MAP_NAMES, type ClassMapName } from '../pipeline/class-maps.js';
import { detectorCacheKey, loadFolderDomain, type CellDetectorLike } from '../evaluation/folder-dataset.js';
import { CROP_SIZE } from '../pipeline/crop.js';
import { AUTOENCODER_DEFAULTS, EVALUATION_DEFAULTS, FOREST_DEFAULTS } from '../pipeline/defaults.js';
import { METHODS, runEvaluation, type EvaluationDomain, type EvaluationProgress, type MethodName } from '../evaluation/pipeline.js';
import { accuracyInterval, machineInfo, renderMarkdown } from '../evaluation/report.js';
import { MORPHOLOGY_SIZE } from '../imaging/cell-morphology.js';
import { parseFlags, UsageError, type FlagSpecs } from './args.js';

export const EVALUATE_USAGE = `Usage: leukograph evaluate --source [<name>=]<dir> --target <name>=<dir> [--target ...] [--align [<name>=]<dir> ...]
         [--preset cpu|paper] [--epochs N] [--max-per-class N] [--target-max-per-class N|all] [--classes common5|paper13] [--seed S]
         [--model detector.onnx] [--batch-size N] [--trees N] [--max-depth N] [--align-weight W] [--align-scale raw|standardised] [--lr R]
         [--no-align-targets] [--methods ae_cfe,ae_no_align,pooled_features,colour_shape,morphology,morphology_lab_centred,morphology_adaptive,morphology_consensus,morphology_default]
         [--cache-dir DIR] [--title T] [--preamble notes.md] --out report.json
  Trains AE-CFE on the source, fits a random forest on a stratified seeded 80 % of its labelled cells and
  scores the other 20 % and every labelled cell of each target, with three baselines (the autoencoder
  without alignment, pooled instance features, colour/shape). Writes the JSON report and a Markdown report
  beside it (same name, .md).
  <dir>: class folders (Acevedo-20 style), Matek-19 class-code folders, or a folder with labels.csv
         (image path relative to the folder, class). Whole-field images use the top-scoring white cell.
  Targets are aligned to by default, as in the paper (their images are used, never their labels);
  --no-align-targets turns that off; --align adds unlabelled domains used only for alignment.
  --max-per-class caps every domain (a seeded, stratified sample of images per class);
  --target-max-per-class overrides it for the targets and alignment domains ('all': no cap).
  --cache-dir keeps each image's top cell (features + crop) per detector file, so reruns skip detection.
  --align-scale standardised measures the alignment term on latents divided by their spread, so that it
         cannot be met by shrinking them (the paper's term, raw, is the default).
  --title and --preamble (a Markdown file inserted after the summary line) are for the Markdown report.
  Defaults: --preset cpu, --epochs 20, --classes common5, --seed 0, --trees 100, --max-depth 16,
            --align-weight 5, --model $LEUKOGRAPH_DETECTOR_MODEL or models/detector.onnx.
Exit codes: 0 written, 1 failed, 2 bad arguments.`;

export interface EvaluateArgs {
  source: { name: string; dir: string };
  targets: Array<{ name: string; dir: string }>;
  align: Array<{ name: string; dir: string }>;
  alignTargets: boolean;
  preset: PresetName;
  epochs: number;
  maxPerClass?: number;
  /** For targets and alignment domains: undefined = as maxPerClass, null = all images. */
  targetMaxPerClass?: number | null;
  classes: ClassMapName;
  seed: number;
  out: string;
  model: string;
  batchSize?: number;
  trees: number;
  maxDepth: number;
  alignWeight: number;
  alignScale: AlignScale;
  learningRate?: number;
  methods: MethodName[];
  title?: string;
  preamble?: string;
  cacheDir?: string;
}


function defaultModelPath(): string {
  const env = process.env.LEUKOGRAPH_DETECTOR_MODEL;
  if (env) return resolve(env);
  // dist/src/cli/ -> repository root
  return fileURLToPath(new URL('../../../models/detector.onnx', import.meta.url));
}

function namedDir(flag: string, v: string, nameRequired: boolean): { name: string; dir: string } {
  const eq = v.indexOf('=');
  if (eq < 0) {
    if (nameRequired) throw new UsageError(`--${flag} must be <name>=<dir>, got "${v}"`);
    if (!v.trim()) throw new UsageError(`--${flag} needs a folder`);
    return { name: basename(resolve(v)), dir: v };
  }
  const name = v.slice(0, eq).trim();
  const dir = v.slice(eq + 1).trim();
  if (!name || !dir) throw new UsageError(`--${flag} must be <name>=<dir> with both parts, got "${v}"`);
  if (!/^[\w.+-]+$/.test(name)) throw new UsageError(`--${flag}: the name "${name}" may use only letters, digits and _ . + -`);
  return { name, dir };
}

function intFlag(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function numFlag(flag: string, v: string, positive: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || (positive ? n <= 0 : n < 0)) throw new UsageError(`--${flag} must be a number ${positive ? '> 0' : '>= 0'}, got "${v}"`);
  return n;
}

const EVALUATE_FLAGS = {
  source: { type: 'string' }, target: { type: 'string', multiple: true }, align: { type: 'string', multiple: true }, 'no-align-targets': { type: 'boolean' },
  preset: { type: 'string' }, classes: { type: 'string' }, epochs: { type: 'string' }, 'max-per-class': { type: 'string' }, 'target-max-per-class': { type: 'string' },
  seed: { type: 'string' }, 'batch-size': { type: 'string' }, trees: { type: 'string' }, 'max-depth': { type: 'string' }, 'align-weight': { type: 'string' },
  'align-scale': { type: 'string' }, lr: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, 'cache-dir': { type: 'string' },
  title: { type: 'string' }, preamble: { type: 'string' }, methods: { type: 'string' },
} as const satisfies FlagSpecs;

/** Parses and checks the arguments; throws a UsageError whose message tells what is wrong. */
export function parseEvaluateArgs(argv: readonly string[]): EvaluateArgs | 'help' {
  const { flags: f } = parseFlags(argv, EVALUATE_FLAGS, { command: 'leukograph evaluate' });
  if (f.help) return 'help';
  const source = f.source === undefined ? undefined : namedDir('source', f.source, false);
  const targets = (f.target ?? []).map((v) => namedDir('target', v, true));
  const align = (f.align ?? []).map((v) => namedDir('align', v, false));
  const a: Partial<EvaluateArgs> = {};
  if (f['no-align-targets']) a.alignTargets = false;
  if (f.preset !== undefined) {
    if (!Object.hasOwn(PRESETS, f.preset)) throw new UsageError(`--preset must be ${Object.keys(PRESETS).join(' or ')}, got "${f.preset}"`);
    a.preset = f.preset as PresetName;
  }
  if (f.classes !== undefined) {
    if (!(CLASS_MAP_NAMES as readonly string[]).includes(f.classes)) throw new UsageError(`--classes must be ${CLASS_MAP_NAMES.join(' or ')}, got "${f.classes}"`);
    a.classes = f.classes as ClassMapName;
  }
  if (f.epochs !== undefined) a.epochs = intFlag('epochs', f.epochs, 1);
  if (f['max-per-class'] !== undefined) a.maxPerClass = intFlag('max-per-class', f['max-per-class'], 1);
  const tmax = f['target-max-per-class'];
  if (tmax !== undefined) a.targetMaxPerClass = tmax === 'all' ? null : intFlag('target-max-per-class', tmax, 1);
  if (f.seed !== undefined) a.seed = intFlag('seed', f.seed, 0);
  if (f['batch-size'] !== undefined) a.batchSize = intFlag('batch-size', f['batch-size'], 2);
  if (f.trees !== undefined) a.trees = intFlag('trees', f.trees, 1);
  if (f['max-depth'] !== undefined) a.maxDepth = intFlag('max-depth', f['max-depth'], 1);
  if (f['align-weight'] !== undefined) a.alignWeight = numFlag('align-weight', f['align-weight'], false);
  if (f['align-scale'] !== undefined) {
    if (!ALIGN_SCALES.includes(f['align-scale'] as AlignScale)) throw new UsageError(`--align-scale must be one of ${ALIGN_SCALES.join(', ')}, got "${f['align-scale']}"`);
    a.alignScale = f['align-scale'] as AlignScale;
  }
  if (f.lr !== undefined) a.learningRate = numFlag('lr', f.lr, true);
  a.out = f.out;
  a.model = f.model;
  a.cacheDir = f['cache-dir'];
  a.title = f.title;
  a.preamble = f.preamble;
  if (f.methods !== undefined) {
    const list = f.methods.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((m) => !(METHODS as readonly string[]).includes(m));
    if (bad.length || list.length === 0) throw new UsageError(`--methods takes a comma-separated list of ${METHODS.join(', ')}; unknown: ${bad.join(', ') || '(empty)'}`);
    a.methods = list as MethodName[];
  }
  if (!source) throw new UsageError('--source is required');
  if (!a.out) throw new UsageError('--out report.json is required');
  if (!a.out.toLowerCase().endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${a.out}"`);
  const names = [source.name, ...targets.map((t) => t.name), ...align.map((t) => t.name)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`the domain name "${dup}" is used twice: give distinct <name>=<dir>`);
  return {
    source,
    targets,
    align,
    alignTargets: a.alignTargets ?? true,
    preset: a.preset ?? AUTOENCODER_DEFAULTS.preset,
    epochs: a.epochs ?? AUTOENCODER_DEFAULTS.epochs,
    maxPerClass: a.maxPerClass,
    targetMaxPerClass: a.targetMaxPerClass,
    classes: a.classes ?? EVALUATION_DEFAULTS.classes,
    seed: a.seed ?? AUTOENCODER_DEFAULTS.seed,
    out: a.out,
    model: a.model ?? defaultModelPath(),
    batchSize: a.batchSize,
    trees: a.trees ?? FOREST_DEFAULTS.trees,
    maxDepth: a.maxDepth ?? FOREST_DEFAULTS.maxDepth,
    alignWeight: a.alignWeight ?? AUTOENCODER_DEFAULTS.alignWeight,
    alignScale: a.alignScale ?? AUTOENCODER_DEFAULTS.alignScale,
    learningRate: a.learningRate,
    methods: a.methods ?? [...METHODS],
    title: a.title,
    preamble: a.preamble,
    cacheDir: a.cacheDir,
  };
}

export interface EvaluateDeps {
  /** Loads the detector (default: the ONNX pipeline, engine/detector's createDetector). */
  loadDetector?: (modelPath: string) => Promise<CellDetectorLike & Partial<Pick<CellDetector, 'dispose'>>>;
  /** Passed to the pipeline (tests pin the TensorFlow.js runtime). */
  autoencoder?: Parameters<typeof runEvaluation>[1]['autoencoder'];
  signal?: AbortSignal;
}

function progressLine(p: EvaluationProgress): string | null {
  if (p.kind === 'stage') return p.message;
  if (p.kind === 'epoch') {
    return `${p.method} epoch ${p.epoch}/${p.epochs}: loss ${p.loss.toFixed(4)} (1-SSIM ${(1 - p.ssim).toFixed(4)}, MSE ${p.mse.toFixed(4)}, align ${p.align.toExponential(2)}) ${p.seconds.toFixed(1)} s`;
  }
  return p.done === p.total ? `${p.method}: ${p.total} trees fitted` : null;
}

/** Runs `leukograph evaluate`; returns the exit code. */
export async function evaluateCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream = process.stderr, deps: EvaluateDeps = {}): Promise<number> {
  let args: EvaluateArgs | 'help';
  try {
    args = parseEvaluateArgs(argv);
  } catch (e) {
    err.write(`leukograph evaluate: ${(e as Error).message}\n\n${EVALUATE_USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    out.write(EVALUATE_USAGE + '\n');
    return 0;
  }
  const roles: Array<[string, { name: string; dir: string }]> = [['source', args.source], ...args.targets.map((t) => ['target', t] as [string, typeof t]), ...args.align.map((a) => ['align', a] as [string, typeof a])];
  for (const [role, spec] of roles) {
    const st = await stat(spec.dir).catch(() => null);
    if (!st?.isDirectory()) {
      err.write(`leukograph evaluate: --${role} ${spec.name}: ${spec.dir} is not a folder\n\n${EVALUATE_USAGE}\n`);
      return 2;
    }
  }
  const tCommand = performance.now();
  const say = (line: string) => err.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const controller = new AbortController();
  const onSigint = () => {
    say('interrupted: stopping');
    controller.abort(new Error('interrupted'));
  };
  const signal = deps.signal ? AbortSignal.any([deps.signal, controller.signal]) : controller.signal;
  process.once('SIGINT', onSigint);
  let detector: Awaited<ReturnType<NonNullable<EvaluateDeps['loadDetector']>>> | null = null;
  try {
    // Loaded lazily so that parsing arguments (and the tests) never load onnxruntime.
    // The detector the server's jobs run (engine/detector-loader.ts: on the CPU the accepted int8 variant, unless
    // LEUKOGRAPH_DETECTOR_PRECISION says otherwise), so that the evaluation scores the cells a user's jobs see.
    const load = deps.loadDetector ?? (async (p: string) => {
      const d = await import('../engine/detector/index.js');
      return d.createDetector({ modelPath: p, precision: d.resolveDetectorPrecision(process.env.LEUKOGRAPH_DETECTOR_PRECISION) });
    });
    const preamble = args.preamble ? [(await readFile(args.preamble, 'utf8')).trim()] : [];
    say(`loading the detector ${args.model}`);
    detector = await load(args.model);
    // What a detector from createDetector carries beyond CellDetectorLike (an injected one may carry none of it).
    const det = detector as { model?: { name?: string; version?: string; sha256?: string }; backend?: unknown; variant?: { modelPath: string; precision: string; reason: string } };
    if (det.variant) say(`the detector runs its ${det.variant.precision} model (${det.variant.reason})`);
    // Crops are cut once at CROP_SIZE, as the jobs cut them (src/pipeline/crop.ts); the evaluation
    // averages them down for the cpu autoencoder.
    const imageSize = CROP_SIZE;
    const cache = args.cacheDir ? { dir: resolve(args.cacheDir), key: await detectorCacheKey(args.model, detector) } : undefined;
    const domains: EvaluationDomain[] = [];
    const dirs: Record<string, string> = {};
    for (const spec of [args.source, ...args.targets, ...args.align]) {
      const cap = spec === args.source || args.targetMaxPerClass === undefined ? args.maxPerClass : (args.targetMaxPerClass ?? undefined);
      const t0 = performance.now();
      let last = 0;
      const { domain, stats } = await loadFolderDomain({
        name: spec.name,
        dir: spec.dir,
        classes: args.classes,
        maxPerClass: cap,
        seed: args.seed,
        imageSize,
        detector,
        cache,
        signal,
        onProgress: (done, total) => {
          if (done > 0 && done < total && performance.now() - last > 15_000) {
            last = performance.now();
            say(`${spec.name}: detected ${done}/${total} images`);
          }
        },
      });
      dirs[spec.name] = resolve(spec.dir);
      say(
        `${spec.name}: ${stats.cells} cells (${stats.labelled} labelled) from ${stats.sampled} of ${stats.images} images; ` +
          `no detection ${stats.noDetection}, failed ${stats.failed}${stats.cached ? `, ${stats.cached} from the cache` : ''}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      if (stats.failures.length) say(`${spec.name}: first failure: ${stats.failures[0]!.path}: ${stats.failures[0]!.error}`);
      domains.push(domain);
    }
    const alignNames = [...(args.alignTargets ? args.targets.map((t) => t.name) : []), ...args.align.map((a) => a.name)];
    const report = await runEvaluation(domains, {
      source: args.source.name,
      targets: args.targets.map((t) => t.name),
      align: alignNames,
      classes: args.classes,
      preset: args.preset,
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.learningRate,
      alignWeight: args.alignWeight,
      alignScale: args.alignScale,
      seed: args.seed,
      trees: args.trees,
      maxDepth: args.maxDepth,
      methods: args.methods,
      autoencoder: deps.autoencoder,
      signal,
      onProgress: (p) => {
        const line = progressLine(p);
        if (line) say(line);
      },
    });
    // Wall time per stage: detection per domain first, then the pipeline's stages, then the whole command.
    const timings: Record<string, number> = {};
    for (const d of domains) {
      const load = report.datasets[d.name]?.loading as { seconds?: number } | undefined;
      if (load?.seconds !== undefined) timings[`detect.${d.name}`] = load.seconds;
    }
    for (const [k, v] of Object.entries(report.timings)) timings[k === 'total' ? 'pipeline total' : k] = v;
    timings['command total'] = Math.round((performance.now() - tCommand) / 10) / 100;
    report.timings = timings;
    const detectorInfo = {
      path: args.model, ...(det.model ? { name: det.model.name, version: det.model.version, sha256: det.model.sha256 } : {}),
      ...(det.variant ? { ran: det.variant } : {}), ...(det.backend ? { backend: det.backend } : {}),
    };
    const detectorLine =
      `${args.model}` + (det.model ? ` (${det.model.name ?? 'detector'} ${det.model.version ?? ''})` : '') +
      (det.variant ? `, ran ${basename(det.variant.modelPath)}: ${det.variant.reason}` : '') + (det.backend ? `, ${JSON.stringify(det.backend)}` : '');
    const commandLine = ['leukograph', 'evaluate', ...argv].map((s) => (/^[\w./=:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
    const jsonPath = resolve(args.out);
    const mdPath = jsonPath.replace(/\.json$/i, '.md');
    const machine = machineInfo();
    await mkdir(dirname(jsonPath), { recursive: true });
    await writeFile(jsonPath, JSON.stringify({ ...report, commandLine, machine, dirs, detector: detectorInfo }, null, 2) + '\n');
    await writeFile(mdPath, renderMarkdown(report, { commandLine, machine, dirs, title: args.title, preamble, detector: detectorLine }));
    say(`wrote ${jsonPath} and ${mdPath}`);
    for (const [name, d] of Object.entries(report.domains)) {
      out.write(`${name}${d.role === 'source-test' ? ' (held-out)' : ''}: accuracy ${(d.accuracy * 100).toFixed(1)} % (95 % interval ${accuracyInterval(d)} %), macro F1 ${d.macro_f1 === null ? '—' : (d.macro_f1 * 100).toFixed(1) + ' %'} (n ${d.n})\n`);
    }
    out.write(`${jsonPath}\n${mdPath}\n`);
    return 0;
  } catch (e) {
    err.write(`leukograph evaluate: ${signal.aborted ? 'aborted: ' : ''}${(e as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (detector?.dispose) await detector.dispose().catch(() => undefined);
  }
}
