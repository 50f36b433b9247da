import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { installErrorHandler } from '../http/error-handler.js';
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
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  await app.register(dniRoutes({ dni: deps.dni, rateLimit: { max: config.dni.rateLimitPerMinute, timeWindowMs: 60_000, redis: deps.redis } }));
  return app;
}
