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
