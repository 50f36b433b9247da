import type { SessionVisitColumns } from '../attribution/visit.js';
import type { Queryable } from '../db/pool.js';

export type SessionOfForm = SessionVisitColumns & { id: string };

/** The visitor session a form names, if it belongs to that site. */
export async function findSiteSession(db: Queryable, siteId: string, sessionId: string): Promise<SessionOfForm | undefined> {
  const { rows } = await db.query<SessionOfForm>(`SELECT * FROM dni_sessions WHERE id = $1 AND site_id = $2`, [sessionId, siteId]);
  return rows[0];
}

/** The visitor's latest session on the site (a form posted without a session id but with the visitor cookie). */
export async function latestVisitorSession(db: Queryable, siteId: string, visitorId: string): Promise<SessionOfForm | undefined> {
  const { rows } = await db.query<SessionOfForm>(`SELECT * FROM dni_sessions WHERE site_id = $1 AND visitor_id = $2 ORDER BY created_at DESC LIMIT 1`, [
    siteId,
    visitorId,
  ]);
  return rows[0];
}

/**
 * Whether this phone reached the account before (a call or a form), and the call within a day of
 * `at` (before or after) that makes this form the same lead.
 */
export async function phoneHistory(db: Queryable, accountId: string, phone: string, at: Date): Promise<{ earlier: boolean; linkedCallId: string | null }> {
  const { rows } = await db.query<{ earlier: boolean; linked: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM calls WHERE account_id = $1 AND caller = $2 AND started_at < $3)
         OR EXISTS (SELECT 1 FROM form_leads WHERE account_id = $1 AND phone = $2 AND created_at < $3) AS earlier,
       (SELECT id FROM calls WHERE account_id = $1 AND caller = $2 AND started_at BETWEEN $3::timestamptz - interval '1 day' AND $3::timestamptz + interval '1 day'
        ORDER BY abs(extract(epoch FROM started_at - $3::timestamptz)) LIMIT 1) AS linked`,
    [accountId, phone, at],
  );
  return { earlier: rows[0]?.earlier ?? false, linkedCallId: rows[0]?.linked ?? null };
}

export async function insertFormLead(
  db: Queryable,
  form: {
    id: string;
    accountId: string;
    siteId: string;
    sessionId: string | null;
    visitorId: string | null;
    name: string | null;
    phone: string | null;
    email: string | null;
    url: string;
    visit: unknown;
    firstTime: boolean;
    linkedCallId: string | null;
    fields: Record<string, unknown>;
    at: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO form_leads (id, account_id, site_id, session_id, visitor_id, name, phone, email, url, visit, first_time, linked_call_id, fields, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      form.id,
      form.accountId,
      form.siteId,
      form.sessionId,
      form.visitorId,
      form.name,
      form.phone,
      form.email,
      form.url,
      form.visit === null ? null : JSON.stringify(form.visit),
      form.firstTime,
      form.linkedCallId,
      form.fields,
      form.at,
    ],
  );
}
