import type { Queryable } from '../db/pool.js';
import type { CallDetail, CallsQuery, CallSummary } from './calls.schemas.js';

interface CallRow {
  id: string; caller: string; caller_name: string | null; tracking_number: string; started_at: Date; answered_at: Date | null; ended_at: Date | null;
  disposition: CallSummary['disposition']; talk_seconds: number; ring_seconds: number; answered_by: string | null; hangup_by: string | null;
  final_sip_status: number | null; ivr_digits: string | null; dialplan: string | null; session_id: string | null; source_id: string | null;
  confidence: string; attribution: Record<string, unknown>; first_time: boolean | null; prior_calls: number; recording_status: string;
  recording_duration_seconds: number | null; recording_channels: number | null; score: number | null; value: number | null;
  source_name: string | null; source_campaign: string | null; source_medium: string | null; tags: string[] | null;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

function toSummary(r: CallRow): CallSummary {
  const a = r.attribution ?? {};
  return {
    id: r.id, caller: r.caller, trackingNumber: r.tracking_number, startedAt: r.started_at.toISOString(),
    answeredAt: r.answered_at?.toISOString() ?? null, endedAt: r.ended_at?.toISOString() ?? null, disposition: r.disposition,
    talkSeconds: r.talk_seconds, ringSeconds: r.ring_seconds, answeredBy: r.answered_by,
    source: r.source_name ?? str(a.source) ?? str(a.utm_source), campaign: r.source_campaign ?? str(a.campaign) ?? str(a.utm_campaign),
    confidence: r.confidence, firstTime: r.first_time, tags: r.tags ?? [], hasRecording: r.recording_status === 'ready',
  };
}

const SELECT = `SELECT c.*, s.name AS source_name, s.campaign AS source_campaign, s.medium AS source_medium,
  (SELECT array_agg(t.tag ORDER BY t.tag) FROM call_tags t WHERE t.call_id = c.id) AS tags
  FROM calls c LEFT JOIN sources s ON s.id = c.source_id`;

/** Keyset cursor: the last row's (started_at, id), so pages stay stable while calls arrive. */
export const encodeCursor = (startedAt: string, id: string) => Buffer.from(`${startedAt}|${id}`).toString('base64url');
function decodeCursor(cursor: string): [string, string] | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  return at && id && !Number.isNaN(Date.parse(at)) && /^[0-9a-f-]{36}$/.test(id) ? [at, id] : undefined;
}

export function callFilters(accountId: string, q: Omit<CallsQuery, 'limit' | 'cursor'>): { where: string; params: unknown[] } {
  const params: unknown[] = [accountId];
  const where = ['c.account_id = $1'];
  const add = (sql: (n: string) => string, value: unknown) => { params.push(value); where.push(sql(`$${params.length}`)); };
  if (q.from) add((p) => `c.started_at >= ${p}`, q.from);
  if (q.to) add((p) => `c.started_at < ${p}`, q.to);
  if (q.source) {
    if (/^[0-9a-f-]{36}$/i.test(q.source)) add((p) => `c.source_id = ${p}::uuid`, q.source);
    else add((p) => `(s.name = ${p} OR c.attribution->>'source' = ${p} OR c.attribution->>'utm_source' = ${p})`, q.source);
  }
  if (q.campaign) add((p) => `(s.campaign = ${p} OR c.attribution->>'campaign' = ${p} OR c.attribution->>'utm_campaign' = ${p})`, q.campaign);
  if (q.tag) add((p) => `EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = c.id AND t.tag = ${p})`, q.tag);
  if (q.status === 'missed') where.push(`c.disposition IS DISTINCT FROM 'answered'`);
  else if (q.status) add((p) => `c.disposition = ${p}`, q.status);
  if (q.number) add((p) => `c.tracking_number = ${p}`, q.number);
  if (q.caller) add((p) => `c.caller = ${p}`, q.caller);
  return { where: where.join(' AND '), params };
}

export async function listCalls(db: Queryable, accountId: string, q: CallsQuery): Promise<{ items: CallSummary[]; nextCursor: string | null } | 'bad-cursor'> {
  const { where, params } = callFilters(accountId, q);
  let keyset = '';
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (!c) return 'bad-cursor';
    params.push(c[0], c[1]);
    keyset = ` AND (c.started_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
  }
  params.push(q.limit + 1);
  const { rows } = await db.query<CallRow>(`${SELECT} WHERE ${where}${keyset} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { items: page.map(toSummary), nextCursor: rows.length > q.limit && last ? encodeCursor(last.started_at.toISOString(), last.id) : null };
}

export async function findCall(db: Queryable, accountId: string, id: string): Promise<CallDetail | undefined> {
  const { rows } = await db.query<CallRow>(`${SELECT} WHERE c.account_id = $1 AND c.id = $2`, [accountId, id]);
  const r = rows[0];
  if (!r) return undefined;
  const notes = await db.query<{ id: string; author: string; text: string; created_at: Date }>('SELECT * FROM call_notes WHERE call_id = $1 ORDER BY created_at', [id]);
  const a = r.attribution ?? {};
  const utm = Object.fromEntries(Object.entries(a).filter(([k, v]) => k.startsWith('utm_') && typeof v === 'string')) as Record<string, string>;
  return {
    ...toSummary(r),
    callerName: r.caller_name, dialplan: r.dialplan, hangupBy: r.hangup_by, finalSipStatus: r.final_sip_status, ivrDigits: r.ivr_digits,
    priorCalls: r.prior_calls, score: r.score, value: r.value,
    attribution: {
      sessionId: r.session_id, sourceId: r.source_id, source: r.source_name ?? str(a.source) ?? str(a.utm_source),
      medium: r.source_medium ?? str(a.medium) ?? str(a.utm_medium), campaign: r.source_campaign ?? str(a.campaign) ?? str(a.utm_campaign),
      keyword: str(a.keyword) ?? str(a.utm_term), landingPage: str(a.landingPage), referrer: str(a.referrer), utm,
      confidence: r.confidence as CallDetail['attribution']['confidence'], reason: str(a.reason),
    },
    notes: notes.rows.map((n) => ({ id: n.id, author: n.author, text: n.text, createdAt: n.created_at.toISOString() })),
    recording: r.recording_status === 'ready'
      ? { url: `/v1/calls/${r.id}/recording`, durationSeconds: Number(r.recording_duration_seconds ?? 0), channels: r.recording_channels ?? 2 }
      : null,
  };
}

export async function callExists(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM calls WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

export async function addTags(db: Queryable, callId: string, tags: string[], origin: 'manual' | 'rule' = 'manual'): Promise<void> {
  await db.query(`INSERT INTO call_tags (call_id, tag, origin) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING`, [callId, tags, origin]);
}

export async function removeTag(db: Queryable, callId: string, tag: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM call_tags WHERE call_id = $1 AND tag = $2', [callId, tag]);
  return (rowCount ?? 0) > 0;
}

export async function addNote(db: Queryable, callId: string, author: string, text: string): Promise<{ id: string; createdAt: string }> {
  const { rows } = await db.query<{ id: string; created_at: Date }>('INSERT INTO call_notes (call_id, author, text) VALUES ($1, $2, $3) RETURNING id, created_at', [callId, author, text]);
  return { id: rows[0]!.id, createdAt: rows[0]!.created_at.toISOString() };
}

export async function setScore(db: Queryable, callId: string, score: number | null): Promise<void> {
  await db.query('UPDATE calls SET score = $2, updated_at = now() WHERE id = $1', [callId, score]);
}
