// Extensions and the registrar: a phone registers with digest (a replayed REGISTER is refused), a
// tracked call to `extension:101` rings its registered phone, and an extension with no phone
// registered falls through to the next step.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { sendRawSip, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { connectTcpPhone } from '../helpers/tcp-phone.js';
import { makeToneFile, registerPhone, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.10.1';
const PHONE_IP = '127.0.10.2';
const FALLBACK_IP = '127.0.10.3';
const DESK_IP = '127.0.10.4';
const SOFTPHONE_IP = '127.0.10.5';
const TCP_PHONE_IP = '127.0.10.6';
const NUMBERS = { toExtension: '+74952310001', toUnregistered: '+74952310002', toTwoPhones: '+74952310003', toTcpPhone: '+74952310004' };
let h: Harness;
let server: CallServer;
let phonePort: number;
let fallbackPort: number;

beforeAll(async () => {
  h = await createHarness();
  phonePort = await freePort(PHONE_IP);
  fallbackPort = await freePort(FALLBACK_IP);
  server = await startCallServer(h, {
    dialplans: {
      desk: { record: false, steps: [{ forward: { targets: ['extension:101'], ringSeconds: 5 } }] },
      both: { record: false, steps: [{ forward: { targets: ['extension:103'], ringSeconds: 5 } }] },
      tcp: { record: false, steps: [{ forward: { targets: ['extension:104'], ringSeconds: 5 } }] },
      nobody: {
        record: false,
        steps: [
          { forward: { targets: ['extension:102'], ringSeconds: 5 } },
          { forward: { targets: [`sip:fallback@${FALLBACK_IP}:${fallbackPort}`], ringSeconds: 5 } },
        ],
      },
    },
  });
  const trunk = await server.provisionNumber({ number: NUMBERS.toExtension, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'desk' });
  const second = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.toUnregistered, trunkId: trunk.trunkId, dialplan: 'nobody' },
  });
  expect(second.statusCode, second.body).toBe(201);
  const third = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.toTwoPhones, trunkId: trunk.trunkId, dialplan: 'both' },
  });
  expect(third.statusCode, third.body).toBe(201);
  const fourth = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.toTcpPhone, trunkId: trunk.trunkId, dialplan: 'tcp' },
  });
  expect(fourth.statusCode, fourth.body).toBe(201);
  await server.routing.refresh();
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const api = (method: 'GET' | 'POST', url: string, payload?: object, headers = h.adminHeaders) =>
  server.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe('extensions and the registrar', () => {
  it('registers with digest, refuses a replay, rings the registered phone; an unregistered extension falls through', async () => {
    const manager = await h.headersFor('manager');
    expect((await api('POST', '/v1/extensions', { extension: '101', name: 'Anna' }, manager)).statusCode).toBe(403);
    const created = await api('POST', '/v1/extensions', { extension: '101', name: 'Anna' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, sipUsername, sipPassword } = created.json();
    expect(sipPassword).toMatch(/^[\w-]{16}$/);
    expect((await api('GET', `/v1/extensions/${id}`, undefined, manager)).json()).not.toHaveProperty('sipPassword');
    expect((await api('POST', '/v1/extensions', { extension: '101', name: 'Again' })).statusCode).toBe(409);
    expect((await api('POST', '/v1/extensions', { extension: '102', name: 'Boris' })).statusCode).toBe(201);

    const registered = await registerPhone({
      ip: PHONE_IP,
      target: `127.0.0.1:${server.sipPort}`,
      username: sipUsername,
      password: sipPassword,
      contactPort: phonePort,
    });
    expect(registered.code, registered.errors).toBe(0);
    // A captured REGISTER sent again (same nonce, nonce-count and response) is refused.
    const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
    const register = (authorization?: string) => (local: { ip: string; port: number }) =>
      [
        `REGISTER sip:127.0.0.1:${server.sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')}`,
        `From: <sip:${sipUsername}@127.0.0.1>;tag=raw1`,
        `To: <sip:${sipUsername}@127.0.0.1>`,
        'Call-ID: replay-test@127.0.10.2',
        `CSeq: ${authorization ? 2 : 1} REGISTER`,
        `Contact: <sip:${sipUsername}@${PHONE_IP}:${phonePort}>`,
        'Expires: 300',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const challenge = await sendRawSipForResponse(PHONE_IP, server.sipPort, register());
    expect(challenge.split('\r\n')[0]).toBe('SIP/2.0 401 Unauthorized');
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const uri = `sip:127.0.0.1:${server.sipPort}`;
    const ha1 = md5(`${sipUsername}:${h.config.sip.realm}:${sipPassword}`);
    const response = md5(`${ha1}:${nonce}:00000001:feed:auth:${md5(`REGISTER:${uri}`)}`);
    const answer = `Digest username="${sipUsername}", realm="${h.config.sip.realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="feed"`;
    expect(await sendRawSip(PHONE_IP, server.sipPort, register(answer))).toBe('SIP/2.0 200 OK');
    expect(await sendRawSip(PHONE_IP, server.sipPort, register(answer))).toBe('SIP/2.0 403 Forbidden');

    const registrations = (await api('GET', `/v1/extensions/${id}/registrations`, undefined, manager)).json().items;
    expect(registrations).toEqual([expect.objectContaining({ contact: `sip:${sipUsername}@${PHONE_IP}:${phonePort}` })]);

    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
    const phone = await startSipp({ scenario: 'uas', ip: PHONE_IP, port: phonePort });
    const call = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBERS.toExtension.slice(1),
      vars: { TONE: tone, TALK_MS: '300' },
    });
    phone.stop();
    expect(call.code, call.errors).toBe(0);
    expect(await server.waitForCall((r) => r.trackingNumber === NUMBERS.toExtension)).toMatchObject({
      disposition: 'answered',
      answeredBy: `sip:${sipUsername}@${PHONE_IP}:${phonePort}`,
    });

    const fallback = await startSipp({ scenario: 'uas', ip: FALLBACK_IP, port: fallbackPort });
    const toNobody = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBERS.toUnregistered.slice(1),
      vars: { TONE: tone, TALK_MS: '300' },
    });
    fallback.stop();
    expect(toNobody.code, toNobody.errors).toBe(0);
    expect(await server.waitForCall((r) => r.trackingNumber === NUMBERS.toUnregistered)).toMatchObject({
      disposition: 'answered',
      answeredBy: `sip:fallback@${FALLBACK_IP}:${fallbackPort}`,
    });
  });

  it('rings every phone of an extension at once: the desk phone answers, the softphone is cancelled', async () => {
    const created = await api('POST', '/v1/extensions', { extension: '103', name: 'Vera' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, sipUsername, sipPassword } = created.json();
    const phonePorts = { desk: await freePort(DESK_IP), softphone: await freePort(SOFTPHONE_IP) };
    for (const [ip, port] of [
      [DESK_IP, phonePorts.desk],
      [SOFTPHONE_IP, phonePorts.softphone],
    ] as const) {
      const registered = await registerPhone({ ip, target: `127.0.0.1:${server.sipPort}`, username: sipUsername, password: sipPassword, contactPort: port });
      expect(registered.code, registered.errors).toBe(0);
    }
    expect((await api('GET', `/v1/extensions/${id}/registrations`)).json().items).toHaveLength(2);
    const desk = await startSipp({ scenario: 'uas', ip: DESK_IP, port: phonePorts.desk });
    // The softphone rings, and must get the CANCEL once the desk phone has answered.
    const softphone = await startSipp({ scenario: scenarioPath('uas-ring-forever.xml'), ip: SOFTPHONE_IP, port: phonePorts.softphone });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
    const call = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBERS.toTwoPhones.slice(1),
      vars: { TONE: tone, TALK_MS: '300' },
    });
    expect(call.code, call.errors).toBe(0);
    const rang = await softphone.done;
    expect(rang.code, rang.errors).toBe(0);
    desk.stop();
    expect(await server.waitForCall((r) => r.trackingNumber === NUMBERS.toTwoPhones)).toMatchObject({
      disposition: 'answered',
      answeredTarget: 'extension:103',
      answeredBy: `sip:${sipUsername}@${DESK_IP}:${phonePorts.desk}`,
    });
  });

  it('rings a phone registered over TCP through the connection it opened (NAT), and ends the call on it', async () => {
    const created = await api('POST', '/v1/extensions', { extension: '104', name: 'Timur' });
    const { sipUsername, sipPassword } = created.json();
    const phone = await connectTcpPhone(TCP_PHONE_IP, server.sipPort);
    try {
      expect(await phone.register({ user: sipUsername, password: sipPassword, realm: h.config.sip.realm })).toBe('SIP/2.0 200 OK');
      const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
      const call = await runSipp({
        scenario: scenarioPath('uac-tone-bye.xml'),
        ip: CALLER_IP,
        target: `127.0.0.1:${server.sipPort}`,
        service: NUMBERS.toTcpPhone.slice(1),
        vars: { TONE: tone, TALK_MS: '300' },
      });
      expect(call.code, call.errors).toBe(0);
      await phone.waitFor('BYE');
      expect(phone.received.filter((m) => m === 'INVITE' || m === 'ACK' || m === 'BYE')).toEqual(['INVITE', 'ACK', 'BYE']);
      expect(await server.waitForCall((r) => r.trackingNumber === NUMBERS.toTcpPhone)).toMatchObject({
        disposition: 'answered',
        answeredBy: `sip:${sipUsername}@${TCP_PHONE_IP}:${phone.localPort};transport=tcp`,
      });
    } finally {
      phone.close();
    }
  });
});
