// The dashboard's one connection to the server: queries over HTTP, subscriptions over graphql-ws
// (the browser client the server ships under /graphql-assets, so nothing comes from a CDN), both with
// the token of auth.js when the server asks for one.
import { createClient } from '/graphql-assets/graphql-ws/client.js';
import { authFetch, connectionParams, onSocketClosed } from './auth.js';

const httpUrl = new URL('/graphql', location.href).toString();
const listeners = new Set();
let state = 'idle';

function setState(s) {
  state = s;
  for (const fn of listeners) fn(s);
}

const ws = createClient({
  url: httpUrl.replace(/^http/, 'ws'),
  lazy: true,
  keepAlive: 10_000,
  connectionParams,
  // A dashboard stays open for hours: keep trying, with the client's own back-off.
  retryAttempts: Infinity,
  shouldRetry: () => true,
  on: {
    connecting: () => setState('connecting'),
    connected: () => setState('live'),
    closed: (e) => {
      setState('idle');
      onSocketClosed(e);
    },
  },
});

/** Called with 'idle' | 'connecting' | 'live' now and on every change. */
export function onConnection(fn) {
  listeners.add(fn);
  fn(state);
}

export async function gql(query, variables = {}) {
  const res = await authFetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

/** Starts a subscription; returns the function that ends it. */
export function subscribe(query, variables, { next, complete, error }) {
  return ws.subscribe(
    { query, variables },
    {
      next: (v) => (v.data ? next(v.data) : error?.(new Error(v.errors?.map((e) => e.message).join('; ') ?? 'no data'))),
      error: (e) => error?.(e instanceof Error ? e : new Error(e?.reason || e?.message || String(e))),
      complete: () => complete?.(),
    },
  );
}

/** Same-origin path of a URL the server made absolute (cropUrl, Image.url). */
export function localPath(url) {
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
