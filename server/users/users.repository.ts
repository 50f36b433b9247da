import type { Queryable } from '../db/pool.js';
import type { Role } from '../shared/schemas.js';
import type { User } from './users.schemas.js';

interface UserRow {
  id: string;
  account_id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  disabled_at: Date | null;
  last_sign_in_at: Date | null;
  created_at: Date;
}
export interface StoredUser extends User {
  accountId: string;
  passwordHash: string;
}

const toUser = (r: UserRow): StoredUser => ({
  id: r.id,
  accountId: r.account_id,
  email: r.email,
  name: r.name,
  role: r.role,
  passwordHash: r.password_hash,
  disabled: r.disabled_at !== null,
  lastSignInAt: r.last_sign_in_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
});
export const publicUser = ({ accountId: _a, passwordHash: _p, ...u }: StoredUser): User => u;

export async function insertUser(db: Queryable, u: { accountId: string; email: string; name: string; role: Role; passwordHash: string }): Promise<StoredUser> {
  const { rows } = await db.query<UserRow>('INSERT INTO users (account_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
    u.accountId,
    u.email,
    u.name,
    u.role,
    u.passwordHash,
  ]);
  return toUser(rows[0]!);
}

export async function anyUserExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS exists');
  return rows[0]!.exists;
}

export async function listUsers(db: Queryable, accountId: string): Promise<StoredUser[]> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE account_id = $1 ORDER BY lower(email)', [accountId]);
  return rows.map(toUser);
}

export async function findUserByEmail(db: Queryable, email: string): Promise<StoredUser | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0] && toUser(rows[0]);
}

export async function updateUser(
  db: Queryable,
  accountId: string,
  id: string,
  change: { role?: Role; disabled?: boolean; passwordHash?: string },
): Promise<StoredUser | undefined> {
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET
       role = COALESCE($3, role),
       disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at WHEN $4 THEN COALESCE(disabled_at, now()) ELSE NULL END,
       password_hash = COALESCE($5, password_hash)
     WHERE account_id = $1 AND id = $2 RETURNING *`,
    [accountId, id, change.role ?? null, change.disabled ?? null, change.passwordHash ?? null],
  );
  return rows[0] && toUser(rows[0]);
}

export async function markSignedIn(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE users SET last_sign_in_at = now() WHERE id = $1', [id]);
}

export async function insertSession(db: Queryable, s: { tokenHash: string; userId: string; expiresAt: Date; userAgent: string | undefined }): Promise<void> {
  await db.query('INSERT INTO user_sessions (token_hash, user_id, expires_at, user_agent) VALUES ($1, $2, $3, $4)', [
    s.tokenHash,
    s.userId,
    s.expiresAt,
    s.userAgent?.slice(0, 300) ?? null,
  ]);
}

/** The live session's user; expired sessions and disabled users resolve to nothing. */
export async function findSessionUser(db: Queryable, tokenHash: string): Promise<StoredUser | undefined> {
  const { rows } = await db.query<UserRow>(
    `UPDATE user_sessions s SET last_seen_at = now()
     FROM users u
     WHERE s.token_hash = $1 AND s.expires_at > now() AND u.id = s.user_id AND u.disabled_at IS NULL
     RETURNING u.*`,
    [tokenHash],
  );
  return rows[0] && toUser(rows[0]);
}

export async function deleteSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('DELETE FROM user_sessions WHERE token_hash = $1 OR expires_at < now()', [tokenHash]);
}

export async function deleteUserSessions(db: Queryable, userId: string): Promise<void> {
  await db.query('DELETE FROM user_sessions WHERE user_id = $1', [userId]);
}

export interface SessionRow {
  /** Not the token: the first 16 hex digits of its sha256, enough to name a session and end it. */
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  current: boolean;
}

export async function listUserSessions(db: Queryable, userId: string, currentHash: string | undefined): Promise<SessionRow[]> {
  const { rows } = await db.query<{ token_hash: string; created_at: Date; last_seen_at: Date; expires_at: Date; user_agent: string | null }>(
    'SELECT token_hash, created_at, last_seen_at, expires_at, user_agent FROM user_sessions WHERE user_id = $1 AND expires_at > now() ORDER BY last_seen_at DESC LIMIT 100',
    [userId],
  );
  return rows.map((r) => ({
    id: r.token_hash.slice(0, 16),
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    userAgent: r.user_agent,
    current: r.token_hash === currentHash,
  }));
}

export async function deleteUserSession(db: Queryable, userId: string, sessionId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_sessions WHERE user_id = $1 AND left(token_hash, 16) = $2', [userId, sessionId]);
  return (rowCount ?? 0) > 0;
}

export async function insertListen(
  db: Queryable,
  l: { accountId: string; callId: string; userId?: string | undefined; apiKeyId?: string | undefined; listener: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO call_listens (account_id, call_id, user_id, api_key_id, listener)
     SELECT $1, c.id, $3, $4, $5 FROM calls c WHERE c.id = $2 AND c.account_id = $1`,
    [l.accountId, l.callId, l.userId ?? null, l.apiKeyId ?? null, l.listener],
  );
  return (rowCount ?? 0) > 0;
}

export async function listListens(db: Queryable, accountId: string, callId: string): Promise<{ listener: string; listenedAt: string }[]> {
  const { rows } = await db.query<{ listener: string; listened_at: Date }>(
    'SELECT listener, listened_at FROM call_listens WHERE account_id = $1 AND call_id = $2 ORDER BY listened_at DESC LIMIT 200',
    [accountId, callId],
  );
  return rows.map((r) => ({ listener: r.listener, listenedAt: r.listened_at.toISOString() }));
}
