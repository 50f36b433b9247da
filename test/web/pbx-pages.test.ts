// The admin's PBX pages in Chromium: an extension (password shown once), a ring group, and a call
// flow edited as steps — a mistake is marked at its step, then saved, versioned and rolled back.
import { execFileSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { axeViolations, launch, signIn } from './browser.js';

const PASSWORD = 'correct horse battery';
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  h = await createHarness();
  app = await h.buildApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const user = await app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: h.adminHeaders,
    payload: { email: 'pbx-admin@example.com', name: 'Admin', role: 'admin', password: PASSWORD },
  });
  expect(user.statusCode, user.body).toBe(201);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

it('adds an extension and a ring group, and edits a call flow step by step with versions', async () => {
  const { context, close } = await launch();
  try {
    const page = await context.newPage();
    await signIn(page, base, 'pbx-admin@example.com', PASSWORD);
    await page.getByRole('link', { name: 'Extensions & groups', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Extensions & groups' }).waitFor();
    await page.getByLabel('Number').fill('101');
    await page.getByLabel('Employee name').fill('Olga');
    await page.getByRole('button', { name: 'Add extension' }).click();
    await page
      .getByRole('status')
      .getByText(/password .* not shown again/)
      .waitFor();
    await page.locator('table.extensions tbody tr', { hasText: 'Olga' }).getByText('not registered').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('sales');
    await page.getByLabel('Strategy').selectOption('longest-idle');
    await page.getByLabel(/^Members/).fill('extension:101, tel:+79161234567');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.locator('table.groups tbody tr', { hasText: 'group:sales' }).getByText('longest idle first, 20 s').waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'Call flows', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Call flows' }).waitFor();
    await page.getByLabel('Name').fill('web-flow');
    await page.getByRole('button', { name: 'Create' }).click();
    const targets = page.getByLabel(/^Targets, one per line/);
    await targets.waitFor();
    // A target that is not one: the server's error names steps[0], and the page marks that step.
    await targets.fill('nowhere');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await page
      .getByRole('alert')
      .getByText(/^steps\[0\]\.forward\.targets\[0\]: not a target/)
      .waitFor();
    expect(await page.locator('li.step').first().getAttribute('aria-invalid')).toBe('true');
    await targets.fill('group:sales\nextension:101');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await page.locator('table.versions').getByText('2 (in use)').waitFor();
    expect((await app.inject({ url: '/v1/dialplans/web-flow', headers: h.adminHeaders })).json().steps[0].forward.targets).toEqual([
      'group:sales',
      'extension:101',
    ]);
    await page.getByRole('button', { name: 'Roll back to 1' }).click();
    await page.locator('table.versions').getByText('3 (in use)').waitFor();
    expect((await app.inject({ url: '/v1/dialplans/web-flow', headers: h.adminHeaders })).json().steps[0].forward.targets).toEqual(['extension:101']);
    expect(await axeViolations(page)).toEqual([]);
  } finally {
    await close();
  }
}, 90_000);

it('offers "Call back" on a missed call from the manager’s chosen extension, and shows why it cannot ring', async () => {
  const ext = await app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '105', name: 'Pavel' } });
  expect(ext.statusCode, ext.body).toBe(201);
  // A missed call, as the call path writes it (the SIP side of callbacks has its own test).
  await h.db.query(
    `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at, ended_at, disposition)
     VALUES ('00000000-0000-0000-0000-000000000001', 'pbx-page-missed', '+74957100002', '+79161230000', now(), now(), 'no-answer')`,
  );
  const { context, close } = await launch();
  try {
    const page = await context.newPage();
    await signIn(page, base, 'pbx-admin@example.com', PASSWORD);
    await page.getByRole('link', { name: 'Calls', exact: true }).click();
    const row = page.locator('table.calls tbody tr', { hasText: '+79161230000' });
    const button = row.getByRole('button', { name: 'Call back' });
    // Until an extension is chosen the button waits for it.
    expect(await button.isDisabled()).toBe(true);
    await page.getByLabel('Call back from extension').selectOption('105');
    await button.click();
    await row.getByRole('alert').getByText('no trunk has an outbound side').waitFor();
    const trunk = await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'out', outbound: { host: '127.0.0.9' } } });
    expect(trunk.statusCode, trunk.body).toBe(201);
    await button.click();
    await row.getByRole('alert').getByText('extension 105 has no phone registered').waitFor();
    // The choice is remembered in this browser.
    await page.reload();
    expect(await page.getByLabel('Call back from extension').inputValue()).toBe('105');
    expect(await axeViolations(page)).toEqual([]);
  } finally {
    await close();
  }
}, 90_000);

it('adds a call queue, and the wallboard shows its agents live: a pause from the page and a change by API appear without reloading', async () => {
  const ext = await app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '106', name: 'Rita' } });
  expect(ext.statusCode, ext.body).toBe(201);
  const { context, close } = await launch();
  try {
    const page = await context.newPage();
    await signIn(page, base, 'pbx-admin@example.com', PASSWORD);
    await page.getByRole('link', { name: 'Extensions & groups', exact: true }).click();
    await page.getByLabel('Queue name').fill('support');
    await page.getByLabel('Agents’ extensions (101, 102…)').fill('106');
    await page.getByLabel('Wrap-up seconds').fill('15');
    await page.getByRole('button', { name: 'Add queue' }).click();
    await page.locator('table.queues tbody tr', { hasText: 'queue: support' }).getByText('longest idle first, wrap-up 15 s').waitFor();
    expect((await app.inject({ url: '/v1/queues', headers: h.adminHeaders })).json().items[0]).toMatchObject({ members: ['extension:106'], wrapUpSeconds: 15 });

    await page.getByRole('link', { name: 'Wallboard', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Queue support' }).waitFor();
    const agent = page.locator('table.agents tbody tr', { hasText: '106' });
    await agent.getByText('offline').waitFor();
    await agent.getByRole('button', { name: 'Pause 106' }).click();
    await agent.getByText('paused').waitFor();
    // A change made elsewhere (the API) reaches the open page through the stream.
    const resumed = await app.inject({ method: 'PUT', url: '/v1/agents/106/status', headers: h.adminHeaders, payload: { status: 'available' } });
    expect(resumed.statusCode).toBe(200);
    await agent.getByText('offline').waitFor();
    expect(await page.locator('[data-figure="answered"]').textContent()).toBe('0');
    expect(await axeViolations(page)).toEqual([]);
  } finally {
    await close();
  }
}, 90_000);
