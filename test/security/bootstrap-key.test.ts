/** ADMIN_API_KEY is an ordinary, revocable key: once revoked it stays revoked after a restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyService } from '../../server/auth/api-keys.service.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('bootstrap key', () => {
  it('can be revoked, and a restart with the same ADMIN_API_KEY does not bring it back', async () => {
    const app = await h.buildApp();
    const other = await h.headersFor('admin');
    const keys = (await app.inject({ method: 'GET', url: '/v1/api-keys', headers: h.adminHeaders })).json().items as { id: string; name: string }[];
    const bootstrap = keys.find((k) => k.name.startsWith('bootstrap'));
    expect(bootstrap).toBeDefined();

    const revoked = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${bootstrap!.id}`, headers: other });
    expect(revoked.statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders })).statusCode).toBe(401);

    // A restart: a fresh service bootstraps the same key again.
    const restarted = createApiKeyService({ db: h.db, adminApiKey: h.adminKey });
    await restarted.bootstrap(h.adminKey);
    expect(await restarted.authenticate(h.adminKey)).toBeUndefined();
    const app2 = await h.buildApp({ overrides: { apiKeys: restarted } });
    expect((await app2.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders })).statusCode).toBe(401);
    const listed = (await app2.inject({ method: 'GET', url: '/v1/api-keys', headers: other })).json().items as { id: string; revokedAt: string | null }[];
    expect(listed.find((k) => k.id === bootstrap!.id)?.revokedAt).not.toBeNull();

    // Rotation: a new ADMIN_API_KEY works at once.
    const rotatedKey = 'rotated-admin-key-0123456789';
    const rotated = createApiKeyService({ db: h.db, adminApiKey: rotatedKey });
    await rotated.bootstrap(rotatedKey);
    expect(await rotated.authenticate(rotatedKey)).toMatchObject({ role: 'admin' });
  });
});
