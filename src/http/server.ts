// The API server: Apollo Server over express and graphql-ws on the same port and path (/graphql),
// plus the playground and the byte endpoints. It reads and writes PostgreSQL and never loads a model.
// Every route but the static pages and /healthz goes through the gate (guard.ts): origin, token, rate limits.
import express, { type Request, type Response, type NextFunction } from 'express';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import type { Services } from '../services/index.js';
import { createContext, type GraphQLContext } from '../schema/context.js';
import { formatError } from '../schema/errors.js';
import { limitRules, parseLimited, requestLimitError, MAX_QUERY_BYTES, MAX_QUERY_TOKENS, MAX_WS_PAYLOAD_BYTES } from '../schema/limits.js';
import { accessOf, reviewerOf, type Access } from './auth.js';
import { browserGate, browserRefusal, ClientLimits, clientKey, refuse, requireAccess, type Locals } from './guard.js';
import { playgroundAssets, playgroundHtml, PLAYGROUND_ASSETS } from './playground.js';
import { restRoutes } from './rest.js';
import { healthRoute } from './health.js';
import { dashboardRouter } from './dashboard/dashboard.js';
import { logger } from '../logger.js';

const log = logger('api');

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(schema: GraphQLSchema, services: Services, host: string, port: number): Promise<ApiServer> {
  const cfg = services.cfg;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);
  // Idle keep-alive connections are closed after 65 s, not Node's 5 s: longer than a load balancer's idle
  // timeout (60 s at nginx, AWS ALB), so the server never closes a connection just as a balancer or client
  // reuses it (a reset, or a 502).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  let baseUrl = '';
  const rules = limitRules();
  const limits = new ClientLimits(cfg);
  const contextFor = (access: Access, client: string, header: (name: string) => string | undefined, stream = false): GraphQLContext =>
    createContext(services, {
      access, baseUrl, header, stream, reviewer: reviewerOf(header('authorization') ?? header('Authorization')),
      countUpload: async () => {
        const wait = await limits.upload(client);
        if (wait) throw new GraphQLError(`too many uploads from this client; try again in ${Math.ceil(wait / 1000)} s`, { extensions: { code: 'TOO_MANY_REQUESTS', http: { status: 429 } } });
      },
    });

  // WebSocket: the browser check at the upgrade, the token in connectionParams, then every subscription
  // parsed, validated and limited here, so a bad one gets an error of its own and the socket stays open.
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: MAX_WS_PAYLOAD_BYTES,
    verifyClient: (info, done) => {
      const why = browserRefusal(cfg, info.req.headers.origin, info.req.headers.host);
      if (why) return done(false, 403, why.slice(0, 120));
      limits.authBlockedFor(clientKey(info.req)).then(
        (wait) => (wait ? done(false, 429, 'too many wrong tokens from this client') : done(true)),
        () => done(false, 500),
      );
    },
  });
  const wsCleanup = useServer<Record<string, unknown>, { access: Access }>(
    {
      schema,
      isProd: true,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const { access, wrongToken } = accessOf(cfg, String(params.authorization ?? params.Authorization ?? ''));
        if (access === 'none') {
          if (wrongToken) await limits.wrongToken(clientKey(ctx.extra.request));
          return false; // graphql-ws closes with 4403 Forbidden
        }
        ctx.extra.access = access;
        return true;
      },
      context: (ctx): GraphQLContext =>
        contextFor(ctx.extra.access ?? 'none', clientKey(ctx.extra.request), (name) => (typeof ctx.connectionParams?.[name] === 'string' ? (ctx.connectionParams[name] as string) : undefined), true),
      onSubscribe: (_ctx, _id, payload) => {
        let document;
        try {
          document = parseLimited(payload.query);
        } catch (err) {
          return [err as GraphQLError];
        }
        const invalid = validate(schema, document, [...specifiedRules, ...rules]);
        if (invalid.length) return invalid;
        const limited = requestLimitError(schema, document, payload.variables ?? undefined, payload.operationName);
        if (limited) return [limited];
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
      },
      // The same error codes and masking as over HTTP (formatError), for errors in a stream's events
      // and for subscriptions that cannot start (unknown job, malformed id).
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.length ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      // Errors with neither a code nor a cause are graphql-js's own validation errors.
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((e) =>
          e.extensions?.code || e.originalError ? formatError(e.toJSON(), e) : { ...e.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
        ),
    },
    wsServer,
  );

  // Limits that need the variables (string lengths, the cost by list sizes) run once the operation is known.
  const requestLimits: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          const err = requestLimitError(schema, document, request.variables, operationName);
          if (err) throw new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status: 400 } } });
        },
      };
    },
  };
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    validationRules: rules,
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    introspection: true,
    // Apollo adds stack traces unless NODE_ENV says production; no response carries one here.
    includeStacktraceInErrorResponses: false,
    plugins: [
      requestLimits,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  app.use(browserGate(cfg));
  // Static pages carry no data: they load without a token and ask for one (the data they fetch needs it).
  app.use(PLAYGROUND_ASSETS, playgroundAssets());
  app.use('/dashboard', dashboardRouter());
  app.get('/graphql', (req, res, next) => {
    // A browser asking for a page gets the playground; GET queries (?query=) go to Apollo.
    if (req.query.query === undefined && req.accepts(['text/html', 'application/json']) === 'text/html') {
      res.type('html').send(playgroundHtml());
      return;
    }
    next();
  });
  app.get('/healthz', healthRoute(services));
  const read = requireAccess(cfg, limits, 'read');
  const write = requireAccess(cfg, limits, 'write');
  app.use(
    '/graphql',
    read,
    express.json({ limit: '40mb' }), // uploadImage carries base64 files; size per field is checked by the service
    (req, res, next) => {
      const q = (req.body as { query?: unknown } | undefined)?.query;
      if (typeof q === 'string' && q.length > MAX_QUERY_BYTES) {
        res.status(413).json({ errors: [{ message: `query is over ${MAX_QUERY_BYTES} bytes`, extensions: { code: 'QUERY_TOO_LARGE' } }] });
        return;
      }
      next();
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => contextFor((res.locals as Locals).access, clientKey(req), (name) => req.get(name)),
    }),
  );
  app.use(restRoutes(services, () => baseUrl, { read, write, uploads: limits }));
  app.use((req: Request, res: Response) => refuse(req, res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path.slice(0, 200)}`));
  // Last: whatever went wrong answers as JSON with a code and never with a stack trace.
  app.use((err: Error & { type?: string; status?: number; statusCode?: number; expose?: boolean }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status ?? err.statusCode ?? 500;
    if (err.type === 'entity.parse.failed') return refuse(req, res, 400, 'BAD_REQUEST', `the body is not valid JSON (${err.message})`);
    if (err.type === 'entity.too.large') return refuse(req, res, 413, 'BAD_REQUEST', 'the body is over the size limit');
    if (err instanceof URIError) return refuse(req, res, 400, 'BAD_REQUEST', 'the URL is not valid (bad percent-encoding)');
    if (status >= 400 && status < 500) return refuse(req, res, status, status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', err.expose ? err.message : 'bad request');
    const errorId = randomUUID();
    log.error('unexpected error', { errorId, err, path: req.path });
    refuse(req, res, 500, 'INTERNAL_SERVER_ERROR', `internal server error (error id ${errorId} in the server log)`);
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const addr = httpServer.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  baseUrl = `http://${shownHost}:${actualPort}`;
  log.info('API listening', { url: `${baseUrl}/graphql` });
  return {
    url: `${baseUrl}/graphql`,
    port: actualPort,
    close: async () => {
      await apollo.stop();
      wsServer.close();
    },
  };
}
