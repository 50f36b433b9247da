import type { Queryable } from '../db/pool.js';
import type { CurrencyRate } from './costs.schemas.js';

export async function upsertRates(trx: Queryable, accountId: string, rates: CurrencyRate[]): Promise<number> {
  if (rates.length === 0) return 0;
  const { rowCount } = await trx.query(
    `INSERT INTO currency_rates (account_id, day, base, quote, rate)
     SELECT $1, * FROM unnest($2::date[], $3::text[], $4::text[], $5::numeric[])
     ON CONFLICT (account_id, base, quote, day) DO UPDATE SET rate = EXCLUDED.rate`,
    [accountId, rates.map((r) => r.day), rates.map((r) => r.base), rates.map((r) => r.quote), rates.map((r) => r.rate)],
  );
  return rowCount ?? 0;
}

export async function listRates(
  db: Queryable,
  accountId: string,
  filter: { from?: string; to?: string; base?: string; quote?: string },
): Promise<CurrencyRate[]> {
  const { rows } = await db.query<CurrencyRate>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, base, quote, rate::text AS rate FROM currency_rates
     WHERE account_id = $1 AND ($2::date IS NULL OR day >= $2) AND ($3::date IS NULL OR day <= $3)
       AND ($4::text IS NULL OR base = $4) AND ($5::text IS NULL OR quote = $5)
     ORDER BY day, base, quote LIMIT 10000`,
    [accountId, filter.from ?? null, filter.to ?? null, filter.base ?? null, filter.quote ?? null],
  );
  // numeric::text keeps every digit; trailing zeros of the column's scale are noise.
  return rows.map((r) => ({ ...r, rate: r.rate.includes('.') ? r.rate.replace(/\.?0+$/, '') : r.rate }));
}

export async function deleteRate(db: Queryable, accountId: string, key: { day: string; base: string; quote: string }): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM currency_rates WHERE account_id = $1 AND day = $2 AND base = $3 AND quote = $4', [
    accountId,
    key.day,
    key.base,
    key.quote,
  ]);
  return (rowCount ?? 0) > 0;
}

export async function accountCurrency(db: Queryable, accountId: string): Promise<string> {
  const { rows } = await db.query<{ currency: string }>('SELECT currency FROM accounts WHERE id = $1', [accountId]);
  return rows[0]?.currency ?? 'RUB';
}
