import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createTestDatabase } from '../../test/helpers/test-db.js';
import { PostgresStore } from './postgres-store.js';
import { openStore } from './open-store.js';
import { storeContract } from './store-contract.js';

storeContract('postgres', async () => {
  const tdb = await createTestDatabase();
  const db = await openDatabase(loadConfig({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl }));
  const store = await openStore('postgres:', { dataDir: tdb.dataDir, databaseUrl: db.url });
  return {
    store, url: 'postgres:', dataDir: tdb.dataDir, databaseUrl: db.url,
    close: async () => {
      await store.close();
      await db.close();
      await tdb.drop();
    },
  };
}, (current) => {
  test('postgres store: chunks of the configured size, exact range reads, a replaced or deleted object leaves no chunks', async () => {
    const { databaseUrl } = current();
    const store = new PostgresStore(databaseUrl, { chunkBytes: 1000 });
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    const chunks = async (where = 'true') => Number((await sql.query(`SELECT count(*) AS n FROM storage_chunks WHERE ${where}`)).rows[0].n);
    try {
      const before = await chunks();
      const data = Buffer.from(Array.from({ length: 4500 }, (_, i) => i % 251));
      await store.put('x/obj', data);
      assert.equal(await chunks(`version = (SELECT version FROM storage_objects WHERE key = 'x/obj')`), 5);
      assert.ok((await store.get('x/obj', { start: 999, end: 3001 })).equals(data.subarray(999, 3001)));
      await store.put('x/obj', 'short');
      assert.equal(await chunks(), before + 1, "the old version's chunks are gone");
      await store.delete('x/obj');
      assert.equal(await chunks(), before);
    } finally {
      await sql.end();
      await store.close();
    }
  });
});
