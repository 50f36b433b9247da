// Wiring and start-up: parse config, build the pieces, serve HTTP (and SIP), shut down cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { buildHttpApp } from './app.js';
import { createApiKeyService } from './auth/api-keys.service.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { createDb } from './db/pool.js';
import { combineCallEventSinks } from './calls/call-events.js';
import { createCallRecordWriter } from './calls/call-record-writer.js';
import { createTagRuleSink } from './calls/tag-rules.sink.js';
import { createLeadService } from './leads/lead-service.js';
import { attributionRoutes } from './attribution/attribution.routes.js';
import { createAttributor } from './attribution/attribution.service.js';
import { dniRoutes } from './dni/dni.routes.js';
import { poolUsageRoutes } from './pools/pools-usage.routes.js';
import { sourceQrRoutes } from './sources/sources-qr.routes.js';
import { releaseExpiredSources } from './sources/sources-quarantine.repository.js';
import { createSessionResolver } from './users/session.js';
import { userRoutes } from './users/users.routes.js';
import { createUserService } from './users/users.service.js';
import { webRoutes } from './web/web.routes.js';
import { createDialplanRegistry } from './dialplans/dialplan-registry.js';
import { dialplanRoutes } from './dialplans/dialplans.routes.js';
import { createMetrics } from './http/metrics.js';
import { createLogger } from './logger.js';
import { startDtmfListener } from './media/dtmf-listener.js';
import { createRtpengine } from './media/rtpengine.js';
import { createRecordingService, scheduleRetentionSweep } from './recordings/recordings.service.js';
import { createRedis } from './redis/client.js';
import { scheduleRetention } from './retention.js';
import { startB2bua } from './sip/b2bua.js';
import { createRoutingCache } from './sip/routing-cache.js';

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

const dialplans = createDialplanRegistry(config.dialplansDir, logger);
const routing = createRoutingCache(db, logger);
await routing.refresh();
const dataDir = path.dirname(config.pidFile);
// Tag rules first: sinks combined after them (the leads outbox) see the rule tags in the same transaction.
const leads = createLeadService({
  db,
  logger,
  publicBaseUrl: config.http.publicBaseUrl,
  allowedNetworks: config.sinks.allowedNetworks,
  recordingLinks: { secret: config.secretKey, ttlDays: config.recordingLinkDays },
});
const callEvents = combineCallEventSinks([createTagRuleSink({ logger }), leads.eventSink]);
const users = createUserService({ db, secret: config.secretKey });
const attributor = createAttributor({ db });
const writer = createCallRecordWriter({ db, events: callEvents, spoolFile: path.join(dataDir, 'spool', 'calls.jsonl'), logger });
const recordings = createRecordingService({ db, rtpengineDir: config.rtpengine.recordingDir, recordingsDir: config.recordingsDir, logger, events: callEvents });
const stopRecordingSweep = scheduleRetentionSweep(recordings, config.recordingRetentionDays, logger);
const stopRetention = scheduleRetention(db, { sessionDays: config.dni.sessionRetentionDays, leadDays: config.leadRetentionDays }, logger);
const dtmf = await startDtmfListener(config.rtpengine.dtmfLog, logger).catch((err: unknown) => {
  logger.warn({ err }, 'DTMF listener could not bind; IVR menus will time out to their default');
  return undefined;
});
const b2bua = startB2bua({
  host: config.sip.host,
  port: config.sip.port,
  publicHost: config.sip.publicHost,
  realm: config.sip.realm,
  nonceSecret: config.secretKey,
  routing,
  dialplans,
  rtpengine,
  dtmf,
  metrics,
  logger,
  events: callEvents,
  attributor,
  promptsDir: path.join(config.dialplansDir, 'prompts'),
  ttsCacheDir: path.join(dataDir, 'tts'),
  onCallEnded: (record) => {
    void writer.write(record).then(() => {
      if (record.recordingStatus === 'pending') void recordings.process(record);
    });
  },
});
await writer.flush().catch(() => 0);

const app = await buildHttpApp({
  config,
  logger,
  db,
  redis,
  rtpengine,
  metrics,
  apiKeys,
  dialplans,
  callEvents,
  onRoutingChange: () => void routing.refresh(),
  extraCredentials: [createSessionResolver({ users })],
  plugins: [
    dialplanRoutes({ dialplans }),
    leads.routes,
    userRoutes({ users, db, signInPerSecond: config.signInPerSecond }),
    dniRoutes({ db, redis, logger, clientCaps: { perIp: config.dni.maxLeasesPerIp, perSubnet: config.dni.maxLeasesPerSubnet } }),
    attributionRoutes({ attributor }),
    poolUsageRoutes({ db }),
    sourceQrRoutes({ db, onChange: () => void routing.refresh() }),
    webRoutes({ distDir: path.join(config.projectRoot, 'server/web/dist') }),
  ],
});

await app.listen({ host: config.http.host, port: config.http.port });
await leads.startWorkers();
// Static sources past their end date give their numbers back (into quarantine) once a day.
const sourceSweep = setInterval(() => {
  releaseExpiredSources(db, { graceDays: 30, quarantineDays: 30 })
    .then((n) => {
      if (n > 0) logger.info({ type: 'sources_released', numbers: n }, 'expired static sources released their numbers');
    })
    .catch((err: unknown) => logger.warn({ err }, 'source expiry sweep failed'));
}, 24 * 3600_000);
sourceSweep.unref();
fs.mkdirSync(path.dirname(config.pidFile), { recursive: true });
fs.writeFileSync(config.pidFile, String(process.pid));
logger.info({ type: 'started', http: `${config.http.host}:${config.http.port}`, sip: `${config.sip.host}:${config.sip.port}` }, 'call-tracking server ready');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ type: 'shutdown', signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await app.close().catch((err: unknown) => logger.error({ err }, 'http close failed'));
  await b2bua.stop().catch((err: unknown) => logger.error({ err }, 'sip stop failed'));
  clearInterval(sourceSweep);
  await leads.stopWorkers().catch((err: unknown) => logger.error({ err }, 'lead workers stop failed'));
  await dtmf?.close();
  routing.close();
  dialplans.close();
  writer.close();
  stopRecordingSweep();
  stopRetention();
  rtpengine.close();
  redis.disconnect();
  await db.end().catch(() => {});
  fs.rmSync(config.pidFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
