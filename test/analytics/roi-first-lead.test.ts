/**
 * A call is a new lead when it is the caller's first call and no web form from the same phone came
 * before it. Migration 0180 keeps that on the call (calls.first_lead) for the ROI report, by triggers
 * on calls and on form_leads: a form stored after the call, moved in time or deleted still counts
 * right.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT, insertCall } from '../calls/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let siteId: string;
const PHONE = '+74951119900';

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  const { rows } = await h.db.query<{ id: string }>(
    `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 'shop', '{shop.example}', '+74950000000', 'site_first_lead') RETURNING id`,
    [DEFAULT_ACCOUNT],
  );
  siteId = rows[0]!.id;
  await insertCall(h.db, { startedAt: '2026-11-10T10:00:00Z', caller: PHONE, firstTime: true });
  // A repeat caller is never a new lead, form or not.
  await insertCall(h.db, { startedAt: '2026-11-12T10:00:00Z', caller: PHONE, firstTime: false });
});
afterAll(() => h.close());

/** Leads from calls in November (the forms below are not first-time, so they add none). */
async function callLeads(): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/v1/reports/roi?from=2026-11-01&to=2026-11-30&groupBy=source', headers: h.adminHeaders });
  expect(res.statusCode, res.body).toBe(200);
  const totals = res.json().totals;
  expect(totals.calls).toBe(2);
  return totals.leads;
}

async function addForm(at: string): Promise<string> {
  const { rows } = await h.db.query<{ id: string }>(
    `INSERT INTO form_leads (account_id, site_id, phone, url, first_time, created_at) VALUES ($1, $2, $3, 'https://shop.example/', false, $4) RETURNING id`,
    [DEFAULT_ACCOUNT, siteId, PHONE, at],
  );
  return rows[0]!.id;
}

describe('new leads from calls', () => {
  it('follows forms stored after the call, moved in time, deleted, or changing phone', async () => {
    expect(await callLeads()).toBe(1);
    const form = await addForm('2026-11-09T10:00:00Z');
    expect(await callLeads()).toBe(0);
    await h.db.query(`UPDATE form_leads SET created_at = '2026-11-11T10:00:00Z' WHERE id = $1`, [form]);
    expect(await callLeads()).toBe(1);
    await h.db.query(`UPDATE form_leads SET created_at = '2026-11-01T10:00:00Z' WHERE id = $1`, [form]);
    expect(await callLeads()).toBe(0);
    await h.db.query(`UPDATE form_leads SET phone = '+74951119901' WHERE id = $1`, [form]);
    expect(await callLeads()).toBe(1);
    await h.db.query(`UPDATE form_leads SET phone = $2 WHERE id = $1`, [form, PHONE]);
    expect(await callLeads()).toBe(0);
    await h.db.query('DELETE FROM form_leads WHERE id = $1', [form]);
    expect(await callLeads()).toBe(1);
  });

  it('is decided when the call is stored, and again when the call is corrected', async () => {
    await addForm('2026-11-20T09:00:00Z');
    const later = await insertCall(h.db, { startedAt: '2026-11-20T10:00:00Z', caller: PHONE, firstTime: true });
    expect((await h.db.query('SELECT first_lead FROM calls WHERE id = $1', [later])).rows[0].first_lead).toBe(false);
    await h.db.query(`UPDATE calls SET started_at = '2026-11-20T08:00:00Z' WHERE id = $1`, [later]);
    expect((await h.db.query('SELECT first_lead FROM calls WHERE id = $1', [later])).rows[0].first_lead).toBe(true);
  });
});
