// The hand-written client over the generated documents (or any typed document a tool brings): queries and
// mutations over HTTP, subscriptions over graphql-ws as async iterators (with reconnection and the token in
// connectionParams), typed errors, uploads, the analyze flow that streams cells, and the check of which
// server versions it speaks to. `ws` is loaded only when a socket is opened without a WebSocket of the
// platform's own (browsers, Node 22+) or one given in the options.
import { print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { errorFromServer, errorFromSubscription, IncompatibleServerError, LeukographError, NetworkError, NotFoundError, ServerError, type ServerErrorEntry } from './errors.js';
import {
  CreateDatasetDocument, DatasetsDocument, JobDocument, JobProgressDocument, ServerVersionDocument,
  type DatasetFieldsFragment, type JobFieldsFragment, type JobProgressSubscription, type CreateDatasetInput,
} from './generated/graphql.js';
import { compatibility, type Compatibility } from './version.js';
import { readImageSource, type ImageSource, type UploadedImage, type UploadResult } from './upload.js';
import { analyzeCells, type AnalyzeOptions, type CellStream } from './cell-stream.js';

export interface LeukographClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (subscriptions use the same path over ws:). */
  url: string;
  /** The server's LEUKOGRAPH_TOKEN: sent as `Authorization: Bearer` and as graphql-ws connectionParams. */
  token?: string;
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** A WebSocket constructor; default: the platform's own (browsers, Node 22+), else the `ws` package, loaded when the first subscription starts. */
  webSocketImpl?: unknown;
  /** Reconnection attempts of the subscription socket after it drops (default 5; 0: none). */
  retryAttempts?: number;
  /** Wait before reconnection attempt `retries` (0-based); default: graphql-ws's randomised exponential backoff. */
  retryWait?: (retries: number) => Promise<void>;
  /** Extra HTTP headers for every request. */
  headers?: Record<string, string>;
}

/** Variables are optional when the operation has none (or only optional ones). */
export type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export type JobProgressEvent = JobProgressSubscription['jobProgress'];

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

function isCloseEvent(e: unknown): e is { code: number; reason: string } {
  return !!e && typeof e === 'object' && 'code' in e && 'reason' in e;
}

/** An iterator of f(each value), ending (and unsubscribing) when its source does. */
function mapped<T, U>(source: AsyncIterableIterator<T>, f: (t: T) => U): AsyncIterableIterator<U> {
  const it: AsyncIterableIterator<U> = {
    async next() {
      const r = await source.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: f(r.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ...) in its cause. */
function reasonOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}

export class LeukographClient {
  readonly url: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly printed = new WeakMap<DocumentNode, { query: string; operationName: string | undefined }>();
  private ws: Promise<WsClient> | null = null;

  constructor(private readonly opts: LeukographClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    const f = opts.fetch ?? globalThis.fetch;
    if (!f) throw new Error('no fetch: pass options.fetch (Node.js 18+ has one built in)');
    this.fetchImpl = f;
  }

  /** Runs a query over HTTP; throws a LeukographError subclass on any GraphQL error. */
  query<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): Promise<R> {
    return this.request(document, variables);
  }

  /** Runs a mutation over HTTP (needs the token when the server has one). */
  mutate<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): Promise<R> {
    return this.request(document, variables);
  }

  /**
   * Subscribes over graphql-ws at once (the subscribe message leaves before the first `next()`), and
   * iterates its results until the server completes it. A dropped socket is reconnected (retryAttempts)
   * and the subscription resubscribed; events sent while it was down are lost. Breaking out of a
   * `for await` unsubscribes.
   */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): AsyncIterableIterator<R> {
    const request = { ...this.print(document), variables: (variables ?? {}) as Record<string, unknown> };
    // Started now (once the socket's WebSocket is at hand), not at the first next().
    const started = this.socket().then((ws) => ws.iterate<R>(request));
    started.catch(() => undefined); // the error is thrown from next()
    let source: AsyncIterableIterator<{ data?: R | null; errors?: readonly ServerErrorEntry[] }> | null = null;
    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      await (source ?? (await started.catch(() => null)))?.return?.();
    };
    const it: AsyncIterableIterator<R> = {
      async next() {
        if (finished) return { done: true, value: undefined };
        let r: IteratorResult<{ data?: R | null; errors?: readonly ServerErrorEntry[] }>;
        try {
          source ??= await started;
          r = await source.next();
        } catch (err) {
          await finish();
          throw errorFromSubscription(err);
        }
        if (r.done) {
          finished = true;
          return { done: true, value: undefined };
        }
        if (r.value.errors?.length) {
          await finish();
          throw errorFromServer(r.value.errors);
        }
        return { done: false, value: r.value.data as R };
      },
      async return() {
        await finish();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  /** A job's progress: its state now, then every change, until it ends. Subscribes at once, like subscribe(). */
  jobProgress(jobId: string): AsyncIterableIterator<JobProgressEvent> {
    return mapped(this.subscribe(JobProgressDocument, { jobId }), (e) => e.jobProgress);
  }

  /**
   * Which server this is and whether this SDK speaks its schema (see version.ts). A server from before schema
   * versions has no serverVersion query: it is reported incompatible, not thrown.
   */
  async checkServer(): Promise<Compatibility> {
    try {
      return compatibility((await this.query(ServerVersionDocument)).serverVersion);
    } catch (err) {
      if (err instanceof LeukographError && err.code === 'GRAPHQL_VALIDATION_FAILED') return compatibility(null);
      throw err;
    }
  }

  /** checkServer(), throwing IncompatibleServerError when the SDK does not speak the server's schema. */
  async assertCompatible(): Promise<Compatibility> {
    const c = await this.checkServer();
    if (!c.compatible) throw new IncompatibleServerError(c.reason, 'INCOMPATIBLE_SERVER');
    return c;
  }

  /** Polls a job until it ends (SUCCEEDED, FAILED or CANCELLED) and returns it. */
  async waitForJob(jobId: string, { intervalMs = 250, timeoutMs = Infinity }: { intervalMs?: number; timeoutMs?: number } = {}): Promise<JobFieldsFragment> {
    const end = Date.now() + timeoutMs;
    for (let wait = intervalMs; ; wait = Math.min(wait * 1.5, 2000)) {
      const { job } = await this.query(JobDocument, { id: jobId });
      if (!job) throw new NotFoundError(`job ${jobId} not found`, 'NOT_FOUND', { path: ['job'] });
      if (TERMINAL.has(job.status)) return job;
      if (Date.now() > end) throw new LeukographError(`job ${jobId} still ${job.status} after ${timeoutMs} ms`, 'TIMEOUT');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** The dataset of this name, created when there is none. */
  async ensureDataset(name: string, input: Omit<CreateDatasetInput, 'name'> = {}): Promise<DatasetFieldsFragment> {
    const { datasets } = await this.query(DatasetsDocument);
    const found = datasets.find((d) => d.name === name);
    if (found) return found;
    return (await this.mutate(CreateDatasetDocument, { input: { ...input, name } })).createDataset;
  }

  /**
   * Sends one image (a file path, its bytes, or a Blob / File) as a multipart form (POST /upload), checked by
   * the server like the uploadImage mutation. `created` is false when the same image was in the dataset already.
   */
  async uploadImage(datasetId: string, file: ImageSource, opts: { label?: string | null; filename?: string } = {}): Promise<UploadResult> {
    const { data, filename } = await readImageSource(file, opts.filename);
    const target = new URL(`${this.url}/../upload`);
    const form = new FormData();
    form.set('datasetId', datasetId);
    if (opts.label) form.set('label', opts.label);
    form.set('file', data, filename);
    let res: Response;
    try {
      // fetch sets the multipart content type with its boundary.
      res = await this.fetchImpl(target, { method: 'POST', headers: this.headers(), body: form });
    } catch (err) {
      throw new NetworkError(`cannot reach ${target.origin}: ${reasonOf(err)}`, 'NETWORK_ERROR', { cause: err });
    }
    const body = (await res.json().catch(() => null)) as { image?: UploadedImage; created?: boolean; error?: { code: string; message: string } } | null;
    if (body?.error) throw errorFromServer([{ message: body.error.message, extensions: { code: body.error.code } }]);
    if (!res.ok || !body?.image) throw new ServerError(`upload answered HTTP ${res.status}`, 'INTERNAL_SERVER_ERROR');
    return { image: body.image, created: body.created ?? false };
  }

  /**
   * Uploads the images, analyzes them (detect → encode → classify with the active models) and yields
   * each cell as it is stored; see CellStream. Nothing happens until it is iterated.
   */
  analyzeImages(files: readonly ImageSource[], opts: AnalyzeOptions = {}): CellStream {
    return analyzeCells(this, files, opts);
  }

  /** `for await (const cell of client.analyzeImage('smear/001.jpg')) ...` */
  analyzeImage(file: ImageSource, opts: AnalyzeOptions = {}): CellStream {
    return analyzeCells(this, [file], opts);
  }

  /** Closes the subscription socket (open subscriptions end). */
  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    await (await ws?.catch(() => null))?.dispose();
  }

  private headers(): Record<string, string> {
    return { ...this.opts.headers, ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) };
  }

  private print(document: DocumentNode): { query: string; operationName: string | undefined } {
    let p = this.printed.get(document);
    if (!p) {
      const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
      p = { query: print(document), operationName: op?.name?.value };
      this.printed.set(document, p);
    }
    return p;
  }

  private async request<R>(document: DocumentNode, variables: unknown): Promise<R> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { ...this.headers(), 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify({ ...this.print(document), variables: variables ?? {} }),
      });
    } catch (err) {
      throw new NetworkError(`cannot reach ${this.url}: ${reasonOf(err)}`, 'NETWORK_ERROR', { cause: err });
    }
    const text = await res.text();
    let body: { data?: R | null; errors?: ServerErrorEntry[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new (res.status >= 500 ? ServerError : NetworkError)(`HTTP ${res.status} from ${this.url} is not a GraphQL response: ${text.slice(0, 200)}`, res.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'NETWORK_ERROR');
    }
    if (body.errors?.length) throw errorFromServer(body.errors);
    if (body.data == null) throw new ServerError(`HTTP ${res.status} from ${this.url} without data`, 'INTERNAL_SERVER_ERROR');
    return body.data;
  }

  /** The WebSocket constructor: the option, the platform's own, or the `ws` package (an optional peer, loaded now). */
  private async webSocketImpl(): Promise<unknown> {
    if (this.opts.webSocketImpl) return this.opts.webSocketImpl;
    if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
    try {
      // A variable keeps bundlers for browsers from resolving `ws`: browsers never reach this line.
      const name = 'ws';
      return ((await import(name)) as { default: unknown }).default;
    } catch (err) {
      throw new NetworkError(
        'subscriptions need a WebSocket: this platform has none, and the `ws` package is not installed (npm install ws), nor was options.webSocketImpl given',
        'NO_WEBSOCKET', { cause: err },
      );
    }
  }

  private socket(): Promise<WsClient> {
    if (!this.ws) {
      // A failed start (no WebSocket) is not kept: the next subscription tries again.
      const ws = this.webSocketImpl().then((impl) => this.createSocket(impl));
      ws.catch(() => this.ws === ws && (this.ws = null));
      this.ws = ws;
    }
    return this.ws;
  }

  private createSocket(webSocketImpl: unknown): WsClient {
    const token = this.opts.token;
    return createClient({
      url: this.url.replace(/^http/, 'ws'),
      webSocketImpl,
      connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
      lazy: true,
      retryAttempts: this.opts.retryAttempts ?? 5,
      retryWait: this.opts.retryWait,
      // Retry drops and refused connections; a 44xx close is the server saying no, and retrying
      // cannot change that (4499 is graphql-ws's own "terminated", which can).
      shouldRetry: (e) => !(isCloseEvent(e) && e.code >= 4400 && e.code < 4500 && e.code !== 4499),
      keepAlive: 10_000,
    });
  }
}

export function createLeukographClient(opts: LeukographClientOptions): LeukographClient {
  return new LeukographClient(opts);
}
