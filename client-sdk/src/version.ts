// Which servers this SDK speaks to. Its operations are generated from schema.graphql at SCHEMA_VERSION; a
// server speaks them when its schema has the same major version and the same or a later minor one (minor
// versions only add). The package's own version carries the same major.minor.

/** The schema version the SDK's operations were generated from (the server's serverVersion.schema). */
export const SCHEMA_VERSION = '2.6.0';

export interface Compatibility {
  /** True when every operation of this SDK is valid on the server. */
  compatible: boolean;
  /** The server's package version and schema version; null schema: a server from before schema versions (1.x). */
  server: string | null;
  schema: string | null;
  /** This SDK's schema version. */
  sdk: string;
  /** Why not, in words (empty when compatible). */
  reason: string;
}

function parse(v: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** Compares a server's schema version with this SDK's. */
export function compatibility(server: { server: string; schema: string } | null, sdk = SCHEMA_VERSION): Compatibility {
  const base = { server: server?.server ?? null, schema: server?.schema ?? null, sdk };
  if (!server) return { ...base, compatible: false, reason: `the server predates schema versions (schema 1.x); this SDK speaks schema ${sdk}: use @leukograph/client 0.1 with it, or update the server` };
  const s = parse(server.schema);
  const c = parse(sdk)!;
  if (!s) return { ...base, compatible: false, reason: `the server's schema version "${server.schema}" is not a version` };
  if (s[0] !== c[0]) return { ...base, compatible: false, reason: `the server speaks schema ${server.schema}, this SDK ${sdk}: major versions differ; use an SDK ${s[0]}.x` };
  if (s[1] < c[1]) return { ...base, compatible: false, reason: `the server's schema ${server.schema} is older than this SDK's ${sdk}: update the server, or use an SDK ${s[0]}.${s[1]}.x` };
  return { ...base, compatible: true, reason: '' };
}
