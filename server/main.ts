// Wiring and start-up: parse config, build the pieces, serve HTTP (and SIP), shut down cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { buildHttpApp } from './app.js';
import { createApiKeyService } from './auth/api-keys.service.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { createDb } from './db/pool.js';
import { createFileDialplanCatalog } from './dialplans/dialplan-catalog.js';
import { createMetrics } from './http/metrics.js';
import { createLogger } from './logger.js';
import { createRtpengine } from './media/rtpengine.js';
import { createRedis } from './redis/client.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const db = createDb(config.database);
const redis = createRedis(config.redis);
const rtpengine = createRtpengine(config.rtpengine.ng);
const metrics = createMetrics();
const apiKeys = createApiKeyService({ db, adminApiKey: config.adminApiKey });

try {
  await migrate(db, (m) => logger.info({ type: 'migration' }, m));
} catch (err) {
  logger.fatal({ err }, 'migrations failed');
  process.exit(1);
}
await redis.connect().catch((err: unknown) => logger.warn({ err }, 'redis not reachable at start; continuing'));
if (config.adminApiKey) await apiKeys.bootstrap(config.adminApiKey);
else logger.warn('ADMIN_API_KEY is not set: no admin can sign in until one is configured');

const app = await buildHttpApp({
  config, logger, db, redis, rtpengine, metrics, apiKeys,
  dialplans: createFileDialplanCatalog(config.dialplansDir),
});

await app.listen({ host: config.http.host, port: config.http.port });
fs.mkdirSync(path.dirname(config.pidFile), { recursive: true });
fs.writeFileSync(config.pidFile, String(process.pid));
logger.info({ type: 'started', http: `${config.http.host}:${config.http.port}` }, 'call-tracking server ready');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ type: 'shutdown', signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await app.close().catch((err: unknown) => logger.error({ err }, 'http close failed'));
  rtpengine.close();
  redis.disconnect();
  await db.end().catch(() => {});
  fs.rmSync(config.pidFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
