// Who may do what: the bearer tokens (LEUKOGRAPH_TOKEN reads and writes, LEUKOGRAPH_READ_TOKEN only
// reads), compared in constant time. With no token configured (a loopback server) everyone may write.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

export type { Access } from '../schema/context.js';
import type { Access } from '../schema/context.js';

/** A key of this process's own, so that tokens of any length compare in constant time as digests. */
const KEY = randomBytes(32);
const digest = (s: string) => createHmac('sha256', KEY).update(s).digest();

function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of an `Authorization: Bearer <token>` header (or a bare token in connectionParams). */
export function presentedToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  return m ? m[1] : null;
}

export interface AccessCheck {
  access: Access;
  /** A token was sent and matched neither: counted against the client's failed attempts. */
  wrongToken: boolean;
}

export function accessOf(cfg: Pick<Config, 'token' | 'readToken'>, header: string | undefined | null): AccessCheck {
  if (!cfg.token && !cfg.readToken) return { access: 'write', wrongToken: false };
  const t = presentedToken(header);
  if (!t) return { access: 'none', wrongToken: false };
  // Both comparisons always run, so the time taken does not say which token was close.
  const write = cfg.token ? same(t, cfg.token) : false;
  const read = cfg.readToken ? same(t, cfg.readToken) : false;
  if (write) return { access: 'write', wrongToken: false };
  if (read) return { access: 'read', wrongToken: false };
  return { access: 'none', wrongToken: true };
}

/**
 * What a review records of who gave it: the SHA-256 (hex) of the bearer token presented, never the token;
 * null when none was presented (a loopback server without tokens).
 */
export function reviewerOf(authorization: string | undefined | null): string | null {
  const t = presentedToken(authorization);
  return t ? createHash('sha256').update(t).digest('hex') : null;
}
