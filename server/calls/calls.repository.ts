import type { Visit } from '../attribution/visit.js';
import type { Queryable } from '../db/pool.js';
import type { CallRef } from './call-events.js';
import type { StoredAttribution } from './call-view.js';
import type { Disposition } from './calls.schemas.js';

/**
 * Writes to the calls table: the finished record (once, when the call ends) and what people add
 * later (tags, notes, score, value). Reads go through call-view.ts.
 */

/** A finished call as the call path knows it; written once, when the call ends. */
export interface CallRecord {
  id: string;
  accountId: string;
  sipCallId: string;
  /** Null for calls placed by the account's own phones. */
  trunkId: string | null;
  numberId: string | null;
  trackingNumber: string;
  /** Inbound tracked call (absent in records spooled before it existed), or a call the PBX half placed. */
  direction?: 'inbound' | 'outbound' | 'internal';
  /** For outbound and internal calls: the extension number or +E164 dialled. */
  callee?: string | null;
  /** The extension that placed an outbound or internal call. */
  extensionId?: string | null;
  /** The missed call a callback returns. */
  callbackOf?: string | null;
  /** The call queue it waited in, how long, how that ended, and whether within the service level. */
  queueName?: string | null;
  queueWaitSeconds?: number | null;
  queueOutcome?: 'answered' | 'timeout' | 'no-agents' | 'abandoned' | null;
  queueWithinServiceLevel?: boolean | null;
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
  /** The dialplan target that answered (extension:101, sip:…); absent in records spooled before it existed. */
  answeredTarget?: string | null;
  hangupBy: 'caller' | 'callee' | 'system';
  finalSipStatus: number | null;
  ivrDigits: string | null;
  poolId: string | null;
  sourceId: string | null;
  sessionId: string | null;
  confidence: 'exact' | 'ambiguous' | 'static' | 'none';
  /** How the call was attributed (reason, ranked candidates, overflow, the caller's previous call). */
  attribution: StoredAttribution;
  /** The website visit it was attributed to, in attribution/'s one spelling. */
  visit: Visit | null;
  /** The visitor's visits up to the call, first touch … last touch (empty for static and unattributed calls). */
  visitChain?: Visit[];
  firstTime: boolean | null;
  priorCalls: number;
  recordingStatus: 'none' | 'pending';
  /** Where the caller sends RTP from, per its SDP offer: the recording converter picks the caller's stream by it. */
  callerMedia: { ip: string; port: number } | null;
  /** Why the call is spam (blocked, or flagged and not through the gate); null for a normal call. */
  spamReason: string | null;
}

/** The calls columns a record fills, in the order `recordRow` lists their values. */
const RECORD_COLUMNS = `id, account_id, sip_call_id, trunk_id, number_id, tracking_number, caller, caller_name, dialplan,
  started_at, answered_at, ended_at, disposition, talk_seconds, ring_seconds, answered_by, hangup_by, final_sip_status,
  ivr_digits, pool_id, source_id, session_id, confidence, attribution, visit, first_time, prior_calls, recording_status, caller_media, spam, spam_reason, visit_chain, answered_target,
  direction, callee, extension_id, callback_of, queue_name, queue_wait_seconds, queue_outcome, queue_within_service_level`;

function recordRow(r: CallRecord): unknown[] {
  return [
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
    r.visit === null ? null : JSON.stringify(r.visit),
    r.firstTime,
    r.priorCalls,
    r.recordingStatus,
    r.callerMedia === null ? null : JSON.stringify(r.callerMedia),
    r.spamReason !== null,
    r.spamReason,
    // Spooled records written before the chain existed have none.
    r.visitChain?.length ? JSON.stringify(r.visitChain) : null,
    r.answeredTarget ?? null,
    r.direction ?? 'inbound',
    r.callee ?? null,
    r.extensionId ?? null,
    r.callbackOf ?? null,
    r.queueName ?? null,
    r.queueWaitSeconds ?? null,
    r.queueOutcome ?? null,
    r.queueWithinServiceLevel ?? null,
  ];
}

/**
 * Inserts finished calls in one statement (the record writer batches the calls that end together);
 * a replay of the same SIP call (spool flush after a crash) is a no-op. Returns the ids of the rows
 * that were new.
 */
export async function insertCallRecords(db: Queryable, records: readonly CallRecord[]): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const params: unknown[] = [];
  const tuples = records.map((r) => {
    const row = recordRow(r);
    const first = params.length + 1;
    params.push(...row);
    return `(${row.map((_, i) => `$${first + i}`).join(',')})`;
  });
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO calls (${RECORD_COLUMNS}) VALUES ${tuples.join(',')} ON CONFLICT (sip_call_id) DO NOTHING RETURNING id`,
    params,
  );
  return new Set(rows.map((row) => row.id));
}

/** Inserts one record; a replay of the same SIP call is a no-op. Returns whether it was new. */
export async function insertCallRecord(db: Queryable, r: CallRecord): Promise<boolean> {
  return (await insertCallRecords(db, [r])).has(r.id);
}

/** The dialplan target that answered this caller's latest answered call (the route step's sticky agent). */
export async function lastAnsweredTarget(db: Queryable, accountId: string, caller: string): Promise<string | undefined> {
  const { rows } = await db.query<{ answered_target: string }>(
    `SELECT answered_target FROM calls WHERE caller = $2 AND account_id = $1 AND answered_target IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
    [accountId, caller],
  );
  return rows[0]?.answered_target;
}

/** The call's reference for its owner account; undefined for another account's call as for a missing one. */
export async function findCallRef(db: Queryable, accountId: string, id: string): Promise<CallRef | undefined> {
  const { rows } = await db.query<{ caller: string; tracking_number: string }>('SELECT caller, tracking_number FROM calls WHERE account_id = $1 AND id = $2', [
    accountId,
    id,
  ]);
  const row = rows[0];
  return row ? { callId: id, accountId, caller: row.caller, trackingNumber: row.tracking_number } : undefined;
}

export async function listTags(db: Queryable, callId: string): Promise<string[]> {
  const { rows } = await db.query<{ tag: string }>('SELECT tag FROM call_tags WHERE call_id = $1 ORDER BY tag', [callId]);
  return rows.map((r) => r.tag);
}

/** Adds tags that are not there yet; returns how many were new. A rule's tag records the rule; 'system' tags come from the call path (spam). */
export async function addTags(db: Queryable, callId: string, tags: string[], origin: { ruleId: string } | 'manual' | 'system' = 'manual'): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO call_tags (call_id, tag, origin, rule_id) SELECT $1, t, $3, $4 FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING`,
    [callId, [...new Set(tags)], typeof origin === 'string' ? origin : 'rule', typeof origin === 'string' ? null : origin.ruleId],
  );
  return rowCount ?? 0;
}

/** Puts one tag on several calls at once (the record writer's spam tags); returns how many were new. */
export async function tagCalls(db: Queryable, callIds: readonly string[], tag: string, origin: 'manual' | 'system'): Promise<number> {
  if (callIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO call_tags (call_id, tag, origin, rule_id) SELECT c, $2, $3, NULL FROM unnest($1::uuid[]) AS c ON CONFLICT DO NOTHING`,
    [[...new Set(callIds)], tag, origin],
  );
  return rowCount ?? 0;
}

export async function removeTag(db: Queryable, callId: string, tag: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM call_tags WHERE call_id = $1 AND tag = $2', [callId, tag]);
  return (rowCount ?? 0) > 0;
}

export async function addNote(
  db: Queryable,
  callId: string,
  author: string,
  text: string,
): Promise<{ id: string; author: string; text: string; createdAt: string }> {
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    'INSERT INTO call_notes (call_id, author, text) VALUES ($1, $2, $3) RETURNING id, created_at',
    [callId, author, text],
  );
  return { id: rows[0]!.id, author, text, createdAt: rows[0]!.created_at.toISOString() };
}

export async function setScore(db: Queryable, callId: string, score: number | null): Promise<void> {
  await db.query('UPDATE calls SET score = $2, updated_at = now() WHERE id = $1', [callId, score]);
}

/** Stores the value rounded to cents (numeric(14,2)) and returns what was stored. */
export async function setValue(db: Queryable, callId: string, value: number | null): Promise<number | null> {
  const { rows } = await db.query<{ value: number | null }>('UPDATE calls SET value = $2, updated_at = now() WHERE id = $1 RETURNING value', [callId, value]);
  return rows[0]?.value ?? null;
}
