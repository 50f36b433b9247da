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
  international: boolean;
  outbound_per_minute: number;
  caller_id: string | null;
  created_at: Date;
}
const toExtension = (r: ExtensionRow): Extension => ({
  id: r.id,
  extension: r.extension,
  name: r.name,
  userId: r.user_id,
  sipUsername: r.sip_username,
  international: r.international,
  outboundPerMinute: r.outbound_per_minute,
  callerId: r.caller_id,
  createdAt: r.created_at.toISOString(),
});

/** What the registrar and calls from phones need: who the username is, its digest HA1, what it may dial. */
export interface ExtensionCredentials {
  id: string;
  accountId: string;
  extension: string;
  name: string;
  passwordHa1: string;
  international: boolean;
  outboundPerMinute: number;
  callerId: string | null;
}

export async function insertExtension(
  db: Queryable,
  e: {
    accountId: string;
    extension: string;
    name: string;
    userId?: string | undefined;
    sipUsername: string;
    passwordHa1: string;
    international: boolean;
    outboundPerMinute: number;
    callerId?: string | null | undefined;
  },
): Promise<Extension> {
  const { rows } = await db.query<ExtensionRow>(
    `INSERT INTO extensions (account_id, extension, name, user_id, sip_username, password_ha1, international, outbound_per_minute, caller_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [e.accountId, e.extension, e.name, e.userId ?? null, e.sipUsername, e.passwordHa1, e.international, e.outboundPerMinute, e.callerId ?? null],
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

/** The extension linked to a user (the first by number, as text, when an admin linked several). */
export async function findByUser(db: Queryable, accountId: string, userId: string): Promise<Extension | undefined> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE account_id = $1 AND user_id = $2 ORDER BY extension LIMIT 1', [
    accountId,
    userId,
  ]);
  return rows[0] && toExtension(rows[0]);
}

export async function deleteExtension(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM extensions WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

export async function findCredentials(db: Queryable, sipUsername: string): Promise<ExtensionCredentials | undefined> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE sip_username = $1', [sipUsername]);
  return credentialsOf(rows[0]);
}

/** An account's extension by its short number, with what it may dial (click to call). */
export async function findCredentialsByNumber(db: Queryable, accountId: string, extension: string): Promise<ExtensionCredentials | undefined> {
  const { rows } = await db.query<ExtensionRow>('SELECT * FROM extensions WHERE account_id = $1 AND extension = $2', [accountId, extension]);
  return credentialsOf(rows[0]);
}

function credentialsOf(r: ExtensionRow | undefined): ExtensionCredentials | undefined {
  return (
    r && {
      id: r.id,
      accountId: r.account_id,
      extension: r.extension,
      name: r.name,
      passwordHa1: r.password_ha1,
      international: r.international,
      outboundPerMinute: r.outbound_per_minute,
      callerId: r.caller_id,
    }
  );
}

export async function updateExtension(
  db: Queryable,
  accountId: string,
  id: string,
  patch: { name?: string | undefined; international?: boolean | undefined; outboundPerMinute?: number | undefined; callerId?: string | null | undefined },
): Promise<Extension | undefined> {
  const { rows } = await db.query<ExtensionRow>(
    `UPDATE extensions SET name = COALESCE($3, name), international = COALESCE($4, international),
       outbound_per_minute = COALESCE($5, outbound_per_minute), caller_id = CASE WHEN $6 THEN $7 ELSE caller_id END
     WHERE account_id = $1 AND id = $2 RETURNING *`,
    [accountId, id, patch.name ?? null, patch.international ?? null, patch.outboundPerMinute ?? null, patch.callerId !== undefined, patch.callerId ?? null],
  );
  return rows[0] && toExtension(rows[0]);
}

export async function findByNumber(db: Queryable, accountId: string, extension: string): Promise<{ id: string } | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM extensions WHERE account_id = $1 AND extension = $2', [accountId, extension]);
  return rows[0];
}
