/**
 * The browser UI end to end in real headless Chromium: sign in as each role, find a call in the log,
 * play the stereo recording of a call made through SIPp, tag it, see the tag in the report, and check role limits (UI hides,
 * API answers 403). Screenshots of every page go to test-artifacts/screenshots/; axe-core checks each.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { provisionPool, type Provisioned } from '../dni/fixtures.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { startWebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { axeViolations, launch, screenshot, signIn } from './browser.js';

const PASSWORD = 'correct horse battery';
const ROLES = ['admin', 'manager', 'marketer', 'viewer'] as const;
const email = (role: string) => `${role}@example.com`;

let h: Harness;
let app: FastifyInstance;
let base: string;
let callId: string;
let tmp: string;
let sip: CallServer;
let pool: Provisioned;
let sourceId: string;
const CALLER_IP = '127.0.0.31';
const AGENT_IP = '127.0.0.32';
const NUMBER = '+74951230001';
const BUSY_NUMBER = '+74951230009';
const CALLER = '+79161234567'; // the From of uac-tone-bye.xml

async function checkA11y(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
}

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  h = await createHarness();
  // The production app, as server/main.ts builds it (lead workers are not started: no deliveries here).
  app = await h.buildApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });

  // Bootstrap path: the ADMIN_API_KEY creates the browser users.
  for (const role of ROLES) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: h.adminHeaders,
      payload: { email: email(role), name: `${role} user`, role, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(201);
  }

  // The calls are made through SIPp against the real B2BUA + rtpengine (test/helpers/call-server.ts);
  // the UI's app shares the harness's database, so it sees the rows the call path writes.
  const [agentPort, busyPort] = [await freePort(AGENT_IP), await freePort(AGENT_IP)];
  sip = await startCallServer(h, {
    dialplans: {
      'web-sales': { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] },
      'web-busy': { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${busyPort}`], ringSeconds: 5 } }] },
    },
  });
  const trunk = (
    await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`] } })
  ).json();
  for (const [number, dialplan] of [
    [NUMBER, 'web-sales'],
    [BUSY_NUMBER, 'web-busy'],
  ] as const) {
    const res = await sip.app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number, trunkId: trunk.id, dialplan } });
    expect(res.statusCode, res.body).toBe(201);
  }
  const source = await app.inject({
    method: 'POST',
    url: '/v1/sources',
    headers: h.adminHeaders,
    payload: { name: 'Metro flyer', kind: 'offline', channel: 'flyer', campaign: 'spring-flyer', cost: 5000, numbers: [NUMBER] },
  });
  expect(source.statusCode, source.body).toBe(201);
  sourceId = source.json().id;
  const sink = await app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers: h.adminHeaders,
    payload: { kind: 'webhook', name: 'CRM hook', config: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` } },
  });
  expect(sink.statusCode, sink.body).toBe(201);
  await sip.routing.refresh();

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-web-'));
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
  const caller = await runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${sip.sipPort}`,
    service: NUMBER.slice(1),
    vars: { TONE: makeToneFile(tmp, 1000, 4), TALK_MS: '4000' },
  });
  agent.stop();
  expect(caller.code, caller.errors + caller.stderr).toBe(0);
  const answered = await sip.waitForCall((r) => r.trackingNumber === NUMBER);
  expect(answered.disposition).toBe('answered');
  expect(await sip.waitForRecording(answered.id)).toBe('ready');
  callId = answered.id;

  const busyAgent = await startSipp({ scenario: scenarioPath('uas-reject.xml'), ip: AGENT_IP, port: busyPort, vars: { STATUS: '486', REASON: 'Busy Here' } });
  const busyCaller = await runSipp({
    scenario: scenarioPath('uac-expect-status.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${sip.sipPort}`,
    service: BUSY_NUMBER.slice(1),
    vars: { STATUS: '486' },
  });
  busyAgent.stop();
  expect(busyCaller.code, busyCaller.errors + busyCaller.stderr).toBe(0);
  expect((await sip.waitForCall((r) => r.trackingNumber === BUSY_NUMBER)).disposition).toBe('busy');

  // A dynamic pool of 3 with one number leased by a real website visit (the snippet's API).
  pool = await provisionPool(h, app, { size: 3, holdSeconds: 600, domains: ['shop.example'] });
  const visit = await app.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    headers: {
      origin: 'https://shop.example',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
      'content-type': 'application/json',
    },
    payload: { siteKey: pool.siteKey, url: 'https://shop.example/?utm_source=newsletter' },
  });
  expect(visit.json().tracking, visit.body).toBe(true);
  await vi.waitFor(
    async () => {
      expect((await app.inject({ method: 'GET', url: `/v1/pools/${pool.poolId}/usage`, headers: h.adminHeaders })).json().leased).toBe(1);
    },
    { timeout: 5_000, interval: 50 },
  );
}, 120_000);

afterAll(async () => {
  await sip?.stop();
  await h?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('web UI in headless Chromium', () => {
  it('serves the app with SPA fallback and keeps API 404s as JSON', async () => {
    const deep = await fetch(`${base}/calls/${callId}`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const api = await fetch(`${base}/v1/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404); // unknown /v1 paths are JSON 404s, never the app
    expect(await api.json()).toMatchObject({ error: 'not_found' });
    const missing = await fetch(`${base}/assets/missing.js`);
    expect(missing.status).toBe(404);
  });

  it('admin: finds the call, plays the stereo recording, tags it, sees the tag in the report; every page passes axe', async () => {
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/sign-in`);
      await checkA11y(page, 'sign-in');
      await signIn(page, base, email('admin'), PASSWORD);

      await page.getByLabel('Caller').fill(CALLER);
      await page.getByRole('button', { name: 'Apply' }).click();
      const row = page.locator(`tr[data-call-id="${callId}"]`);
      await row.waitFor();
      await page.getByLabel('Caller').fill('');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => page.locator('tr.missed').count()).toBe(1); // the missed call is highlighted
      await checkA11y(page, 'calls');

      await row.getByRole('link', { name: CALLER }).click();
      await page.getByRole('heading', { name: `Call from ${CALLER}` }).waitFor();
      // The waveform is decoded from the audio and drawn; its placeholder goes away.
      await page.locator('canvas.wave').waitFor();
      await expect.poll(async () => (await page.locator('.wave-note').allTextContents()).join(), { timeout: 15_000 }).toBe('');
      const inked = await page.evaluate(() => {
        const c = document.querySelector('canvas.wave') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let blue = 0,
          green = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 2]! > 150 && d[i]! < 100) blue++;
          if (d[i + 1]! > 90 && d[i]! < 50 && d[i + 2]! < 150) green++;
        }
        return { blue, green };
      });
      expect(inked.blue).toBeGreaterThan(100); // caller lane
      expect(inked.green).toBeGreaterThan(100); // agent lane

      const playing = await page.evaluate(async () => {
        const audio = document.querySelector('audio')!;
        const reached = new Promise<boolean>((resolve) => {
          audio.addEventListener('playing', () => resolve(true), { once: true });
          setTimeout(() => resolve(false), 10_000);
        });
        await audio.play();
        return reached;
      });
      expect(playing).toBe(true);
      await expect.poll(() => page.evaluate(() => document.querySelector('audio')!.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.5);
      const src = await page.evaluate(() => document.querySelector('audio')!.currentSrc);
      expect(src).toContain(`/v1/calls/${callId}/recording?`);
      // Seeking by clicking the waveform moves playback near the clicked fraction.
      await page.evaluate(() => document.querySelector('audio')!.pause());
      const box = (await page.locator('canvas.wave').boundingBox())!;
      await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
      await expect.poll(() => page.evaluate(() => document.querySelector('audio')!.currentTime)).toBeGreaterThan(2.5);
      // Listening was logged, by this user.
      await expect
        .poll(async () => (await h.db.query('SELECT listener FROM call_listens WHERE call_id = $1', [callId])).rows.map((r) => r.listener))
        .toEqual([email('admin')]);
      await page.locator('section[aria-labelledby="listens-h"]').getByText(email('admin'), { exact: false }).waitFor();

      await page.getByLabel('New tag').fill('hot-lead');
      await page.getByRole('button', { name: 'Add tag' }).click();
      await page.locator('ul.tags').getByText('hot-lead').waitFor();
      await checkA11y(page, 'call-detail');

      await page.getByRole('link', { name: 'Reports' }).click();
      await page.locator('table.tag-report').getByText('hot-lead').waitFor();
      // Real figures from /v1/reports/*: one call to the flyer's number, one unattributed busy call.
      const flyer = page.locator('table.source-report tbody tr[data-source="Metro flyer"]');
      await expect.poll(() => flyer.locator('td.calls').textContent()).toBe('1');
      expect(await flyer.locator('td').nth(4).textContent()).toBe('1'); // answered
      const unattributed = page.locator('table.source-report tbody tr', { hasText: 'Unattributed' });
      expect(await unattributed.locator('td.calls').textContent()).toBe('1');
      expect(await unattributed.locator('td').nth(5).textContent()).toBe('1'); // missed (busy)
      expect(await page.locator('table.source-report tfoot td.calls').textContent()).toBe('2');
      const dailyCalls = await page.locator('table.daily-report tbody tr td:nth-child(2)').allTextContents();
      expect(dailyCalls.reduce((a, b) => a + Number(b), 0)).toBe(2);
      await page.locator('dl.funnel-facts').getByText('1 · 50%').waitFor(); // answered of all calls
      await checkA11y(page, 'reports');

      for (const [link, name] of [
        ['Tag rules', 'tag-rules'],
        ['Numbers & pools', 'numbers'],
        ['Sources', 'sources'],
        ['Settings', 'settings'],
      ] as const) {
        await page.getByRole('link', { name: link, exact: true }).click();
        await page.getByRole('heading', { level: 1, name: link }).waitFor();
        await expect.poll(() => page.locator('.loading').count(), { timeout: 10_000 }).toBe(0);
        await checkA11y(page, name);
      }
      // Integrations lists the lead sink from /v1/sinks with its events and delivery log: the tag added above
      // is a call.modified lead waiting for it (the workers are not started here).
      await page.getByRole('link', { name: 'Integrations', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
      const sinkItem = page.locator('li[data-sink-id]', { hasText: 'CRM hook' });
      await sinkItem.getByText('(webhook)').waitFor();
      await sinkItem.getByText(/^Events: .*call\./).waitFor();
      await sinkItem.locator('tbody tr', { hasText: 'call.modified' }).getByText('pending').waitFor();
      // Its receiver is down (port 9): the test lead says so at once.
      await sinkItem.getByRole('button', { name: 'Send test lead' }).click();
      await sinkItem
        .getByRole('status')
        .getByText(/^Test lead failed/)
        .waitFor();
      // A new webhook sink added in the form gets a signed test lead.
      const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
      const receiver = await startWebhookFake(secret);
      try {
        const addSink = page.getByRole('form', { name: 'Add a sink' });
        await addSink.getByLabel('Kind').selectOption('webhook');
        await addSink.getByLabel('Name', { exact: true }).fill('Receiver');
        await addSink.getByLabel('URL').fill(`${receiver.url}/in`);
        await addSink.getByLabel('Signing secret').fill(secret);
        await addSink.getByRole('button', { name: 'Add sink' }).click();
        const added = page.locator('li[data-sink-id]', { hasText: 'Receiver' });
        await added.getByRole('button', { name: 'Send test lead' }).click();
        await added
          .getByRole('status')
          .getByText(/^Test lead delivered/)
          .waitFor();
        expect(receiver.received.map((m) => m.payload.type)).toEqual(['call.completed']);
        await checkA11y(page, 'integrations');
      } finally {
        await receiver.close();
      }
      // Admin manages numbers and users.
      await page.getByRole('link', { name: 'Numbers & pools' }).click();
      await page.getByRole('button', { name: 'Add number' }).waitFor();
      // Pool usage from /v1/pools/:id/usage: 3 numbers, one leased by the visit made in beforeAll.
      const usage = page.locator(`[data-pool-usage="${pool.poolId}"]`);
      await expect.poll(() => usage.locator('.leased').textContent(), { timeout: 10_000 }).toBe('1/3 leased now · 2 free');
      expect(await usage.locator('meter').getAttribute('value')).toBe('1');
      await expect.poll(() => usage.locator('.peak').textContent()).toMatch(/^peak 1 at once \(33%\) · 1 leases in the last 24 h$/);
      // Sizing from measured call delays: no calls yet, so the default cool-down and the rule of thumb for comparison.
      await expect.poll(() => usage.locator('.cooldown').textContent()).toMatch(/^cool-down \d+ (s|min) \(default until 20 calls are measured\)$/);
      expect(await usage.locator('.rule').textContent()).toBe('rule of thumb (1 per 20 daily visitors): 1 for 1 visitors in 24 h');
      // The static number's QR thumbnail loads through the session cookie.
      const thumb = page.locator(`tr[data-number="${NUMBER}"] img.qr`);
      expect(await thumb.getAttribute('src')).toBe(`/v1/sources/${sourceId}/qr.svg?number=${encodeURIComponent(NUMBER)}`);
      await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
      await checkA11y(page, 'numbers-usage');
      await page.getByRole('link', { name: 'Sources', exact: true }).click();
      const qr = page.getByRole('img', { name: `QR code that dials ${NUMBER}` });
      await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    } finally {
      await close();
    }
  }, 120_000);

  it('viewer: read-only; cannot tag (hidden in the UI, 403 from the API)', async () => {
    const { context, close } = await launch({ width: 390, height: 844 });
    try {
      const page = await context.newPage();
      await signIn(page, base, email('viewer'), PASSWORD);
      await page.locator(`tr[data-call-id="${callId}"]`).waitFor();
      await checkA11y(page, 'calls-phone');
      await page.goto(`${base}/calls/${callId}`);
      await page.getByRole('heading', { name: 'Tags' }).waitFor();
      expect(await page.getByRole('button', { name: 'Add tag' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
      const status = await page.evaluate(async (id) => {
        const s = await (await fetch('/v1/auth/session')).json();
        return (
          await fetch(`/v1/calls/${id}/tags`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
            body: JSON.stringify({ tags: ['nope'] }),
          })
        ).status;
      }, callId);
      expect(status).toBe(403);
      await checkA11y(page, 'call-detail-phone');
    } finally {
      await close();
    }
  }, 60_000);

  it('marketer: can tag, cannot manage numbers; manager can note; cookie mutations need the CSRF header', async () => {
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      await signIn(page, base, email('marketer'), PASSWORD);
      // A marketer creates a tag rule with two conditions through the form; it is listed and stored as the API defines it.
      await page.getByRole('link', { name: 'Tag rules', exact: true }).click();
      await page.getByLabel('Tag', { exact: true }).fill('long-call');
      await page.getByRole('spinbutton', { name: 'Seconds' }).fill('30');
      await page.getByRole('button', { name: 'Add condition' }).click();
      const second = page.getByRole('group', { name: 'Condition 2' });
      await second.getByLabel('When').selectOption('disposition');
      await second.getByLabel('Outcome').selectOption('answered');
      await page.getByRole('button', { name: 'Add rule' }).click();
      const ruleRow = page.locator('table.tag-rules tbody tr', { hasText: 'long-call' });
      await ruleRow.getByText('talk time over 30 s and ended as answered').waitFor();
      const rules = (await app.inject({ method: 'GET', url: '/v1/tag-rules', headers: h.adminHeaders })).json().items;
      expect(rules).toMatchObject([{ tag: 'long-call', name: 'long-call', enabled: true, conditions: { talkSecondsOver: 30, disposition: 'answered' } }]);
      await checkA11y(page, 'tag-rules-marketer');
      await page.goto(`${base}/numbers`);
      await page.getByRole('heading', { name: 'Tracking numbers' }).waitFor();
      await page.getByText('+74951230001').first().waitFor();
      expect(await page.getByRole('button', { name: 'Add number' }).count()).toBe(0);
      const result = await page.evaluate(async () => {
        const s = await (await fetch('/v1/auth/session')).json();
        const headers = { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken };
        const trunkList = await fetch('/v1/trunks');
        const add = await fetch('/v1/numbers', {
          method: 'POST',
          headers,
          body: JSON.stringify({ number: '+74951230002', trunkId: '00000000-0000-0000-0000-000000000000' }),
        });
        return { trunks: trunkList.status, add: add.status };
      });
      expect(result).toEqual({ trunks: 403, add: 403 });
      await page.goto(`${base}/calls/${callId}`);
      await page.getByRole('button', { name: 'Add tag' }).waitFor();
      expect(await page.getByRole('button', { name: 'Save note' }).count()).toBe(0);
      const noCsrf = await page.evaluate(
        async (id) =>
          (await fetch(`/v1/calls/${id}/tags`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['forged'] }) }))
            .status,
        callId,
      );
      expect(noCsrf).toBe(403);
      await context.clearCookies();

      await signIn(page, base, email('manager'), PASSWORD);
      await page.goto(`${base}/calls/${callId}`);
      await page.getByLabel('Add a note').fill('Asked for a quote');
      await page.getByRole('button', { name: 'Save note' }).click();
      await page.getByText('Asked for a quote').waitFor();
      expect(await page.getByRole('button', { name: 'Add number' }).count()).toBe(0);
      // Managers see the rules but cannot change them (the API answers 403 too).
      await page.getByRole('link', { name: 'Tag rules', exact: true }).click();
      await page.locator('table.tag-rules span.tag', { hasText: 'long-call' }).waitFor();
      expect(await page.getByRole('button', { name: 'Add rule' }).count()).toBe(0);
      expect(await page.locator('table.tag-rules button').count()).toBe(0);
      const forbidden = await page.evaluate(async () => {
        const s = await (await fetch('/v1/auth/session')).json();
        return (
          await fetch('/v1/tag-rules', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
            body: JSON.stringify({ tag: 'x', conditions: { missed: true } }),
          })
        ).status;
      });
      expect(forbidden).toBe(403);
    } finally {
      await close();
    }
  }, 60_000);
});
