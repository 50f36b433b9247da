/**
 * One shared helper for integration and end-to-end tests: real Postgres, Redis and rtpengine
 * (started by global-setup), each test file isolated in its own Postgres schema and Redis
 * key prefix.
 *
 * @example
 *   const h = await createHarness();
 *   const app = await h.buildApp();
 *   const res = await app.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders });
 *   afterAll(() => h.close());
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../../server/app.js';
import { createApiKeyService } from '../../server/auth/api-keys.service.js';
import { type Config, loadConfig } from '../../server/config.js';
import { migrate } from '../../server/db/migrate.js';
import { createDb, type Db } from '../../server/db/pool.js';
import { createMetrics } from '../../server/http/metrics.js';
import { createLogger, type Logger } from '../../server/logger.js';
import { createRtpengine, type Rtpengine } from '../../server/media/rtpengine.js';
import { createRedis, type Redis } from '../../server/redis/client.js';
import { createServices, type ServiceOptions, type Services, type Stores } from '../../server/services.js';
import { endSippGrace } from './sipp.js';

export interface Harness {
  config: Config;
  schema: string;
  db: Db;
  redis: Redis;
  rtpengine: Rtpengine;
  logger: Logger;
  adminKey: string;
  adminHeaders: { authorization: string };
  /** The stores the production code gets (config, logger, db, redis, rtpengine, metrics). */
  stores: Stores;
  /** Builds the services on this harness's stores (as main.ts does); closed by `close()`. */
  services(options?: HarnessServiceOptions): Services;
  /** Builds the production HTTP app on this harness's stores, with `services` or fresh ones; closed by `close()`. */
  buildApp(options?: HarnessServiceOptions & { services?: Services }): Promise<FastifyInstance>;
  /** Creates an API key with a role and returns headers carrying it. */
  headersFor(role: 'admin' | 'manager' | 'marketer' | 'viewer'): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

/** Service options, plus stores to swap (a dead Redis, a broken rtpengine) for outage tests. */
export type HarnessServiceOptions = ServiceOptions & { stores?: Partial<Stores> };

export interface HarnessOptions {
  /** Use this schema (created if missing) instead of a fresh one, and keep it on close: a restarted node's process. */
  schema?: string;
}

export async function createHarness(env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const id = crypto.randomBytes(5).toString('hex');
  const schema = options.schema ?? `t_${id}`;
  const adminKey = `test-admin-${crypto.randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ADMIN_API_KEY: adminKey,
    REDIS_PREFIX: `test:${id}:`,
    // Fakes of CRMs and webhook receivers listen on loopback, which sinks refuse by default.
    SINK_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...env,
  });
  const admin = createDb({ url: config.database.url, poolSize: 1 });
  await admin.query(`CREATE SCHEMA ${options.schema ? 'IF NOT EXISTS ' : ''}${schema}`);
  await admin.end();
  const db = createDb({ url: config.database.url, poolSize: 10, schema, statementTimeoutMs: config.database.statementTimeoutMs });
  await migrate(db);
  const redis = createRedis(config.redis);
  await redis.connect();
  const rtpengine = createRtpengine(config.rtpengine.ng);
  const logger = createLogger(config.logLevel);
  const apiKeys = createApiKeyService({ db, adminApiKey: adminKey });
  await apiKeys.bootstrap(adminKey);
  const apps: FastifyInstance[] = [];
  const built: Services[] = [];
  const stores: Stores = { config, logger, db, redis, rtpengine, metrics: createMetrics() };
  const services = ({ stores: swapped, ...options }: HarnessServiceOptions = {}) => {
    const created = createServices({ ...stores, ...swapped }, { dniFlushMs: 20, ...options, overrides: { apiKeys, ...options.overrides } });
    built.push(created);
    return created;
  };

  const harness: Harness = {
    config,
    schema,
    db,
    redis,
    rtpengine,
    logger,
    adminKey,
    adminHeaders: { authorization: `Bearer ${adminKey}` },
    stores,
    services,
    async buildApp(options = {}) {
      const app = await buildHttpApp({ ...stores, ...options.stores }, options.services ?? services(options));
      apps.push(app);
      return app;
    },
    async headersFor(role) {
      const created = await apiKeys.create('00000000-0000-0000-0000-000000000001', `test ${role}`, role);
      return { authorization: `Bearer ${created.key}` };
    },
    async close() {
      // The test's agents are done with by now; their stop grace must not outlive the test file.
      endSippGrace();
      for (const app of apps) await app.close();
      for (const created of built) await created.close();
      // ioredis does not prefix KEYS patterns, and del() prefixes again: strip it.
      const prefix = config.redis.prefix;
      const keys = await redis.keys(`${prefix}*`).catch(() => [] as string[]);
      // In slices: a bench leaves tens of thousands of keys, too many for one call's arguments.
      for (let i = 0; i < keys.length; i += 1000) {
        await redis.del(...keys.slice(i, i + 1000).map((k) => k.slice(prefix.length))).catch(() => {});
      }
      redis.disconnect();
      rtpengine.close();
      await db.end();
      if (options.schema) return;
      const cleanup = createDb({ url: config.database.url, poolSize: 1 });
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await cleanup.end();
    },
  };
  return harness;
}
