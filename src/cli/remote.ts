// The command line's connection to a running server: GraphQL over HTTP, and a job's progress over
// graphql-ws until it ends.
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';

export interface Remote {
  url: string;
  request<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  follow(jobId: string, onEvent: (e: { status: string; done: number; total: number | null; message: string | null }) => void): Promise<void>;
  close(): Promise<void>;
}

export class RemoteError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export function connect(url: string, token?: string): Remote {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const ws = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 5,
    lazy: true,
  });
  return {
    url,
    async request(query, variables) {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      } catch (err) {
        // fetch's own message is "fetch failed"; its cause says why (refused, a port fetch will not use, ...).
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        throw new RemoteError(`cannot reach ${url}: ${(err as Error).message}${cause ? ` (${cause})` : ''} (is \`leukograph serve\` running?)`, 'UNREACHABLE');
      }
      return graphqlData(url, res.status, await res.text());
    },
    follow(jobId, onEvent) {
      return new Promise<void>((resolve, reject) => {
        ws.subscribe(
          { query: `subscription($j: ID!) { jobProgress(jobId: $j) { status done total message } }`, variables: { j: jobId } },
          {
            next: (v) => {
              const e = (v.data as any)?.jobProgress;
              if (e) onEvent({ ...e, status: String(e.status).toLowerCase() });
            },
            error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
            complete: resolve,
          },
        );
      });
    },
    close: () => ws.dispose() as Promise<void>,
  };
}

/**
 * The data of a GraphQL response, or a RemoteError that says what came back instead: a URL that is not the
 * GraphQL endpoint (the server's root answers 404 with its own JSON) must not surface as "cannot read
 * properties of undefined". Its code is BAD_RESPONSE, never a GraphQL error's (NOT_FOUND means a missing record there).
 */
export function graphqlData(url: string, status: number, text: string): any {
  type Body = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  let body: Body | null;
  try {
    body = JSON.parse(text) as Body | null;
  } catch {
    body = null;
  }
  if (body?.errors?.length) throw new RemoteError(body.errors[0]!.message, body.errors[0]!.extensions?.code ?? 'ERROR');
  if (body && typeof body === 'object' && body.data !== undefined && body.data !== null) return body.data;
  const hint = /\/graphql\/?$/.test(new URL(url).pathname) ? '' : ' (the GraphQL endpoint is the server\'s /graphql path: --url http://HOST:PORT/graphql)';
  throw new RemoteError(`${url} answered HTTP ${status} without GraphQL data${hint}: ${text.slice(0, 200)}`, 'BAD_RESPONSE');
}
