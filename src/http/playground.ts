// The GraphiQL playground on GET /graphql, served entirely from node_modules: no request leaves the
// machine. Subscriptions run over graphql-ws on the same path.
import express, { type Router } from 'express';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function pkgDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export const PLAYGROUND_ASSETS = '/graphql-assets';

export function playgroundAssets(): Router {
  const r = express.Router();
  const opts = { immutable: true, maxAge: '1d', fallthrough: false };
  r.use('/graphiql', express.static(pkgDir('graphiql'), opts));
  r.use('/react', express.static(join(pkgDir('react'), 'umd'), opts));
  r.use('/react-dom', express.static(join(pkgDir('react-dom'), 'umd'), opts));
  // graphql-ws's package.json is not exported; its client is found from the resolved entry point.
  r.use('/graphql-ws', express.static(dirname(require.resolve('graphql-ws')), opts));
  return r;
}

export function playgroundHtml(): string {
  const a = PLAYGROUND_ASSETS;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>leukograph · GraphQL playground</title>
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <link rel="stylesheet" href="${a}/graphiql/graphiql.min.css" />
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="${a}/react/react.production.min.js"></script>
  <script src="${a}/react-dom/react-dom.production.min.js"></script>
  <script src="${a}/graphiql/graphiql.min.js"></script>
  <script type="module">
    import { createClient } from '${a}/graphql-ws/client.js';
    // The dashboard's token module: a protected server's token is asked for once, kept in this browser and
    // sent as a header or in connectionParams, never in a URL.
    import { authFetch, connectionParams as storedTokenParams, onSocketClosed } from '/dashboard/js/auth.js';
    const url = new URL('/graphql', location.href).toString();
    const wsUrl = url.replace(/^http/, 'ws');
    // A token typed into GraphiQL's headers editor wins, over HTTP and WebSocket alike.
    const connectionParams = () => {
      try {
        const h = JSON.parse(localStorage.getItem('graphiql:headers') || '{}');
        const typed = h.Authorization ?? h.authorization;
        if (typed) return { authorization: typed };
      } catch {}
      return storedTokenParams();
    };
    const wsClient = createClient({ url: wsUrl, connectionParams, lazy: true, retryAttempts: 5, on: { closed: onSocketClosed } });
    const fetcher = GraphiQL.createFetcher({ url, wsClient, fetch: authFetch });
    const defaultQuery = '# leukograph: datasets, images, cells, models, jobs\\n{\\n  __typename\\n  datasets { id name stats { images labelled } }\\n  engineStatus { id alive runtimes { name backend device } }\\n}\\n';
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true }),
    );
  </script>
</body>
</html>`;
}
