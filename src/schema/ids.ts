// Ids arrive as strings from clients; a malformed one is the caller's mistake, not a missing row.
import { BadInputError } from '../services/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseId(id: string, what = 'id'): string {
  if (!UUID.test(id)) throw new BadInputError(`${what} "${id.slice(0, 64)}" is not a valid id (a UUID)`);
  return id.toLowerCase();
}

export function parsePage(limit: number | undefined, offset: number | undefined, max = 500): { limit: number; offset: number } {
  const l = limit ?? 50;
  const o = offset ?? 0;
  if (!Number.isInteger(l) || l < 1 || l > max) throw new BadInputError(`limit must be between 1 and ${max}`);
  if (!Number.isInteger(o) || o < 0) throw new BadInputError('offset must be 0 or more');
  return { limit: l, offset: o };
}
