/** Rows for calls/analytics tests, inserted directly (the SIP path that writes them is tested elsewhere). */
import crypto from 'node:crypto';
import { emptyVisit, type SessionVisitColumns, type Visit, visitFromSession } from '../../server/attribution/visit.js';
import type { Queryable } from '../../server/db/pool.js';

export const DEFAULT_ACCOUNT = '00000000-0000-0000-0000-000000000001';

export interface CallFixture {
  accountId?: string;
  startedAt?: string;
  disposition?: 'answered' | 'busy' | 'no-answer' | 'failed' | 'cancelled' | 'voicemail' | null;
  talkSeconds?: number;
  ringSeconds?: number;
  caller?: string;
  callerName?: string | null;
  trackingNumber?: string;
  sourceId?: string | null;
  sessionId?: string | null;
  confidence?: 'exact' | 'ambiguous' | 'static' | 'none';
  /** The visit as attribution/ would resolve it from this visitor session's columns. */
  session?: Partial<SessionVisitColumns>;
  /** A visit given field by field (merged over an empty one); wins over `session`. */
  visit?: Partial<Visit>;
  /** Why the call was attributed as it was. */
  reason?: string;
  firstTime?: boolean | null;
  priorCalls?: number;
  ivrDigits?: string | null;
  value?: number | null;
  recording?: { durationSeconds: number; channels: number };
  tags?: string[];
}

export async function insertCall(db: Queryable, o: CallFixture = {}): Promise<string> {
  const id = crypto.randomUUID();
  const started = o.startedAt ?? new Date().toISOString();
  const answered = o.disposition === 'answered' ? new Date(Date.parse(started) + (o.ringSeconds ?? 5) * 1000).toISOString() : null;
  await db.query(
    `INSERT INTO calls (id, account_id, sip_call_id, tracking_number, caller, caller_name, started_at, answered_at, ended_at, disposition,
       talk_seconds, ring_seconds, answered_by, source_id, session_id, confidence, attribution, visit, first_time, prior_calls, ivr_digits, value,
       recording_status, recording_duration_seconds, recording_channels, recording_path)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7::timestamptz + interval '2 minutes', $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
    [
      id,
      o.accountId ?? DEFAULT_ACCOUNT,
      `sip-${id}`,
      o.trackingNumber ?? '+74950000001',
      o.caller ?? '+74951112233',
      o.callerName ?? null,
      started,
      answered,
      o.disposition === undefined ? 'answered' : o.disposition,
      o.talkSeconds ?? 0,
      o.ringSeconds ?? 5,
      o.disposition === 'answered' || o.disposition === undefined ? 'sip:agent1@127.0.0.2' : null,
      o.sourceId ?? null,
      o.sessionId ?? null,
      o.confidence ?? (o.sourceId ? 'static' : o.sessionId ? 'exact' : 'none'),
      JSON.stringify({ reason: o.reason ?? null, candidates: [], overflow: false, previousCallId: null }),
      o.visit ? JSON.stringify({ ...emptyVisit(), ...o.visit }) : o.session ? JSON.stringify(visitFromSession(o.session)) : null,
      o.firstTime === undefined ? true : o.firstTime,
      o.priorCalls ?? 0,
      o.ivrDigits ?? null,
      o.value ?? null,
      o.recording ? 'ready' : 'none',
      o.recording?.durationSeconds ?? null,
      o.recording?.channels ?? null,
      o.recording ? `/tmp/${id}.wav` : null,
    ],
  );
  if (o.tags?.length) await db.query(`INSERT INTO call_tags (call_id, tag) SELECT $1, unnest($2::text[])`, [id, o.tags]);
  return id;
}

export async function insertSource(
  db: Queryable,
  o: {
    accountId?: string;
    name: string;
    channel?: string;
    medium?: string | null;
    campaign?: string | null;
    cost?: number | null;
    currency?: string;
    startsOn?: string | null;
    endsOn?: string | null;
    createdAt?: string;
  },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sources (account_id, name, kind, channel, medium, campaign, cost, currency, starts_on, ends_on, created_at)
     VALUES ($1, $2, 'offline', $3, $4, $5, $6, $7, $8, $9, COALESCE($10::timestamptz, now())) RETURNING id`,
    [
      o.accountId ?? DEFAULT_ACCOUNT,
      o.name,
      o.channel ?? 'print',
      o.medium ?? null,
      o.campaign ?? null,
      o.cost ?? null,
      o.currency ?? 'RUB',
      o.startsOn ?? null,
      o.endsOn ?? null,
      o.createdAt ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function insertAccount(db: Queryable, name = 'other'): Promise<string> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO accounts (name) VALUES ($1) RETURNING id', [name]);
  return rows[0]!.id;
}
