import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest, LogLevel } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { readCookie } from '../http/cookies.js';
import { plainJsonSerializer } from '../http/serializers.js';
import { isLoopback } from '../shared/ip.js';
import type { Redis } from '../redis/client.js';
import { CreateSessionBody, KeepAliveResponse, SessionParams, SessionResponse } from './dni.schemas.js';
import type { DniService, RequestInfo } from './dni.service.js';

export const VISITOR_COOKIE = 'ct_vid';
const VISITOR_COOKIE_MAX_AGE = 400 * 86_400; // the longest any browser keeps a server-set cookie
/** Every page view of every customer's site comes here: no access log line per request, failures still logged. */
const SNIPPET_LOG_LEVEL: LogLevel = 'warn';

export interface DniRoutesOptions {
  dni: DniService;
  /** Per client IP and route. `redis` shares the counters between nodes (default: in-process). */
  rateLimit?: { max: number; timeWindowMs: number; redis?: Redis };
}

const info = (request: FastifyRequest): RequestInfo => ({
  origin: request.headers.origin,
  referer: request.headers.referer,
  ip: request.ip,
  userAgent: request.headers['user-agent'],
  visitorCookie: readCookie(request.headers.cookie, VISITOR_COOKIE),
});

/** Credentialed CORS for one allowed origin (checked by the service before we get here). */
function allowOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (!origin) return;
  reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
}

/**
 * The website snippet and its public sessions API.
 *
 * @example app.register(dniRoutes({ dni: services.dni }))
 */
export function dniRoutes(opts: DniRoutesOptions): FastifyPluginAsyncZod {
  return async (app) => {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    const snippet = fs.readFileSync(path.join(dir, 'dni-snippet.js'), 'utf8');
    const etag = `"${crypto.createHash('sha256').update(snippet).digest('base64url').slice(0, 16)}"`;
    const dni = opts.dni;
    const limit = opts.rateLimit ?? { max: 120, timeWindowMs: 60_000 };
    await app.register(rateLimit, {
      global: false,
      ...(limit.redis ? { redis: limit.redis, nameSpace: 'dni-rl:' } : {}),
      // A broken limiter store must not take the snippet down.
      skipOnError: true,
      // Loopback is this host: a reverse proxy not naming its visitors (they all share its address)
      // or a local test; limiting it would limit every visitor at once.
      allowList: (_request, key) => isLoopback(key),
      errorResponseBuilder: () => ERRORS.rateLimited(),
    });
    const rl = { max: limit.max, timeWindow: limit.timeWindowMs };

    // The snippet sends text/plain (a "simple" CORS request: no preflight round trip before the number shows).
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
      const text = (body as string).trim();
      if (text === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch {
        done(ERRORS.validation('body is not JSON'), undefined);
      }
    });

    app.get(
      '/dni.js',
      {
        schema: { tags: ['dni'], summary: 'The website snippet: <script src="…/dni.js" data-site-key="…">', response: { 200: z.string(), 304: z.null() } },
        config: { public: true },
        logLevel: SNIPPET_LOG_LEVEL,
      },
      async (request, reply) => {
        reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=86400').header('etag', etag);
        if (request.headers['if-none-match'] === etag) return reply.status(304).send(null);
        return reply.type('application/javascript; charset=utf-8').send(snippet);
      },
    );

    const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
      // The site is unknown before the body arrives; the POST itself checks Origin against the site's domains.
      allowOrigin(request, reply);
      reply.header('access-control-allow-methods', 'POST').header('access-control-allow-headers', 'content-type').header('access-control-max-age', '600');
      return reply.status(204).send();
    };
    const preflightOptions = { config: { public: true }, schema: { hide: true }, logLevel: SNIPPET_LOG_LEVEL };
    app.options('/v1/dni/sessions', preflightOptions, preflight);
    app.options('/v1/dni/sessions/:sessionId/keepalive', preflightOptions, preflight);

    app.post(
      '/v1/dni/sessions',
      {
        schema: {
          tags: ['dni'],
          summary: 'A tracking number for a page view (public; Origin must be one of the site’s domains)',
          security: [],
          body: CreateSessionBody,
          response: { 200: SessionResponse },
        },
        serializerCompiler: plainJsonSerializer,
        config: { public: true, rateLimit: rl },
        logLevel: SNIPPET_LOG_LEVEL,
      },
      async (request, reply) => {
        const { response, visitorId } = await dni.createSession(request.body, info(request));
        allowOrigin(request, reply);
        reply.header('cache-control', 'no-store');
        if (visitorId) {
          // Set by the server, not by script: Safari caps script-written cookies at 7 days.
          const secure = request.protocol === 'https' ? '; SameSite=None; Secure' : '; SameSite=Lax';
          reply.header('set-cookie', `${VISITOR_COOKIE}=${visitorId}; Path=/; Max-Age=${VISITOR_COOKIE_MAX_AGE}; HttpOnly${secure}`);
        }
        return response;
      },
    );

    app.post(
      '/v1/dni/sessions/:sessionId/keepalive',
      {
        schema: {
          tags: ['dni'],
          summary: 'Keep the session’s number while the page is visible',
          security: [],
          params: SessionParams,
          response: { 200: KeepAliveResponse },
        },
        serializerCompiler: plainJsonSerializer,
        config: { public: true, rateLimit: rl },
        logLevel: SNIPPET_LOG_LEVEL,
      },
      async (request, reply) => {
        const res = await dni.keepAlive(request.params.sessionId, info(request));
        allowOrigin(request, reply);
        reply.header('cache-control', 'no-store');
        return res;
      },
    );
  };
}
