import { readVisit, type Visit } from '../attribution/visit.js';
import type { Queryable } from '../db/pool.js';
import type { CallsQuery, Disposition } from './calls.schemas.js';

/**
 * The one read model of a stored call. The calls API, leads, tag rules and the CSV export all
 * read calls through `listCallViews` / `findCallView`; reports aggregate over the same columns
 * (`CALL_VIEW_FROM` and `CALL_CHANNEL`), so "where did this call come from" is decided here once.
 */
export interface CallView {
  id: string;
  accountId: string;
  sipCallId: string;
  /** Inbound tracked call, or one the account's phones placed (outbound through the trunk, internal to a colleague). */
  direction: 'inbound' | 'outbound' | 'internal';
  /** Outbound and internal calls: the extension number or +E164 dialled. */
  callee: string | null;
  /** Outbound and internal calls: the extension that placed it. */
  extensionId: string | null;
  /** A callback: the missed call it returns. */
  callbackOf: string | null;
  /** The call queue it waited in, how long, and how that ended. */
  queue: { name: string; waitSeconds: number; outcome: string; withinServiceLevel: boolean | null } | null;
  caller: string;
  callerName: string | null;
  trackingNumber: string;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  disposition: Disposition | null;
  talkSeconds: number;
  ringSeconds: number;
  answeredBy: string | null;
  hangupBy: 'caller' | 'callee' | 'system' | null;
  finalSipStatus: number | null;
  ivrDigits: string | null;
  dialplan: string | null;
  poolId: string | null;
  sessionId: string | null;
  confidence: 'exact' | 'ambiguous' | 'static' | 'none';
  attribution: StoredAttribution;
  /** The website visit the call was attributed to (null for static numbers and unattributed calls). */
  visit: Visit | null;
  /** The visitor's visits up to the call, first touch … last touch (the last is `visit`). */
  visitChain: Visit[];
  /** The static source that owned the number when the call came. */
  staticSource: {
    id: string;
    name: string;
    channel: string;
    medium: string | null;
    campaign: string | null;
    cost: number | null;
    currency: string | null;
  } | null;
  /** Where the call came from: a static source's own fields win over the visit's (the number itself is the proof). */
  channel: { source: string | null; medium: string | null; campaign: string | null; keyword: string | null };
  firstTime: boolean | null;
  priorCalls: number;
  /** Why the call is spam, or null: spam calls are tagged "spam" and kept out of leads and reports. */
  spamReason: string | null;
  score: number | null;
  value: number | null;
  recording: {
    status: 'none' | 'pending' | 'ready' | 'failed';
    durationSeconds: number | null;
    channels: number | null;
    /** Why the last conversion failed, and when it is tried again (null: not scheduled). */
    error: string | null;
    retryAt: Date | null;
  };
  tags: string[];
  notes: Array<{ id: string; author: string; text: string; createdAt: Date }>;
  /** Keyset position: started_at in whole microseconds (a JS Date drops them) and the id. */
  cursor: string;
}

/** How the call was attributed (calls.attribution); the visit itself is `CallView.visit`. */
export interface StoredAttribution {
  reason: string | null;
  candidates: Array<{ sessionId: string; visitorId?: string | null; likelihood: number; reason: string }>;
  /** How likely the attributed visitor is the caller (the top candidate's likelihood); null on calls stored before it was kept. */
  likelihood?: number | null;
  overflow: boolean;
  previousCallId: string | null;
}

/** The calls of the view with their static source; reports select from this too. */
export const CALL_VIEW_FROM = 'calls c LEFT JOIN sources s ON s.id = c.source_id';

/**
 * Where a call came from: a static source's own fields win over the visit's (the number itself is
 * the proof). For calls not stored yet (call.started); stored ones get it from CALL_CHANNEL.
 */
export function resolveChannel(
  staticSource: { name: string; channel: string; medium: string | null; campaign: string | null } | null,
  visit: Visit | null,
): CallView['channel'] {
  if (staticSource)
    return { source: staticSource.name, medium: staticSource.medium ?? staticSource.channel, campaign: staticSource.campaign, keyword: visit?.keyword ?? null };
  return { source: visit?.source ?? null, medium: visit?.medium ?? null, campaign: visit?.campaign ?? null, keyword: visit?.keyword ?? null };
}

/** SQL for the resolved channel over CALL_VIEW_FROM (the rule of `resolveChannel`). */
export const CALL_CHANNEL = {
  source: `CASE WHEN s.id IS NOT NULL THEN s.name ELSE NULLIF(c.visit->>'source', '') END`,
  medium: `CASE WHEN s.id IS NOT NULL THEN COALESCE(s.medium, s.channel) ELSE NULLIF(c.visit->>'medium', '') END`,
  campaign: `CASE WHEN s.id IS NOT NULL THEN s.campaign ELSE NULLIF(c.visit->>'campaign', '') END`,
  keyword: `NULLIF(c.visit->>'keyword', '')`,
} as const;

const SELECT = `SELECT c.*,
  s.name AS static_name, s.channel AS static_channel, s.medium AS static_medium, s.campaign AS static_campaign,
  s.cost AS static_cost, s.currency AS static_currency,
  ${CALL_CHANNEL.source} AS channel_source, ${CALL_CHANNEL.medium} AS channel_medium,
  ${CALL_CHANNEL.campaign} AS channel_campaign, ${CALL_CHANNEL.keyword} AS channel_keyword,
  ((extract(epoch FROM c.started_at) * 1000000)::bigint)::text AS started_us,
  COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM call_tags t WHERE t.call_id = c.id), '{}') AS tags,
  COALESCE((SELECT json_agg(json_build_object('id', n.id, 'author', n.author, 'text', n.text, 'created_at', n.created_at) ORDER BY n.created_at, n.id)
            FROM call_notes n WHERE n.call_id = c.id), '[]') AS notes
  FROM ${CALL_VIEW_FROM}`;

interface CallViewRow {
  id: string;
  account_id: string;
  sip_call_id: string;
  direction: CallView['direction'];
  callee: string | null;
  extension_id: string | null;
  callback_of: string | null;
  queue_name: string | null;
  queue_wait_seconds: number | null;
  queue_outcome: string | null;
  queue_within_service_level: boolean | null;
  caller: string;
  caller_name: string | null;
  tracking_number: string;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  disposition: Disposition | null;
  talk_seconds: number;
  ring_seconds: number;
  answered_by: string | null;
  hangup_by: CallView['hangupBy'];
  final_sip_status: number | null;
  ivr_digits: string | null;
  dialplan: string | null;
  pool_id: string | null;
  session_id: string | null;
  source_id: string | null;
  confidence: CallView['confidence'];
  attribution: Record<string, unknown> | null;
  visit: unknown;
  visit_chain: unknown;
  first_time: boolean | null;
  prior_calls: number;
  spam: boolean;
  spam_reason: string | null;
  score: number | null;
  value: string | number | null;
  recording_status: CallView['recording']['status'];
  recording_duration_seconds: string | number | null;
  recording_channels: number | null;
  recording_error: string | null;
  recording_retry_at: Date | null;
  static_name: string | null;
  static_channel: string | null;
  static_medium: string | null;
  static_campaign: string | null;
  static_cost: string | number | null;
  static_currency: string | null;
  channel_source: string | null;
  channel_medium: string | null;
  channel_campaign: string | null;
  channel_keyword: string | null;
  started_us: string;
  tags: string[];
  notes: Array<{ id: string; author: string; text: string; created_at: string }>;
}

const numberOrNull = (v: string | number | null) => (v === null ? null : Number(v));

function readAttribution(raw: Record<string, unknown> | null): StoredAttribution {
  const stored = raw ?? {};
  return {
    reason: typeof stored.reason === 'string' ? stored.reason : null,
    candidates: Array.isArray(stored.candidates) ? (stored.candidates as StoredAttribution['candidates']) : [],
    likelihood: typeof stored.likelihood === 'number' ? stored.likelihood : null,
    overflow: stored.overflow === true,
    previousCallId: typeof stored.previousCallId === 'string' ? stored.previousCallId : null,
  };
}

function toCallView(row: CallViewRow): CallView {
  return {
    id: row.id,
    accountId: row.account_id,
    sipCallId: row.sip_call_id,
    direction: row.direction,
    callee: row.callee,
    extensionId: row.extension_id,
    callbackOf: row.callback_of,
    queue: row.queue_name
      ? {
          name: row.queue_name,
          waitSeconds: row.queue_wait_seconds ?? 0,
          outcome: row.queue_outcome ?? 'abandoned',
          withinServiceLevel: row.queue_within_service_level,
        }
      : null,
    caller: row.caller,
    callerName: row.caller_name,
    trackingNumber: row.tracking_number,
    startedAt: row.started_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    disposition: row.disposition,
    talkSeconds: row.talk_seconds,
    ringSeconds: row.ring_seconds,
    answeredBy: row.answered_by,
    hangupBy: row.hangup_by,
    finalSipStatus: row.final_sip_status,
    ivrDigits: row.ivr_digits,
    dialplan: row.dialplan,
    poolId: row.pool_id,
    sessionId: row.session_id,
    confidence: row.confidence,
    attribution: readAttribution(row.attribution),
    visit: readVisit(row.visit),
    visitChain: Array.isArray(row.visit_chain) ? row.visit_chain.map(readVisit).filter((v): v is Visit => v !== null) : [],
    staticSource:
      row.source_id && row.static_name !== null
        ? {
            id: row.source_id,
            name: row.static_name,
            channel: row.static_channel ?? '',
            medium: row.static_medium,
            campaign: row.static_campaign,
            cost: numberOrNull(row.static_cost),
            currency: row.static_currency,
          }
        : null,
    channel: { source: row.channel_source, medium: row.channel_medium, campaign: row.channel_campaign, keyword: row.channel_keyword },
    firstTime: row.first_time,
    priorCalls: row.prior_calls,
    spamReason: row.spam ? (row.spam_reason ?? 'spam') : null,
    score: row.score,
    value: numberOrNull(row.value),
    recording: {
      status: row.recording_status,
      durationSeconds: numberOrNull(row.recording_duration_seconds),
      channels: row.recording_channels,
      error: row.recording_error,
      retryAt: row.recording_retry_at,
    },
    tags: row.tags,
    notes: row.notes.map((n) => ({ id: n.id, author: n.author, text: n.text, createdAt: new Date(n.created_at) })),
    cursor: encodeCursor(row.started_us, row.id),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keyset cursor: the last row's (started_at in µs, id), so pages stay stable while calls arrive. */
const encodeCursor = (startedUs: string, id: string) => Buffer.from(`${startedUs}|${id}`).toString('base64url');
function decodeCursor(cursor: string): [string, string] | undefined {
  const [us, id, extra] = Buffer.from(cursor, 'base64url').toString().split('|');
  return us && id && extra === undefined && /^-?\d{1,19}$/.test(us) && UUID.test(id) ? [us, id] : undefined;
}

export type CallFilters = Omit<CallsQuery, 'limit' | 'cursor'>;

/** Static sources whose name/campaign is the filter value: resolved first so the planner sees real ids. */
interface NamedSources {
  source?: string[];
  campaign?: string[];
}

async function namedSources(db: Queryable, accountId: string, filters: CallFilters): Promise<NamedSources> {
  const ids = async (column: 'name' | 'campaign', value: string) =>
    (await db.query<{ id: string }>(`SELECT id FROM sources WHERE account_id = $1 AND ${column} = $2`, [accountId, value])).rows.map((r) => r.id);
  return {
    ...(filters.source && !UUID.test(filters.source) ? { source: await ids('name', filters.source) } : {}),
    ...(filters.campaign ? { campaign: await ids('campaign', filters.campaign) } : {}),
  };
}

function callFilters(accountId: string, filters: CallFilters, named: NamedSources): { where: string; params: unknown[] } {
  const params: unknown[] = [accountId];
  const where = ['c.account_id = $1'];
  const next = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const add = (sql: (placeholder: string) => string, value: unknown) => where.push(sql(next(value)));
  // A static source's own field, or the visit's resolved or raw UTM field, equals the value.
  // Containment (@>) lets the calls_visit GIN index (0080) answer it: a rare value does not scan the account.
  const byName = (value: string, ids: string[] | undefined, key: string, utmKey: string) => {
    const placeholder = next(value);
    const parts = [`c.visit @> jsonb_build_object('${key}', ${placeholder}::text)`, `c.visit @> jsonb_build_object('${utmKey}', ${placeholder}::text)`];
    if (ids && ids.length > 0) parts.unshift(`c.source_id = ANY (${next(ids)}::uuid[])`);
    where.push(`(${parts.join(' OR ')})`);
  };
  if (filters.from) add((p) => `c.started_at >= ${p}::timestamptz`, filters.from);
  if (filters.to) add((p) => `c.started_at < ${p}::timestamptz`, filters.to);
  if (filters.source) {
    if (UUID.test(filters.source)) add((p) => `c.source_id = ${p}::uuid`, filters.source);
    else byName(filters.source, named.source, 'source', 'utmSource');
  }
  if (filters.campaign) byName(filters.campaign, named.campaign, 'campaign', 'utmCampaign');
  if (filters.tag) add((p) => `EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = c.id AND t.tag = ${p})`, filters.tag);
  // "missed" = nobody took the call, whatever the reason (busy, no answer, voicemail, failed, cancelled).
  if (filters.direction) add((p) => `c.direction = ${p}`, filters.direction);
  if (filters.status === 'missed') where.push(`c.disposition IS DISTINCT FROM 'answered'`);
  else if (filters.status) add((p) => `c.disposition = ${p}`, filters.status);
  if (filters.number) add((p) => `c.tracking_number = ${p}`, filters.number);
  if (filters.caller) add((p) => `c.caller = ${p}`, filters.caller);
  return { where: where.join(' AND '), params };
}

/** One page of the filtered log, newest first; 'bad-cursor' when the cursor is not one we issued. */
export async function listCallViews(
  db: Queryable,
  accountId: string,
  query: CallsQuery,
): Promise<{ items: CallView[]; nextCursor: string | null } | 'bad-cursor'> {
  const { where, params } = callFilters(accountId, query, await namedSources(db, accountId, query));
  let keyset = '';
  if (query.cursor) {
    const position = decodeCursor(query.cursor);
    if (!position) return 'bad-cursor';
    params.push(position[0], position[1]);
    keyset = ` AND (c.started_at, c.id) < ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`;
  }
  params.push(query.limit + 1);
  const { rows } = await db.query<CallViewRow>(`${SELECT} WHERE ${where}${keyset} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params);
  const page = rows.slice(0, query.limit).map(toCallView);
  const last = page.at(-1);
  return { items: page, nextCursor: rows.length > query.limit && last ? last.cursor : null };
}

/** The call as its owner account sees it; `undefined` for another account's call as for a missing one. */
export async function findCallView(db: Queryable, accountId: string, id: string): Promise<CallView | undefined> {
  return (await findCallViews(db, [{ accountId, callId: id }])).get(id);
}

/** Several calls in one query (the record writer's batches), by id; each only as its owner account sees it. */
export async function findCallViews(db: Queryable, calls: ReadonlyArray<{ accountId: string; callId: string }>): Promise<Map<string, CallView>> {
  if (calls.length === 0) return new Map();
  const { rows } = await db.query<CallViewRow>(
    `${SELECT} JOIN unnest($1::uuid[], $2::uuid[]) AS q(account_id, id) ON c.account_id = q.account_id AND c.id = q.id`,
    [calls.map((c) => c.accountId), calls.map((c) => c.callId)],
  );
  return new Map(rows.map((row) => [row.id, toCallView(row)]));
}
