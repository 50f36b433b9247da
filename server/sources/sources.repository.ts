import type { Queryable } from '../db/pool.js';
import type { Source } from './sources.schemas.js';

interface SourceRow {
  id: string;
  account_id: string;
  name: string;
  kind: Source['kind'];
  channel: string;
  medium: string | null;
  campaign: string | null;
  cost: number | null;
  currency: string;
  starts_on: string | null;
  ends_on: string | null;
  dialplan: string | null;
  created_at: Date;
  numbers: string[] | null;
}

const toSource = (r: SourceRow): Source => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  channel: r.channel,
  medium: r.medium,
  campaign: r.campaign,
  cost: r.cost,
  currency: r.currency,
  startsOn: r.starts_on,
  endsOn: r.ends_on,
  numbers: r.numbers ?? [],
  dialplan: r.dialplan,
  createdAt: r.created_at.toISOString(),
});

// Dates as text: a date column parsed into a JS Date shifts by the server's time zone.
const SELECT_SOURCE = `SELECT s.id, s.account_id, s.name, s.kind, s.channel, s.medium, s.campaign, s.cost, s.currency,
  s.starts_on::text AS starts_on, s.ends_on::text AS ends_on, s.dialplan, s.created_at,
  (SELECT array_agg(n.number ORDER BY n.number) FROM numbers n WHERE n.source_id = s.id) AS numbers FROM sources s`;

export async function insertSource(
  db: Queryable,
  s: Omit<Source, 'id' | 'numbers' | 'createdAt' | 'medium' | 'campaign' | 'cost' | 'startsOn' | 'endsOn' | 'dialplan'> & {
    accountId: string;
    medium?: string | undefined;
    campaign?: string | undefined;
    cost?: number | undefined;
    startsOn?: string | undefined;
    endsOn?: string | undefined;
    dialplan?: string | undefined;
  },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sources (account_id, name, kind, channel, medium, campaign, cost, currency, starts_on, ends_on, dialplan)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [
      s.accountId,
      s.name,
      s.kind,
      s.channel,
      s.medium ?? null,
      s.campaign ?? null,
      s.cost ?? null,
      s.currency,
      s.startsOn ?? null,
      s.endsOn ?? null,
      s.dialplan ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function findSource(db: Queryable, accountId: string, id: string): Promise<Source | undefined> {
  const { rows } = await db.query<SourceRow>(`${SELECT_SOURCE} WHERE s.account_id = $1 AND s.id = $2`, [accountId, id]);
  return rows[0] && toSource(rows[0]);
}

export async function listSources(db: Queryable, accountId: string): Promise<Source[]> {
  const { rows } = await db.query<SourceRow>(`${SELECT_SOURCE} WHERE s.account_id = $1 ORDER BY s.created_at DESC`, [accountId]);
  return rows.map(toSource);
}

export async function setSourceDialplan(db: Queryable, accountId: string, id: string, dialplan: string | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE sources SET dialplan = $3 WHERE account_id = $1 AND id = $2', [accountId, id, dialplan]);
  return (rowCount ?? 0) > 0;
}
