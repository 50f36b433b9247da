import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { installErrorHandler } from './error-handler.js';

/**
 * A fastify instance as every HTTP surface of ours runs it (the server's app, a snippet worker's):
 * our logger, the configured timeouts and proxies, zod schemas, and `{ error, message }` errors.
 */
export function createFastifyApp(config: Config, logger: Logger, bodyLimit: number) {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit,
    // X-Forwarded-For/-Proto only from configured proxies: anyone else could pick their own address and dodge per-IP limits.
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  return app;
}
