// Leukograph processes as a second machine would run them: `leukograph engine` and
// `leukograph serve --no-engine` as child processes with their own environment (data directory, store,
// engine settings), told apart by what they log when they are up.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './stack.js';

export interface ChildLeukograph {
  child: ChildProcess;
  /** The engine's id (engines) or the API's URL (serve), from its start-up log line. */
  id: string;
  /** Everything it wrote to stderr (JSON log lines). */
  log(): string;
  /** SIGTERM, and wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** SIGKILL: a machine that vanishes. */
  kill(): Promise<void>;
}

function startChild(args: string[], env: Record<string, string>, ready: (line: Record<string, unknown>) => string | null, what: string, cwd = REPO): Promise<ChildLeukograph> {
  const child = spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), ...args], {
    cwd,
    env: { ...process.env, LEUKOGRAPH_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.kill(signal);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within 60 s: ${err.slice(-3000)}`));
    }, 60_000);
    let pending = '';
    let found = false;
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      if (found) return;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(l);
        } catch {
          continue;
        }
        const id = ready(parsed);
        if (id) {
          found = true;
          clearTimeout(timer);
          resolve({ child, id, log: () => err, stop: () => stopWith('SIGTERM'), kill: () => stopWith('SIGKILL') });
        }
      }
    });
    child.stdout!.resume();
    child.once('exit', (code) => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it started: ${err.slice(-3000)}`));
    });
  });
}

/** `leukograph <args>` with exactly this environment added; `role` says which start-up line to wait for. */
export function startLeukograph(args: string[], env: Record<string, string>, role: 'engine' | 'api', cwd?: string): Promise<ChildLeukograph> {
  const ready = role === 'engine' ? (l: Record<string, unknown>) => (l.msg === 'engine started' ? String(l.id) : null) : (l: Record<string, unknown>) => (l.msg === 'API listening' ? String(l.url) : null);
  return startChild(args, env, ready, role, cwd);
}

/** `leukograph engine --data-dir <dataDir>` with DATABASE_URL and the given environment. */
export function startEngineProcess(databaseUrl: string, dataDir: string, env: Record<string, string> = {}): Promise<ChildLeukograph> {
  return startLeukograph(['engine', '--data-dir', dataDir], { DATABASE_URL: databaseUrl, ...env }, 'engine');
}

/** `leukograph serve --no-engine` on a free port; its id is the GraphQL URL. */
export function startApiProcess(databaseUrl: string, dataDir: string, env: Record<string, string> = {}): Promise<ChildLeukograph> {
  return startLeukograph(['serve', '--no-engine', '--port', '0', '--data-dir', dataDir], { DATABASE_URL: databaseUrl, ...env }, 'api');
}
