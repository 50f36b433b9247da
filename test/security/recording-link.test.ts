/** Leads carry a long-lived signed recording link that a CRM can open without an API key. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadPayload } from '../../server/leads/lead-payload.js';
import { signedRecordingUrl } from '../../server/recordings/recording-links.js';
import { attachRecording } from '../../server/recordings/recordings.repository.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { ACCOUNT } from '../leads/lead-fixtures.js';

let h: Harness;
let app: FastifyInstance;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-link-'));
const audio = crypto.randomBytes(2000);
const BASE = 'https://calls.example';

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function callWithRecording(): Promise<string> {
  const id = crypto.randomUUID();
  await h.db.query(
    `INSERT INTO calls (id, account_id, sip_call_id, tracking_number, caller, started_at, recording_status)
     VALUES ($1, $2, $3, '+74950000001', '+74951112233', now(), 'pending')`,
    [id, ACCOUNT, `sip-${id}`],
  );
  const file = path.join(dir, `${id}.mp3`);
  fs.writeFileSync(file, audio);
  await attachRecording(h.db, id, { wavPath: file, compressedPath: file, durationSeconds: 1, channels: 2 });
  return id;
}

const pathOf = (url: string) => url.slice(BASE.length);

describe('signed recording links in leads', () => {
  it('the lead’s recording_url opens the audio without an API key for the configured days', async () => {
    const id = await callWithRecording();
    const payload = await loadLeadPayload(
      h.db,
      { publicBaseUrl: BASE, recordingLinks: { secret: h.config.secretKey, ttlDays: 30 } },
      { callId: id, accountId: ACCOUNT, caller: '+79160000000', trackingNumber: '+74950000000' },
      { eventId: crypto.randomUUID(), type: 'call.completed', occurredAt: new Date() },
    );
    const url = payload!.call.recording_url!;
    expect(url.startsWith(`${BASE}/v1/calls/${id}/recording?`)).toBe(true);
    const expires = Number(new URL(url).searchParams.get('expires'));
    expect(expires * 1000 - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    expect(expires * 1000 - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);

    const res = await app.inject({ method: 'GET', url: pathOf(url) });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(audio)).toBe(true);
    // Without the signature it needs a key, as before.
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording` })).statusCode).toBe(401);
  });

  it('refuses a tampered, expired or other call’s link', async () => {
    const id = await callWithRecording();
    const other = await callWithRecording();
    const good = signedRecordingUrl(BASE, h.config.secretKey, ACCOUNT, id, Math.floor(Date.now() / 1000) + 86_400);
    expect((await app.inject({ method: 'GET', url: pathOf(good) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: pathOf(good).replace(id, other) })).statusCode).toBe(401);
    const token = new URL(good).searchParams.get('token')!;
    const tampered = pathOf(good).replace(token, `${token.startsWith('A') ? 'B' : 'A'}${token.slice(1)}`);
    expect((await app.inject({ method: 'GET', url: tampered })).statusCode).toBe(401);
    const expired = signedRecordingUrl(BASE, h.config.secretKey, ACCOUNT, id, Math.floor(Date.now() / 1000) - 1);
    expect((await app.inject({ method: 'GET', url: pathOf(expired) })).statusCode).toBe(401);
  });
});
