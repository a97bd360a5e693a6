// PostgreSQL LISTEN/NOTIFY as a typed publish/subscribe: one listening connection per process fans
// notifications out to in-process subscribers (GraphQL subscriptions, an engine's cancel watcher).
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { EVENTS_CHANNEL, type JobEvent } from './events.js';
import { logger } from '../logger.js';

const log = logger('notify');

type Listener = (e: JobEvent) => void;

export class NotifyHub {
  private client: pg.Client | null = null;
  private listeners = new Set<Listener>();
  private closed = false;

  constructor(private readonly url: string, private readonly dataSource: DataSource) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'leukograph-listen' });
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
    client.on('error', (err) => {
      log.warn('listen connection lost; reconnecting', { err });
      this.client = null;
      if (!this.closed) setTimeout(() => this.connect().catch((e) => log.error('reconnect failed', { err: e })), 500);
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
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
  subscribe<T extends JobEvent>(filter: (e: JobEvent) => e is T, opts: { until?: (e: T) => boolean } = {}): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const off = this.on((e) => {
      if (!filter(e)) return;
      queue.push(e);
      wake?.();
    });
    const finish = () => {
      done = true;
      off();
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
    this.listeners.clear();
    await this.client?.end().catch(() => undefined);
  }
}
