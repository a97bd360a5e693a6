// PostgreSQL LISTEN/NOTIFY as a typed publish/subscribe: one listening connection per process fans
// notifications out to in-process subscribers (GraphQL subscriptions, an engine's cancel watcher). When
// the database goes away the connection is re-made for as long as it takes, and subscribers re-read.
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { EVENTS_CHANNEL, type JobEvent } from './events.js';
import { logger } from '../logger.js';

const log = logger('notify');

type Listener = (e: JobEvent) => void;

/** Reconnection delays: doubling from the first to the last, then the last for as long as it takes. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 1000;

export class NotifyHub {
  private client: pg.Client | null = null;
  private listeners = new Set<Listener>();
  private reconnectListeners = new Set<() => void>();
  private closed = false;
  private downSince: Date | null = null;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly url: string, private readonly dataSource: DataSource) {}

  /** Whether notifications arrive now; `since` when the listening connection was lost. */
  get listening(): { ok: boolean; since: Date | null } {
    return { ok: this.client !== null, since: this.downSince };
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'leukograph-listen', keepAlive: true });
    client.on('notification', (n) => {
      if (!n.payload) return;
      let e: JobEvent;
      try {
        e = JSON.parse(n.payload) as JobEvent;
      } catch {
        return;
      }
      for (const l of this.listeners) l(e);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  /** The listening connection broke (the database restarted, the network dropped): reconnect until it is back. */
  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.downSince = new Date();
    log.warn('listen connection lost; reconnecting', { err });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      this.connect().then(
        () => {
          if (this.closed) return;
          log.info('listen connection back', { downMs: Date.now() - (this.downSince?.getTime() ?? Date.now()), attempts: this.attempts });
          this.downSince = null;
          this.attempts = 0;
          for (const f of this.reconnectListeners) f();
        },
        (e) => {
          if (this.attempts % 10 === 1) log.warn('listen connection still down', { attempts: this.attempts, err: e });
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  /**
   * Called after every reconnection: notifications sent while the connection was down are lost, so a
   * subscriber re-reads what it follows (subscribe's `resync` does this for its stream).
   */
  onReconnect(fn: () => void): () => void {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }

  async publish(e: JobEvent): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, JSON.stringify(e)]);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events matching `filter` as an async iterator, buffered so a slow consumer loses nothing. The
   * subscription is registered before this returns, so events published afterwards are never missed.
   */
  subscribe<T extends JobEvent>(
    filter: (e: JobEvent) => e is T,
    opts: { until?: (e: T) => boolean; resync?: () => Promise<JobEvent[]> } = {},
  ): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const push = (e: JobEvent) => {
      if (done || !filter(e)) return;
      queue.push(e);
      wake?.();
    };
    const off = this.on(push);
    // After a reconnection, the events that say where things stand now (read from the database).
    const offReconnect = opts.resync
      ? this.onReconnect(() => {
          opts.resync!().then(
            (events) => events.forEach(push),
            (err) => log.warn('resync after reconnection failed', { err }),
          );
        })
      : () => undefined;
    const finish = () => {
      done = true;
      off();
      offReconnect();
      wake?.();
    };
    const it: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]() {
        return it;
      },
      async next(): Promise<IteratorResult<T>> {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = null;
        const value = queue.shift();
        if (value === undefined) return { done: true, value: undefined };
        if (opts.until?.(value)) finish();
        return { done: false, value };
      },
      async return(): Promise<IteratorResult<T>> {
        finish();
        queue.length = 0;
        return { done: true, value: undefined };
      },
    };
    return it;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    this.reconnectListeners.clear();
    const c = this.client;
    this.client = null;
    c?.removeAllListeners();
    c?.on('error', () => undefined);
    await c?.end().catch(() => undefined);
  }
}
