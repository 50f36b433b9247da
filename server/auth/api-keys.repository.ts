import type { Queryable } from '../db/pool.js';
import type { Role } from '../shared/schemas.js';
import type { ApiKeyView } from './auth.schemas.js';

interface ApiKeyRow {
  id: string;
  account_id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toView = (r: ApiKeyRow): ApiKeyView => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.key_prefix,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

export async function insertApiKey(db: Queryable, k: { accountId: string; name: string; role: Role; hash: string; prefix: string }): Promise<ApiKeyView> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (account_id, name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL, role = EXCLUDED.role
     RETURNING *`,
    [k.accountId, k.name, k.role, k.hash, k.prefix],
  );
  return toView(rows[0]!);
}

/**
 * Records the bootstrap key once. Unlike insertApiKey it never clears `revoked_at`: a key an admin
 * revoked stays revoked when the server restarts with the same ADMIN_API_KEY.
 * @returns whether the key is usable (false when it was revoked).
 */
export async function ensureBootstrapKey(db: Queryable, k: { accountId: string; name: string; hash: string; prefix: string }): Promise<boolean> {
  await db.query(
    `INSERT INTO api_keys (account_id, name, role, key_hash, key_prefix) VALUES ($1, $2, 'admin', $3, $4)
     ON CONFLICT (key_hash) DO NOTHING`,
    [k.accountId, k.name, k.hash, k.prefix],
  );
  const { rows } = await db.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE key_hash = $1', [k.hash]);
  return rows[0]?.revoked_at === null;
}

export async function findActiveKeyByHash(db: Queryable, hash: string): Promise<{ id: string; accountId: string; role: Role; name: string } | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]);
  const r = rows[0];
  return r && { id: r.id, accountId: r.account_id, role: r.role, name: r.name };
}

export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]);
}

export async function listApiKeys(db: Queryable, accountId: string): Promise<ApiKeyView[]> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE account_id = $1 ORDER BY created_at', [accountId]);
  return rows.map(toView);
}

export async function revokeApiKey(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL', [id, accountId]);
  return (rowCount ?? 0) > 0;
}
