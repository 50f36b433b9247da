/**
 * The ROI page in headless Chromium: a small seeded scenario (CSV costs, calls, a won deal) renders
 * as a sortable table with totals, money in the account currency, and axe finds no serious violations;
 * the Integrations page lists the cost source.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCall } from '../calls/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { axeViolations, launch, signIn } from './browser.js';

let h: Harness;
let app: FastifyInstance;
let base: string;
const PASSWORD = 'roi-page-password-1';

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  h = await createHarness();
  app = await h.buildApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const user = await app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: h.adminHeaders,
    payload: { email: 'marketer@example.com', name: 'Marketer', role: 'marketer', password: PASSWORD },
  });
  expect(user.statusCode, user.body).toBe(201);
  // Two days ago, so the page's default range (the last 30 days in the browser's zone) holds it.
  const day = isoDay(new Date(Date.now() - 2 * 86_400_000));
  const csv = `date,source,medium,campaign,cost,currency\n${day},google,cpc,brand,1500.50,RUB\n${day},yandex,cpc,sale,700,RUB\n`;
  const upload = await app.inject({ method: 'POST', url: '/v1/costs/upload', headers: { ...h.adminHeaders, 'content-type': 'text/csv' }, payload: csv });
  expect(upload.statusCode, upload.body).toBe(200);
  const at = `${day}T12:00:00Z`;
  const call = await insertCall(h.db, {
    startedAt: at,
    caller: '+74950001111',
    sessionId: crypto.randomUUID(),
    visit: { source: 'google', medium: 'cpc', campaign: 'brand' },
  });
  await insertCall(h.db, {
    startedAt: at,
    caller: '+74950002222',
    sessionId: crypto.randomUUID(),
    visit: { source: 'yandex', medium: 'cpc', campaign: 'sale' },
  });
  const deal = await app.inject({
    method: 'POST',
    url: '/v1/conversions',
    headers: h.adminHeaders,
    payload: { callId: call, stage: 'won', revenue: '4000.00', at: `${day}T13:00:00Z`, externalId: 'page-1' },
  });
  expect(deal.statusCode, deal.body).toBe(201);
  const source = await app.inject({
    method: 'POST',
    url: '/v1/cost-sources',
    headers: h.adminHeaders,
    payload: { kind: 'yandex_direct', name: 'Direct', config: { token: 'direct-token', baseUrl: 'http://127.0.0.1:9' } },
  });
  expect(source.statusCode, source.body).toBe(201);
  // A web-form request from the first caller's phone, for the lead log.
  const {
    rows: [site],
  } = await h.db.query<{ id: string }>(
    `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 'shop', '{shop.example}', '+74950000000', 'site_roi_page') RETURNING id`,
    ['00000000-0000-0000-0000-000000000001'],
  );
  await h.db.query(
    `INSERT INTO form_leads (account_id, site_id, name, phone, url, visit, linked_call_id, created_at) VALUES ($1, $2, 'Anna', '+74950001111', 'https://shop.example/contacts', $3, $4, $5)`,
    ['00000000-0000-0000-0000-000000000001', site!.id, JSON.stringify({ source: 'google', medium: 'cpc', campaign: 'brand' }), call, `${day}T12:30:00Z`],
  );
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('ROI page', () => {
  it('renders the scenario as a sortable table with totals and passes axe', async () => {
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      await signIn(page, base, 'marketer@example.com', PASSWORD);
      await page.getByRole('link', { name: 'ROI', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'ROI' }).waitFor();
      const table = page.locator('table.roi-report');
      await table.waitFor();
      const channels = () => table.locator('tbody th').allTextContents();
      // Sorted by revenue, highest first: google made 4000, yandex nothing.
      expect(await channels()).toEqual(['google / cpc / brand', 'yandex / cpc / sale']);
      const google = table.locator('tbody tr', { hasText: 'google' }).locator('td');
      expect(await google.nth(1).textContent()).toBe('1'); // calls
      expect(await google.nth(6).textContent()).toMatch(/4[\s,.\u00a0]?000/); // revenue
      expect(await table.locator('tfoot td').nth(7).textContent()).toMatch(/2[\s,.\u00a0]?200[.,]50/); // total cost
      // Sorting by cost, highest first, puts google's 1500.50 before yandex's 700 — and again ascending.
      await table.getByRole('button', { name: 'Cost' }).click();
      expect(await channels()).toEqual(['google / cpc / brand', 'yandex / cpc / sale']);
      await table.getByRole('button', { name: 'Cost' }).click();
      expect(await channels()).toEqual(['yandex / cpc / sale', 'google / cpc / brand']);
      // ROMI per channel: google (4000 − 1500.50) / 1500.50, yandex spent 700 for nothing.
      const romi = page.locator('figure.romi-chart [role="img"]');
      expect(await romi.getAttribute('aria-label')).toBe('ROMI by channel: google / cpc / brand 166.6%; yandex / cpc / sale -100%');
      expect(await axeViolations(page)).toEqual([]);

      // The lead log: both calls and the form, then forms only.
      await page.getByRole('link', { name: 'Leads', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Leads' }).waitFor();
      const rows = page.locator('table.leads tbody tr');
      await expect.poll(() => rows.count()).toBe(3);
      expect(await page.locator('table.leads tbody tr[data-lead-kind="form"]').textContent()).toContain('Anna · +74950001111');
      await page.getByRole('radio', { name: 'Forms', exact: true }).check();
      // The list reloads (empty while loading): wait for the forms-only page, not just for calls to go.
      await expect
        .poll(async () => [await rows.count(), await page.locator('table.leads tbody tr[data-lead-kind="call"]').count()], { timeout: 10_000 })
        .toEqual([1, 0]);
      await rows.getByRole('link', { name: 'the call' }).waitFor();
      expect(await axeViolations(page)).toEqual([]);

      // Integrations: the connected cost source with its state, and axe again.
      await page.getByRole('link', { name: 'Integrations', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
      await page.locator('table.cost-sources tbody tr', { hasText: 'Direct (Yandex Direct)' }).waitFor();
      // Connecting a Google Ads account from the page (tests never pull: the puller is off in NODE_ENV=test).
      await page.getByLabel('Ad platform').selectOption('google_ads');
      await page.getByLabel('Customer id (10 digits)').fill('1234567890');
      await page.getByLabel('Developer token').fill('dev-token');
      await page.getByLabel('OAuth access token').fill('ya29.token');
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.locator('table.cost-sources tbody tr', { hasText: 'Google Ads (Google Ads)' }).waitFor();
      await expect.poll(() => page.locator('.loading').count(), { timeout: 10_000 }).toBe(0);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});
