// The `leukograph` command line: serve (API + one engine process), engine (an engine alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig, checkExposure, type Config } from '../config.js';
import { parseArgs, flagInt, flagString, type ParsedArgs } from './args.js';
import { startApi, startEngine } from '../app.js';
import { logger, setLogLevel } from '../logger.js';
import { JOB_COMMANDS, JOB_USAGE, jobCommand } from './jobs.command.js';
import { openDatabase } from '../db/database.js';
import { readExportRows, writeExport } from './export.command.js';

const log = logger('cli');

const USAGE = `leukograph — white-blood-cell analysis server (AE-CFE)

Usage:
  leukograph serve  [--host H] [--port P] [--data-dir D] [--data-root DIR ...] [--no-engine]
      Starts the GraphQL API (http and ws on /graphql, playground on GET /graphql) and one engine
      process. Without DATABASE_URL an embedded PostgreSQL is started under the data directory.
  leukograph engine [--data-dir D]
      Starts an engine alone against the same database (DATABASE_URL), e.g. on another machine.
  leukograph detect <image files or folders> [--json] [--model detector.onnx]
      Runs the detector locally and prints one JSON line per image (boxes, scores, COCO RLE masks).
  leukograph evaluate --source <dir> --target <name>=<dir> ... --out report.json   (see leukograph evaluate --help)
      The whole AE-CFE chain locally, with baselines; writes report.json and report.md.
  leukograph export --dataset NAME --out cells.csv|cells.parquet [--data-dir D]
      A dataset's cells (boxes, scores, latents, predictions) from the database.
${JOB_USAGE}
  leukograph review queue|give|undo|summary|export|retrain ...   (see leukograph review --help)
      Review a lab's cells: the queue of cells that teach the classifier most, confirm or correct, retrain.

Environment: HOST, PORT, DATABASE_URL, LEUKOGRAPH_DATA_DIR, LEUKOGRAPH_DATA_ROOTS (':'-separated),
LEUKOGRAPH_TOKEN (read-write bearer token; required when listening beyond loopback, and then every request
needs a token), LEUKOGRAPH_READ_TOKEN (read-only token), LEUKOGRAPH_ALLOWED_ORIGINS (browser origins that may
call the server besides its own). README.md lists the rest.
`;

function configFrom(args: ParsedArgs): Config {
  const roots = args.flags['data-root'];
  return loadConfig({
    ...(flagString(args, 'host') ? { host: flagString(args, 'host') } : {}),
    ...(flagInt(args, 'port') !== undefined ? { port: flagInt(args, 'port') } : {}),
    ...(flagString(args, 'data-dir') ? { dataDir: flagString(args, 'data-dir') } : {}),
    ...(flagString(args, 'database-url') ? { databaseUrl: flagString(args, 'database-url') } : {}),
    ...(Array.isArray(roots) ? { dataRoots: roots } : {}),
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

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['data-root']);
  if (args.flags.help || args.command === null || args.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const verbose = args.flags.verbose === true;
  if (verbose) setLogLevel('debug');
  switch (args.command) {
    case 'serve': {
      const cfg = configFrom(args);
      checkExposure(cfg);
      const api = await startApi(cfg);
      const engine = args.flags.engine === false ? null : superviseEngine(cfg, api.db.url);
      process.stdout.write(`leukograph API at ${api.api.url} (playground: open it in a browser)\n`);
      onSignals(async () => {
        await engine?.stop();
        await api.close();
      });
      return;
    }
    case 'engine': {
      const cfg = configFrom(args);
      const engine = await startEngine(cfg);
      onSignals(engine.close);
      return;
    }
    case 'detect': {
      const { detectCommand } = await import('./detect.command.js');
      process.exitCode = await detectCommand(argv.slice(1), process.stdout);
      return;
    }
    case 'review': {
      const { reviewCommand } = await import('./review.command.js');
      process.exitCode = await reviewCommand(argv.slice(1));
      return;
    }
    case 'evaluate': {
      const { evaluateCommand } = await import('./evaluate.command.js');
      process.exitCode = await evaluateCommand(argv.slice(1), process.stdout);
      return;
    }
    case 'export': {
      const name = flagString(args, 'dataset');
      const out = flagString(args, 'out');
      if (!name || !out) {
        process.stderr.write('leukograph export needs --dataset NAME and --out FILE(.csv|.parquet)\n');
        process.exitCode = 2;
        return;
      }
      const db = await openDatabase(configFrom(args));
      try {
        const rows = await readExportRows(db.dataSource, name);
        if (rows.length === 0) process.stderr.write(`dataset "${name}" has no cells (unknown name, or nothing detected yet)\n`);
        await writeExport(rows, out);
        process.stderr.write(`wrote ${rows.length} cells to ${out}\n`);
      } finally {
        await db.close();
      }
      return;
    }
    default:
      if ((JOB_COMMANDS as readonly string[]).includes(args.command)) {
        process.exitCode = await jobCommand(parseArgs(argv, ['align', 'dataset']));
        return;
      }
      process.stderr.write(`unknown command "${args.command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}
