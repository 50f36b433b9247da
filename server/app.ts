import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { reportRoutes } from './analytics/reports.routes.js';
import { roiRoutes } from './analytics/roi-routes.js';
import { apiKeyRoutes } from './auth/api-keys.routes.js';
import { callRoutes } from './calls/calls.routes.js';
import { leadLogRoutes } from './leads/lead-log.routes.js';
import { tagRuleRoutes } from './calls/tag-rules.routes.js';
import { attributionRoutes } from './attribution/attribution.routes.js';
import { dialplanRoutes } from './dialplans/dialplans.routes.js';
import { storedDialplanRoutes } from './dialplans/stored-dialplans.routes.js';
import { dniRoutes } from './dni/dni.routes.js';
import { bearerToken, type CredentialResolver, installAuth } from './http/auth.js';
import { poolUsageRoutes } from './pools/pools-usage.routes.js';
import type { Services, Stores } from './services.js';
import { sourceQrRoutes } from './sources/sources-qr.routes.js';
import { spamRoutes } from './spam/spam.routes.js';
import { extensionRoutes } from './pbx/extensions.routes.js';
import { softphoneRoutes } from './pbx/softphone.routes.js';
import { groupRoutes } from './pbx/groups.routes.js';
import { callbackRoutes } from './pbx/callbacks.routes.js';
import { liveRoutes } from './pbx/live.routes.js';
import { queueRoutes } from './pbx/queues.routes.js';
import { createSignInSessionResolver } from './users/sign-in-session.js';
import { accountRoutes } from './users/account.routes.js';
import { setupRoutes } from './users/setup.routes.js';
import { userRoutes } from './users/users.routes.js';
import { onboardingRoutes } from './onboarding/onboarding.routes.js';
import { trunkProbeRoutes } from './trunks/trunk-probe.routes.js';
import { webRoutes } from './web/web.routes.js';
import { createFastifyApp } from './http/fastify-app.js';
import { healthRoutes } from './http/health.routes.js';
import { numberRoutes } from './numbers/numbers.routes.js';
import { poolRoutes } from './pools/pools.routes.js';
import { recordingRoutes } from './recordings/recordings.routes.js';
import { siteRoutes } from './sites/sites.routes.js';
import { sourceRoutes } from './sources/sources.routes.js';
import { setSourceDialplan } from './sources/sources.repository.js';
import { setSiteDialplan } from './sites/sites.repository.js';
import { setPoolDialplan } from './pools/pools.repository.js';
import { dialplanBindingRoutes } from './dialplans/dialplan-binding.routes.js';
import { trunkRoutes } from './trunks/trunks.routes.js';

/**
 * Builds the HTTP app, every route of it, without listening: main.ts listens, tests use
 * `app.inject()` on this same app. Services come built (services.ts); routes only translate HTTP.
 */
export async function buildHttpApp(stores: Stores, services: Services): Promise<FastifyInstance> {
  const { config, db } = stores;
  const app = createFastifyApp(config, stores.logger, 1024 * 1024);

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
    return token ? services.apiKeys.authenticate(token) : undefined;
  };
  const credentials = [apiKeyResolver, createSignInSessionResolver({ users: services.users })];
  installAuth(app, credentials);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    stores.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    stores.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const onChange = () => services.routingChanges.notify();
  // A name binds when it is a YAML plan, or one the caller's account saved with /v1/dialplans.
  const catalog = {
    has: (name: string, accountId?: string) => (accountId !== undefined && services.storedPlans.has(accountId, name)) || services.dialplans.has(name),
  };
  const provisioning = { db, dialplans: catalog, onChange };
  await app.register(healthRoutes({ db, redis: stores.redis, rtpengine: stores.rtpengine, metrics: stores.metrics }));
  await app.register(apiKeyRoutes({ apiKeys: services.apiKeys }));
  await app.register(userRoutes({ users: services.users, db, signInPerSecond: config.signInPerSecond }));
  await app.register(setupRoutes({ setup: services.setup, users: services.users }));
  await app.register(accountRoutes({ users: services.users, resets: services.passwordResets, publicBaseUrl: config.http.publicBaseUrl }));
  await app.register(onboardingRoutes({ db }));
  await app.register(trunkRoutes({ db, sipRealm: config.sip.realm, onChange, carrierStatus: services.carrierStatus }));
  await app.register(trunkProbeRoutes({ bindHost: config.sip.host, advertiseHost: config.sip.publicHost }));
  await app.register(numberRoutes(provisioning));
  await app.register(siteRoutes(provisioning));
  await app.register(poolRoutes(provisioning));
  await app.register(poolUsageRoutes({ db, cooldowns: services.cooldowns }));
  await app.register(sourceRoutes(provisioning));
  await app.register(sourceQrRoutes({ db, onChange }));
  await app.register(
    dialplanBindingRoutes(provisioning, [
      { collection: 'pools', what: 'pool', set: setPoolDialplan },
      { collection: 'sources', what: 'source', set: setSourceDialplan },
      { collection: 'sites', what: 'site', set: setSiteDialplan },
    ]),
  );
  await app.register(dialplanRoutes({ dialplans: services.dialplans, stored: services.storedPlans, db }));
  await app.register(storedDialplanRoutes({ db, stored: services.storedPlans, files: services.dialplans }));
  await app.register(callRoutes({ db, events: services.callEvents }));
  await app.register(leadLogRoutes({ db }));
  await app.register(tagRuleRoutes({ db }));
  await app.register(spamRoutes({ db, onChange }));
  await app.register(extensionRoutes({ db, registrar: services.registrar, sipRealm: config.sip.realm }));
  await app.register(softphoneRoutes({ db, softphone: services.softphone, realm: config.sip.realm, wsUrl: config.sip.ws?.publicUrl }));
  await app.register(
    callbackRoutes({
      db,
      registrar: services.registrar,
      outboundOf: (accountId) => services.outbound.get(accountId),
      cap: services.outsideCallCap,
      defaultCountry: config.sip.defaultCountry,
      dialer: services.callbackDialer,
    }),
  );
  await app.register(queueRoutes({ db, engine: services.queues, onChange: () => services.queueDirectory.invalidate() }));
  await app.register(liveRoutes({ board: services.liveBoard }));
  await app.register(groupRoutes({ db, onChange: () => services.groups.invalidate() }));
  await app.register(reportRoutes({ db }));
  await app.register(
    roiRoutes({ db, roi: services.roi, publicBaseUrl: config.http.publicBaseUrl, rateLimit: { max: config.dni.rateLimitPerMinute, timeWindowMs: 60_000 } }),
  );
  await app.register(recordingRoutes({ db, secret: config.secretKey, credentials }));
  await app.register(services.leads.routes);
  await app.register(dniRoutes({ dni: services.dni, rateLimit: { max: config.dni.rateLimitPerMinute, timeWindowMs: 60_000 } }));
  await app.register(attributionRoutes({ attributor: services.attributor }));
  await app.register(webRoutes({ distDir: path.join(config.projectRoot, 'server/web/dist') }));
  return app;
}
