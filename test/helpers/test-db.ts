// Gives each test file a database of its own: a fresh database on a PostgreSQL server when
// LEUKOGRAPH_TEST_SERVER_URL is set, otherwise an embedded PostgreSQL under a temporary data directory.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestDatabase {
  /** null: use the embedded server under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  kind: 'server' | 'embedded';
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'leukograph-test-'));
  const server = process.env.LEUKOGRAPH_TEST_SERVER_URL;
  if (!server) {
    return { databaseUrl: null, dataDir, kind: 'embedded', drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `leukograph_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    kind: 'server',
    drop: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
