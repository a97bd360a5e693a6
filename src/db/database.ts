// The database module: resolves which PostgreSQL to use (DATABASE_URL or the embedded one), opens the
// typeorm DataSource and applies pending migrations. The only place that creates connections.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { entities } from './entities/index.js';
import { migrations } from '../../migrations/index.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';
import type { Config } from '../config.js';
import { logger } from '../logger.js';

const log = logger('db');

export interface Database {
  dataSource: DataSource;
  url: string;
  /** The embedded server this process started, or null (DATABASE_URL, or another process's server). */
  embedded: EmbeddedDatabase | null;
  close(): Promise<void>;
}

export async function resolveDatabaseUrl(cfg: Config): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (cfg.databaseUrl) return { url: cfg.databaseUrl, embedded: null };
  const embedded = await startEmbeddedPostgres(cfg.dataDir);
  return { url: embedded.url, embedded };
}

export async function openDatabase(cfg: Config, opts: { migrate?: boolean } = {}): Promise<Database> {
  const { url, embedded } = await resolveDatabaseUrl(cfg);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'leukograph_migrations',
    // One transaction for all pending migrations, so a failed upgrade leaves the old schema intact.
    migrationsTransactionMode: 'all',
    synchronize: false,
    extra: { max: 10, application_name: 'leukograph' },
  });
  try {
    await dataSource.initialize();
    if (opts.migrate !== false) {
      // Several processes may start together against one database: a lock keeps migrations serial.
      // The lock is held by one session, so it is taken and released on one dedicated connection.
      const lockRunner = dataSource.createQueryRunner();
      await lockRunner.connect();
      await lockRunner.query(`SELECT pg_advisory_lock(771001)`);
      try {
        const ran = await dataSource.runMigrations();
        if (ran.length) log.info('migrations applied', { names: ran.map((m) => m.name) });
      } finally {
        await lockRunner.query(`SELECT pg_advisory_unlock(771001)`);
        await lockRunner.release();
      }
    }
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (embedded) await embedded.stop();
    throw err;
  }
  return {
    dataSource,
    url,
    embedded,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      if (embedded) await embedded.stop();
    },
  };
}
