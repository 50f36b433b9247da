import type { AttributionSnapshot } from '../attribution/attribution.types.js';
import type { DbClient, Queryable } from '../db/pool.js';

/** Identifies a call for event consumers, with who called which number; they load the rest by id. */
export interface CallRef {
  callId: string;
  accountId: string;
  caller: string;
  trackingNumber: string;
}

/** What the call path knows while the call rings (no row exists yet). */
export interface CallStart extends CallRef {
  sipCallId: string;
  callerName: string | null;
  dialplan: string;
  startedAt: Date;
  /** The attribution snapshot when it came in time (it has a deadline), else null. */
  attribution: AttributionSnapshot | null;
  /** Flagged as spam and not through the gate: leads leave it out. */
  spam: boolean;
}

/**
 * What the call path tells the rest of the system. Implemented by leads/ (outbox) and the web
 * UI's live updates; the call path never waits on analytics, so only `callCompleted` runs inside
 * the call-record transaction (the outbox row commits with the record or not at all).
 */
export interface CallEventSink {
  /** The INVITE was accepted, attributed (within its deadline) and targets are ringing. Must not throw. */
  callStarted(call: CallStart): void;
  /** Runs inside the transaction that writes the finished call record. */
  callCompleted(trx: DbClient, call: CallRef): Promise<void>;
  /**
   * The same for calls whose records are written together (the record writer batches calls that
   * end at once), in fewer queries than one `callCompleted` each. Optional: see `completeCalls`.
   */
  callsCompleted?(trx: DbClient, calls: readonly CallRef[]): Promise<void>;
  /** The stereo recording is stored and playable. */
  recordingReady(db: Queryable, call: CallRef): Promise<void>;
  /** Tags, notes, score or value changed after the call. */
  callModified(db: Queryable, call: CallRef, change: { field: 'tags' | 'notes' | 'score' | 'value' }): Promise<void>;
}

/** Several sinks behind one: the call path holds exactly one CallEventSink. */
export function combineCallEventSinks(sinks: CallEventSink[]): CallEventSink {
  return {
    callStarted: (call) => {
      for (const s of sinks) s.callStarted(call);
    },
    callCompleted: async (trx, call) => {
      for (const s of sinks) await s.callCompleted(trx, call);
    },
    callsCompleted: async (trx, calls) => {
      for (const s of sinks) await completeCalls(s, trx, calls);
    },
    recordingReady: async (db, call) => {
      for (const s of sinks) await s.recordingReady(db, call);
    },
    callModified: async (db, call, change) => {
      for (const s of sinks) await s.callModified(db, call, change);
    },
  };
}

/** Tells a sink about calls stored together: in one batch if it takes batches, else call by call. */
export async function completeCalls(sink: CallEventSink, trx: DbClient, calls: readonly CallRef[]): Promise<void> {
  if (sink.callsCompleted) return sink.callsCompleted(trx, calls);
  for (const call of calls) await sink.callCompleted(trx, call);
}
