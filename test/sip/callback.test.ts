// Click to call with real SIPp phones and rtpengine: POST /v1/calls/originate rings the agent's
// registered phone first, then the customer through the outbound trunk with the tracking number
// the customer called as caller ID; the call is logged as outbound, linked to the missed call it
// returns, and recorded in stereo with both sides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, registerPhone, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { readWav } from '../helpers/wav.js';

const CARRIER_IP = '127.0.23.1';
const AGENT_IP = '127.0.23.2';
const GATEWAY_IP = '127.0.23.3';
const NUMBER = '+74957770101';
const CUSTOMER = '+79161234567';
let h: Harness;
let server: CallServer;
let agentPort: number;
let gatewayPort: number;

const originate = (payload: object, headers = h.adminHeaders) => server.app.inject({ method: 'POST', url: '/v1/calls/originate', headers, payload });

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  gatewayPort = await freePort(GATEWAY_IP);
  server = await startCallServer(h, { dialplans: { closed: { record: false, steps: [{ hangup: { status: 480 } }] } } });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CARRIER_IP}/32`], dialplan: 'closed' });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'gateway', outbound: { host: GATEWAY_IP, port: gatewayPort } },
  });
  expect(trunk.statusCode, trunk.body).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('callback (click to call)', () => {
  it('rings the agent, then the customer with the number they called; logged as outbound, linked, recorded in stereo', async () => {
    // A customer called while nobody could answer: a missed call.
    const missed = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CARRIER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { STATUS: '480' },
    });
    expect(missed.code, missed.errors).toBe(0);
    const missedCall = await server.waitForCall((r) => r.trackingNumber === NUMBER && r.direction !== 'outbound');
    expect(missedCall).toMatchObject({ caller: CUSTOMER, disposition: 'failed' });

    const agent = await server.app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '301', name: 'Olga' } });
    const { sipUsername, sipPassword } = agent.json();
    // Not registered yet: nobody to ring.
    const early = await originate({ extension: '301', callbackOf: missedCall.id });
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toContain('no phone registered');
    const registered = await registerPhone({
      ip: AGENT_IP,
      target: `127.0.0.1:${server.sipPort}`,
      username: sipUsername,
      password: sipPassword,
      contactPort: agentPort,
    });
    expect(registered.code, registered.errors).toBe(0);

    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 2);
    const agentPhone = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
    const customer = await startSipp({
      scenario: scenarioPath('uas-answer-tone-bye.xml'),
      ip: GATEWAY_IP,
      port: gatewayPort,
      vars: { FROM: `sip:\\${NUMBER}@`, TONE: tone, TALK_MS: '2500' },
    });
    const placed = await originate({ extension: '301', callbackOf: missedCall.id });
    expect(placed.statusCode, placed.body).toBe(202);
    const { callId } = placed.json();
    const customerResult = await customer.done;
    expect(customerResult.code, customerResult.errors).toBe(0);
    const agentResult = await agentPhone.done;
    expect(agentResult.code, agentResult.errors).toBe(0);

    const record = await server.waitForCall((r) => r.id === callId);
    expect(record).toMatchObject({
      direction: 'outbound',
      caller: '301',
      callerName: 'Olga',
      callee: CUSTOMER,
      trackingNumber: NUMBER,
      callbackOf: missedCall.id,
      disposition: 'answered',
      hangupBy: 'callee',
    });
    expect(record.talkSeconds).toBeGreaterThanOrEqual(2);
    expect(await server.waitForRecording(callId)).toBe('ready');
    const row = (await h.db.query('SELECT recording_path, recording_channels FROM calls WHERE id = $1', [callId])).rows[0];
    expect(row.recording_channels).toBe(2);
    // The customer played 2 s of 1 kHz; the agent's phone (SIPp -rtp_echo) sent it back: both sides carry it.
    const wav = readWav(row.recording_path);
    for (const channel of wav.channels) expect(toneSeconds(channel, 8000, 1000, [1000, 440])).toBeGreaterThanOrEqual(1.5);

    const log = await server.app.inject({ method: 'GET', url: '/v1/calls?direction=outbound', headers: h.adminHeaders });
    expect(log.json().items).toEqual([expect.objectContaining({ id: callId, direction: 'outbound', callee: CUSTOMER, callbackOf: missedCall.id })]);
  });

  it('relays the agent’s hold to the customer through rtpengine', async () => {
    const agentPhone = await startSipp({ scenario: scenarioPath('uas-answer-then-hold.xml'), ip: AGENT_IP, port: agentPort });
    // The customer must get the hold (a=sendonly) as a re-INVITE of its own, then hangs up.
    const customer = await startSipp({
      scenario: scenarioPath('uas-answer-expect-hold-then-bye.xml'),
      ip: GATEWAY_IP,
      port: gatewayPort,
      vars: { TALK_MS: '600' },
    });
    const placed = await originate({ extension: '301', to: '89161234568', callerIdNumber: NUMBER });
    expect(placed.statusCode, placed.body).toBe(202);
    const customerResult = await customer.done;
    expect(customerResult.code, customerResult.errors).toBe(0);
    const agentResult = await agentPhone.done;
    expect(agentResult.code, agentResult.errors).toBe(0);
    expect(await server.waitForCall((r) => r.id === placed.json().callId)).toMatchObject({
      disposition: 'answered',
      callee: '+79161234568',
      hangupBy: 'callee',
    });
  });

  it('refuses what it cannot or must not do, with the reason', async () => {
    expect((await originate({ extension: '999', to: CUSTOMER })).statusCode).toBe(404);
    const abroad = await originate({ extension: '301', to: '+442079460958' });
    expect(abroad.statusCode).toBe(403);
    expect(abroad.json().message).toContain('international');
    const spoofed = await originate({ extension: '301', to: CUSTOMER, callerIdNumber: '+74950000000' });
    expect(spoofed.statusCode).toBe(400);
    expect(spoofed.json().message).toContain('callerIdNumber');
    expect((await originate({ extension: '301' })).statusCode).toBe(400);
    const viewer = await h.headersFor('viewer');
    expect((await originate({ extension: '301', to: CUSTOMER }, viewer)).statusCode).toBe(403);
  });
});
