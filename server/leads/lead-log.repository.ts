import { CALL_CHANNEL, CALL_VIEW_FROM } from '../calls/call-view.js';
import type { Queryable } from '../db/pool.js';
import type { LeadLogItem, LeadLogQuery } from './lead-log.schemas.js';

interface Row extends Omit<LeadLogItem, 'at'> {
  at: Date;
  at_us: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Keyset cursor over both kinds: the last row's (time in µs, id). */
const encodeCursor = (us: string, id: string) => Buffer.from(`${us}|${id}`).toString('base64url');
function decodeCursor(cursor: string): [string, string] | undefined {
  const [us, id, extra] = Buffer.from(cursor, 'base64url').toString().split('|');
  return us && id && extra === undefined && /^-?\d{1,19}$/.test(us) && UUID.test(id) ? [us, id] : undefined;
}

/**
 * Calls and web-form requests in one list, newest first. Each kind is read newest-first through its
 * own (account, time) index and limited before the two are merged, so a page costs two short index
 * scans however many leads the account has. Spam calls stay out, as in reports.
 */
export async function listLeadLog(
  db: Queryable,
  accountId: string,
  q: LeadLogQuery,
): Promise<{ items: LeadLogItem[]; nextCursor: string | null } | 'bad-cursor'> {
  const params: unknown[] = [accountId, q.from ?? null, q.to ?? null, q.limit + 1];
  let position = 'true';
  if (q.cursor) {
    const decoded = decodeCursor(q.cursor);
    if (!decoded) return 'bad-cursor';
    params.push(decoded[0], decoded[1]);
    position = `(%AT%, %ID%) < ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::uuid)`;
  }
  const at = (col: string, id: string) => position.replace('%AT%', col).replace('%ID%', id);
  const calls = `(SELECT 'call' AS kind, c.id, c.started_at AS at, c.caller AS phone, c.caller_name AS name, NULL::text AS email,
       ${CALL_CHANNEL.source} AS source, ${CALL_CHANNEL.medium} AS medium, ${CALL_CHANNEL.campaign} AS campaign, ${CALL_CHANNEL.keyword} AS keyword,
       COALESCE(c.disposition, 'failed') AS status, c.first_time AS "firstTime", NULL::text AS page,
       (SELECT f.id FROM form_leads f WHERE f.linked_call_id = c.id AND f.account_id = c.account_id ORDER BY f.created_at LIMIT 1) AS "linkedId"
     FROM ${CALL_VIEW_FROM}
     WHERE c.account_id = $1 AND NOT c.spam AND c.direction = 'inbound' AND ($2::timestamptz IS NULL OR c.started_at >= $2) AND ($3::timestamptz IS NULL OR c.started_at < $3)
       AND ${at('c.started_at', 'c.id')}
     ORDER BY c.started_at DESC, c.id DESC LIMIT $4)`;
  const forms = `(SELECT 'form' AS kind, f.id, f.created_at AS at, f.phone, f.name, f.email,
       NULLIF(f.visit->>'source', '') AS source, NULLIF(f.visit->>'medium', '') AS medium, NULLIF(f.visit->>'campaign', '') AS campaign,
       NULLIF(f.visit->>'keyword', '') AS keyword, 'submitted' AS status, f.first_time AS "firstTime", f.url AS page, f.linked_call_id AS "linkedId"
     FROM form_leads f
     WHERE f.account_id = $1 AND ($2::timestamptz IS NULL OR f.created_at >= $2) AND ($3::timestamptz IS NULL OR f.created_at < $3)
       AND ${at('f.created_at', 'f.id')}
     ORDER BY f.created_at DESC, f.id DESC LIMIT $4)`;
  const parts = q.kind === 'call' ? [calls] : q.kind === 'form' ? [forms] : [calls, forms];
  const { rows } = await db.query<Row>(
    `SELECT x.*, (extract(epoch FROM x.at) * 1000000)::bigint::text AS at_us FROM (${parts.join(' UNION ALL ')}) x ORDER BY x.at DESC, x.id DESC LIMIT $4`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ at_us: _, at, ...row }) => ({ ...row, at: at.toISOString() })),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.at_us, last.id) : null,
  };
}
