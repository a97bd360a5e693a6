// GET /healthz: is the database answering, is the event listener (subscriptions) connected, and how
// many engines heartbeat. 503 while the database or the listener is down; engines are reported, not
// required (the API serves without them, jobs wait). No token needed, so it says nothing about the data.
import type { RequestHandler } from 'express';
import type { Services } from '../services/index.js';

const DB_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

export interface Health {
  ok: boolean;
  database: { ok: boolean; latencyMs?: number; error?: string };
  events: { ok: boolean; since?: string };
  engines: { alive: number; silent: number; lastHeartbeatAgoMs: number | null } | null;
}

export async function health(s: Services): Promise<Health> {
  const t0 = Date.now();
  let database: Health['database'];
  let engines: Health['engines'] = null;
  try {
    const rows: { age_ms: number | null }[] = await within(
      s.ds.query(`SELECT (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms FROM engines`),
      DB_TIMEOUT_MS,
    );
    database = { ok: true, latencyMs: Date.now() - t0 };
    const ages = rows.map((r) => Number(r.age_ms));
    const alive = ages.filter((a) => a < s.cfg.engineStaleMs).length;
    engines = { alive, silent: ages.length - alive, lastHeartbeatAgoMs: ages.length ? Math.round(Math.min(...ages)) : null };
  } catch (err) {
    database = { ok: false, error: (err as Error).message.slice(0, 200) };
  }
  const listening = s.hub.listening;
  const events = { ok: listening.ok, ...(listening.ok ? {} : { since: listening.since?.toISOString() }) };
  return { ok: database.ok && events.ok, database, events, engines };
}

export function healthRoute(s: Services): RequestHandler {
  return async (_req, res) => {
    const h = await health(s);
    res.status(h.ok ? 200 : 503).set('cache-control', 'no-store').json(h);
  };
}
