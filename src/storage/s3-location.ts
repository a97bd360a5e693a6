// Parses an s3:// storage URL. Apart from the store itself (s3-store.ts), so that checking a setting at
// start-up does not load the AWS SDK.
import { checkPrefix } from './object-store.js';

export interface S3Location {
  bucket: string;
  /** Prepended to every key ('' or ending in '/'). */
  prefix: string;
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
}

/** Parses s3://bucket/prefix?endpoint=http://host:port&region=...&forcePathStyle=true|false. */
export function parseS3Url(url: string): S3Location {
  const u = new URL(url);
  if (u.protocol !== 's3:') throw new Error(`not an s3:// URL: ${url}`);
  if (u.username || u.password) throw new Error('s3:// URL must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  const bucket = u.hostname;
  if (!/^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`invalid S3 bucket name "${bucket}" in ${url}`);
  let prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  if (prefix) checkPrefix(prefix);
  const known = new Set(['endpoint', 'region', 'forcePathStyle']);
  for (const k of u.searchParams.keys()) if (!known.has(k)) throw new Error(`unknown s3:// URL parameter "${k}" (known: ${[...known].join(', ')})`);
  const endpoint = u.searchParams.get('endpoint');
  const style = u.searchParams.get('forcePathStyle');
  if (style !== null && style !== 'true' && style !== 'false') throw new Error(`forcePathStyle must be true or false, got "${style}"`);
  return {
    bucket, prefix, endpoint,
    region: u.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    // Servers other than AWS mostly address buckets by path.
    forcePathStyle: style !== null ? style === 'true' : endpoint !== null,
  };
}
