import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { reportRoutes } from './analytics/reports.routes.js';
import { apiKeyRoutes } from './auth/api-keys.routes.js';
import type { ApiKeyService } from './auth/api-keys.service.js';
import type { CallEventSink } from './calls/call-events.js';
import { callRoutes } from './calls/calls.routes.js';
import { tagRuleRoutes } from './calls/tag-rules.routes.js';
import type { Config } from './config.js';
import type { Db } from './db/pool.js';
import type { DialplanCatalog } from './dialplans/dialplan-catalog.js';
import { bearerToken, type CredentialResolver, installAuth } from './http/auth.js';
import { installErrorHandler } from './http/error-handler.js';
import { healthRoutes } from './http/health.routes.js';
import type { Metrics } from './http/metrics.js';
import type { Logger } from './logger.js';
import type { Rtpengine } from './media/rtpengine.js';
import { numberRoutes } from './numbers/numbers.routes.js';
import { poolRoutes } from './pools/pools.routes.js';
import { recordingRoutes } from './recordings/recordings.routes.js';
import type { Redis } from './redis/client.js';
import { siteRoutes } from './sites/sites.routes.js';
import { sourceRoutes } from './sources/sources.routes.js';
import { setSourceDialplan } from './sources/sources.repository.js';
import { setSiteDialplan } from './sites/sites.repository.js';
import { setPoolDialplan } from './pools/pools.repository.js';
import { dialplanBindingRoutes } from './dialplans/dialplan-binding.routes.js';
import { trunkRoutes } from './trunks/trunks.routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis;
  rtpengine: Rtpengine;
  metrics: Metrics;
  apiKeys: ApiKeyService;
  dialplans: DialplanCatalog;
  /** Called after provisioning changes routing (numbers, trunks, bindings) so caches refresh. */
  onRoutingChange?: () => void;
  /** Told about tags/notes/score changes (leads, live UI). */
  callEvents?: CallEventSink;
  /** More credential sources (web sessions) tried after API keys. */
  extraCredentials?: CredentialResolver[];
  /** Domain plugins registered by main.ts (calls, dni, leads, web, …). */
  plugins?: FastifyPluginAsync[];
}

/** Builds the HTTP app without listening: main.ts listens, tests use `app.inject()`. */
export async function buildHttpApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-For/-Proto only from configured proxies: anyone else could pick their own address and dodge per-IP limits.
    trustProxy: deps.config.http.trustedProxies.length > 0 ? deps.config.http.trustedProxies : false,
    requestTimeout: deps.config.http.requestTimeoutMs,
    connectionTimeout: deps.config.http.connectionTimeoutMs,
    keepAliveTimeout: deps.config.http.keepAliveTimeoutMs,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Call-tracking server API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // Puts schemas registered with .meta({ id }) (e.g. the recursive DialplanStep) under components, so $refs resolve.
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  const apiKeyResolver: CredentialResolver = async (request) => {
    const token = bearerToken(request);
    return token ? deps.apiKeys.authenticate(token) : undefined;
  };
  installAuth(app, [apiKeyResolver, ...(deps.extraCredentials ?? [])]);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const provisioning = { db: deps.db, dialplans: deps.dialplans, ...(deps.onRoutingChange ? { onChange: deps.onRoutingChange } : {}) };
  await app.register(healthRoutes({ db: deps.db, redis: deps.redis, rtpengine: deps.rtpengine, metrics: deps.metrics }));
  await app.register(apiKeyRoutes({ apiKeys: deps.apiKeys }));
  await app.register(trunkRoutes({ ...provisioning, sipRealm: deps.config.sip.realm }));
  await app.register(numberRoutes(provisioning));
  await app.register(siteRoutes(provisioning));
  await app.register(poolRoutes(provisioning));
  await app.register(sourceRoutes(provisioning));
  await app.register(
    dialplanBindingRoutes(provisioning, [
      { collection: 'pools', what: 'pool', set: setPoolDialplan },
      { collection: 'sources', what: 'source', set: setSourceDialplan },
      { collection: 'sites', what: 'site', set: setSiteDialplan },
    ]),
  );
  await app.register(callRoutes({ db: deps.db, events: deps.callEvents }));
  await app.register(tagRuleRoutes({ db: deps.db }));
  await app.register(reportRoutes({ db: deps.db }));
  await app.register(recordingRoutes({ db: deps.db, secret: deps.config.secretKey, credentials: [apiKeyResolver, ...(deps.extraCredentials ?? [])] }));
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
