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
  /**
   * Records ADMIN_API_KEY as an admin key of the default account (idempotent). Once revoked through
   * DELETE /v1/api-keys/{id} it stays revoked across restarts; rotate by setting a new ADMIN_API_KEY.
   */
  bootstrap(adminKey: string): Promise<void>;
}

export function createApiKeyService({ db, adminApiKey }: { db: Db; adminApiKey: string | undefined }): ApiKeyService {
  // Keys are checked on every request; a short cache keeps Postgres off the hot path and
  // keeps already-seen keys working through a brief database outage.
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  const adminHash = adminApiKey ? hashKey(adminApiKey) : undefined;
  // Known good by bootstrap() and not revoked since: only then may the key work without Postgres.
  let adminUsable = false;

  return {
    async authenticate(key) {
      const hash = hashKey(key);
      const isAdminKey = adminHash !== undefined && crypto.timingSafeEqual(Buffer.from(hash), Buffer.from(adminHash));
      const hit = cache.get(hash);
      if (hit && hit.until > Date.now()) return hit.principal;
      let row: Awaited<ReturnType<typeof repo.findActiveKeyByHash>>;
      try {
        row = await repo.findActiveKeyByHash(db, hash);
      } catch (err) {
        // The bootstrap key works while Postgres is down (operators need it most then), unless it was revoked.
        if (isAdminKey && adminUsable) return { accountId: DEFAULT_ACCOUNT_ID, role: 'admin', name: 'bootstrap' };
        throw err;
      }
      if (isAdminKey) adminUsable = row !== undefined;
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
      if (done) adminUsable = false; // re-learnt on the next database answer if another key was revoked
      return done;
    },
    async bootstrap(adminKey) {
      const usable = await repo.ensureBootstrapKey(db, {
        accountId: DEFAULT_ACCOUNT_ID,
        name: 'bootstrap (ADMIN_API_KEY)',
        hash: hashKey(adminKey),
        prefix: adminKey.slice(0, 8),
      });
      if (hashKey(adminKey) === adminHash) adminUsable = usable;
    },
  };
}
