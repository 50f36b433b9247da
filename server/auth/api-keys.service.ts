import crypto from 'node:crypto';
import type { Db } from '../db/pool.js';
import type { Role } from '../shared/schemas.js';
import { DEFAULT_ACCOUNT_ID, type Principal } from './auth.schemas.js';
import * as repo from './api-keys.repository.js';

const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');
const CACHE_MS = 30_000;

export interface ApiKeyService {
  /** Resolves a bearer key to its principal, or undefined when unknown or revoked. */
  authenticate(key: string): Promise<Principal | undefined>;
  create(accountId: string, name: string, role: Role): Promise<Awaited<ReturnType<typeof repo.insertApiKey>> & { key: string }>;
  list(accountId: string): ReturnType<typeof repo.listApiKeys>;
  revoke(accountId: string, id: string): Promise<boolean>;
  /** Records ADMIN_API_KEY as an admin key of the default account (idempotent). */
  bootstrap(adminKey: string): Promise<void>;
}

export function createApiKeyService({ db, adminApiKey }: { db: Db; adminApiKey: string | undefined }): ApiKeyService {
  // Keys are checked on every request; a short cache keeps Postgres off the hot path and
  // keeps already-seen keys working through a brief database outage.
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  const adminHash = adminApiKey ? hashKey(adminApiKey) : undefined;

  return {
    async authenticate(key) {
      const hash = hashKey(key);
      // The bootstrap key works even while Postgres is down: operators need it most then.
      if (adminHash && crypto.timingSafeEqual(Buffer.from(hash), Buffer.from(adminHash))) {
        return { accountId: DEFAULT_ACCOUNT_ID, role: 'admin', name: 'bootstrap' };
      }
      const hit = cache.get(hash);
      if (hit && hit.until > Date.now()) return hit.principal;
      const row = await repo.findActiveKeyByHash(db, hash);
      const principal: Principal | undefined = row && { accountId: row.accountId, role: row.role, keyId: row.id, name: row.name };
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { principal, until: Date.now() + CACHE_MS });
      if (row) void repo.touchApiKey(db, row.id).catch(() => {});
      return principal;
    },
    async create(accountId, name, role) {
      const key = `ctk_${crypto.randomBytes(24).toString('base64url')}`;
      const view = await repo.insertApiKey(db, { accountId, name, role, hash: hashKey(key), prefix: key.slice(0, 8) });
      return { ...view, key };
    },
    list: (accountId) => repo.listApiKeys(db, accountId),
    async revoke(accountId, id) {
      const done = await repo.revokeApiKey(db, accountId, id);
      cache.clear();
      return done;
    },
    async bootstrap(adminKey) {
      await repo.insertApiKey(db, {
        accountId: DEFAULT_ACCOUNT_ID,
        name: 'bootstrap (ADMIN_API_KEY)',
        role: 'admin',
        hash: hashKey(adminKey),
        prefix: adminKey.slice(0, 8),
      });
    },
  };
}
