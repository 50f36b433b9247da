import crypto from 'node:crypto';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import type { Role } from '../shared/schemas.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import * as repo from './users.repository.js';

const SESSION_CACHE_MS = 5_000;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
// Compared against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password
// (bcrypt of "not-a-real-password" at cost 10, computed once offline: no hashing at import time).
const DUMMY_HASH = '$2b$10$2kJDFxcl6F30qkmo0z5.PeAntqv6i2WA289yIvtHk9crLSMF9EN0u';

export interface UserService {
  create(accountId: string, u: { email: string; name: string; role: Role; password: string }): Promise<repo.StoredUser>;
  list(accountId: string): Promise<repo.StoredUser[]>;
  update(
    accountId: string,
    id: string,
    change: { role?: Role | undefined; disabled?: boolean | undefined; password?: string | undefined },
  ): Promise<repo.StoredUser | undefined>;
  /** Checks the password and opens a session; undefined when the e-mail, password or account state is wrong. */
  signIn(email: string, password: string, userAgent?: string): Promise<{ token: string; user: repo.StoredUser; maxAgeSeconds: number } | undefined>;
  signOut(token: string): Promise<void>;
  /** The user behind a session cookie value, or undefined (unknown, expired, disabled). */
  resolveSession(token: string): Promise<repo.StoredUser | undefined>;
  /** The CSRF token bound to a session: the UI echoes it in X-CSRF-Token on mutating requests. */
  csrfFor(token: string): string;
  /** A bcrypt hash of the password, computed off the event loop (setup, password reset). */
  hashPassword(password: string): Promise<string>;
  /** Ends every session of a user at once (sign out everywhere, password reset). */
  endSessions(userId: string): Promise<void>;
  /** Ends one session of a user, by the id shown in the session list; false when it is not theirs. */
  endSession(userId: string, sessionId: string): Promise<boolean>;
  /** The user's open sessions, newest first; `current` marks the one of this cookie. */
  sessions(userId: string, currentToken: string | undefined): Promise<repo.SessionRow[]>;
}

export function createUserService({
  db,
  secret,
  sessionHours = 12,
  hasher = createPasswordHasher(),
}: {
  db: Db;
  secret: string;
  sessionHours?: number;
  /** bcrypt off the event loop; a two-worker pool by default. */
  hasher?: PasswordHasher;
}): UserService {
  const cache = new Map<string, { user: repo.StoredUser | undefined; until: number }>();
  return {
    hashPassword: (password) => hasher.hash(password),
    async create(accountId, u) {
      const passwordHash = await hasher.hash(u.password);
      try {
        return await repo.insertUser(db, { accountId, email: u.email, name: u.name, role: u.role, passwordHash });
      } catch (err) {
        if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`a user with e-mail ${u.email} already exists`);
        throw err;
      }
    },
    list: (accountId) => repo.listUsers(db, accountId),
    async update(accountId, id, change) {
      const passwordHash = change.password ? await hasher.hash(change.password) : undefined;
      const user = await repo.updateUser(db, accountId, id, {
        ...(change.role ? { role: change.role } : {}),
        ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
        ...(passwordHash ? { passwordHash } : {}),
      });
      // A disabled user, a new role or a new password ends every open session at once.
      if (user) {
        await repo.deleteUserSessions(db, user.id);
        cache.clear();
      }
      return user;
    },
    async signIn(email, password, userAgent) {
      const user = await repo.findUserByEmail(db, email);
      const ok = await hasher.verify(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok || user.disabled) return undefined;
      const token = crypto.randomBytes(32).toString('base64url');
      const maxAgeSeconds = sessionHours * 3600;
      await repo.insertSession(db, { tokenHash: sha256(token), userId: user.id, expiresAt: new Date(Date.now() + maxAgeSeconds * 1000), userAgent });
      await repo.markSignedIn(db, user.id);
      return { token, user, maxAgeSeconds };
    },
    async signOut(token) {
      const hash = sha256(token);
      cache.delete(hash);
      await repo.deleteSession(db, hash);
    },
    async resolveSession(token) {
      const hash = sha256(token);
      const hit = cache.get(hash);
      if (hit && hit.until > Date.now()) return hit.user;
      const user = await repo.findSessionUser(db, hash);
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { user, until: Date.now() + SESSION_CACHE_MS });
      return user;
    },
    csrfFor: (token) => crypto.createHmac('sha256', secret).update(`csrf:${token}`).digest('base64url'),
    async endSessions(userId) {
      await repo.deleteUserSessions(db, userId);
      // The resolve cache would keep the ended sessions alive for a few seconds more.
      cache.clear();
    },
    async endSession(userId, sessionId) {
      const ended = await repo.deleteUserSession(db, userId, sessionId);
      cache.clear();
      return ended;
    },
    sessions: (userId, currentToken) => repo.listUserSessions(db, userId, currentToken ? sha256(currentToken) : undefined),
  };
}
