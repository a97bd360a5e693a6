// Keyset (cursor) pages and row counts that stay fast with a million rows. A cursor is the sort key of
// the last row a client saw, opaque to it; the next page starts strictly after that key on an index,
// so a deep page costs what the first one does (an offset reads and drops every row before it).
// Counts: the row_counts table (maintained by triggers, migrations/1796549896528-keyset-and-counts.ts)
// answers totals per dataset and overall exactly; other filters are counted exactly up to
// COUNT_EXACT_LIMIT rows and estimated by the planner beyond, and say so.
import type { DataSource } from 'typeorm';
import { BadInputError } from './errors.js';

export const DEFAULT_FIRST = 50;
export const MAX_FIRST = 500;
/** Filters other than a dataset are counted row by row up to this many matches, then estimated. */
export const COUNT_EXACT_LIMIT = 10_000;

export interface Total {
  count: number;
  /** False when the planner estimated the count (a filter without a maintained counter, many rows). */
  exact: boolean;
}

/** A keyset page: the rows, each row's cursor, whether more follow, and the total (computed on demand). */
export interface KeysetPage<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  total(): Promise<Total>;
}

export function parseFirst(first: number | undefined | null): number {
  const n = first ?? DEFAULT_FIRST;
  if (!Number.isInteger(n) || n < 1 || n > MAX_FIRST) throw new BadInputError(`first must be between 1 and ${MAX_FIRST}`);
  return n;
}

/** A cursor: the kind of list it belongs to and the sort key of a row, base64url-encoded JSON. */
export function encodeCursor(kind: string, key: unknown[]): string {
  return Buffer.from(JSON.stringify([kind, ...key])).toString('base64url');
}

/** Decodes a cursor of `kind`; `check` validates the key's parts. */
export function decodeCursor<K extends unknown[]>(kind: string, cursor: string, check: (key: unknown[]) => key is K): K {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || !check(parsed.slice(1))) {
    throw new BadInputError(`"after" is not a cursor of this list (${kind}): pass an endCursor or edge cursor that this list returned`);
  }
  return parsed.slice(1) as K;
}

/**
 * Exact count of a table's rows, overall or in one dataset, from the maintained counters: one row read
 * whatever the table's size.
 */
export async function countedRows(ds: DataSource, relation: 'cells' | 'images', datasetId?: string): Promise<number> {
  const [r]: { n: string | null }[] = await ds.query(
    `SELECT sum(n) AS n FROM row_counts WHERE relation = $1 AND ($2::uuid IS NULL OR dataset_id = $2)`,
    [relation, datasetId ?? null],
  );
  return Number(r?.n ?? 0);
}

/**
 * Rows matching `where` (SQL over `from`, with its parameters): exact up to COUNT_EXACT_LIMIT, the
 * planner's estimate beyond.
 */
export async function boundedCount(ds: DataSource, from: string, where: string, params: unknown[]): Promise<Total> {
  const [{ n }]: { n: number }[] = await ds.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${from} WHERE ${where} LIMIT ${COUNT_EXACT_LIMIT + 1}) s`, params);
  if (n <= COUNT_EXACT_LIMIT) return { count: n, exact: true };
  const [plan]: { 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }[] = await ds.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${from} WHERE ${where}`, params);
  return { count: Math.max(n, Math.round(plan['QUERY PLAN'][0].Plan['Plan Rows'])), exact: false };
}

/** `col = $n AND ...` for the columns whose value is given (a filter's SQL for boundedCount). */
export function equalsWhere(pairs: [column: string, value: string | undefined][]): { where: string; params: string[] } {
  const params: string[] = [];
  const conds = pairs.filter(([, v]) => v).map(([col, v]) => `${col} = $${params.push(v!)}`);
  return { where: conds.join(' AND ') || 'true', params };
}
