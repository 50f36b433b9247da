import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../server/db/migrate.js';
import { PG_EXCLUSION_VIOLATION, pgErrorCode } from '../server/errors.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('migrations', () => {
  it('a second run applies nothing and fails nothing', async () => {
    expect(await migrate(h.db)).toEqual([]);
  });
});

describe('number_leases exclusion constraint', () => {
  async function fixture() {
    const {
      rows: [trunk],
    } = await h.db.query(
      `INSERT INTO trunks (account_id, name, addresses) VALUES ('00000000-0000-0000-0000-000000000001', 'c' || random(), '{127.0.0.1/32}') RETURNING id`,
    );
    const {
      rows: [site],
    } = await h.db.query(
      `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ('00000000-0000-0000-0000-000000000001', 's', '{a.example}', '+74950000000', 'k' || random()) RETURNING id`,
    );
    const {
      rows: [pool],
    } = await h.db.query(
      `INSERT INTO pools (account_id, site_id, name, hold_seconds) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'p' || random(), 60) RETURNING id`,
      [site.id],
    );
    const {
      rows: [num],
    } = await h.db.query(
      `INSERT INTO numbers (account_id, number, trunk_id, pool_id) VALUES ('00000000-0000-0000-0000-000000000001', '+7495' || (1000000 + floor(random() * 8999999))::text, $1, $2) RETURNING id`,
      [trunk.id, pool.id],
    );
    return { poolId: pool.id as string, numberId: num.id as string };
  }
  const lease = (f: { poolId: string; numberId: string }, from: string, to: string, shared = false) =>
    h.db.query(`INSERT INTO number_leases (number_id, pool_id, session_id, during, shared) VALUES ($1, $2, gen_random_uuid(), tstzrange($3, $4), $5)`, [
      f.numberId,
      f.poolId,
      from,
      to,
      shared,
    ]);

  it('rejects two overlapping exclusive leases of one number', async () => {
    const f = await fixture();
    await lease(f, '2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z');
    const err = await lease(f, '2026-11-22T10:29:00Z', '2026-11-22T11:00:00Z').catch((e: unknown) => e);
    expect(pgErrorCode(err)).toBe(PG_EXCLUSION_VIOLATION);
  });

  it('accepts back-to-back leases and shared leases during exhaustion', async () => {
    const f = await fixture();
    await lease(f, '2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z');
    await expect(lease(f, '2026-11-22T10:30:00Z', '2026-11-22T11:00:00Z')).resolves.toBeDefined();
    await expect(lease(f, '2026-11-22T10:10:00Z', '2026-11-22T10:20:00Z', true)).resolves.toBeDefined();
  });
});
