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
      const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
      if (body.errors?.length) throw new RemoteError(body.errors[0].message, body.errors[0].extensions?.code ?? 'ERROR');
      return body.data;
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
