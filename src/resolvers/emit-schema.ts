// Writes the schema the server serves, as SDL, for the client SDK's code generation:
//   node dist/src/resolvers/emit-schema.js [client-sdk/schema.graphql]
import { writeFileSync } from 'node:fs';
import { printSchema, lexicographicSortSchema } from 'graphql';
import { fileURLToPath } from 'node:url';
import { buildLeukographSchema } from './build-schema.js';

export async function schemaSdl(): Promise<string> {
  return printSchema(lexicographicSortSchema(await buildLeukographSchema())) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../../../client-sdk/schema.graphql', import.meta.url));
  writeFileSync(out, await schemaSdl());
  process.stdout.write(`wrote ${out}\n`);
}
