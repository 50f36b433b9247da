import type { Queryable } from '../db/pool.js';
import { type OutboundSide, viewOf } from './outbound.schemas.js';
import type { Trunk } from './trunks.schemas.js';

interface TrunkRow {
  id: string;
  account_id: string;
  name: string;
  addresses: string[] | string;
  username: string | null;
  password_ha1: string | null;
  last_invite_at?: Date | null;
  max_calls_per_second: number | null;
  max_concurrent_calls: number | null;
  outbound?: OutboundSide | null;
  created_at: Date;
}

// node-postgres returns cidr[] as its text form "{a,b}".
const parseArray = (v: string[] | string): string[] =>
  Array.isArray(v)
    ? v
    : v
        .replace(/^\{|\}$/g, '')
        .split(',')
        .filter(Boolean);

const toTrunk = (r: TrunkRow): Trunk => ({
  id: r.id,
  name: r.name,
  addresses: parseArray(r.addresses),
  username: r.username,
  hasPassword: r.password_ha1 !== null,
  maxCallsPerSecond: r.max_calls_per_second,
  maxConcurrentCalls: r.max_concurrent_calls,
  lastInviteAt: r.last_invite_at?.toISOString() ?? null,
  outbound: r.outbound ? viewOf(r.outbound) : null,
  createdAt: r.created_at.toISOString(),
});

export async function insertTrunk(
  db: Queryable,
  t: {
    accountId: string;
    name: string;
    addresses: string[];
    username?: string;
    passwordHa1?: string;
    maxCallsPerSecond?: number | null | undefined;
    maxConcurrentCalls?: number | null | undefined;
    outbound?: OutboundSide | undefined;
  },
): Promise<Trunk> {
  const { rows } = await db.query<TrunkRow>(
    `INSERT INTO trunks (account_id, name, addresses, username, password_ha1, max_calls_per_second, max_concurrent_calls, outbound)
     VALUES ($1, $2, $3::cidr[], $4, $5, $6, $7, $8) RETURNING *`,
    [
      t.accountId,
      t.name,
      t.addresses,
      t.username ?? null,
      t.passwordHa1 ?? null,
      t.maxCallsPerSecond ?? null,
      t.maxConcurrentCalls ?? null,
      t.outbound ? JSON.stringify(t.outbound) : null,
    ],
  );
  return toTrunk(rows[0]!);
}

export async function listTrunks(db: Queryable, accountId: string): Promise<Trunk[]> {
  const { rows } = await db.query<TrunkRow>('SELECT * FROM trunks WHERE account_id = $1 ORDER BY name', [accountId]);
  return rows.map(toTrunk);
}

export async function findTrunk(db: Queryable, accountId: string, id: string): Promise<Trunk | undefined> {
  const { rows } = await db.query<TrunkRow>('SELECT * FROM trunks WHERE account_id = $1 AND id = $2', [accountId, id]);
  return rows[0] && toTrunk(rows[0]);
}

/** The stored outbound side with its password (the API view never has it). */
export async function findStoredOutbound(db: Queryable, accountId: string, id: string): Promise<{ found: boolean; outbound: OutboundSide | null }> {
  const { rows } = await db.query<{ outbound: OutboundSide | null }>('SELECT outbound FROM trunks WHERE account_id = $1 AND id = $2', [accountId, id]);
  return { found: rows.length > 0, outbound: rows[0]?.outbound ?? null };
}

export async function updateTrunk(
  db: Queryable,
  accountId: string,
  id: string,
  change: {
    name?: string | undefined;
    addresses?: string[] | undefined;
    maxCallsPerSecond?: number | null | undefined;
    maxConcurrentCalls?: number | null | undefined;
    outbound?: OutboundSide | null | undefined;
  },
): Promise<Trunk | undefined> {
  // Each nullable column is set only when the change names it ($n flag), so null can clear it.
  const { rows } = await db.query<TrunkRow>(
    `UPDATE trunks SET name = COALESCE($3, name), addresses = COALESCE($4::cidr[], addresses),
       max_calls_per_second = CASE WHEN $5 THEN $6 ELSE max_calls_per_second END,
       max_concurrent_calls = CASE WHEN $7 THEN $8 ELSE max_concurrent_calls END,
       outbound = CASE WHEN $9 THEN $10::jsonb ELSE outbound END
     WHERE account_id = $1 AND id = $2 RETURNING *`,
    [
      accountId,
      id,
      change.name ?? null,
      change.addresses ?? null,
      change.maxCallsPerSecond !== undefined,
      change.maxCallsPerSecond ?? null,
      change.maxConcurrentCalls !== undefined,
      change.maxConcurrentCalls ?? null,
      change.outbound !== undefined,
      change.outbound ? JSON.stringify(change.outbound) : null,
    ],
  );
  return rows[0] && toTrunk(rows[0]);
}

export async function deleteTrunk(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM trunks WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

/** What the SIP edge needs to admit an INVITE: every trunk's addresses and digest HA1. */
export interface TrunkCredentials {
  id: string;
  accountId: string;
  name: string;
  addresses: string[];
  username: string | null;
  passwordHa1: string | null;
  /** Admission limits; null = none. */
  maxCallsPerSecond: number | null;
  maxConcurrentCalls: number | null;
  /**
   * The gateway we REGISTER with (outbound side with `register`): the carrier sends the calls for
   * our registered contact from there, so its addresses count as the trunk's own.
   */
  registration?: { host: string; username: string } | null;
}

export async function listTrunkCredentials(db: Queryable): Promise<TrunkCredentials[]> {
  const { rows } = await db.query<TrunkRow>('SELECT * FROM trunks');
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    addresses: parseArray(r.addresses),
    username: r.username,
    passwordHa1: r.password_ha1,
    maxCallsPerSecond: r.max_calls_per_second,
    maxConcurrentCalls: r.max_concurrent_calls,
    registration: r.outbound?.register && r.outbound.username ? { host: r.outbound.host, username: r.outbound.username } : null,
  }));
}

/** The SIP edge saw an INVITE from this trunk (admitted by ACL or digest, whatever happened next). */
export async function touchTrunkInvite(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE trunks SET last_invite_at = now() WHERE id = $1', [id]);
}

/** The trunk `tel:` targets of an account go out through: the oldest one with an outbound side. */
export async function findOutboundSide(db: Queryable, accountId: string): Promise<OutboundSide | undefined> {
  const { rows } = await db.query<{ outbound: OutboundSide }>(
    'SELECT outbound FROM trunks WHERE account_id = $1 AND outbound IS NOT NULL ORDER BY created_at, id LIMIT 1',
    [accountId],
  );
  return rows[0]?.outbound;
}
