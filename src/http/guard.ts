// The HTTP and WebSocket gate in front of every route: browsers from foreign origins (and, on a loopback
// server, pages reached through a foreign host name) are refused; a token is required for every read when
// one is configured; clients that keep sending wrong tokens, or upload too fast, are slowed down.
import type { IncomingMessage } from 'node:http';
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import cors from 'cors';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { accessOf, type Access } from './auth.js';
import { isLoopbackHost } from './loopback.js';

/** A refusal in the shape the route's clients read: GraphQL's `errors` on /graphql, `error` elsewhere. */
export function refuse(req: Request, res: Response, status: number, code: string, message: string): void {
  if (req.path.startsWith('/graphql') || req.baseUrl.startsWith('/graphql')) res.status(status).json({ errors: [{ message, extensions: { code } }] });
  else res.status(status).json({ error: { code, message } });
}

function hostName(host: string): string {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return '';
  }
}

/**
 * Why a browser request must be refused, or null. Requests without Origin (curl, the SDK, the CLI, a
 * same-origin GET) pass; so do the server's own origin and the configured ones. On a loopback server the
 * Host must be a loopback name too: otherwise a page could reach it through a name that resolves to 127.0.0.1.
 */
export function browserRefusal(cfg: Pick<Config, 'host' | 'allowedOrigins'>, origin: string | undefined, host: string | undefined): string | null {
  if (isLoopbackHost(cfg.host) && host !== undefined && !isLoopbackHost(hostName(host))) {
    return `host "${host.slice(0, 100)}" is not this machine: a loopback server answers only to localhost, 127.0.0.1 or [::1]`;
  }
  if (origin === undefined) return null;
  let own = false;
  try {
    own = host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    own = false; // "null" (sandboxed frames, file:) and garbage
  }
  if (own || cfg.allowedOrigins.includes(origin)) return null;
  return `origin ${origin.slice(0, 200)} may not use this server (LEUKOGRAPH_ALLOWED_ORIGINS lists the origins that may)`;
}

export class ClientLimits {
  private readonly authFailures: RateLimiterMemory;
  private readonly uploads: RateLimiterMemory;

  constructor(cfg: Pick<Config, 'authFailuresPerMinute' | 'uploadsPerMinute'>) {
    // Past the allowance a client is refused for a minute, whatever it sends.
    this.authFailures = new RateLimiterMemory({ keyPrefix: 'auth', points: cfg.authFailuresPerMinute, duration: 60, blockDuration: 60 });
    this.uploads = new RateLimiterMemory({ keyPrefix: 'upload', points: cfg.uploadsPerMinute, duration: 60 });
  }

  /** Milliseconds until a client that sent too many wrong tokens may try again; 0 when it may now. */
  async authBlockedFor(client: string): Promise<number> {
    const r = await this.authFailures.get(client);
    return r && r.consumedPoints >= this.authFailures.points ? Math.max(1, r.msBeforeNext) : 0;
  }

  async wrongToken(client: string): Promise<void> {
    await this.authFailures.consume(client).catch((r: unknown) => {
      if (!(r instanceof RateLimiterRes)) throw r;
    });
  }

  /** Counts one upload; milliseconds to wait when the client is over its allowance, else 0. */
  async upload(client: string): Promise<number> {
    try {
      await this.uploads.consume(client);
      return 0;
    } catch (r) {
      if (r instanceof RateLimiterRes) return Math.max(1, r.msBeforeNext);
      throw r;
    }
  }
}

export function clientKey(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Refuses foreign browsers; answers CORS preflights for the configured origins. */
export function browserGate(cfg: Config): RequestHandler[] {
  const gate: RequestHandler = (req, res, next) => {
    const why = browserRefusal(cfg, req.get('origin'), req.get('host'));
    if (why) return refuse(req, res, 403, 'FORBIDDEN', why);
    next();
  };
  if (cfg.allowedOrigins.length === 0) return [gate];
  return [gate, cors({ origin: cfg.allowedOrigins, allowedHeaders: ['authorization', 'content-type', 'accept'], methods: ['GET', 'POST'], maxAge: 600 })];
}

export interface Locals {
  access: Access;
}

/**
 * Requires `needed` access: 401 without a token (or with a wrong one, which is counted), 403 with a
 * read-only token where writing is needed, 429 for a client that sent too many wrong tokens.
 */
export function requireAccess(cfg: Config, limits: ClientLimits, needed: 'read' | 'write'): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const client = clientKey(req);
    const wait = await limits.authBlockedFor(client);
    if (wait) {
      res.set('retry-after', String(Math.ceil(wait / 1000)));
      return refuse(req, res, 429, 'TOO_MANY_REQUESTS', `too many wrong tokens from this client; try again in ${Math.ceil(wait / 1000)} s`);
    }
    const { access, wrongToken } = accessOf(cfg, req.get('authorization'));
    if (access === 'none') {
      if (wrongToken) await limits.wrongToken(client);
      return refuse(req, res, 401, 'UNAUTHENTICATED', wrongToken ? 'the bearer token is not valid' : 'this server needs a bearer token (Authorization: Bearer <token>)');
    }
    if (needed === 'write' && access !== 'write') {
      return refuse(req, res, 403, 'FORBIDDEN', 'this token may only read; writing needs the read-write token (LEUKOGRAPH_TOKEN)');
    }
    (res.locals as Locals).access = access;
    next();
  };
}

/** Counts an upload against the client's allowance; 429 past it. */
export function uploadAllowance(limits: ClientLimits): RequestHandler {
  return async (req, res, next) => {
    const wait = await limits.upload(clientKey(req));
    if (!wait) return next();
    res.set('retry-after', String(Math.ceil(wait / 1000)));
    refuse(req, res, 429, 'TOO_MANY_REQUESTS', `too many uploads from this client; try again in ${Math.ceil(wait / 1000)} s`);
  };
}
