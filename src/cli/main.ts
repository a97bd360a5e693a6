// The `leukograph` command line: serve (API + one engine process), engine (an engine alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig, checkExposure, type Config } from '../config.js';
import { parseFlags, flagHelp, intFlag, UsageError, type FlagSpecs, type FlagValues } from './args.js';
import { logger, setLogLevel } from '../logger.js';
import { JOB_COMMANDS, JOB_USAGE, jobCommand } from './jobs.command.js';

const log = logger('cli');

const SERVER_FLAGS = {
  'data-dir': { type: 'string', value: 'DIR', help: 'embedded database, uploads, models (default ./.data; LEUKOGRAPH_DATA_DIR)' },
  'database-url': { type: 'string', value: 'URL', help: 'a PostgreSQL server instead of the embedded one (DATABASE_URL)' },
  verbose: { type: 'boolean', help: 'debug logging' },
} as const satisfies FlagSpecs;

const SERVE_FLAGS = {
  host: { type: 'string', value: 'HOST', help: 'listen address (default 127.0.0.1; HOST)' },
  port: { type: 'string', value: 'PORT', help: 'default 4000 (PORT)' },
  'data-root': { type: 'string', multiple: true, value: 'DIR', help: 'a folder imports may read (LEUKOGRAPH_DATA_ROOTS)' },
  'no-engine': { type: 'boolean', help: 'the API alone (engines run elsewhere: leukograph engine)' },
  ...SERVER_FLAGS,
} as const satisfies FlagSpecs;

const USAGE = `leukograph — white-blood-cell analysis server (AE-CFE)

Usage:
  leukograph serve  [--host H] [--port P] [--data-dir D] [--data-root DIR ...] [--no-engine]
      Starts the GraphQL API (http and ws on /graphql, playground on GET /graphql, dashboard on /dashboard) and
      one engine process. Without DATABASE_URL an embedded PostgreSQL is started under the data directory.
  leukograph engine [--data-dir D]
      Starts an engine alone against the same database (DATABASE_URL), e.g. on another machine.
  leukograph detect <image files or folders> [--json] [--model detector.onnx]
      Runs the detector here, without a server, and prints one line per image (boxes, scores, COCO RLE masks).
  leukograph evaluate --source <dir> --target <name>=<dir> ... --out report.json   (see leukograph evaluate --help)
      The whole AE-CFE chain here, without a server, with baselines; writes report.json and report.md.
${JOB_USAGE}
  leukograph review queue|give|undo|summary|export|retrain ...   (see leukograph review --help)
      Review a lab's cells: the queue of cells that teach the classifier most, confirm or correct, retrain.

Every command takes --help. An unknown flag is an error (exit code 2).
Environment: HOST, PORT, DATABASE_URL, LEUKOGRAPH_DATA_DIR, LEUKOGRAPH_DATA_ROOTS (':'-separated),
LEUKOGRAPH_TOKEN (read-write bearer token; required when listening beyond loopback, and then every request
needs a token), LEUKOGRAPH_READ_TOKEN (read-only token), LEUKOGRAPH_ALLOWED_ORIGINS (browser origins that may
call the server besides its own), LEUKOGRAPH_URL (the server job commands talk to). README.md lists the rest.
`;

function configFrom(command: string, f: FlagValues<typeof SERVE_FLAGS>): Config {
  const port = intFlag(command, 'port', f.port, 0);
  return loadConfig({
    ...(f.host ? { host: f.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(f['data-dir'] ? { dataDir: f['data-dir'] } : {}),
    ...(f['database-url'] ? { databaseUrl: f['database-url'] } : {}),
    ...(f['data-root']?.length ? { dataRoots: f['data-root'] } : {}),
  });
}

function onSignals(close: () => Promise<void>): void {
  let closing = false;
  const stop = (sig: string) => {
    if (closing) return;
    closing = true;
    log.info('shutting down', { signal: sig });
    close()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** After running this long, an engine that exits is restarted after the first back-off step again. */
const HEALTHY_RUN_MS = 60_000;

/**
 * The pause before restarting an engine that exited after running `ranMs`: 1, 2, 4, ... 30 s for crashes
 * in a row; an engine that ran healthily for HEALTHY_RUN_MS starts again from the first step.
 */
export function restartBackoff(restarts: number, ranMs: number): { restarts: number; delayMs: number } {
  const n = ranMs > HEALTHY_RUN_MS ? 1 : restarts + 1;
  return { restarts: n, delayMs: Math.min(30_000, 500 * 2 ** Math.min(n, 6)) };
}

/** Runs `leukograph engine` as a child, restarting it if it dies (1, 2, 4, ... 30 s apart), until stopped. */
function superviseEngine(cfg: Config, databaseUrl: string): { stop(): Promise<void> } {
  const bin = fileURLToPath(new URL('../../../bin/leukograph.js', import.meta.url));
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let launchedAt = 0;
  const launch = () => {
    launchedAt = Date.now();
    child = spawn(process.execPath, [bin, 'engine', '--data-dir', cfg.dataDir], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DATABASE_URL: databaseUrl, LEUKOGRAPH_DATA_ROOTS: cfg.dataRoots.join(':') },
    });
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      const next = restartBackoff(restarts, Date.now() - launchedAt);
      restarts = next.restarts;
      const delay = next.delayMs;
      log.warn('engine process exited; restarting', { code, signal, inMs: delay });
      setTimeout(() => !stopping && launch(), delay);
    });
  };
  launch();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        const c = child as ChildProcess | null;
        if (!c) return resolve();
        const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
        c.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        c.kill('SIGTERM');
      }),
  };
}

/** Runs the command line; usage mistakes print one line (and where to look) and exit 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await run(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const cmd = argv[0] && !argv[0].startsWith('-') && err.message.startsWith(`leukograph ${argv[0]}:`) ? `${argv[0]} ` : '';
    process.stderr.write(`${err.message}\n(leukograph ${cmd}--help says more)\n`);
    process.exitCode = 2;
  }
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.startsWith('-')) throw new UsageError(`leukograph: give a command first (serve, engine, import, analyze, ...), not ${command}`);
  switch (command) {
    case 'serve':
    case 'engine': {
      const specs: FlagSpecs = command === 'serve' ? SERVE_FLAGS : SERVER_FLAGS;
      const { flags } = parseFlags(rest, specs, { command: `leukograph ${command}` });
      if (flags.help) {
        process.stdout.write(`Usage: leukograph ${command} [flags]\n${flagHelp(specs)}\n`);
        return 0;
      }
      if (flags.verbose) setLogLevel('debug');
      const cfg = configFrom(`leukograph ${command}`, flags as FlagValues<typeof SERVE_FLAGS>);
      // Loaded here, so that the other commands (and --help) start without the server's modules.
      const { startApi, startEngine } = await import('../app.js');
      if (command === 'engine') {
        const engine = await startEngine(cfg);
        onSignals(engine.close);
        return 0;
      }
      checkExposure(cfg);
      const api = await startApi(cfg);
      const engine = flags['no-engine'] ? null : superviseEngine(cfg, api.db.url);
      const base = api.api.url.replace(/\/graphql$/, '');
      process.stdout.write(`leukograph API at ${api.api.url} (playground: open it in a browser); dashboard at ${base}/dashboard\n`);
      onSignals(async () => {
        await engine?.stop();
        await api.close();
      });
      return 0;
    }
    case 'detect': {
      const { detectCommand } = await import('./detect.command.js');
      return detectCommand(rest, process.stdout);
    }
    case 'review': {
      const { reviewCommand } = await import('./review.command.js');
      return reviewCommand(rest);
    }
    case 'evaluate': {
      const { evaluateCommand } = await import('./evaluate.command.js');
      return evaluateCommand(rest, process.stdout);
    }
    default:
      if ((JOB_COMMANDS as readonly string[]).includes(command)) return jobCommand(command as (typeof JOB_COMMANDS)[number], rest);
      throw new UsageError(`leukograph: unknown command "${command}"; the commands are serve, engine, detect, evaluate, review, ${JOB_COMMANDS.join(', ')}`);
  }
}
