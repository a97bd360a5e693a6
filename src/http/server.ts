// The API server: Apollo Server over express and graphql-ws on the same port and path (/graphql),
// plus the playground and the byte endpoints. It reads and writes PostgreSQL and never loads a model.
import express from 'express';
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import type { Services } from '../services/index.js';
import type { GraphQLContext } from '../schema/context.js';
import { formatError } from '../schema/errors.js';
import { queryLimits, MAX_QUERY_BYTES } from '../schema/limits.js';
import { tokenMatches } from './auth.js';
import { playgroundAssets, playgroundHtml, PLAYGROUND_ASSETS } from './playground.js';
import { restRoutes } from './rest.js';
import { dashboardRouter } from './dashboard/dashboard.js';
import { logger } from '../logger.js';

const log = logger('api');

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(schema: GraphQLSchema, services: Services, host: string, port: number): Promise<ApiServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);
  // Idle keep-alive connections outlive a load balancer's (60 s at nginx, AWS ALB): with Node's 5 s the
  // server closes a connection just as the balancer reuses it, and the client gets a reset or a 502.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  let baseUrl = '';
  const limits = queryLimits();

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>>(
    {
      schema,
      context: (ctx): GraphQLContext => ({
        services,
        mayMutate: tokenMatches(services.cfg.token, String(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? '')),
        baseUrl,
      }),
      onSubscribe: (_ctx, _id, payload) => {
        if (payload.query.length > MAX_QUERY_BYTES) return [new GraphQLError(`query is over ${MAX_QUERY_BYTES} bytes`)];
        return undefined;
      },
      validate: (s, doc) => validate(s, doc, [...specifiedRules, limits]),
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

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    validationRules: [limits],
    introspection: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

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
  app.use(
    '/graphql',
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
      context: async ({ req }) => ({ services, mayMutate: tokenMatches(services.cfg.token, req.get('authorization')), baseUrl }),
    }),
  );
  app.use(restRoutes(services, () => baseUrl));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
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
