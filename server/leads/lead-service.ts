import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { createOutboxEventSink, type OutboxEventSink } from './lead-events.js';
import { createLeadWorkers, type LeadWorkers, type WorkerOptions } from './lead-worker.js';
import { leadRoutes } from './leads.routes.js';
import { createEgressPolicy } from './sinks/egress.js';
import { SINK_HANDLERS } from './sinks/index.js';

export interface LeadServiceOptions {
  db: Db;
  logger: Logger;
  /** Base of recording links in leads, e.g. config.http.publicBaseUrl. */
  publicBaseUrl: string;
  /** Signs recording links in leads (config.secretKey, config.recordingLinkDays) so CRMs fetch audio without an API key. */
  recordingLinks?: { secret: string; ttlDays: number };
  /** Networks sinks may reach besides public addresses: config.sinks.allowedNetworks (none: loopback and private refused). */
  allowedNetworks: readonly string[];
  workers?: Omit<WorkerOptions, 'db' | 'logger' | 'sinks' | 'egress'>;
  /** Replace sink implementations (tests); defaults to the real ones. */
  sinks?: Partial<WorkerOptions['sinks']>;
}

export interface LeadService {
  /** Hand to the call path (call-record writer, b2bua, recordings, calls routes). */
  eventSink: OutboxEventSink;
  /** Register with buildHttpApp({ plugins: [...] }). */
  routes: FastifyPluginAsync;
  workers: LeadWorkers;
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
}

/**
 * Leads: the outbox event sink, the sink admin routes and the delivery workers.
 *
 * @example
 *   const leads = createLeadService({ db, logger, publicBaseUrl: config.http.publicBaseUrl, allowedNetworks: config.sinks.allowedNetworks });
 *   const writer = createCallRecordWriter({ db, events: leads.eventSink, … });
 *   const app = await buildHttpApp({ …, callEvents: leads.eventSink, plugins: [leads.routes] });
 *   await leads.startWorkers();   // on shutdown: await leads.stopWorkers()
 */
export function createLeadService(options: LeadServiceOptions): LeadService {
  const eventSink = createOutboxEventSink({
    db: options.db,
    logger: options.logger,
    payload: { publicBaseUrl: options.publicBaseUrl, recordingLinks: options.recordingLinks },
  });
  const egress = createEgressPolicy(options.allowedNetworks);
  const workers = createLeadWorkers({ db: options.db, logger: options.logger, sinks: { ...SINK_HANDLERS, ...options.sinks }, egress, ...options.workers });
  return {
    eventSink,
    routes: leadRoutes({ db: options.db, egress, onChange: () => workers.wake() }) as unknown as FastifyPluginAsync,
    workers,
    startWorkers: () => workers.start(),
    async stopWorkers() {
      await workers.stop();
      await eventSink.drainStarted();
    },
  };
}
