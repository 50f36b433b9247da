import type { Queryable } from '../db/pool.js';

/** A new reset link for the user; any older unused link of theirs stops working. */
export async function insertReset(db: Queryable, r: { tokenHash: string; userId: string; expiresAt: Date }): Promise<void> {
  await db.query('DELETE FROM password_resets WHERE user_id = $1 OR expires_at < now()', [r.userId]);
  await db.query('INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [r.tokenHash, r.userId, r.expiresAt]);
}

/** Uses the link up: returns its user once, never again (the UPDATE's row lock makes two uses race to one winner). */
export async function consumeReset(db: Queryable, tokenHash: string): Promise<string | undefined> {
  const { rows } = await db.query<{ user_id: string }>(
    `UPDATE password_resets SET used_at = now()
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
     RETURNING user_id`,
    [tokenHash],
  );
  return rows[0]?.user_id;
}

export async function setPasswordHash(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
}
