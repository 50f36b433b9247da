// Composition root: parse config, open the stores, build the services, the call path and the HTTP
// app, start everything, shut down cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { buildHttpApp } from './app.js';
import { createCallPath } from './call-path.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { createDb } from './db/pool.js';
import { createMetrics } from './http/metrics.js';
import { createLogger } from './logger.js';
import { startDtmfListener } from './media/dtmf-listener.js';
import { createRtpengine } from './media/rtpengine.js';
import { startSnippetWorkers } from './dni/snippet-workers.js';
import { scheduleRetentionSweep } from './recordings/recordings.service.js';
import { createRedis } from './redis/client.js';
import { scheduleRetention } from './retention.js';
import { createServices, dataDirOf, type Stores } from './services.js';
import { releaseExpiredSources } from './sources/sources-quarantine.repository.js';

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
const stores: Stores = {
  config,
  logger,
  db: createDb(config.database),
  redis: createRedis(config.redis),
  rtpengine: createRtpengine(config.rtpengine.ng),
  metrics: createMetrics(),
};

try {
  await migrate(stores.db, (m) => logger.info({ type: 'migration' }, m));
} catch (err) {
  logger.fatal({ err }, 'migrations failed');
  process.exit(1);
}
await stores.redis.connect().catch((err: unknown) => logger.warn({ err }, 'redis not reachable at start; continuing'));

const services = createServices(stores);
if (config.adminApiKey) await services.apiKeys.bootstrap(config.adminApiKey);
else logger.info('ADMIN_API_KEY is not set: the first admin is created on the setup page, API keys in Settings');

const dataDir = dataDirOf(config);
const dtmf = await startDtmfListener(config.rtpengine.dtmfLog, logger).catch((err: unknown) => {
  logger.warn({ err }, 'DTMF listener could not bind; IVR menus will time out to their default');
  return undefined;
});
const callPath = await createCallPath(stores, services, {
  sip: { host: config.sip.host, port: config.sip.port, publicHost: config.sip.publicHost, ws: config.sip.ws },
  spoolFile: path.join(dataDir, 'spool', 'calls.jsonl'),
  ttsCacheDir: path.join(dataDir, 'tts'),
  dtmf,
});
const stopRecordingSweep = scheduleRetentionSweep(callPath.recordings, config.recordingRetentionDays, logger);
const stopRetention = scheduleRetention(stores.db, { sessionDays: config.dni.sessionRetentionDays, leadDays: config.leadRetentionDays }, logger);

const app = await buildHttpApp(stores, services);
await app.listen({ host: config.http.host, port: config.http.port });
const snippetWorkers = config.dni.workers > 0 ? startSnippetWorkers({ count: config.dni.workers, logger }) : undefined;
await services.leads.startWorkers();
// Static sources past their end date give their numbers back (into quarantine) once a day.
const sourceSweep = setInterval(() => {
  releaseExpiredSources(stores.db, { graceDays: 30, quarantineDays: 30 })
    .then((n) => {
      if (n > 0) logger.info({ type: 'sources_released', numbers: n }, 'expired static sources released their numbers');
    })
    .catch((err: unknown) => logger.warn({ err }, 'source expiry sweep failed'));
}, 24 * 3600_000);
sourceSweep.unref();
fs.mkdirSync(path.dirname(config.pidFile), { recursive: true });
fs.writeFileSync(config.pidFile, String(process.pid));
logger.info(
  {
    type: 'started',
    http: `${config.http.host}:${config.http.port}`,
    sip: `${config.sip.host}:${config.sip.port}`,
    sipWs: config.sip.ws ? `${config.sip.host}:${config.sip.ws.port}` : 'off',
    snippetWorkers: snippetWorkers ? `${config.dni.workers} on ${config.http.host}:${config.dni.port}` : 'off',
  },
  'call-tracking server ready',
);
logger.info({ type: 'web_ui', url: `${config.http.publicBaseUrl}/` }, `web UI at ${config.http.publicBaseUrl}/`);
if (await services.setup.needed().catch(() => false)) {
  logger.warn(
    { type: 'first_run' },
    `first run, no user yet: create the admin at ${config.http.publicBaseUrl}/setup?token=${services.setupToken} (the token is needed only from another machine)`,
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ type: 'shutdown', signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await app.close().catch((err: unknown) => logger.error({ err }, 'http close failed'));
  await snippetWorkers?.stop();
  await callPath.stop().catch((err: unknown) => logger.error({ err }, 'sip stop failed'));
  clearInterval(sourceSweep);
  await services.leads.stopWorkers().catch((err: unknown) => logger.error({ err }, 'lead workers stop failed'));
  await services.close().catch((err: unknown) => logger.error({ err }, 'services close failed'));
  await dtmf?.close();
  stopRecordingSweep();
  stopRetention();
  stores.rtpengine.close();
  stores.redis.disconnect();
  await stores.db.end().catch(() => {});
  fs.rmSync(config.pidFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
