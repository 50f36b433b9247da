import crypto from 'node:crypto';
import { type Db, withTransaction } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import * as resets from './password-reset.repository.js';
import * as repo from './users.repository.js';
import type { UserService } from './users.service.js';

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
export const RESET_LINK_MINUTES = 30;

export interface PasswordResetService {
  /**
   * A one-time reset link for an enabled admin, or undefined for anyone else (the caller answers
   * the same either way, so the form does not tell which e-mails exist).
   */
  request(email: string): Promise<{ token: string; email: string; expiresAt: Date } | undefined>;
  /** Sets the new password and ends every session of that user; throws when the link is unknown, used or expired. */
  confirm(token: string, password: string): Promise<void>;
}

export function createPasswordResetService({ db, users }: { db: Db; users: UserService }): PasswordResetService {
  return {
    async request(email) {
      const user = await repo.findUserByEmail(db, email);
      // Admins only: other users ask an admin, who sets their password in Settings.
      if (!user || user.disabled || user.role !== 'admin') return undefined;
      const token = crypto.randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + RESET_LINK_MINUTES * 60_000);
      await resets.insertReset(db, { tokenHash: sha256(token), userId: user.id, expiresAt });
      return { token, email: user.email, expiresAt };
    },
    async confirm(token, password) {
      const passwordHash = await users.hashPassword(password);
      const userId = await withTransaction(db, async (client) => {
        const id = await resets.consumeReset(client, sha256(token));
        if (!id) throw ERRORS.validation('this reset link is unknown, used or expired: ask for a new one');
        await resets.setPasswordHash(client, id, passwordHash);
        return id;
      });
      // Whoever knew the old password is signed out too.
      await users.endSessions(userId);
    },
  };
}
