import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';

/** Paths that belong to the API or operations, never to the single-page app. */
const NOT_UI = /^\/(v1|docs|healthz|metrics)(\/|$|\?)/;

/**
 * Serves the built UI (server/web/dist) under / with an SPA fallback: any other GET that wants
 * HTML gets index.html, so deep links such as /calls/<id> survive a reload.
 */
export function webRoutes({ distDir }: { distDir: string }): FastifyPluginAsync {
  return async (app) => {
    const index = path.join(distDir, 'index.html');
    if (!fs.existsSync(index)) {
      app.get('/', async (_request, reply) =>
        reply.status(503).type('text/plain; charset=utf-8').send('The web UI is not built: run `npm run build:web` (npm start does it for you).'),
      );
      return;
    }
    await app.register(fastifyStatic, {
      root: distDir,
      prefix: '/',
      // Routes for the files present at start-up; the catch-all below serves index.html otherwise.
      wildcard: false,
      index: false,
      setHeaders: (reply, file) => {
        // Vite puts a content hash in asset names, so they never change; index.html must be re-read.
        reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    const html = () => fs.readFileSync(index);
    const sendIndex = async (_request: unknown, reply: import('fastify').FastifyReply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('x-frame-options', 'DENY').send(html());
    app.get('/', sendIndex);
    // Public so that an unknown /v1 path answers 404 like the app's not-found handler, not "admin only".
    app.get('/*', { config: { public: true } }, async (request, reply) => {
      const pathname = request.url.split('?')[0]!;
      if (NOT_UI.test(request.url) || path.extname(pathname) !== '') throw new AppError(ErrorCode.notFound, `no route GET ${pathname}`, 404);
      return sendIndex(request, reply);
    });
  };
}
