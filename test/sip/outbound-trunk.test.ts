// tel: targets through a trunk's outbound side, against a SIPp "carrier gateway" that challenges
// with 401: the INVITE carries the caller ID the policy says (From, P-Asserted-Identity, Diversion)
// and a digest answer the gateway verifies; a bad outbound side gets 400 naming the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { readWav } from '../helpers/wav.js';

const CALLER_IP = '127.0.19.20';
const GATEWAY_IP = '127.0.19.21';
const NUMBER = '+74953338801';
const CUSTOMER_PHONE = '+79161234599';
let h: Harness;
let server: CallServer;
let gatewayPort: number;
let tone: string;
let trunkId: string;
const COMPANY_NUMBER = '+74951230000';

beforeAll(async () => {
  h = await createHarness();
  gatewayPort = await freePort(GATEWAY_IP);
  server = await startCallServer(h, { dialplans: { out: { record: true, steps: [{ forward: { targets: [`tel:${CUSTOMER_PHONE}`], ringSeconds: 5 } }] } } });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'out' });
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const addOutboundTrunk = (outbound: object) =>
  server.app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: `gateway-${Math.random()}`, outbound } });

describe('outbound trunk', () => {
  it('dials tel: through the gateway with the tracking number as caller ID, PAI and Diversion, answering its digest challenge', async () => {
    const trunk = await addOutboundTrunk({
      host: GATEWAY_IP,
      port: gatewayPort,
      username: 'gw-user',
      password: 'gw-secret',
      techPrefix: '810',
      callerId: 'tracking',
      identity: ['pai', 'diversion'],
    });
    expect(trunk.statusCode, trunk.body).toBe(201);
    trunkId = trunk.json().id;
    expect(trunk.json().outbound).toMatchObject({ host: GATEWAY_IP, username: 'gw-user', hasPassword: true, callerId: 'tracking' });
    expect(JSON.stringify(trunk.json())).not.toContain('gw-secret');

    const gateway = await startSipp({
      scenario: scenarioPath('uas-gateway-challenge.xml'),
      ip: GATEWAY_IP,
      port: gatewayPort,
      rtpEcho: true,
      // Regexps in XML attributes: no "<" (the headers are <sip:…>).
      vars: { FROM: `sip:\\${NUMBER}@`, PAI: `sip:\\${NUMBER}@${GATEWAY_IP}>$`, DIVERSION: `sip:\\${NUMBER}@${GATEWAY_IP}>;reason=unconditional` },
    });
    const caller = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: '1000' },
    });
    expect(caller.code, caller.errors).toBe(0);
    const gatewayResult = await gateway.done;
    expect(gatewayResult.code, gatewayResult.errors).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    // The gateway was dialled with the tech prefix and the digits of the number.
    expect(record).toMatchObject({
      disposition: 'answered',
      answeredBy: `sip:81079161234599@${GATEWAY_IP}:${gatewayPort}`,
      answeredTarget: `tel:${CUSTOMER_PHONE}`,
    });
    // Both sides are recorded: the caller's tone, and the gateway's echo of it.
    expect(await server.waitForRecording(record.id)).toBe('ready');
    const row = (await h.db.query('SELECT recording_path, recording_channels FROM calls WHERE id = $1', [record.id])).rows[0];
    expect(row.recording_channels).toBe(2);
    for (const channel of readWav(row.recording_path).channels) expect(toneSeconds(channel, 8000, 1000, [1000, 440])).toBeGreaterThanOrEqual(0.7);
  });

  it('shows the original caller, or the fixed company number, as the policy says (changed with PATCH, password kept)', async () => {
    for (const [policy, shown] of [
      [{ callerId: 'caller' }, '\\+79161234567'],
      [{ callerId: 'fixed', fixedNumber: COMPANY_NUMBER }, `\\${COMPANY_NUMBER}`],
    ] as const) {
      const changed = await server.app.inject({
        method: 'PATCH',
        url: `/v1/trunks/${trunkId}`,
        headers: h.adminHeaders,
        // No password: the stored one stays, so the gateway's challenge is still answered.
        payload: { outbound: { host: GATEWAY_IP, port: gatewayPort, username: 'gw-user', techPrefix: '810', identity: ['pai', 'diversion'], ...policy } },
      });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json().outbound).toMatchObject({ callerId: policy.callerId, hasPassword: true });
      const gateway = await startSipp({
        scenario: scenarioPath('uas-gateway-challenge.xml'),
        ip: GATEWAY_IP,
        port: gatewayPort,
        rtpEcho: true,
        vars: { FROM: `sip:${shown}@`, PAI: `sip:${shown}@${GATEWAY_IP}>$`, DIVERSION: `sip:\\${NUMBER}@${GATEWAY_IP}>;reason=unconditional` },
      });
      const caller = await runSipp({
        scenario: scenarioPath('uac-tone-bye.xml'),
        ip: CALLER_IP,
        target: `127.0.0.1:${server.sipPort}`,
        service: NUMBER.slice(1),
        vars: { TONE: tone, TALK_MS: '300' },
      });
      expect(caller.code, `${policy.callerId}: ${caller.errors}`).toBe(0);
      const gatewayResult = await gateway.done;
      expect(gatewayResult.code, `${policy.callerId}: ${gatewayResult.errors}`).toBe(0);
    }
    const bad = await server.app.inject({
      method: 'PATCH',
      url: `/v1/trunks/${trunkId}`,
      headers: h.adminHeaders,
      payload: { outbound: { host: GATEWAY_IP, callerId: 'fixed' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('outbound.fixedNumber');
  });

  it('refuses a bad outbound side with the field named', async () => {
    for (const [outbound, field] of [
      [{ host: 'bad host!' }, 'outbound.host'],
      [{ host: 'gw.example', callerId: 'fixed' }, 'outbound.fixedNumber'],
      [{ host: 'gw.example', username: 'u' }, 'outbound.password'],
      [{ host: 'gw.example', techPrefix: '12a' }, 'outbound.techPrefix'],
      [{ host: 'gw.example', identity: ['x-custom'] }, 'outbound.identity'],
    ] as const) {
      const res = await addOutboundTrunk(outbound);
      expect(res.statusCode, JSON.stringify(outbound)).toBe(400);
      expect(res.json().message).toContain(field);
    }
  });
});
