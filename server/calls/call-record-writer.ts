import fs from 'node:fs';
import path from 'node:path';
import { type Db, withTransaction } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CallEventSink, CallRef } from './call-events.js';
import { addTags, type CallRecord, insertCallRecord } from './calls.repository.js';

/**
 * Writes finished calls with their outbox events in one transaction. When Postgres is down the
 * record goes to an append-only spool file and is replayed when it is back: a call is never lost
 * because the database was away, and the replay is idempotent (sip_call_id is unique).
 */
export interface CallRecordWriter {
  write(record: CallRecord): Promise<'stored' | 'spooled'>;
  /** Replays the spool; returns how many records are still waiting. */
  flush(): Promise<number>;
  close(): void;
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
  /** Told about every record once its row is committed, whether written at once or replayed from the spool. */
  onStored?: (record: CallRecord) => void;
}

export function createCallRecordWriter(deps: CallRecordWriterOptions): CallRecordWriter {
  const { db, events, spoolFile, logger } = deps;
  fs.mkdirSync(path.dirname(spoolFile), { recursive: true });
  let flushing: Promise<number> | undefined;

  async function store(record: CallRecord): Promise<void> {
    const isNew = await withTransaction(db, async (trx) => {
      const inserted = await insertCallRecord(trx, record);
      if (inserted && record.spamReason !== null) await addTags(trx, record.id, ['spam'], 'system');
      if (inserted) await events?.callCompleted(trx, callRefOf(record));
      return inserted;
    });
    // Only a new row: a replay of a record stored before a crash has had its turn already.
    if (!isNew || !deps.onStored) return;
    try {
      deps.onStored(record);
    } catch (err) {
      logger.error({ err, callId: record.sipCallId, type: 'call_stored_listener_failed' }, 'a listener of stored calls failed');
    }
  }

  async function flushNow(): Promise<number> {
    if (!fs.existsSync(spoolFile)) return 0;
    // Take the file aside first so records spooled during the replay are not lost or doubled.
    const working = `${spoolFile}.replaying`;
    if (!fs.existsSync(working)) fs.renameSync(spoolFile, working);
    const lines = fs.readFileSync(working, 'utf8').split('\n').filter(Boolean);
    const left: string[] = [];
    for (const line of lines) {
      try {
        await store(JSON.parse(line) as CallRecord);
      } catch (err) {
        if (err instanceof SyntaxError) {
          logger.error({ type: 'spool_corrupt_line' }, 'dropping unreadable spool line');
          continue;
        }
        left.push(line);
      }
    }
    if (left.length > 0) fs.appendFileSync(spoolFile, `${left.join('\n')}\n`);
    fs.rmSync(working);
    if (lines.length > left.length)
      logger.info({ type: 'spool_flushed', stored: lines.length - left.length, waiting: left.length }, 'spooled call records stored');
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
    async write(record) {
      try {
        await store(record);
        return 'stored';
      } catch (err) {
        logger.warn({ err, callId: record.sipCallId, type: 'call_record_spooled' }, 'database unavailable; call record spooled');
        fs.appendFileSync(spoolFile, `${JSON.stringify(record)}\n`);
        return 'spooled';
      }
    },
    flush,
    close: () => clearInterval(timer),
  };
}
