import type { Queryable } from '../db/pool.js';
import type { CostRow } from './costs.csv.js';

/**
 * Stores ad spend. For every (day, source, medium, campaign) present in `rows`, whatever was stored
 * for it before goes first (all its keywords), so a re-upload or a re-pull of a day replaces that
 * day instead of adding to it. Run inside one transaction: the replacement is all or nothing.
 */
export async function replaceCosts(
  trx: Queryable,
  accountId: string,
  rows: CostRow[],
  origin: string,
  costSourceId: string | null = null,
): Promise<{ replaced: number; stored: number }> {
  if (rows.length === 0) return { replaced: 0, stored: 0 };
  const col = <K extends keyof CostRow>(key: K) => rows.map((r) => r[key]);
  const deleted = await trx.query(
    `DELETE FROM ad_costs a USING (SELECT DISTINCT * FROM unnest($2::date[], $3::text[], $4::text[], $5::text[]) AS k(day, source, medium, campaign)) k
     WHERE a.account_id = $1 AND a.day = k.day AND a.source = k.source AND a.medium = k.medium AND a.campaign = k.campaign`,
    [accountId, col('day'), col('source'), col('medium'), col('campaign')],
  );
  const inserted = await trx.query(
    `INSERT INTO ad_costs (account_id, day, source, medium, campaign, keyword, currency, minor_digits, cost_minor, clicks, impressions, origin, cost_source_id)
     SELECT $1, * , $12, $13 FROM unnest($2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::smallint[], $9::bigint[], $10::bigint[], $11::bigint[])`,
    [
      accountId,
      col('day'),
      col('source'),
      col('medium'),
      col('campaign'),
      col('keyword'),
      col('currency'),
      col('minorDigits'),
      rows.map((r) => r.costMinor.toString()),
      col('clicks'),
      col('impressions'),
      origin,
      costSourceId,
    ],
  );
  return { replaced: deleted.rowCount ?? 0, stored: inserted.rowCount ?? 0 };
}

export interface StoredCost {
  day: string;
  source: string;
  medium: string;
  campaign: string;
  keyword: string | null;
  currency: string;
  costMinor: number;
  clicks: number | null;
  impressions: number | null;
  origin: string;
}

export async function listCosts(db: Queryable, accountId: string, from: string, to: string, limit: number): Promise<StoredCost[]> {
  const { rows } = await db.query<StoredCost>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, source, medium, campaign, NULLIF(keyword, '') AS keyword, currency,
       cost_minor AS "costMinor", clicks, impressions, origin
     FROM ad_costs WHERE account_id = $1 AND day BETWEEN $2 AND $3
     ORDER BY day, source, medium, campaign, keyword LIMIT $4`,
    [accountId, from, to, limit],
  );
  return rows;
}
