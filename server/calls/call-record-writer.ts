import fs from 'node:fs';
import path from 'node:path';
import { type Db, withTransaction } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { type CallEventSink, type CallRef, completeCalls } from './call-events.js';
import { type CallRecord, insertCallRecords, tagCalls } from './calls.repository.js';

/**
 * Writes finished calls with their outbox events in one transaction. Calls that end while a write
 * is under way wait for it and are then written together (group commit: one transaction, one
 * multi-row INSERT, one outbox statement per batch instead of ~9 round trips per call); a call
 * ending on a quiet system is written at once. When Postgres is down the records go to an
 * append-only spool file and are replayed one by one when it is back: a call is never lost because
 * the database was away, and the replay is idempotent (sip_call_id is unique).
 */
export interface CallRecordWriter {
  write(record: CallRecord): Promise<'stored' | 'spooled'>;
  /** Replays the spool; returns how many records are still waiting. */
  flush(): Promise<number>;
  /** Stops the spool replays; resolves once the records already handed over are stored or spooled. */
  close(): Promise<void>;
}

export const callRefOf = (record: CallRecord): CallRef => ({
  callId: record.id,
  accountId: record.accountId,
  caller: record.caller,
  trackingNumber: record.trackingNumber,
});

export interface CallRecordWriterOptions {
  db: Db;
  events: CallEventSink | undefined;
  spoolFile: string;
  logger: Logger;
  flushMs?: number;
  /** The most records one transaction writes (default 200). */
  maxBatch?: number;
  /** Told about every record once its row is committed, whether written at once or replayed from the spool. */
  onStored?: (record: CallRecord) => void;
}

export function createCallRecordWriter(deps: CallRecordWriterOptions): CallRecordWriter {
  const { db, events, spoolFile, logger } = deps;
  fs.mkdirSync(path.dirname(spoolFile), { recursive: true });
  const maxBatch = deps.maxBatch ?? 200;
  let flushing: Promise<number> | undefined;

  async function store(records: readonly CallRecord[]): Promise<void> {
    const fresh = await withTransaction(db, async (trx) => {
      const inserted = await insertCallRecords(trx, records);
      // Only new rows: a replay of a record stored before a crash has had its turn already.
      const stored = records.filter((r) => inserted.has(r.id));
      await tagCalls(
        trx,
        stored.filter((r) => r.spamReason !== null).map((r) => r.id),
        'spam',
        'system',
      );
      if (events && stored.length > 0) await completeCalls(events, trx, stored.map(callRefOf));
      return stored;
    });
    if (!deps.onStored) return;
    for (const record of fresh) {
      try {
        deps.onStored(record);
      } catch (err) {
        logger.error({ err, callId: record.sipCallId, type: 'call_stored_listener_failed' }, 'a listener of stored calls failed');
      }
    }
  }

  /** Records waiting for the write under way to finish, with whoever waits for each. */
  const queue: Array<{ record: CallRecord; resolve: (outcome: 'stored' | 'spooled') => void; reject: (err: unknown) => void }> = [];
  let writing = false;
  let scheduled = false;
  /** Who waits (close) for the last handed-over record to be stored or spooled. */
  const idleWaiters: Array<() => void> = [];

  async function storeOrSpool(records: readonly CallRecord[]): Promise<'stored' | 'spooled'> {
    try {
      await store(records);
      return 'stored';
    } catch (err) {
      logger.warn({ err, calls: records.length, type: 'call_record_spooled' }, 'database unavailable; call records spooled');
      fs.appendFileSync(spoolFile, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      return 'spooled';
    }
  }

  /** Writes what has queued up, a batch at a time, one transaction in flight. */
  function drain(): void {
    scheduled = false;
    if (writing || queue.length === 0) return;
    writing = true;
    const batch = queue.splice(0, maxBatch);
    void storeOrSpool(batch.map((entry) => entry.record))
      .then(
        (outcome) => {
          for (const entry of batch) entry.resolve(outcome);
        },
        (err: unknown) => {
          for (const entry of batch) entry.reject(err);
        },
      )
      .finally(() => {
        writing = false;
        drain();
        if (!writing && queue.length === 0) for (const resolve of idleWaiters.splice(0)) resolve();
      });
  }

  /** Stores replayed records a batch at a time; a batch that fails is tried record by record, so one bad record keeps only itself back. */
  async function replay(records: CallRecord[]): Promise<CallRecord[]> {
    const left: CallRecord[] = [];
    for (let i = 0; i < records.length; i += maxBatch) {
      const batch = records.slice(i, i + maxBatch);
      const whole = await store(batch).then(
        () => true,
        () => false,
      );
      if (whole) continue;
      for (const record of batch) await store([record]).catch(() => left.push(record));
    }
    return left;
  }

  async function flushNow(): Promise<number> {
    if (!fs.existsSync(spoolFile)) return 0;
    // Take the file aside first so records spooled during the replay are not lost or doubled.
    const working = `${spoolFile}.replaying`;
    if (!fs.existsSync(working)) fs.renameSync(spoolFile, working);
    const lines = fs.readFileSync(working, 'utf8').split('\n').filter(Boolean);
    const records: CallRecord[] = [];
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as CallRecord);
      } catch {
        logger.error({ type: 'spool_corrupt_line' }, 'dropping unreadable spool line');
      }
    }
    const left = await replay(records);
    if (left.length > 0) fs.appendFileSync(spoolFile, left.map((r) => `${JSON.stringify(r)}\n`).join(''));
    fs.rmSync(working);
    if (records.length > left.length)
      logger.info({ type: 'spool_flushed', stored: records.length - left.length, waiting: left.length }, 'spooled call records stored');
    return left.length;
  }

  const timer = setInterval(() => void flush().catch(() => {}), deps.flushMs ?? 5_000);
  timer.unref();
  function flush(): Promise<number> {
    flushing ??= flushNow().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    write(record) {
      return new Promise((resolve, reject) => {
        queue.push({ record, resolve, reject });
        // Calls ending in the same turn of the event loop share the first transaction too.
        if (!writing && !scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },
    flush,
    close() {
      clearInterval(timer);
      if (!writing && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
