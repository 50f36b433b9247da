import type { Queryable } from '../db/pool.js';
import type { Site } from './sites.schemas.js';

interface SiteRow {
  id: string;
  account_id: string;
  name: string;
  domains: string[];
  default_number: string;
  site_key: string;
  dialplan: string | null;
  created_at: Date;
}

const toSite = (r: SiteRow): Site => ({
  id: r.id,
  name: r.name,
  domains: r.domains,
  defaultNumber: r.default_number,
  siteKey: r.site_key,
  dialplan: r.dialplan,
  createdAt: r.created_at.toISOString(),
});

export async function insertSite(
  db: Queryable,
  s: { accountId: string; name: string; domains: string[]; defaultNumber: string; siteKey: string; dialplan?: string },
): Promise<Site> {
  const { rows } = await db.query<SiteRow>(
    'INSERT INTO sites (account_id, name, domains, default_number, site_key, dialplan) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
    [s.accountId, s.name, s.domains, s.defaultNumber, s.siteKey, s.dialplan ?? null],
  );
  return toSite(rows[0]!);
}

export async function listSites(db: Queryable, accountId: string): Promise<Site[]> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM sites WHERE account_id = $1 ORDER BY name', [accountId]);
  return rows.map(toSite);
}

export async function findSite(db: Queryable, accountId: string, id: string): Promise<Site | undefined> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM sites WHERE account_id = $1 AND id = $2', [accountId, id]);
  return rows[0] && toSite(rows[0]);
}

/** The snippet's public lookup: a site key is all the browser has. */
export async function findSiteByKey(db: Queryable, siteKey: string): Promise<(Site & { accountId: string }) | undefined> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM sites WHERE site_key = $1', [siteKey]);
  return rows[0] && { ...toSite(rows[0]), accountId: rows[0].account_id };
}

export async function setSiteDialplan(db: Queryable, accountId: string, id: string, dialplan: string | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE sites SET dialplan = $3 WHERE account_id = $1 AND id = $2', [accountId, id, dialplan]);
  return (rowCount ?? 0) > 0;
}
