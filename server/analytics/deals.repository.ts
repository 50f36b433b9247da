import type { Queryable } from '../db/pool.js';
import type { Deal, DealStage } from './deals.schemas.js';

export interface DealInput {
  externalId: string;
  origin: Deal['origin'];
  stage: DealStage;
  revenueMinor: bigint | null;
  currency: string | null;
  minorDigits: number | null;
  at: string;
}

export interface DealLink {
  callId: string | null;
  formLeadId: string | null;
  visitorId: string | null;
  phone: string | null;
}

/** A call of the account with its caller and visitor, to link a deal to. */
export async function findCallLink(db: Queryable, accountId: string, callId: string): Promise<DealLink | undefined> {
  const { rows } = await db.query<{ id: string; caller: string; visitor_id: string | null }>(
    `SELECT id, caller, visit->>'visitorId' AS visitor_id FROM calls WHERE account_id = $1 AND id = $2`,
    [accountId, callId],
  );
  const call = rows[0];
  return call ? { callId: call.id, formLeadId: null, visitorId: call.visitor_id, phone: call.caller } : undefined;
}

/**
 * The lead a deal most likely came from: the latest call (else web form) of that visitor or phone
 * up to the deal's time, else the latest at all (a deal dated before its call is a clock problem,
 * not a different customer).
 */
export async function findLatestLead(db: Queryable, accountId: string, by: { visitorId?: string; phone?: string }, at: string): Promise<DealLink | undefined> {
  const { rows } = await db.query<{ kind: 'call' | 'form'; id: string; phone: string | null; visitor_id: string | null }>(
    `(SELECT 'call' AS kind, id, caller AS phone, visit->>'visitorId' AS visitor_id, started_at AS t FROM calls
       WHERE account_id = $1 AND (($2::text IS NOT NULL AND visit ? 'visitorId' AND visit->>'visitorId' = $2) OR caller = $3)
       ORDER BY started_at <= $4 DESC, started_at DESC LIMIT 1)
     UNION ALL
     (SELECT 'form', id, phone, visitor_id, created_at FROM form_leads
       WHERE account_id = $1 AND (visitor_id = $2 OR phone = $3)
       ORDER BY created_at <= $4 DESC, created_at DESC LIMIT 1)`,
    [accountId, by.visitorId ?? null, by.phone ?? null, at],
  );
  const call = rows.find((r) => r.kind === 'call');
  const form = rows.find((r) => r.kind === 'form');
  if (call) return { callId: call.id, formLeadId: null, visitorId: call.visitor_id ?? by.visitorId ?? null, phone: call.phone };
  if (form) return { callId: null, formLeadId: form.id, visitorId: form.visitor_id ?? by.visitorId ?? null, phone: form.phone ?? by.phone ?? null };
  return undefined;
}

/** The visitor behind a GA client id (the snippet stores it with the session; calls keep it in their visit). */
export async function visitorOfGaClient(db: Queryable, accountId: string, gaClientId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ visitor_id: string }>(
    `SELECT visitor_id FROM dni_sessions WHERE account_id = $1 AND ga_client_id = $2 ORDER BY created_at DESC LIMIT 1`,
    [accountId, gaClientId],
  );
  return rows[0]?.visitor_id;
}

/** The call our CRM sink created a lead for (its lead id is kept in the delivery's progress). */
export async function callOfCrmLead(db: Queryable, accountId: string, kind: 'amocrm' | 'bitrix24', leadId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ call_id: string }>(
    `SELECT d.call_id FROM lead_deliveries d JOIN lead_sinks s ON s.id = d.sink_id
     WHERE s.account_id = $1 AND s.kind = $2 AND d.progress ? 'leadId' AND (d.progress->>'leadId') = $3::text
     ORDER BY d.created_at LIMIT 1`,
    [accountId, kind, String(leadId)],
  );
  return rows[0]?.call_id;
}

interface DealRow {
  id: string;
  external_id: string;
  origin: Deal['origin'];
  stage: DealStage;
  revenue_minor: number | null;
  currency: string | null;
  at: Date;
  won_at: Date | null;
  call_id: string | null;
  form_lead_id: string | null;
  visitor_id: string | null;
  phone: string | null;
  created: boolean;
}

/**
 * Inserts the deal or updates the one with that external id. A stage only replaces a stage of the
 * same or a lower rank (a late "lead" webhook does not undo "won"); revenue and links keep their
 * earlier values when the update has none. qualified_at / won_at stay the first time reached.
 */
export async function upsertDeal(db: Queryable, accountId: string, input: DealInput, link: DealLink): Promise<Deal> {
  const { rows } = await db.query<DealRow>(
    `WITH input AS (
       SELECT $3::text AS stage, $8::timestamptz AS at,
         CASE $3 WHEN 'lead' THEN 0 WHEN 'qualified' THEN 1 ELSE 2 END AS rank
     )
     INSERT INTO deals AS d (account_id, external_id, origin, stage, revenue_minor, currency, minor_digits, at, qualified_at, won_at, lost_at,
       call_id, form_lead_id, visitor_id, phone)
     SELECT $1, $2, $4, i.stage, $5, $6, $7, i.at,
       CASE WHEN i.stage IN ('qualified', 'won') THEN i.at END, CASE WHEN i.stage = 'won' THEN i.at END, CASE WHEN i.stage = 'lost' THEN i.at END,
       $9, $10, $11, $12
     FROM input i
     ON CONFLICT (account_id, origin, external_id) DO UPDATE SET
       stage = CASE WHEN (SELECT rank FROM input) >= CASE d.stage WHEN 'lead' THEN 0 WHEN 'qualified' THEN 1 ELSE 2 END THEN EXCLUDED.stage ELSE d.stage END,
       revenue_minor = COALESCE(EXCLUDED.revenue_minor, d.revenue_minor),
       currency = COALESCE(EXCLUDED.currency, d.currency),
       minor_digits = COALESCE(EXCLUDED.minor_digits, d.minor_digits),
       qualified_at = COALESCE(d.qualified_at, EXCLUDED.qualified_at),
       won_at = CASE WHEN EXCLUDED.stage = 'won' THEN COALESCE(d.won_at, EXCLUDED.won_at) WHEN EXCLUDED.stage = 'lost' THEN NULL ELSE d.won_at END,
       lost_at = CASE WHEN EXCLUDED.stage = 'lost' THEN COALESCE(d.lost_at, EXCLUDED.lost_at) WHEN EXCLUDED.stage = 'won' THEN NULL ELSE d.lost_at END,
       call_id = COALESCE(d.call_id, EXCLUDED.call_id),
       form_lead_id = COALESCE(d.form_lead_id, EXCLUDED.form_lead_id),
       visitor_id = COALESCE(d.visitor_id, EXCLUDED.visitor_id),
       phone = COALESCE(d.phone, EXCLUDED.phone),
       updated_at = now()
     RETURNING id, external_id, origin, stage, revenue_minor, currency, at, won_at, call_id, form_lead_id, visitor_id, phone, (xmax = 0) AS created`,
    [
      accountId,
      input.externalId,
      input.stage,
      input.origin,
      input.revenueMinor?.toString() ?? null,
      input.currency,
      input.minorDigits,
      input.at,
      link.callId,
      link.formLeadId,
      link.visitorId,
      link.phone,
    ],
  );
  const r = rows[0]!;
  return {
    id: r.id,
    externalId: r.external_id,
    origin: r.origin,
    stage: r.stage,
    revenueMinor: r.revenue_minor,
    currency: r.currency,
    at: r.at.toISOString(),
    wonAt: r.won_at?.toISOString() ?? null,
    callId: r.call_id,
    formLeadId: r.form_lead_id,
    visitorId: r.visitor_id,
    phone: r.phone,
    created: r.created,
  };
}

/** Serialises reports of one deal (a CRM retrying while the first delivery is still being stored) until the transaction ends. */
export async function lockDealKey(trx: Queryable, accountId: string, origin: string, externalId: string): Promise<{ wonAt: Date | null } | undefined> {
  await trx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 13))', [`${accountId}|${origin}|${externalId}`]);
  const { rows } = await trx.query<{ won_at: Date | null }>('SELECT won_at FROM deals WHERE account_id = $1 AND origin = $2 AND external_id = $3', [
    accountId,
    origin,
    externalId,
  ]);
  return rows[0] ? { wonAt: rows[0].won_at } : undefined;
}

export interface ClickIds {
  gclid: string | null;
  gbraid: string | null;
  wbraid: string | null;
  yclid: string | null;
  ga_client_id: string | null;
  ym_client_id: string | null;
  visitor_id: string | null;
}

/**
 * The ad click behind a deal: its call's or form's visit, else the visitor's latest website
 * session that carried a click id or an analytics client id.
 */
export async function clickIdsOf(
  db: Queryable,
  accountId: string,
  deal: { callId: string | null; formLeadId: string | null; visitorId: string | null },
): Promise<ClickIds> {
  const { rows } = await db.query<ClickIds>(
    `WITH visit AS (
       SELECT visit FROM calls WHERE account_id = $1 AND id = $2
       UNION ALL SELECT visit FROM form_leads WHERE account_id = $1 AND id = $3
       LIMIT 1
     )
     SELECT v.visit->>'gclid' AS gclid, v.visit->>'gbraid' AS gbraid, v.visit->>'wbraid' AS wbraid, v.visit->>'yclid' AS yclid,
       v.visit->>'gaClientId' AS ga_client_id, v.visit->>'ymClientId' AS ym_client_id, COALESCE(v.visit->>'visitorId', $4) AS visitor_id
     FROM visit v WHERE v.visit IS NOT NULL
     UNION ALL
     (SELECT gclid, gbraid, wbraid, yclid, ga_client_id, ym_client_id, visitor_id FROM dni_sessions
      WHERE account_id = $1 AND visitor_id = $4 AND COALESCE(gclid, gbraid, wbraid, yclid, ga_client_id, ym_client_id) IS NOT NULL
      ORDER BY created_at DESC LIMIT 1)
     LIMIT 1`,
    [accountId, deal.callId, deal.formLeadId, deal.visitorId],
  );
  return rows[0] ?? { gclid: null, gbraid: null, wbraid: null, yclid: null, ga_client_id: null, ym_client_id: null, visitor_id: deal.visitorId };
}
