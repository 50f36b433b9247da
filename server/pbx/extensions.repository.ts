import type { Queryable } from '../db/pool.js';
import type { Extension } from './extensions.schemas.js';

interface ExtensionRow {
  id: string;
  account_id: string;
  extension: string;
  name: string;
  user_id: string | null;
  sip_username: string;
  password_ha1: string;
  created_at: Date;
}
const toExtension = (r: ExtensionRow): Extension => ({
  id: r.id,
  extension: r.extension,
  name: r.name,
  userId: r.user_id,
  sipUsername: r.sip_username,
  createdAt: r.created_at.toISOString(),
});

/** What the registrar needs: who the username is, and the digest HA1 to check it against. */
export interface ExtensionCredentials {
  id: string;
  accountId: string;
  extension: string;
  passwordHa1: string;
}

export async function insertExtension(
  db: Queryable,
  e: { accountId: string; extension: string; name: string; userId?: string | undefined; sipUsername: string; passwordHa1: string },
): Promise<Extension> {
  const { rows } = await db.query<ExtensionRow>(
    `INSERT INTO extensions (account_id, extension, name, user_id, sip_username, password_ha1) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [e.accountId, e.extension, e.name, e.userId ?? null, e.sipUsername, e.passwordHa1],
  );
  return toExtension(rows[0]!);
}

export async function listExtensions(db: Queryable, accountId: string): Promise<Extension[]> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE account_id = $1 ORDER BY extension', [accountId]);
  return rows.map(toExtension);
}

export async function findExtension(db: Queryable, accountId: string, id: string): Promise<Extension | undefined> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE account_id = $1 AND id = $2', [accountId, id]);
  return rows[0] && toExtension(rows[0]);
}

export async function deleteExtension(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM extensions WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

export async function findCredentials(db: Queryable, sipUsername: string): Promise<ExtensionCredentials | undefined> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE sip_username = $1', [sipUsername]);
  const r = rows[0];
  return r && { id: r.id, accountId: r.account_id, extension: r.extension, passwordHa1: r.password_ha1 };
}

export async function findByNumber(db: Queryable, accountId: string, extension: string): Promise<{ id: string } | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM extensions WHERE account_id = $1 AND extension = $2', [accountId, extension]);
  return rows[0];
}
