// Calls that employees' phones place, with real SIPp phones, a SIPp carrier gateway and rtpengine:
// an extension dials a colleague (internal) or an outside number through the outbound trunk
// (outbound, recorded in stereo, caller ID and digest as the trunk says). Toll fraud: a phone
// without the international grant cannot call abroad, the calls-per-minute cap holds, a wrong
// password and an unknown address get 403. A browser's short-lived credentials place calls over
// WebSocket only (test/web/softphone.test.ts): on UDP they get 403.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, registerPhone, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { startUdpPhone } from '../helpers/udp-phone.js';
import { readWav } from '../helpers/wav.js';

const PHONE_A_IP = '127.0.22.1';
const PHONE_B_IP = '127.0.22.2';
const GATEWAY_IP = '127.0.22.3';
const STRANGER_IP = '127.0.22.4';
const COMPANY_NUMBER = '+74951112233';
const CUSTOMER = { dialled: '89161234501', e164: '+79161234501' };
const ABROAD = '+442079460958';
let h: Harness;
let server: CallServer;
let gatewayPort: number;
let phoneBPort: number;
let tone: string;

interface Phone {
  id: string;
  sipUsername: string;
  sipPassword: string;
}
const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: h.adminHeaders, ...(payload ? { payload } : {}) });
async function addExtension(body: object): Promise<Phone> {
  const res = await api('POST', '/v1/extensions', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const dial = (phone: Phone, service: string, ip = PHONE_A_IP) =>
  runSipp({
    scenario: scenarioPath('uac-phone-call.xml'),
    ip,
    target: `127.0.0.1:${server.sipPort}`,
    service,
    vars: { USER: phone.sipUsername, PASSWORD: phone.sipPassword, TONE: tone, TALK_MS: '2000' },
  });
const dialRefused = (phone: Phone, service: string, status: number) =>
  runSipp({
    scenario: scenarioPath('uac-phone-refused.xml'),
    ip: PHONE_A_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service,
    vars: { USER: phone.sipUsername, PASSWORD: phone.sipPassword, STATUS: String(status) },
  });

beforeAll(async () => {
  h = await createHarness();
  gatewayPort = await freePort(GATEWAY_IP);
  phoneBPort = await freePort(PHONE_B_IP);
  server = await startCallServer(h, { dialplans: {} });
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 2);
  const trunk = await api('POST', '/v1/trunks', {
    name: 'carrier',
    outbound: {
      host: GATEWAY_IP,
      port: gatewayPort,
      username: 'gw-user',
      password: 'gw-secret',
      callerId: 'fixed',
      fixedNumber: COMPANY_NUMBER,
      identity: ['pai', 'diversion'],
    },
  });
  expect(trunk.statusCode, trunk.body).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('calls from extensions', () => {
  it('an extension calls a colleague’s registered phone (internal)', async () => {
    const anna = await addExtension({ extension: '201', name: 'Anna' });
    const boris = await addExtension({ extension: '202', name: 'Boris' });
    const registered = await registerPhone({
      ip: PHONE_B_IP,
      target: `127.0.0.1:${server.sipPort}`,
      username: boris.sipUsername,
      password: boris.sipPassword,
      contactPort: phoneBPort,
    });
    expect(registered.code, registered.errors).toBe(0);
    const borisPhone = await startSipp({ scenario: 'uas', ip: PHONE_B_IP, port: phoneBPort, rtpEcho: true });
    const call = await dial(anna, '202');
    borisPhone.stop();
    expect(call.code, call.errors + call.stderr).toBe(0);
    const record = await server.waitForCall((r) => r.direction === 'internal');
    expect(record).toMatchObject({
      direction: 'internal',
      caller: '201',
      callerName: 'Anna',
      callee: '202',
      extensionId: anna.id,
      trunkId: null,
      disposition: 'answered',
      answeredTarget: 'extension:202',
      answeredBy: `sip:${boris.sipUsername}@${PHONE_B_IP}:${phoneBPort}`,
    });
  });

  it('an extension calls an outside number through the trunk, with the company caller ID, recorded in stereo', async () => {
    const vera = await addExtension({ extension: '203', name: 'Vera' });
    const gateway = await startSipp({
      scenario: scenarioPath('uas-gateway-challenge.xml'),
      ip: GATEWAY_IP,
      port: gatewayPort,
      rtpEcho: true,
      vars: { FROM: `sip:\\${COMPANY_NUMBER}@`, PAI: `sip:\\${COMPANY_NUMBER}@${GATEWAY_IP}>$`, DIVERSION: `sip:\\${COMPANY_NUMBER}@${GATEWAY_IP}>` },
    });
    const call = await dial(vera, CUSTOMER.dialled);
    const gatewayResult = await gateway.done;
    expect(call.code, call.errors + call.stderr).toBe(0);
    expect(gatewayResult.code, gatewayResult.errors).toBe(0);
    const record = await server.waitForCall((r) => r.direction === 'outbound' && r.caller === '203');
    expect(record).toMatchObject({
      direction: 'outbound',
      callee: CUSTOMER.e164,
      trackingNumber: COMPANY_NUMBER,
      disposition: 'answered',
      answeredTarget: `tel:${CUSTOMER.e164}`,
    });
    expect(await server.waitForRecording(record.id)).toBe('ready');
    const row = (await h.db.query('SELECT recording_path, recording_channels FROM calls WHERE id = $1', [record.id])).rows[0];
    expect(row.recording_channels).toBe(2);
    // The phone streamed 2 s of 1 kHz; the gateway (SIPp -rtp_echo) sent it back: both sides carry it.
    const wav = readWav(row.recording_path);
    for (const channel of wav.channels) expect(toneSeconds(channel, 8000, 1000, [1000, 440])).toBeGreaterThanOrEqual(1.5);
    // Outbound calls are in the call log, marked, and never leads.
    const log = await api('GET', `/v1/calls/${record.id}`);
    expect(log.json()).toMatchObject({ direction: 'outbound', callee: CUSTOMER.e164 });
  });

  it('toll fraud: abroad only with the grant, the calls-per-minute cap holds, a wrong password or a stranger gets 403', async () => {
    const domestic = await addExtension({ extension: '204', name: 'Gleb', outboundPerMinute: 1 });
    const abroad = await dialRefused(domestic, ABROAD.slice(1), 403);
    expect(abroad.code, abroad.errors).toBe(0);

    // The gateway is busy: each call that gets through ends 486; one over the cap gets 403 and never reaches it.
    const gateway = await startSipp({
      scenario: scenarioPath('uas-reject.xml'),
      ip: GATEWAY_IP,
      port: gatewayPort,
      calls: 2,
      vars: { STATUS: '486', REASON: 'Busy Here' },
    });
    const first = await dialRefused(domestic, CUSTOMER.dialled, 486);
    const second = await dialRefused(domestic, CUSTOMER.dialled, 403);
    // With the grant and room in the cap the same phone reaches abroad (busy there).
    const granted = await api('PATCH', `/v1/extensions/${domestic.id}`, { international: true, outboundPerMinute: 3 });
    expect(granted.json()).toMatchObject({ international: true, outboundPerMinute: 3 });
    const third = await dialRefused(domestic, ABROAD, 486);
    gateway.stop();
    for (const result of [first, second, third]) expect(result.code, result.errors).toBe(0);
    // Two calls went out (busy at the gateway); the one over the cap was refused before it left.
    await server.waitForCall((r) => r.extensionId === domestic.id && r.callee === ABROAD);
    const outbound = await h.db.query(`SELECT callee FROM calls WHERE extension_id = $1 ORDER BY started_at`, [domestic.id]);
    expect(outbound.rows.map((r) => r.callee)).toEqual([CUSTOMER.e164, ABROAD]);

    const wrongPassword = await dialRefused({ ...domestic, sipPassword: 'not-the-password' }, CUSTOMER.dialled, 403);
    expect(wrongPassword.code, wrongPassword.errors).toBe(0);
    const stranger = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: STRANGER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: CUSTOMER.dialled,
      vars: { STATUS: '403' },
    });
    expect(stranger.code, stranger.errors).toBe(0);
  });

  it('refuses a browser’s short-lived credentials on UDP (they place calls over WebSocket only)', async () => {
    const dina = await addExtension({ extension: '205', name: 'Dina' });
    const issued = server.services.softphone.issue({ id: dina.id, sipUsername: dina.sipUsername });
    const phone = await startUdpPhone(STRANGER_IP, await freePort(STRANGER_IP), server.sipPort);
    try {
      // The From names the extension, so the phone is challenged; the browser's pair then is refused.
      await expect(phone.call('201', { username: issued.username, password: issued.password, fromUser: dina.sipUsername })).rejects.toThrow(/SIP\/2\.0 403/);
      // The same phone with the extension's own password gets through (201 has no phone: 480).
      await expect(phone.call('201', { username: dina.sipUsername, password: dina.sipPassword })).rejects.toThrow(/SIP\/2\.0 480/);
    } finally {
      phone.close();
    }
    await expect.poll(() => server.ended.filter((r) => r.extensionId === dina.id).map((r) => r.disposition)).toEqual(['no-answer']);
  });
});
