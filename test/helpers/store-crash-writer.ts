// A child process for the storage crash tests: opens the store that argv names and puts one object from
// a slow stream of 64 KiB pieces, printing the bytes handed over so far; the test kills it mid-way.
// Usage: node store-crash-writer.js <storage url or ""> <database url> <data dir> <key> <total bytes>
import { openStore } from '../../src/storage/open-store.js';

const [url, databaseUrl, dataDir, key, total] = process.argv.slice(2);
const store = await openStore(url || null, { dataDir, databaseUrl });
const piece = Buffer.alloc(64 * 1024, 0x5a);
async function* pieces(): AsyncIterable<Buffer> {
  for (let sent = 0; sent < Number(total); sent += piece.length) {
    process.stdout.write(`${sent}\n`);
    yield piece;
    await new Promise((r) => setTimeout(r, 2));
  }
}
await store.put(key, pieces());
process.stdout.write('complete\n');
await store.close();
