/**
 * The browser UI end to end in real headless Chromium: sign in as each role, find a call in the log,
 * play its stereo recording, tag it, see the tag in the report, and check role limits (UI hides,
 * API answers 403). Screenshots of every page go to test-artifacts/screenshots/; axe-core checks each.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_ID } from '../../server/auth/auth.schemas.js';
import { createDialplanRegistry, type DialplanRegistry } from '../../server/dialplans/dialplan-registry.js';
import { dialplanRoutes } from '../../server/dialplans/dialplans.routes.js';
import { createSessionResolver } from '../../server/users/session.js';
import { userRoutes } from '../../server/users/users.routes.js';
import { createUserService } from '../../server/users/users.service.js';
import { webRoutes } from '../../server/web/web.routes.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { axeViolations, launch, screenshot, signIn } from './browser.js';

const PASSWORD = 'correct horse battery';
const ROLES = ['admin', 'manager', 'marketer', 'viewer'] as const;
const email = (role: string) => `${role}@example.com`;

let h: Harness;
let app: FastifyInstance;
let base: string;
let registry: DialplanRegistry;
let callId: string;
let tmp: string;

async function checkA11y(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
}

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  h = await createHarness();
  const users = createUserService({ db: h.db, secret: h.config.secretKey });
  registry = createDialplanRegistry(h.config.dialplansDir, h.logger);
  app = await h.buildApp({
    plugins: [userRoutes({ users, db: h.db }), dialplanRoutes({ dialplans: registry }), webRoutes({ distDir: path.resolve('server/web/dist') })],
    extraCredentials: [createSessionResolver({ users })],
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });

  // Bootstrap path: the ADMIN_API_KEY creates the browser users.
  for (const role of ROLES) {
    const res = await app.inject({ method: 'POST', url: '/v1/users', headers: h.adminHeaders, payload: { email: email(role), name: `${role} user`, role, password: PASSWORD } });
    expect(res.statusCode, res.body).toBe(201);
  }

  const trunk = (await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'carrier', addresses: ['127.0.0.1/32'] } })).json();
  const number = '+74951230001';
  expect((await app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number, trunkId: trunk.id } })).statusCode).toBe(201);
  const source = (await app.inject({ method: 'POST', url: '/v1/sources', headers: h.adminHeaders, payload: { name: 'Metro flyer', kind: 'offline', channel: 'flyer', campaign: 'spring-flyer', cost: 5000, numbers: [number] } })).json();

  // A real stereo recording: 440 Hz caller (left), 880 Hz agent (right), 4 s.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-web-'));
  const wav = path.join(tmp, 'call.wav');
  const mp3 = path.join(tmp, 'call.mp3');
  execFileSync('sox', ['-n', '-r', '8000', '-b', '16', '-c', '2', wav, 'synth', '4', 'sine', '440', 'sine', '880', 'gain', '-6']);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', wav, '-ac', '2', '-b:a', '32k', mp3]);

  const insert = async (c: { caller: string; minutesAgo: number; disposition: string; talk: number; recording: boolean }) => {
    const { rows } = await h.db.query<{ id: string }>(
      `INSERT INTO calls (account_id, sip_call_id, trunk_id, tracking_number, caller, started_at, answered_at, ended_at, disposition, talk_seconds,
         source_id, confidence, first_time, recording_status, recording_path, recording_mp3_path, recording_duration_seconds, recording_channels)
       VALUES ($1, $2, $3, $4, $5, now() - make_interval(mins => $6), CASE WHEN $7 = 'answered' THEN now() - make_interval(mins => $6) END,
         now() - make_interval(mins => $6) + make_interval(secs => $8), $7, $8, $9, 'static', true,
         CASE WHEN $10 THEN 'ready' ELSE 'none' END, CASE WHEN $10 THEN $11 END, CASE WHEN $10 THEN $12 END, CASE WHEN $10 THEN 4 END, CASE WHEN $10 THEN 2 END)
       RETURNING id`,
      [DEFAULT_ACCOUNT_ID, `web-${crypto.randomUUID()}`, trunk.id, number, c.caller, c.minutesAgo, c.disposition, c.talk, source.id, c.recording, wav, mp3],
    );
    return rows[0]!.id;
  };
  callId = await insert({ caller: '+12125550123', minutesAgo: 5, disposition: 'answered', talk: 4, recording: true });
  await insert({ caller: '+12125550188', minutesAgo: 2, disposition: 'no-answer', talk: 0, recording: false });
}, 120_000);

afterAll(async () => {
  registry?.close();
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

      await page.getByLabel('Caller').fill('+12125550123');
      await page.getByRole('button', { name: 'Apply' }).click();
      const row = page.locator(`tr[data-call-id="${callId}"]`);
      await row.waitFor();
      await page.getByLabel('Caller').fill('');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => page.locator('tr.missed').count()).toBe(1); // the missed call is highlighted
      await checkA11y(page, 'calls');

      await row.getByRole('link', { name: '+12125550123' }).click();
      await page.getByRole('heading', { name: 'Call from +12125550123' }).waitFor();
      // The waveform is decoded from the audio and drawn; its placeholder goes away.
      await page.locator('canvas.wave').waitFor();
      await expect.poll(async () => (await page.locator('.wave-note').allTextContents()).join(), { timeout: 15_000 }).toBe('');
      const inked = await page.evaluate(() => {
        const c = document.querySelector('canvas.wave') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let blue = 0, green = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i + 2]! > 150 && d[i]! < 100) blue++; if (d[i + 1]! > 90 && d[i]! < 50 && d[i + 2]! < 150) green++; }
        return { blue, green };
      });
      expect(inked.blue).toBeGreaterThan(100); // caller lane
      expect(inked.green).toBeGreaterThan(100); // agent lane

      const playing = await page.evaluate(async () => {
        const audio = document.querySelector('audio')!;
        const reached = new Promise<boolean>((resolve) => { audio.addEventListener('playing', () => resolve(true), { once: true }); setTimeout(() => resolve(false), 10_000); });
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
      await expect.poll(async () => (await h.db.query('SELECT listener FROM call_listens WHERE call_id = $1', [callId])).rows.map((r) => r.listener)).toEqual([email('admin')]);
      await page.locator('section[aria-labelledby="listens-h"]').getByText(email('admin'), { exact: false }).waitFor();

      await page.getByLabel('New tag').fill('hot-lead');
      await page.getByRole('button', { name: 'Add tag' }).click();
      await page.locator('ul.tags').getByText('hot-lead').waitFor();
      await checkA11y(page, 'call-detail');

      await page.getByRole('link', { name: 'Reports' }).click();
      await page.locator('table.tag-report').getByText('hot-lead').waitFor();
      await checkA11y(page, 'reports');

      for (const [link, name] of [['Tag rules', 'tag-rules'], ['Numbers & pools', 'numbers'], ['Sources', 'sources'], ['Settings', 'settings']] as const) {
        await page.getByRole('link', { name: link, exact: true }).click();
        await page.getByRole('heading', { level: 1, name: link }).waitFor();
        await expect.poll(() => page.locator('.loading').count(), { timeout: 10_000 }).toBe(0);
        await checkA11y(page, name);
      }
      // Admin manages numbers and users.
      await page.getByRole('link', { name: 'Numbers & pools' }).click();
      await page.getByRole('button', { name: 'Add number' }).waitFor();
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
        return (await fetch(`/v1/calls/${id}/tags`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify({ tags: ['nope'] }) })).status;
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
      await page.goto(`${base}/numbers`);
      await page.getByRole('heading', { name: 'Tracking numbers' }).waitFor();
      await page.getByText('+74951230001').first().waitFor();
      expect(await page.getByRole('button', { name: 'Add number' }).count()).toBe(0);
      const result = await page.evaluate(async () => {
        const s = await (await fetch('/v1/auth/session')).json();
        const headers = { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken };
        const trunkList = await fetch('/v1/trunks');
        const add = await fetch('/v1/numbers', { method: 'POST', headers, body: JSON.stringify({ number: '+74951230002', trunkId: '00000000-0000-0000-0000-000000000000' }) });
        return { trunks: trunkList.status, add: add.status };
      });
      expect(result).toEqual({ trunks: 403, add: 403 });
      await page.goto(`${base}/calls/${callId}`);
      await page.getByRole('button', { name: 'Add tag' }).waitFor();
      expect(await page.getByRole('button', { name: 'Save note' }).count()).toBe(0);
      const noCsrf = await page.evaluate(async (id) => (await fetch(`/v1/calls/${id}/tags`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['forged'] }) })).status, callId);
      expect(noCsrf).toBe(403);
      await context.clearCookies();

      await signIn(page, base, email('manager'), PASSWORD);
      await page.goto(`${base}/calls/${callId}`);
      await page.getByLabel('Add a note').fill('Asked for a quote');
      await page.getByRole('button', { name: 'Save note' }).click();
      await page.getByText('Asked for a quote').waitFor();
      expect(await page.getByRole('button', { name: 'Add number' }).count()).toBe(0);
    } finally {
      await close();
    }
  }, 60_000);
});
