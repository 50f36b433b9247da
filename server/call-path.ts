import path from 'node:path';
import { type B2bua, startB2bua } from './call/b2bua.js';
import { type CallRecordWriter, createCallRecordWriter } from './calls/call-record-writer.js';
import { type CallRecord, lastAnsweredTarget } from './calls/calls.repository.js';
import { admitExtensionCall } from './pbx/extension-calls.js';
import { startCarrierRegistrations } from './trunks/carrier-registration.js';
import { createLiveCallJournal, type RecoveredCall } from './calls/live-call-journal.js';
import type { Db } from './db/pool.js';
import type { DtmfListener } from './media/dtmf-listener.js';
import type { Rtpengine } from './media/rtpengine.js';
import { createRecordingService, type RecordingService } from './recordings/recordings.service.js';
import type { Services, Stores } from './services.js';
import { createRoutingCache, type RoutingCache } from './sip/routing-cache.js';
import { createSpamScreen } from './spam/spam-screen.js';

export interface CallPathOptions {
  /** Where SIP listens (UDP and TCP, and WebSocket when `ws` is given) and what we write in Contact headers. */
  sip: {
    host: string;
    port: number;
    publicHost: string;
    trustedEdges?: string[];
    ws?: { port: number; tls?: { certFile: string; keyFile: string } | undefined } | undefined;
  };
  /** The spool of call records written while Postgres is away. */
  spoolFile: string;
  ttsCacheDir: string;
  /** Where stereo recordings go (default config.recordingsDir). */
  recordingsDir?: string;
  /** Convert recordings when their call record is stored (default true; the SIP bench measures the call path alone). */
  convertRecordings?: boolean;
  dtmf: DtmfListener | undefined;
  /** Another database handle or media relay for the call path (outage tests cut these). */
  db?: Db;
  rtpengine?: Rtpengine;
  routingRefreshMs?: number;
  spoolFlushMs?: number;
  /** How often recordings that failed (or were never converted) are retried; default 30 s. */
  recordingRetryMs?: number;
  mediaCheckMs?: number;
  /** OPTIONS pings to registered phones (default config.sip.keepaliveSeconds). */
  keepaliveMs?: number;
  /** The most calls at once (default config.sip.maxCalls; 0 = no limit). */
  maxCalls?: number;
}

export type RecordingOutcome = 'ready' | 'failed' | 'missing';

export interface CallPath {
  b2bua: B2bua;
  routing: RoutingCache;
  writer: CallRecordWriter;
  recordings: RecordingService;
  /** Told about each finished call once its record is written or spooled. */
  onCallEnded(listener: (record: CallRecord, outcome: 'stored' | 'spooled') => void): void;
  /** Told when a call's recording has been converted (or could not be). */
  onRecording(listener: (callId: string, outcome: RecordingOutcome) => void): void;
  stop(): Promise<void>;
}

/**
 * One inbound call, from INVITE to lead: routing cache → B2BUA (admission, dialplan, LiveCall,
 * rtpengine) → call record (stored, or spooled while Postgres is away) → recording conversion →
 * `call.recording_ready`. The rule "stored → convert → ready" lives here, so a spooled call gets its
 * recording converted when the spool is replayed, not before its row exists.
 *
 * @example
 *   const services = createServices(stores);
 *   const callPath = await createCallPath(stores, services, { sip: { host, port, publicHost }, spoolFile, ttsCacheDir, dtmf });
 *   // …on shutdown: await callPath.stop();
 */
export async function createCallPath(stores: Stores, services: Services, options: CallPathOptions): Promise<CallPath> {
  const { config, logger, metrics } = stores;
  const db = options.db ?? stores.db;
  const routing = createRoutingCache(db, logger, options.routingRefreshMs);
  const spam = createSpamScreen({ db, logger });
  await Promise.all([routing.refresh(), spam.refresh()]);
  /** Started once the SIP stack is up; provisioning changes make it re-read the trunks. */
  let carriers: ReturnType<typeof startCarrierRegistrations> | undefined;
  const unsubscribe = services.routingChanges.subscribe(() => {
    void carriers?.rescan().catch(() => undefined);
    void routing.refresh();
    void spam.refresh();
  });
  const endedListeners: Array<(record: CallRecord, outcome: 'stored' | 'spooled') => void> = [];
  const recordingListeners: Array<(callId: string, outcome: RecordingOutcome) => void> = [];
  const recordings = createRecordingService({
    db,
    rtpengineDir: config.rtpengine.recordingDir,
    recordingsDir: options.recordingsDir ?? config.recordingsDir,
    logger,
    events: services.callEvents,
  });
  const convert = (record: CallRecord) => {
    if (record.recordingStatus !== 'pending' || options.convertRecordings === false) return;
    void recordings.process(record).then((outcome) => {
      for (const listener of recordingListeners) listener(record.id, outcome);
    });
  };
  const writer = createCallRecordWriter({
    db,
    events: services.callEvents,
    spoolFile: options.spoolFile,
    logger,
    ...(options.spoolFlushMs ? { flushMs: options.spoolFlushMs } : {}),
    onStored: convert,
  });
  // Calls this node was on when it last died: their media sessions are ended and their records
  // stored before the node takes new calls (a crash must not lose the calls people were on).
  const journal = createLiveCallJournal({ file: path.join(path.dirname(options.spoolFile), 'live-calls.jsonl'), logger });
  const recovered = journal.recover();
  await recoverCalls(recovered, { rtpengine: options.rtpengine ?? stores.rtpengine, writer, logger });
  const outboundOf = (accountId: string) => services.outbound.get(accountId);
  const outsideCallCap = services.outsideCallCap;
  const b2bua = startB2bua({
    journal,
    extensionCalls: (request, remote) =>
      admitExtensionCall(
        { db, digest: services.digest, softphone: services.softphone, defaultCountry: config.sip.defaultCountry, cap: outsideCallCap, outboundOf },
        request,
        remote,
      ),
    host: options.sip.host,
    port: options.sip.port,
    publicHost: options.sip.publicHost,
    ws: options.sip.ws,
    digest: services.digest,
    registrar: services.registrar,
    groups: services.groups,
    storedPlans: services.storedPlans,
    queues: services.queues,
    board: services.liveBoard,
    outboundOf,
    lastAgentOf: (accountId, caller) => lastAnsweredTarget(db, accountId, caller),
    defaultCountry: config.sip.defaultCountry,
    trustedEdges: options.sip.trustedEdges ?? config.sip.trustedEdges,
    routing,
    spam,
    dialplans: services.dialplans,
    rtpengine: options.rtpengine ?? stores.rtpengine,
    dtmf: options.dtmf,
    metrics,
    logger,
    events: services.callEvents,
    attributor: services.attributor,
    promptsDir: path.join(services.dialplans.dir, 'prompts'),
    ttsCacheDir: options.ttsCacheDir,
    ...(options.mediaCheckMs ? { mediaCheckMs: options.mediaCheckMs } : {}),
    maxCallSeconds: config.sip.maxCallSeconds,
    maxCalls: options.maxCalls ?? config.sip.maxCalls,
    keepaliveMs: options.keepaliveMs ?? config.sip.keepaliveSeconds * 1000,
    spamGateSeconds: config.sip.spamGateSeconds,
    onCallEnded: (record) => {
      void writer.write(record).then((outcome) => {
        for (const listener of endedListeners) listener(record, outcome);
      });
    },
  });
  // A WebSocket port that cannot be bound stops the start, as a taken SIP or HTTP port would.
  await b2bua.stack.ready.catch(async (err: unknown) => {
    unsubscribe();
    await b2bua.stop();
    throw err;
  });
  services.callbackDialer.place = (order) => ({ callId: b2bua.originate(order).callId });
  carriers = startCarrierRegistrations({ db, stack: b2bua.stack, status: services.carrierStatus, logger });
  // The phones of those calls are told they are over.
  for (const { byes } of recovered) for (const bye of byes) b2bua.stack.send(bye);
  // Records spooled before a restart are stored (and their recordings converted) now.
  await writer.flush().catch(() => 0);
  // Conversions that failed, or that a crash interrupted, are retried with backoff: no recording is
  // lost to a bad moment, and the pcap stays until one succeeds.
  let retrying = false;
  const retryTimer = setInterval(() => {
    if (retrying || options.convertRecordings === false) return;
    retrying = true;
    void recordings
      .retryDue()
      .then((outcomes) => {
        for (const { callId, outcome } of outcomes) for (const listener of recordingListeners) listener(callId, outcome);
      })
      .catch((err: unknown) => logger.warn({ err, type: 'recording_retry_failed' }, 'recording retry sweep failed'))
      .finally(() => {
        retrying = false;
      });
  }, options.recordingRetryMs ?? 30_000);
  retryTimer.unref();

  return {
    b2bua,
    routing,
    writer,
    recordings,
    onCallEnded: (listener) => void endedListeners.push(listener),
    onRecording: (listener) => void recordingListeners.push(listener),
    async stop() {
      unsubscribe();
      services.callbackDialer.place = undefined;
      clearInterval(retryTimer);
      carriers?.stop();
      await b2bua.stop();
      journal.close();
      routing.close();
      spam.close();
      await writer.close();
    },
  };
}

async function recoverCalls(recovered: RecoveredCall[], deps: { rtpengine: Rtpengine; writer: CallRecordWriter; logger: Stores['logger'] }): Promise<void> {
  if (recovered.length === 0) return;
  deps.logger.warn({ type: 'calls_recovered', calls: recovered.length }, 'storing the calls a previous run of this node left open');
  for (const { record, rtpengineCallId } of recovered) {
    // Ends the media (and closes its recording); an rtpengine that restarted meanwhile has no such call.
    await deps.rtpengine.command('delete', { 'call-id': rtpengineCallId }).catch(() => undefined);
    await deps.writer.write(record);
  }
}
