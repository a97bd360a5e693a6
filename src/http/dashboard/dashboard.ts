// The live dashboard on GET /dashboard: hand-written HTML, CSS and ES modules served from the source
// folder (no bundler, no build step), talking to /graphql like any client. Nothing is fetched from
// outside the machine: graphql-ws's browser client comes from /graphql-assets (playground.ts).
import express, { type Request, type Response, type Router } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Compiled beside the server (dist/client-sdk/src/) because the page loads it: see DIFFERENTIAL_COUNT_JS.
import '../../../client-sdk/src/differential-count.js';

/** The static files: beside this module when run from source, else back from dist/ to src/. */
export function dashboardPublicDir(): string {
  const candidates = [new URL('./public/', import.meta.url), new URL('../../../../src/http/dashboard/public/', import.meta.url)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`dashboard: no public/index.html beside ${fileURLToPath(import.meta.url)}`);
}

/**
 * The differential count the dashboard counts with: the SDK's module, as the server compiled it (dist/), so
 * the page, the server's typed results and the SDK share one definition.
 */
export const DIFFERENTIAL_COUNT_JS = fileURLToPath(new URL('../../../client-sdk/src/differential-count.js', import.meta.url));

export function dashboardRouter(): Router {
  const dir = dashboardPublicDir();
  const r = express.Router();
  r.get('/js/differential-count.js', (_req, res) => {
    res.set('cache-control', 'no-cache').type('text/javascript').sendFile(DIFFERENTIAL_COUNT_JS);
  });
  // The page's links are relative to the mount path, wherever the router is mounted; read once.
  const html = readFileSync(`${dir}index.html`, 'utf8');
  const page = (req: Request, res: Response) => {
    res.set('cache-control', 'no-cache').type('html').send(html.replace('<base href="/dashboard/" />', `<base href="${req.baseUrl.replace(/[^\w/.-]/g, '')}/" />`));
  };
  r.get('/', page);
  r.get('/index.html', page);
  r.use(express.static(dir, { index: false, fallthrough: false, maxAge: 0 }));
  return r;
}
