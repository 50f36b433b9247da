import fs from 'node:fs';
import path from 'node:path';
import { createRoiServices, type RoiServices } from './analytics/roi-services.js';
import { createAttributor } from './attribution/attribution.service.js';
import { createApiKeyService } from './auth/api-keys.service.js';
import { type CallEventSink, combineCallEventSinks } from './calls/call-events.js';
import { createTagRuleSink } from './calls/tag-rules.sink.js';
import type { Config } from './config.js';
import type { Db } from './db/pool.js';
import { createDialplanRegistry, type DialplanRegistry } from './dialplans/dialplan-registry.js';
import { createDniStack } from './dni/dni-stack.js';
import type { DniService } from './dni/dni.service.js';
import type { Metrics } from './http/metrics.js';
import { createLeadService, type LeadService } from './leads/lead-service.js';
import type { Logger } from './logger.js';
import type { Rtpengine } from './media/rtpengine.js';
import type { LeaseHistory } from './numbers/leases.history.js';
import type { LeaseService } from './numbers/leases.service.js';
import { type CooldownLearner, createCooldownLearner } from './pools/pools-cooldown.service.js';
import { createRegistrar, type Registrar } from './pbx/registrar.js';
import { createSoftphoneCredentials, type SoftphoneCredentials } from './pbx/softphone-credentials.js';
import { createRingGroups, type RingGroups } from './pbx/ring-groups.js';
import { createStoredDialplans, type StoredDialplans } from './dialplans/stored-dialplans.js';
import type { CarrierRegistrationStatus } from './trunks/carrier-registration.js';
import type { Redis } from './redis/client.js';
import type { CallbackDialer } from './pbx/callbacks.js';
import { createLiveBoard, type LiveBoard } from './pbx/live-board.js';
import { createQueueEngine, type QueueEngine } from './pbx/queue-engine.js';
import { createQueueDirectory, type QueueDirectory } from './pbx/queue-directory.js';
import { queueDayStats } from './pbx/queues.repository.js';
import { speakToFile } from './media/tts.js';
import { createOutboundDirectory, type OutboundDirectory } from './trunks/outbound-dial.js';
import { createOutsideCallCap, type OutsideCallCap } from './pbx/toll-policy.js';
import { createDigestAuth, type DigestAuth, type NonceStore, redisNonceStore } from './sip/digest.js';
import { createPasswordResetService, type PasswordResetService } from './users/password-reset.service.js';
import { createSetupService, createSetupToken, type SetupService } from './users/setup.service.js';
import { createUserService, type UserService } from './users/users.service.js';

/** The stores every service shares; built once per process by main.ts (or per test file by the harness). */
export interface Stores {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis;
  rtpengine: Rtpengine;
  metrics: Metrics;
}

/** Tells whoever routes calls that provisioning changed numbers, trunks or bindings. */
export interface RoutingChanges {
  notify(): void;
  subscribe(listener: () => void): () => void;
}

export function createRoutingChanges(): RoutingChanges {
  const listeners = new Set<() => void>();
  return {
    notify: () => {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Everything the HTTP surface and the call path use, built in one place. Route files and the
 * call path receive these; none of them builds a service or a connection of its own.
 */
export interface Services {
  apiKeys: ReturnType<typeof createApiKeyService>;
  users: UserService;
  /** First-run admin creation; the token lets a non-loopback client do it (printed in the log at start). */
  setup: SetupService;
  setupToken: string;
  passwordResets: PasswordResetService;
  leads: LeadService;
  /** Tag rules first, then the leads outbox: sinks after the rules see the rule tags in the same transaction. */
  callEvents: CallEventSink;
  attributor: ReturnType<typeof createAttributor>;
  dialplans: DialplanRegistry;
  leases: LeaseService;
  leaseHistory: LeaseHistory;
  dni: DniService;
  /** SIP digest for trunks and extensions (nonce-counts shared through Redis). */
  digest: DigestAuth;
  /** Where the extensions' phones are (REGISTER bindings in Redis). */
  registrar: Registrar;
  /** Short-lived SIP credentials for the browser softphone (checked by the registrar). */
  softphone: SoftphoneCredentials;
  /** Ring groups (`group:<name>` targets). */
  groups: RingGroups;
  /** Call flows saved with /v1/dialplans (versions in Postgres, newest in memory). */
  storedPlans: StoredDialplans;
  /** Click to call: the call path attaches how it places callbacks; the API asks it. */
  callbackDialer: CallbackDialer;
  /** Each account's outbound trunk side, re-read when provisioning changes. */
  outbound: OutboundDirectory;
  /** Call queues: waiting callers, agents' pause and wrap-up (this node's memory). */
  queues: QueueEngine;
  queueDirectory: QueueDirectory;
  /** Live calls, queues and today's queue figures (GET /v1/live). */
  liveBoard: LiveBoard;
  /** Outside calls per minute per extension (phones and callbacks share it). */
  outsideCallCap: OutsideCallCap;
  /** This node's registrations with carriers (written by the call path, shown by the trunks API). */
  carrierStatus: CarrierRegistrationStatus;
  /** Learns each pool's cool-down from measured call delays. */
  cooldowns: CooldownLearner;
  routingChanges: RoutingChanges;
  /** Deals and CRM webhooks of end-to-end ROI (analytics/). */
  roi: RoiServices;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Dialplan YAML directory (default config.dialplansDir) and how often it is re-read. */
  dialplansDir?: string;
  dialplanReloadMs?: number;
  /** Write-behind interval of visitor sessions and lease history (default 200 ms). */
  dniFlushMs?: number;
  /** The first-run setup token (default: a new random one). */
  setupToken?: string;
  /** How often due ad cost sources are pulled (default 60 s; 0 off; off by default under NODE_ENV=test). */
  costPullIntervalMs?: number;
  /** Replace parts (tests: a lead service with fake sinks, a stuck attributor, …). */
  overrides?: Partial<
    Omit<
      Services,
      'close' | 'setupToken' | 'digest' | 'registrar' | 'softphone' | 'groups' | 'storedPlans' | 'carrierStatus' | 'callbackDialer' | 'outsideCallCap'
    >
  >;
}

/**
 * @example
 *   const services = createServices(stores);
 *   const app = await buildHttpApp(stores, services);
 *   const callPath = await createCallPath({ …stores, services, … });
 */
/**
 * Calls are never dropped for a store: while Redis is away a digest answer is accepted on its
 * signature and age alone (replay protection is off for that time, and the log says so).
 */
function failOpenNonces(store: NonceStore, logger: Stores['logger']): NonceStore {
  return {
    advance: (nonce, count, ttlSeconds) =>
      store.advance(nonce, count, ttlSeconds).catch((err: unknown) => {
        logger.warn({ err, type: 'digest_nonce_store_down' }, 'nonce store unavailable: digest replay protection is off until it is back');
        return true;
      }),
  };
}

export function createServices(stores: Stores, options: ServiceOptions = {}): Services {
  const { config, logger, db, redis } = stores;
  const overrides = options.overrides ?? {};
  const leads =
    overrides.leads ??
    createLeadService({
      db,
      logger,
      publicBaseUrl: config.http.publicBaseUrl,
      allowedNetworks: config.sinks.allowedNetworks,
      recordingLinks: { secret: config.secretKey, ttlDays: config.recordingLinkDays },
    });
  const dialplans = overrides.dialplans ?? createDialplanRegistry(options.dialplansDir ?? config.dialplansDir, logger, options.dialplanReloadMs ?? 2_000);
  const dniStack = createDniStack(stores, {
    ...(options.dniFlushMs ? { flushMs: options.dniFlushMs } : {}),
    overrides: { leaseHistory: overrides.leaseHistory, leases: overrides.leases, dni: overrides.dni },
  });
  const { dni, leases, leaseHistory, recent } = dniStack;
  const cooldowns = overrides.cooldowns ?? createCooldownLearner({ db, leases, logger });
  const users = overrides.users ?? createUserService({ db, secret: config.secretKey });
  const digest = createDigestAuth({ secret: config.secretKey, realm: config.sip.realm, nonces: failOpenNonces(redisNonceStore(redis), logger) });
  const softphone = createSoftphoneCredentials({ secret: config.secretKey, realm: config.sip.realm });
  const registrar = createRegistrar({ db, redis, digest, softphone, logger });
  const groups = createRingGroups({ db, redis, logger });
  const storedPlans = createStoredDialplans({ db, logger });
  const setupToken = options.setupToken ?? createSetupToken();
  // Ad cost pulls run in the server, not in tests (which pull on demand).
  const routingChanges = overrides.routingChanges ?? createRoutingChanges();
  const outbound = createOutboundDirectory(db);
  routingChanges.subscribe(() => outbound.invalidate());
  const queueDirectory = createQueueDirectory(db);
  const promptsDir = path.join(dialplans.dir, 'prompts');
  // The board needs the queues (to show them) and the queues the board (who is on a call).
  let liveBoard: LiveBoard | undefined;
  const queues = createQueueEngine({
    queueOf: (accountId, name) => queueDirectory.get(accountId, name),
    queuesOf: (accountId) => queueDirectory.list(accountId),
    isRegistered: async (accountId, extension) => (await registrar.contactsOf(accountId, extension)).length > 0,
    isBusy: (accountId, target) => liveBoard?.isBusy(accountId, target) ?? false,
    speak: (text) => speakToFile(text, path.join(dataDirOf(config), 'tts')).catch(() => undefined),
    musicFile: (queue) => {
      const file = path.join(promptsDir, queue.music ?? 'music.wav');
      return fs.existsSync(file) ? file : undefined;
    },
    logger,
  });
  liveBoard = createLiveBoard({ queues, dayStats: (accountId) => queueDayStats(db, accountId, startOfUtcDay()) });
  const roi = overrides.roi ?? createRoiServices({ db, logger, costPullIntervalMs: options.costPullIntervalMs ?? (config.env === 'test' ? 0 : 60_000) });
  return {
    apiKeys: overrides.apiKeys ?? createApiKeyService({ db, adminApiKey: config.adminApiKey }),
    users,
    setup: overrides.setup ?? createSetupService({ db, users, token: setupToken }),
    setupToken,
    passwordResets: overrides.passwordResets ?? createPasswordResetService({ db, users }),
    leads,
    callEvents: overrides.callEvents ?? combineCallEventSinks([createTagRuleSink({ logger }), leads.eventSink]),
    attributor: overrides.attributor ?? createAttributor({ db, leases, recent }),
    dialplans,
    leases,
    leaseHistory,
    digest,
    registrar,
    softphone,
    groups,
    storedPlans,
    carrierStatus: new Map(),
    callbackDialer: {},
    outsideCallCap: createOutsideCallCap(redis),
    dni,
    cooldowns,
    routingChanges,
    outbound,
    queues,
    queueDirectory,
    liveBoard,
    roi,
    async close() {
      cooldowns.close();
      roi.close();
      await dniStack.close();
      if (!overrides.dialplans) dialplans.close();
      storedPlans.close();
    },
  };
}

const startOfUtcDay = () => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
};

/** Where the call path keeps files of its own (spool, text-to-speech cache). */
export const dataDirOf = (config: Config) => path.dirname(config.pidFile);
