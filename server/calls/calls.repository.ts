import type { Queryable } from '../db/pool.js';
import type { CallDetail, CallsQuery, CallSummary } from './calls.schemas.js';

export interface CallRow {
  id: string;
  caller: string;
  caller_name: string | null;
  tracking_number: string;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  disposition: CallSummary['disposition'];
  talk_seconds: number;
  ring_seconds: number;
  answered_by: string | null;
  hangup_by: string | null;
  final_sip_status: number | null;
  ivr_digits: string | null;
  dialplan: string | null;
  session_id: string | null;
  source_id: string | null;
  confidence: string;
  attribution: Record<string, unknown>;
  first_time: boolean | null;
  prior_calls: number;
  recording_status: string;
  recording_duration_seconds: number | null;
  recording_channels: number | null;
  score: number | null;
  value: number | null;
  source_name: string | null;
  source_campaign: string | null;
  source_medium: string | null;
  tags: string[] | null;
  /** started_at in whole microseconds since the epoch: the keyset cursor must not lose what a JS Date drops. */
  started_us: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

/** Where the call came from: a static source wins over what the visit said (the number itself is the proof). */
export function sourceOf(r: CallRow): { source: string | null; medium: string | null; campaign: string | null; keyword: string | null } {
  const a = r.attribution ?? {};
  return {
    source: r.source_name ?? str(a.source) ?? str(a.utm_source),
    medium: r.source_medium ?? str(a.medium) ?? str(a.utm_medium),
    campaign: r.source_campaign ?? str(a.campaign) ?? str(a.utm_campaign),
    keyword: str(a.keyword) ?? str(a.utm_term),
  };
}

export function toSummary(r: CallRow): CallSummary {
  const s = sourceOf(r);
  return {
    id: r.id,
    caller: r.caller,
    trackingNumber: r.tracking_number,
    startedAt: r.started_at.toISOString(),
    answeredAt: r.answered_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
    disposition: r.disposition,
    talkSeconds: r.talk_seconds,
    ringSeconds: r.ring_seconds,
    answeredBy: r.answered_by,
    source: s.source,
    campaign: s.campaign,
    confidence: r.confidence,
    firstTime: r.first_time,
    tags: r.tags ?? [],
    hasRecording: r.recording_status === 'ready',
  };
}

export function toAttribution(r: CallRow): CallDetail['attribution'] {
  const a = r.attribution ?? {};
  const utm = Object.fromEntries(Object.entries(a).filter(([k, v]) => k.startsWith('utm_') && typeof v === 'string')) as Record<string, string>;
  return {
    sessionId: r.session_id,
    sourceId: r.source_id,
    ...sourceOf(r),
    landingPage: str(a.landingPage),
    referrer: str(a.referrer),
    utm,
    utmSource: str(a.utm_source),
    utmMedium: str(a.utm_medium),
    utmCampaign: str(a.utm_campaign),
    utmTerm: str(a.utm_term),
    utmContent: str(a.utm_content),
    gclid: str(a.gclid),
    yclid: str(a.yclid),
    gaClientId: str(a.gaClientId),
    ymClientId: str(a.ymClientId),
    confidence: r.confidence as CallDetail['attribution']['confidence'],
    reason: str(a.reason),
  };
}

const SELECT = `SELECT c.*, s.name AS source_name, s.campaign AS source_campaign, COALESCE(s.medium, s.channel) AS source_medium,
  ((extract(epoch FROM c.started_at) * 1000000)::bigint)::text AS started_us,
  (SELECT array_agg(t.tag ORDER BY t.tag) FROM call_tags t WHERE t.call_id = c.id) AS tags
  FROM calls c LEFT JOIN sources s ON s.id = c.source_id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keyset cursor: the last row's (started_at in µs, id), so pages stay stable while calls arrive. */
export const encodeCursor = (startedUs: string, id: string) => Buffer.from(`${startedUs}|${id}`).toString('base64url');
function decodeCursor(cursor: string): [string, string] | undefined {
  const [us, id, extra] = Buffer.from(cursor, 'base64url').toString().split('|');
  return us && id && extra === undefined && /^-?\d{1,19}$/.test(us) && UUID.test(id) ? [us, id] : undefined;
}

export type CallFilters = Omit<CallsQuery, 'limit' | 'cursor'>;

/** Static sources whose name/campaign is the filter value: resolved first so the planner sees real ids. */
export interface NamedSources {
  source?: string[];
  campaign?: string[];
}

async function namedSources(db: Queryable, accountId: string, q: CallFilters): Promise<NamedSources> {
  const ids = async (column: 'name' | 'campaign', value: string) =>
    (await db.query<{ id: string }>(`SELECT id FROM sources WHERE account_id = $1 AND ${column} = $2`, [accountId, value])).rows.map((r) => r.id);
  return {
    ...(q.source && !UUID.test(q.source) ? { source: await ids('name', q.source) } : {}),
    ...(q.campaign ? { campaign: await ids('campaign', q.campaign) } : {}),
  };
}

export function callFilters(accountId: string, q: CallFilters, named: NamedSources = {}): { where: string; params: unknown[] } {
  const params: unknown[] = [accountId];
  const where = ['c.account_id = $1'];
  const next = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const add = (sql: (n: string) => string, value: unknown) => where.push(sql(next(value)));
  // A static source's column or either visit key equals the value; containment (@>) lets the
  // calls_attribution GIN index (0071) answer it, and a rare value no longer scans the account.
  const byName = (value: string, ids: string[] | undefined, key: string, utmKey: string) => {
    const p = next(value);
    const parts = [`c.attribution @> jsonb_build_object('${key}', ${p}::text)`, `c.attribution @> jsonb_build_object('${utmKey}', ${p}::text)`];
    if (ids && ids.length > 0) parts.unshift(`c.source_id = ANY (${next(ids)}::uuid[])`);
    where.push(`(${parts.join(' OR ')})`);
  };
  if (q.from) add((p) => `c.started_at >= ${p}::timestamptz`, q.from);
  if (q.to) add((p) => `c.started_at < ${p}::timestamptz`, q.to);
  if (q.source) {
    if (UUID.test(q.source)) add((p) => `c.source_id = ${p}::uuid`, q.source);
    else byName(q.source, named.source, 'source', 'utm_source');
  }
  if (q.campaign) byName(q.campaign, named.campaign, 'campaign', 'utm_campaign');
  if (q.tag) add((p) => `EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = c.id AND t.tag = ${p})`, q.tag);
  // "missed" = nobody took the call, whatever the reason (busy, no answer, voicemail, failed, cancelled).
  if (q.status === 'missed') where.push(`c.disposition IS DISTINCT FROM 'answered'`);
  else if (q.status) add((p) => `c.disposition = ${p}`, q.status);
  if (q.number) add((p) => `c.tracking_number = ${p}`, q.number);
  if (q.caller) add((p) => `c.caller = ${p}`, q.caller);
  return { where: where.join(' AND '), params };
}

/** One page of raw rows, newest first; 'bad-cursor' when the cursor is not one we issued. */
export async function listCallRows(db: Queryable, accountId: string, q: CallsQuery): Promise<{ rows: CallRow[]; nextCursor: string | null } | 'bad-cursor'> {
  const { where, params } = callFilters(accountId, q, await namedSources(db, accountId, q));
  let keyset = '';
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (!c) return 'bad-cursor';
    params.push(c[0], c[1]);
    keyset = ` AND (c.started_at, c.id) < ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`;
  }
  params.push(q.limit + 1);
  const { rows } = await db.query<CallRow>(`${SELECT} WHERE ${where}${keyset} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > q.limit && last ? encodeCursor(last.started_us, last.id) : null };
}

export async function listCalls(db: Queryable, accountId: string, q: CallsQuery): Promise<{ items: CallSummary[]; nextCursor: string | null } | 'bad-cursor'> {
  const page = await listCallRows(db, accountId, q);
  return page === 'bad-cursor' ? page : { items: page.rows.map(toSummary), nextCursor: page.nextCursor };
}

/** The call as its owner account sees it; `undefined` for another account's call as for a missing one. */
export async function findCallRow(db: Queryable, accountId: string, id: string): Promise<CallRow | undefined> {
  const { rows } = await db.query<CallRow>(`${SELECT} WHERE c.account_id = $1 AND c.id = $2`, [accountId, id]);
  return rows[0];
}

export async function findCall(db: Queryable, accountId: string, id: string): Promise<CallDetail | undefined> {
  const r = await findCallRow(db, accountId, id);
  if (!r) return undefined;
  const notes = await db.query<{ id: string; author: string; text: string; created_at: Date }>(
    'SELECT id, author, text, created_at FROM call_notes WHERE call_id = $1 ORDER BY created_at, id',
    [id],
  );
  return {
    ...toSummary(r),
    callerName: r.caller_name,
    dialplan: r.dialplan,
    hangupBy: r.hangup_by,
    finalSipStatus: r.final_sip_status,
    ivrDigits: r.ivr_digits,
    priorCalls: r.prior_calls,
    score: r.score,
    value: r.value,
    attribution: toAttribution(r),
    notes: notes.rows.map((n) => ({ id: n.id, author: n.author, text: n.text, createdAt: n.created_at.toISOString() })),
    recording:
      r.recording_status === 'ready'
        ? { url: `/v1/calls/${r.id}/recording`, durationSeconds: Number(r.recording_duration_seconds ?? 0), channels: r.recording_channels ?? 2 }
        : null,
    recordingStatus: r.recording_status as CallDetail['recordingStatus'],
  };
}

export async function callExists(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM calls WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

export async function listTags(db: Queryable, callId: string): Promise<string[]> {
  const { rows } = await db.query<{ tag: string }>('SELECT tag FROM call_tags WHERE call_id = $1 ORDER BY tag', [callId]);
  return rows.map((r) => r.tag);
}

/** Adds tags that are not there yet; returns how many were new. A rule's tag records the rule. */
export async function addTags(db: Queryable, callId: string, tags: string[], origin: { ruleId: string } | 'manual' = 'manual'): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO call_tags (call_id, tag, origin, rule_id) SELECT $1, t, $3, $4 FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING`,
    [callId, [...new Set(tags)], origin === 'manual' ? 'manual' : 'rule', origin === 'manual' ? null : origin.ruleId],
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
