// A snippet worker (DNI_WORKERS): a process of its own that answers dni.js and /v1/dni on
// DNI_PORT, the listening socket shared with its siblings by node:cluster. Forked by
// snippet-workers.ts in the server; it shares Postgres and Redis with it, nothing in memory.
import { loadConfig } from '../config.js';
import { createDb } from '../db/pool.js';
import { createLogger } from '../logger.js';
import { createRedis } from '../redis/client.js';
import { createDniStack } from './dni-stack.js';
import { buildSnippetApp } from './snippet-app.js';

const config = loadConfig();
const logger = createLogger(config.logLevel).child({ component: 'snippet-worker' });
const db = createDb(config.database);
const redis = createRedis(config.redis);
await redis.connect().catch((err: unknown) => logger.warn({ err }, 'redis not reachable at start; default numbers until it is'));
const stack = createDniStack({ config, logger, db, redis });
const app = await buildSnippetApp({ config, logger, dni: stack.dni, redis });
await app.listen({ host: config.http.host, port: config.dni.port });
logger.info({ type: 'snippet_worker_ready', port: config.dni.port }, 'snippet worker ready');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await app.close().catch(() => {});
  // What waits to be written behind (sessions, lease history) goes to Postgres before the exit.
  await stack.close().catch((err: unknown) => logger.error({ err }, 'snippet worker could not flush'));
  redis.disconnect();
  await db.end().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
