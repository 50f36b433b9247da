import type { Queryable } from '../db/pool.js';

export type Disposition = 'answered' | 'busy' | 'no-answer' | 'failed' | 'cancelled' | 'voicemail';

/** A finished call as the call path knows it; written once, when the call ends. */
export interface CallRecord {
  id: string;
  accountId: string;
  sipCallId: string;
  trunkId: string;
  numberId: string;
  trackingNumber: string;
  caller: string;
  callerName: string | null;
  dialplan: string;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string;
  disposition: Disposition;
  talkSeconds: number;
  ringSeconds: number;
  answeredBy: string | null;
  hangupBy: 'caller' | 'callee' | 'system';
  finalSipStatus: number | null;
  ivrDigits: string | null;
  poolId: string | null;
  sourceId: string | null;
  sessionId: string | null;
  confidence: 'exact' | 'ambiguous' | 'static' | 'none';
  attribution: Record<string, unknown>;
  firstTime: boolean | null;
  priorCalls: number;
  recordingStatus: 'none' | 'pending';
}

/** Inserts the record; a replay of the same SIP call (spool flush after a crash) is a no-op. Returns whether it was new. */
export async function insertCallRecord(db: Queryable, r: CallRecord): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO calls (id, account_id, sip_call_id, trunk_id, number_id, tracking_number, caller, caller_name, dialplan,
       started_at, answered_at, ended_at, disposition, talk_seconds, ring_seconds, answered_by, hangup_by, final_sip_status,
       ivr_digits, pool_id, source_id, session_id, confidence, attribution, first_time, prior_calls, recording_status)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27)
     ON CONFLICT (sip_call_id) DO NOTHING`,
    [
      r.id,
      r.accountId,
      r.sipCallId,
      r.trunkId,
      r.numberId,
      r.trackingNumber,
      r.caller,
      r.callerName,
      r.dialplan,
      r.startedAt,
      r.answeredAt,
      r.endedAt,
      r.disposition,
      r.talkSeconds,
      r.ringSeconds,
      r.answeredBy,
      r.hangupBy,
      r.finalSipStatus,
      r.ivrDigits,
      r.poolId,
      r.sourceId,
      r.sessionId,
      r.confidence,
      JSON.stringify(r.attribution),
      r.firstTime,
      r.priorCalls,
      r.recordingStatus,
    ],
  );
  return (rowCount ?? 0) > 0;
}
