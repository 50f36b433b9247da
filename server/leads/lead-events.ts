import crypto from 'node:crypto';
import type { CallEventSink, CallRef, CallStart } from '../calls/call-events.js';
import type { Db, Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { findCallViews } from '../calls/call-view.js';
import { buildLeadPayload, type CallEventType, type LeadPayload, type PayloadContext, startedPayload } from './lead-payload.js';
import { insertEvents, type NewEvent } from './leads.repository.js';

export interface OutboxEventSinkOptions {
  db: Db;
  logger: Logger;
  payload: PayloadContext;
  /** Delays between in-memory retries of a call.started write while Postgres is unreachable. */
  startedRetryMs?: number[];
  /** Started events waiting in memory at most; beyond that new ones are dropped (and logged). */
  maxPendingStarted?: number;
}

/** The most call.started events one statement writes. */
const STARTED_BATCH = 200;

/** Postgres refused the data itself (SQLSTATE class 22 or 23): trying again cannot help. */
const isDataError = (err: unknown) => /^2[23]/.test(String((err as { code?: unknown })?.code ?? ''));

export interface OutboxEventSink extends CallEventSink {
  /** Resolves when every call.started write begun so far has finished or been given up (tests, shutdown). */
  drainStarted(): Promise<void>;
}

/**
 * The outbox side of the call-event contract.
 * - callCompleted writes inside the call-record transaction: the lead exists iff the record does.
 * - callStarted runs off the call path: it never throws and never awaits on the caller's side.
 *   Events of calls that start while one is being written are written together next.
 *   When Postgres is briefly away it is retried in memory (default ≈ 0.5 s … 8 s, 15 s in all);
 *   if the process dies or Postgres stays down longer, the started event is lost on purpose
 *   (it only pops a card while the phone rings), while call.completed still arrives durably.
 */
export function createOutboxEventSink(options: OutboxEventSinkOptions): OutboxEventSink {
  const retryMs = options.startedRetryMs ?? [500, 1_000, 2_000, 4_000, 8_000];
  const maxPending = options.maxPendingStarted ?? 10_000;
  const log = options.logger.child({ component: 'lead-outbox' });

  /** The events of `calls` (one each, read as stored now), in one query for the calls and one for the events. */
  async function record(db: Queryable, calls: readonly CallRef[], type: CallEventType, change: LeadPayload['change'] = null): Promise<void> {
    const views = await findCallViews(db, calls);
    const events: NewEvent[] = [];
    for (const call of calls) {
      const view = views.get(call.callId);
      if (!view) throw new Error(`call ${call.callId} not found for ${type}`);
      // Spam, and calls the account's own phones placed, are not leads.
      if (view.spamReason !== null || view.direction !== 'inbound') continue;
      const uid = crypto.randomUUID();
      const payload = buildLeadPayload(view, options.payload, { eventId: uid, type, occurredAt: new Date(), change });
      events.push({ uid, accountId: call.accountId, callId: call.callId, type, payload });
    }
    await insertEvents(db, events);
  }

  /** call.started events waiting to be written, oldest first; one batch is written at a time. */
  const queue: Array<{ call: CallStart; at: Date }> = [];
  let writing: Promise<void> | undefined;

  /** Writes one batch, retrying it while Postgres is away; a batch with a bad row is written row by row, so only that row is lost. */
  async function writeBatch(events: NewEvent[]): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await insertEvents(options.db, events);
        return;
      } catch (err) {
        const callIds = events.map((e) => e.callId);
        if (events.length > 1 && isDataError(err)) {
          for (const event of events) await writeBatch([event]);
          return;
        }
        const delay = isDataError(err) ? undefined : retryMs[i];
        if (delay === undefined) {
          log.error({ err, callIds, type: 'lead_started_lost' }, 'call.started could not be stored; giving up');
          return;
        }
        log.warn({ err, callIds, type: 'lead_started_retry', delayMs: delay }, 'call.started not stored yet; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  /** Calls that start while a write is under way go together in the next one (one statement each). */
  function writeSoon(): void {
    writing ??= writeQueued()
      .catch((err: unknown) => log.error({ err, type: 'lead_started_failed' }, 'call.started failed'))
      .finally(() => {
        writing = undefined;
        if (queue.length > 0) writeSoon();
      });
  }

  async function writeQueued(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, STARTED_BATCH).map(({ call, at }): NewEvent => {
        const uid = crypto.randomUUID();
        const payload = startedPayload(call, { eventId: uid, occurredAt: at });
        return { uid, accountId: call.accountId, callId: call.callId, type: 'call.started', unlessCompleted: true, payload };
      });
      await writeBatch(batch);
    }
  }

  return {
    callStarted(call) {
      try {
        if (call.spam) return; // spam stays out of leads
        if (queue.length >= maxPending) {
          log.error({ callId: call.callId, type: 'lead_started_dropped' }, 'too many call.started events waiting; dropped');
          return;
        }
        queue.push({ call, at: new Date() });
        writeSoon();
      } catch (err) {
        log.error({ err, type: 'lead_started_failed' }, 'call.started failed');
      }
    },
    callCompleted: (trx, call) => record(trx, [call], 'call.completed'),
    callsCompleted: (trx, calls) => record(trx, calls, 'call.completed'),
    recordingReady: (db, call) => record(db, [call], 'call.recording_ready'),
    callModified: (db, call, change) => record(db, [call], 'call.modified', { field: change.field }),
    async drainStarted() {
      while (writing) await writing;
    },
  };
}
