// Telling a database outage (a restart, a dropped connection) from a statement's own failure, and waiting
// one out for the statements that must not be lost (a job's outcome).
import { setTimeout as sleep } from 'node:timers/promises';

/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, starting up), and socket errors. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const CONNECTION_MESSAGES = /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Connection is not open|not queryable/i;

export function isConnectionError(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}

/** Runs `fn`, retrying (with a growing pause) while the database is unreachable, for at most `maxMs`. */
export async function retryWhileDatabaseDown<T>(fn: () => Promise<T>, maxMs = 60_000): Promise<T> {
  const end = Date.now() + maxMs;
  let pause = 200;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isConnectionError(err) || Date.now() + pause > end) throw err;
      await sleep(pause);
      pause = Math.min(2000, pause * 2);
    }
  }
}
