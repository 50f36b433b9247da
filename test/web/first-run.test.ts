/**
 * A fresh install in headless Chromium: the setup page creates the first admin from loopback and is
 * gone afterwards; the getting-started checklist turns each step green as the API does it; the
 * Trunks and Numbers pages (bulk add with a per-line report, search, groups) work and pass axe.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { pino } from 'pino';
import { axeViolations, launch, screenshot, signIn } from './browser.js';

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'first run password' };

let h: Harness;
let app: FastifyInstance;
let base: string;
let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;
const logLines: string[] = [];

async function checkA11y(name: string): Promise<void> {
  await screenshot(page, name);
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
}
const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
  const res = await app.inject({ method, url, headers: h.adminHeaders, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
};
const step = (id: string) => page.locator(`ol.checklist li[data-step="${id}"]`);
const doneSteps = () => page.locator('ol.checklist li.done').evaluateAll((items) => items.map((li) => li.getAttribute('data-step')));

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  h = await createHarness({ PUBLIC_BASE_URL: 'http://ui.test' });
  // Captures the log: the forgot-password link is printed there.
  app = await h.buildApp({ stores: { logger: pino({ level: 'warn' }, { write: (line: string) => void logLines.push(line) }) } });
  // 127.0.0.1: the browser is a loopback client, so setup needs no token.
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launch();
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('first run and the admin’s first hour', () => {
  it('the setup page appears on a fresh database, creates the admin from loopback, and is gone afterwards', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/setup' })).json()).toEqual({ needed: true });
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Welcome: create the first admin' }).waitFor();
    await checkA11y('setup');
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password (at least 10 characters)').fill(ADMIN.password);
    await page.getByLabel('Repeat the password').fill('something else entirely');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await page.getByText('The two passwords differ.').waitFor();
    await page.getByLabel('Repeat the password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    // Signed in straight away, on the home page with the checklist.
    await page.getByRole('heading', { level: 1, name: 'Getting started' }).waitFor();
    expect(await page.locator('header .who').textContent()).toContain(ADMIN.name);
    const { rows } = await h.db.query<{ email: string; role: string }>('SELECT email, role FROM users');
    expect(rows).toEqual([{ email: ADMIN.email, role: 'admin' }]);

    // Gone for everyone else: a new browser at /setup gets the sign-in form, and the API says 409.
    const other = await launch();
    try {
      const fresh = await other.context.newPage();
      await fresh.goto(`${base}/setup`);
      await fresh.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await fresh.getByRole('heading', { name: 'Welcome: create the first admin' }).count()).toBe(0);
    } finally {
      await other.close();
    }
    expect((await app.inject({ method: 'GET', url: '/v1/setup' })).json()).toEqual({ needed: false });
    const again = await app.inject({ method: 'POST', url: '/v1/setup', payload: { ...ADMIN, email: 'eve@example.com' } });
    expect(again.statusCode).toBe(409);
  }, 60_000);

  it('the getting-started checklist turns each step green as the API does it', async () => {
    await page.goto(`${base}/`);
    await step('trunk').waitFor();
    expect(await doneSteps()).toEqual([]);
    await checkA11y('getting-started');

    // Trunk, through the Trunks page (which calls POST /v1/trunks).
    await step('trunk').getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Trunks' }).waitFor();
    await page.getByLabel('Trunk name').fill('Carrier A');
    await page.getByLabel('Carrier addresses (IP or CIDR, comma or space separated)').fill('127.0.16.1, 127.0.16.2/32');
    await page.getByRole('button', { name: 'Add trunk' }).click();
    await page.locator('tr[data-trunk="Carrier A"]').getByText('127.0.16.1/32, 127.0.16.2/32').waitFor();
    expect(await page.locator('tr[data-trunk="Carrier A"] td.last-invite').textContent()).toBe('never');
    // The test button: a fake SBC on loopback answers the OPTIONS.
    const sbc = dgram.createSocket('udp4');
    sbc.on('message', (msg, from) => {
      const lines = msg.toString('utf8').split('\r\n');
      const keep = lines.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      sbc.send(['SIP/2.0 200 OK', ...keep, 'Server: LoopbackSBC', 'Content-Length: 0', '', ''].join('\r\n'), from.port, from.address);
    });
    await new Promise<void>((resolve) => sbc.bind(0, '127.0.16.20', () => resolve()));
    try {
      await page.getByLabel('Address (host:port)').fill(`127.0.16.20:${sbc.address().port}`);
      await page.getByRole('button', { name: 'Send OPTIONS' }).click();
      await page
        .locator('.probe-result')
        .getByText(/^127\.0\.16\.20:\d+ answered 200 OK in \d+ ms \(LoopbackSBC\)$/)
        .waitFor();
    } finally {
      sbc.close();
    }
    await checkA11y('trunks');
    await page.goto(`${base}/`);
    await expect.poll(doneSteps, { timeout: 10_000 }).toEqual(['trunk']);

    // Numbers by API while the page stays open: the checklist polls.
    const trunk = (await api('GET', '/v1/trunks')).items[0];
    await api('POST', '/v1/numbers/bulk', { trunkId: trunk.id, lines: ['+74957100001', '+74957100002', '+74957100003'] });
    await expect.poll(doneSteps, { timeout: 10_000 }).toEqual(['trunk', 'numbers']);
    expect(await step('numbers').locator('.detail').textContent()).toBe('3 numbers');

    // A site (through the home page's form), then a pool on it.
    await page.getByLabel('Site name').fill('Shop');
    await page.getByLabel('Domain').fill('shop.example');
    await page.getByLabel('Number printed on the site').fill('+74957100000');
    await page.getByRole('button', { name: 'Add site' }).click();
    const siteItem = page.locator('#snippet li[data-site-id]');
    await siteItem.getByText('Snippet not seen yet', { exact: false }).waitFor();
    const site = (await api('GET', '/v1/sites')).items[0];
    expect(await siteItem.locator('pre.snippet').textContent()).toBe(`<script src="${base}/dni.js" data-site-key="${site.siteKey}" async></script>`);
    await api('POST', '/v1/pools', { siteId: site.id, name: 'web', holdSeconds: 600, numbers: ['+74957100001', '+74957100002'] });
    await expect.poll(doneSteps, { timeout: 10_000 }).toEqual(['trunk', 'numbers', 'pool_or_source']);

    // The snippet opens a visitor session on the site: "snippet seen".
    const visit = await app.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      headers: {
        origin: 'https://shop.example',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
        'content-type': 'application/json',
      },
      payload: { siteKey: site.siteKey, url: 'https://shop.example/' },
    });
    expect(visit.statusCode, visit.body).toBe(200);
    await expect.poll(doneSteps, { timeout: 10_000 }).toEqual(['trunk', 'numbers', 'pool_or_source', 'snippet']);
    await siteItem.getByText('Snippet last seen', { exact: false }).waitFor();
    expect(await step('snippet').locator('.detail').textContent()).toMatch(/^last seen on Shop, \S+/);

    // A first call: the row the call path writes when a call ends (the SIP path has its own tests).
    await h.db.query(
      `INSERT INTO calls (account_id, sip_call_id, trunk_id, tracking_number, caller, started_at, ended_at, disposition)
       VALUES ('00000000-0000-0000-0000-000000000001', 'first-run-call', $1, '+74957100001', '+79161234567', now(), now(), 'answered')`,
      [trunk.id],
    );
    await expect.poll(doneSteps, { timeout: 10_000 }).toEqual(['trunk', 'numbers', 'pool_or_source', 'snippet', 'first_call']);
    await checkA11y('getting-started-5-of-6');

    // The last step: a sink. Then the checklist is done and the home page is the call log.
    await api('POST', '/v1/sinks', {
      kind: 'webhook',
      name: 'CRM hook',
      config: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` },
    });
    await page.getByRole('heading', { level: 1, name: 'Calls' }).waitFor({ timeout: 10_000 });
    const onboarding = await api('GET', '/v1/onboarding');
    expect(onboarding.done).toBe(true);
    expect(onboarding.steps.map((s: { done: boolean }) => s.done)).toEqual([true, true, true, true, true, true]);
  }, 90_000);

  it('numbers page: bulk add names the bad lines, search by digits in any format, groups by pool and free, national format', async () => {
    await page.goto(`${base}/numbers`);
    await page.getByRole('heading', { level: 1, name: 'Numbers & pools' }).waitFor();
    await page
      .getByLabel('Numbers, one per line (a list or CSV with the number first)')
      .fill(['8 (495) 710-00-11', 'not a number', '+7 495 710 00 12', '+74957100011', '+74957100013'].join('\n'));
    await page.locator('select[name="bulkTrunkId"]').selectOption({ label: 'Carrier A' });
    await page.getByRole('button', { name: 'Add all' }).click();
    const report = page.locator('.bulk-report');
    await report.getByText('Added 3 numbers; 2 lines not added:').waitFor();
    expect(await report.locator('li').allTextContents()).toEqual(['Line 2: "not a number" is not a valid phone number', 'Line 4: +74957100011 repeats line 1']);
    // 3 earlier numbers + 3 new, shown in national format with E.164 beside.
    await page.getByRole('button', { name: 'All (6)' }).waitFor();
    const row = page.locator('tr[data-number="+74957100011"]');
    expect(await row.locator('.national').textContent()).toBe('8 (495) 710-00-11');
    await checkA11y('numbers-bulk');

    await page.getByLabel('Search by digits').fill('8 495 710-00-1');
    await expect
      .poll(() => page.locator('table.numbers tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-number'))))
      .toEqual(['+74957100011', '+74957100012', '+74957100013']);
    await page.getByLabel('Search by digits').fill('');
    await page.getByRole('button', { name: 'Pool web (2)' }).click();
    await expect
      .poll(() => page.locator('table.numbers tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-number'))))
      .toEqual(['+74957100001', '+74957100002']);
    await page.getByRole('button', { name: 'Free (4)' }).click();
    await expect.poll(() => page.locator('.pager .range').textContent()).toBe('1–4 of 4');
    // The pool card's gauge.
    const pool = (await api('GET', '/v1/pools')).items[0];
    const usage = page.locator(`[data-pool-usage="${pool.id}"]`);
    await expect.poll(() => usage.locator('.leased').textContent(), { timeout: 10_000 }).toMatch(/^\d\/2 leased now · \d free$/);
    await checkA11y('numbers-groups');
  }, 60_000);

  it('my sessions: sign out everywhere ends the other browser too; forgot password through the link in the log', async () => {
    const other = await launch();
    try {
      const phone = await other.context.newPage();
      await signIn(phone, base, ADMIN.email, ADMIN.password);
      await page.goto(`${base}/calls`);
      await page.locator('header .who').getByRole('link', { name: ADMIN.name }).click();
      await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
      await expect.poll(() => page.locator('table.sessions tbody tr').count()).toBe(2);
      expect(await page.locator('table.sessions tr[data-current="true"]').getByText('this browser').count()).toBe(1);
      await checkA11y('account-sessions');
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await phone.goto(`${base}/calls`);
      await phone.getByRole('heading', { name: 'Sign in' }).waitFor();
    } finally {
      await other.close();
    }

    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Forgot password' }).waitFor();
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByRole('button', { name: 'Write a reset link to the log' }).click();
    await page.getByText('a one-time reset link has been written to the server log', { exact: false }).waitFor();
    await checkA11y('forgot-password');
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.type === 'password_reset_link');
    const link = /http:\/\/ui\.test(\/reset-password\?token=[\w-]+)/.exec(line.msg)![1]!;
    await page.goto(`${base}${link}`);
    await page.getByLabel('New password (at least 10 characters)').fill('a new password after reset');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password changed. Every old session was signed out.').waitFor();
    await checkA11y('reset-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signIn(page, base, ADMIN.email, 'a new password after reset');
  }, 60_000);
});
