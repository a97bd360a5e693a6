// Bearer-token check for mutations, uploads and subscriptions.
import { timingSafeEqual } from 'node:crypto';

export function tokenMatches(expected: string | null, header: string | undefined | null): boolean {
  if (!expected) return true;
  if (!header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
