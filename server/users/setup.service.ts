import crypto from 'node:crypto';
import { DEFAULT_ACCOUNT_ID } from '../auth/auth.schemas.js';
import { type Db, withTransaction } from '../db/pool.js';
import { AppError, ERRORS, ErrorCode } from '../errors.js';
import { isLoopback } from '../shared/ip.js';
import * as repo from './users.repository.js';
import type { UserService } from './users.service.js';

/** A fresh one-time setup token; main.ts prints it in the log at start when no user exists yet. */
export function createSetupToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

const safeEqual = (a: string, b: string) => {
  const [ha, hb] = [a, b].map((s) => crypto.createHash('sha256').update(s).digest());
  return crypto.timingSafeEqual(ha!, hb!);
};

export interface SetupRequest {
  email: string;
  name: string;
  password: string;
  token?: string | undefined;
}

export interface SetupService {
  /** True while no user exists: the UI shows the setup page instead of the sign-in form. */
  needed(): Promise<boolean>;
  /**
   * Creates the first admin of the default account, once. `addresses` are every hop we can see
   * (the socket peer and the forwarded client): all must be loopback, or the token must match.
   */
  createFirstAdmin(body: SetupRequest, addresses: (string | undefined)[], userAgent?: string): Promise<NonNullable<Awaited<ReturnType<UserService['signIn']>>>>;
}

export function createSetupService({ db, users, token }: { db: Db; users: UserService; token: string | undefined }): SetupService {
  return {
    async needed() {
      return !(await repo.anyUserExists(db));
    },
    async createFirstAdmin(body, addresses, userAgent) {
      const local = addresses.every(isLoopback);
      const tokenOk = token !== undefined && body.token !== undefined && safeEqual(body.token, token);
      if (!local && !tokenOk) {
        throw new AppError(ErrorCode.forbidden, 'first-run setup is allowed from this machine (loopback) or with the setup token from the server log', 403);
      }
      // The advisory lock makes two simultaneous setup requests one after the other: only the first finds no user.
      await withTransaction(db, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('calltrack:first-run-setup'))");
        if (await repo.anyUserExists(client)) throw ERRORS.conflict('setup is done: a user already exists, sign in instead');
        const passwordHash = await users.hashPassword(body.password);
        await repo.insertUser(client, { accountId: DEFAULT_ACCOUNT_ID, email: body.email, name: body.name, role: 'admin', passwordHash });
      });
      const session = await users.signIn(body.email, body.password, userAgent);
      if (!session) throw new AppError(ErrorCode.internal, 'the admin was created but could not be signed in', 500);
      return session;
    },
  };
}
