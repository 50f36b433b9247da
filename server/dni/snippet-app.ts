import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { createFastifyApp } from '../http/fastify-app.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/client.js';
import { dniRoutes } from './dni.routes.js';
import type { DniService } from './dni.service.js';

/**
 * The snippet's public surface alone (dni.js, /v1/dni sessions and keep-alives, /healthz), for a
 * snippet worker: the same routes, limits and errors as the server's own, nothing that needs the
 * call path or a signed-in user. Per-address rate limits are counted in Redis, so N workers allow
 * what one process would.
 */
export async function buildSnippetApp(deps: { config: Config; logger: Logger; dni: DniService; redis: Redis }): Promise<FastifyInstance> {
  const { config } = deps;
  const app = createFastifyApp(config, deps.logger, 64 * 1024);
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  await app.register(dniRoutes({ dni: deps.dni, rateLimit: { max: config.dni.rateLimitPerMinute, timeWindowMs: 60_000, redis: deps.redis } }));
  return app;
}
