import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachRecording } from '../../server/recordings/recordings.repository.js';
import { createRecordingService } from '../../server/recordings/recordings.service.js';
import { stereoWav } from '../../server/recordings/stereo-writer.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const DEFAULT_ACCOUNT = '00000000-0000-0000-0000-000000000001';
let h: Harness;
let app: FastifyInstance;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-routes-'));
const mp3 = crypto.randomBytes(5000); // the route serves bytes; their codec does not matter here
const wav = stereoWav(new Int16Array(800).fill(1000), new Int16Array(800).fill(-1000));

async function insertCall(o: { accountId?: string; startedAt?: string; status?: string } = {}): Promise<string> {
  const id = crypto.randomUUID();
  await h.db.query(
    `INSERT INTO calls (id, account_id, sip_call_id, tracking_number, caller, started_at, recording_status)
     VALUES ($1, $2, $3, '+74950000001', '+74951112233', $4, $5)`,
    [id, o.accountId ?? DEFAULT_ACCOUNT, `sip-${id}`, o.startedAt ?? new Date().toISOString(), o.status ?? 'none'],
  );
  return id;
}

async function callWithRecording(o: { accountId?: string; startedAt?: string } = {}): Promise<{ id: string; mp3Path: string; wavPath: string }> {
  const id = await insertCall({ ...o, status: 'pending' });
  const mp3Path = path.join(dir, `${id}.mp3`);
  const wavPath = path.join(dir, `${id}.wav`);
  fs.writeFileSync(mp3Path, mp3);
  fs.writeFileSync(wavPath, wav);
  expect(await attachRecording(h.db, id, { wavPath, compressedPath: mp3Path, durationSeconds: 0.1, channels: 2 })).toBe(true);
  return { id, mp3Path, wavPath };
}

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/calls/:id/recording', () => {
  it('streams the MP3 by default and the WAV on ?format=wav, announcing byte ranges', async () => {
    const { id } = await callWithRecording();
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: h.adminHeaders });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'audio/mpeg', 'accept-ranges': 'bytes', 'content-length': String(mp3.length) });
    expect(res.rawPayload.equals(mp3)).toBe(true);
    const w = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording?format=wav`, headers: h.adminHeaders });
    expect(w.statusCode).toBe(200);
    expect(w.headers['content-type']).toBe('audio/wav');
    expect(w.rawPayload.equals(wav)).toBe(true);
  });

  it('answers byte ranges with 206 and Content-Range', async () => {
    const { id } = await callWithRecording();
    const cases: Array<[string, number, number]> = [
      ['bytes=100-199', 100, 199],
      ['bytes=4990-', 4990, 4999],
      ['bytes=-10', 4990, 4999],
      ['bytes=4000-999999', 4000, 4999],
      ['bytes=0-0', 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: { ...h.adminHeaders, range } });
      expect(res.statusCode, range).toBe(206);
      expect(res.headers['content-range'], range).toBe(`bytes ${start}-${end}/${mp3.length}`);
      expect(res.headers['content-length'], range).toBe(String(end - start + 1));
      expect(res.rawPayload.equals(mp3.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 with the size for unsatisfiable ranges, and ignores ranges it does not support', async () => {
    const { id } = await callWithRecording();
    for (const range of ['bytes=5000-', 'bytes=9000-9100', 'bytes=-0']) {
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: { ...h.adminHeaders, range } });
      expect(res.statusCode, range).toBe(416);
      expect(res.headers['content-range'], range).toBe(`bytes */${mp3.length}`);
      expect(res.json().message).toMatch(/not satisfiable/);
    }
    for (const range of ['bytes=0-1,5-9', 'items=0-4', 'bytes=9-2']) {
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: { ...h.adminHeaders, range } });
      expect(res.statusCode, range).toBe(200);
      expect(res.rawPayload.length, range).toBe(mp3.length);
    }
  });

  it('says 404 with a reason for unknown calls, calls without a recording, and missing files', async () => {
    const unknown = crypto.randomUUID();
    const a = await app.inject({ method: 'GET', url: `/v1/calls/${unknown}/recording`, headers: h.adminHeaders });
    expect([a.statusCode, a.json().message]).toEqual([404, `call ${unknown} not found`]);
    const none = await insertCall();
    const b = await app.inject({ method: 'GET', url: `/v1/calls/${none}/recording`, headers: h.adminHeaders });
    expect([b.statusCode, b.json().message]).toEqual([404, 'this call has no recording']);
    const pending = await insertCall({ status: 'pending' });
    const c = await app.inject({ method: 'GET', url: `/v1/calls/${pending}/recording`, headers: h.adminHeaders });
    expect([c.statusCode, c.json().message]).toEqual([404, 'the recording is still being processed']);
    const gone = await callWithRecording();
    fs.rmSync(gone.mp3Path);
    const d = await app.inject({ method: 'GET', url: `/v1/calls/${gone.id}/recording`, headers: h.adminHeaders });
    expect(d.statusCode).toBe(404);
  });

  it("is account-scoped: another account's call is not found", async () => {
    const other = crypto.randomUUID();
    await h.db.query('INSERT INTO accounts (id, name) VALUES ($1, $2)', [other, 'other']);
    const { id } = await callWithRecording({ accountId: other });
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: h.adminHeaders });
    expect(res.statusCode).toBe(404);
  });

  it('lets every role listen and refuses anonymous or wrong keys', async () => {
    const { id } = await callWithRecording();
    for (const role of ['manager', 'marketer', 'viewer'] as const) {
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: await h.headersFor(role) });
      expect(res.statusCode, role).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording`, headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });
});

describe('GET /v1/calls/:id/recording-url', () => {
  it('gives an expiring link that plays without a header, for that call only', async () => {
    const { id } = await callWithRecording();
    const other = await callWithRecording();
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}/recording-url`, headers: await h.headersFor('viewer') });
    expect(res.statusCode).toBe(200);
    const { url, expiresAt } = res.json() as { url: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    const play = await app.inject({ method: 'GET', url, headers: { range: 'bytes=0-9' } });
    expect(play.statusCode).toBe(206);
    expect(play.rawPayload.equals(mp3.subarray(0, 10))).toBe(true);
    expect((await app.inject({ method: 'GET', url: `${url}&format=wav` })).headers['content-type']).toBe('audio/wav');
    // The token is bound to the call, the account and the expiry.
    expect((await app.inject({ method: 'GET', url: url.replace(id, other.id) })).statusCode).toBe(401);
    const u = new URL(url, 'http://x');
    u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 60));
    expect((await app.inject({ method: 'GET', url: `${u.pathname}${u.search}` })).statusCode).toBe(401);
    const expired = new URL(url, 'http://x');
    expired.searchParams.set('expires', String(Math.floor(Date.now() / 1000) - 1));
    expect((await app.inject({ method: 'GET', url: `${expired.pathname}${expired.search}` })).statusCode).toBe(401);
    // A link is no credential for anything else under /v1.
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${id}?${u.search.slice(1)}` })).statusCode).toBe(401);
  });

  it('says 404 when there is nothing to play', async () => {
    const none = await insertCall();
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${none}/recording-url`, headers: h.adminHeaders });
    expect([res.statusCode, res.json().message]).toEqual([404, 'this call has no recording']);
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${crypto.randomUUID()}/recording-url`, headers: h.adminHeaders })).statusCode).toBe(404);
  });
});

describe('retention sweep', () => {
  it('deletes recordings older than N days and clears their columns, keeping newer ones', async () => {
    const old = await callWithRecording({ startedAt: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    const recent = await callWithRecording({ startedAt: new Date(Date.now() - 5 * 86_400_000).toISOString() });
    const service = createRecordingService({ db: h.db, rtpengineDir: dir, recordingsDir: dir, logger: h.logger });
    expect(await service.sweep(30)).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(old.mp3Path) || fs.existsSync(old.wavPath)).toBe(false);
    expect(fs.existsSync(recent.mp3Path) && fs.existsSync(recent.wavPath)).toBe(true);
    const rows = (
      await h.db.query(
        'SELECT id, recording_status, recording_path, recording_mp3_path, recording_duration_seconds, recording_channels FROM calls WHERE id = ANY($1)',
        [[old.id, recent.id]],
      )
    ).rows;
    expect(rows.find((r) => r.id === old.id)).toMatchObject({
      recording_status: 'none',
      recording_path: null,
      recording_mp3_path: null,
      recording_duration_seconds: null,
      recording_channels: null,
    });
    expect(rows.find((r) => r.id === recent.id)).toMatchObject({ recording_status: 'ready', recording_path: recent.wavPath });
    expect((await app.inject({ method: 'GET', url: `/v1/calls/${old.id}/recording`, headers: h.adminHeaders })).statusCode).toBe(404);
    expect(await service.sweep(30)).toBe(0);
  });
});

describe('POST /v1/calls/:id/recording/retry', () => {
  it('queues a failed recording for the sweeper now; a ready one or a call without a recording is a 409, viewers get 403', async () => {
    const failed = await insertCall({ status: 'failed' });
    await h.db.query(`UPDATE calls SET recording_retry_at = NULL, recording_attempts = 5 WHERE id = $1`, [failed]);
    const viewer = await h.headersFor('viewer');
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${failed}/recording/retry`, headers: viewer })).statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: `/v1/calls/${failed}/recording/retry`, headers: await h.headersFor('manager') });
    expect(res.statusCode, res.body).toBe(202);
    const { rows } = await h.db.query('SELECT recording_status, recording_retry_at <= now() AS due FROM calls WHERE id = $1', [failed]);
    expect(rows[0]).toEqual({ recording_status: 'failed', due: true });
    const { id: ready } = await callWithRecording();
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${ready}/recording/retry`, headers: h.adminHeaders })).statusCode).toBe(409);
    const none = await insertCall({ status: 'none' });
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${none}/recording/retry`, headers: h.adminHeaders })).statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${crypto.randomUUID()}/recording/retry`, headers: h.adminHeaders })).statusCode).toBe(404);
  });
});
