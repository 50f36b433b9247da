import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type RawRequestOptions, rawRequest, sendRawSip, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.20';
const AGENT_IP = '127.0.0.21';
const DIGEST_CALLER_IP = '127.0.0.22';
const NUMBERS = { tcp: '+74952220001', early: '+74952220002', digest: '+74952220003', unbound: '+74952220004' } as const;
const ports: Record<string, number> = {};
let h: Harness;
let server: CallServer;
let trunkId: string;

beforeAll(async () => {
  h = await createHarness();
  for (const flow of ['tcp', 'early', 'digest']) ports[flow] = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: Object.fromEntries(
      ['tcp', 'early', 'digest'].map((f) => [f, { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${ports[f]}`], ringSeconds: 5 } }] }]),
    ),
  });
  const ipTrunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'by-ip', addresses: [`${CALLER_IP}/32`] },
  });
  trunkId = ipTrunk.json().id;
  const digestTrunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'by-digest', addresses: [], username: 'carrier7', password: 'correct-horse' },
  });
  expect(digestTrunk.statusCode, digestTrunk.body).toBe(201);
  const numbers: Array<[string, string, string | undefined]> = [
    [NUMBERS.tcp, trunkId, 'tcp'],
    [NUMBERS.early, trunkId, 'early'],
    [NUMBERS.digest, digestTrunk.json().id, 'digest'],
    [NUMBERS.unbound, trunkId, undefined],
  ];
  for (const [number, trunk, dialplan] of numbers) {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number, trunkId: trunk, ...(dialplan ? { dialplan } : {}) },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  await server.routing.refresh();
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const rtpengineHas = async (callId: string) => (await h.rtpengine.command('query', { 'call-id': callId })).result === 'ok';
const dial = (n: string) => n.slice(1);

/** Sends one raw SIP request over UDP from `ip` and resolves with the first final response's status line. */
const sendRaw = (ip: string, build: (local: { ip: string; port: number }) => string) => sendRawSip(ip, server.sipPort, build);

const request = (method: string, local: { ip: string; port: number }, options: Omit<RawRequestOptions, 'port'>) =>
  rawRequest(method, local, { ...options, port: server.sipPort });

describe('the SIP edge', () => {
  it('admits a carrier by digest credentials after a 407 challenge', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: ports.digest! });
    const caller = await runSipp({
      scenario: scenarioPath('uac-digest-expect-answered.xml'),
      ip: DIGEST_CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(NUMBERS.digest),
      vars: { USER: 'carrier7', PASSWORD: 'correct-horse', TALK_MS: '1000' },
    });
    agent.stop();
    expect(caller.code, caller.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBERS.digest);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('refuses wrong digest credentials with 403', async () => {
    const caller = await runSipp({
      scenario: scenarioPath('uac-digest-expect-answered.xml'),
      ip: DIGEST_CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(NUMBERS.digest),
      vars: { USER: 'carrier7', PASSWORD: 'wrong-password', TALK_MS: '100' },
    });
    expect(caller.code).not.toBe(0);
    expect(caller.errors).toMatch(/403 Forbidden/);
  });

  it('carries a call whose caller speaks SIP over TCP', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: ports.tcp!, rtpEcho: true });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
    const caller = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(NUMBERS.tcp),
      vars: { TONE: tone, TALK_MS: '1000' },
      extraArgs: ['-t', 't1'],
    });
    agent.stop();
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBERS.tcp);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('relays 183 early media (anchored in rtpengine) before the answer', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-early-media-then-answer.xml'), ip: AGENT_IP, port: ports.early!, vars: { EARLY_MS: '700' } });
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-early-media-then-answered.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(NUMBERS.early),
      vars: { TALK_MS: '500' },
    });
    expect(caller.code, caller.errors).toBe(0);
    expect((await agent.done).code, 'agent got ACK and BYE').toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBERS.early);
    expect(call.disposition).toBe('answered');
    expect(new Date(call.answeredAt!).getTime() - new Date(call.startedAt).getTime()).toBeGreaterThanOrEqual(600);
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('answers 483 when Max-Forwards is exhausted', async () => {
    const line = await sendRaw(CALLER_IP, (l) => request('INVITE', l, { user: dial(NUMBERS.tcp), maxForwards: 0, sdp: true }));
    expect(line).toBe('SIP/2.0 483 Too Many Hops');
  });

  it('answers 481 to a BYE for a dialog it does not know', async () => {
    const line = await sendRaw(CALLER_IP, (l) => request('BYE', l, { user: dial(NUMBERS.tcp), toTag: 'nosuchdialog' }));
    expect(line).toMatch(/^SIP\/2\.0 481 /);
  });

  it('answers 480 with a reason when the number has no dialplan bound', async () => {
    const line = await sendRaw(CALLER_IP, (l) => request('INVITE', l, { user: dial(NUMBERS.unbound), sdp: true }));
    expect(line).toBe('SIP/2.0 480 No Dialplan Bound');
    expect(server.b2bua.liveCalls()).toBe(0);
  });

  it('refuses odd requests with the status RFC 3261 names, and keeps serving', async () => {
    const user = dial(NUMBERS.tcp);
    expect(await sendRaw(CALLER_IP, (l) => request('OPTIONS', l, { user, version: '3.0' }))).toBe('SIP/2.0 505 Version Not Supported');
    const extension = await sendRawSipForResponse(CALLER_IP, server.sipPort, (l) =>
      request('INVITE', l, { user, sdp: true, headers: ['Require: 100rel, x-unknown'] }),
    );
    expect(extension.split('\r\n')[0]).toBe('SIP/2.0 420 Bad Extension');
    // 100rel is ours (reliable provisionals, RFC 3262): only the tag we do not know is named.
    expect(extension).toMatch(/^Unsupported: x-unknown$/im);
    // Session timers are supported; an interval below RFC 4028's floor is refused with the minimum.
    const brief = await sendRawSipForResponse(CALLER_IP, server.sipPort, (l) =>
      request('INVITE', l, { user, sdp: true, headers: ['Require: timer', 'Session-Expires: 30;refresher=uac'] }),
    );
    expect(brief.split('\r\n')[0]).toBe('SIP/2.0 422 Session Interval Too Small');
    expect(brief).toMatch(/^Min-SE: 90$/im);
    expect(await sendRaw(CALLER_IP, (l) => request('INVITE', l, { user, body: { type: 'text/plain', text: 'hello' } }))).toBe(
      'SIP/2.0 415 Unsupported Media Type',
    );
    // A well-formed offer whose media we cannot carry is 488 (the carrier may try other codecs), not 400.
    const offer = (ip: string, media: string[]) => ({
      type: 'application/sdp',
      text: ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', ...media, ''].join('\r\n'),
    });
    const fax = await sendRawSipForResponse(CALLER_IP, server.sipPort, (l) => request('INVITE', l, { user, body: offer(l.ip, ['m=image 40000 udptl t38']) }));
    expect(fax.split('\r\n')[0]).toBe('SIP/2.0 488 Not Acceptable Here');
    expect(fax).toMatch(/^Warning: 304 /im);
    const amrOnly = await sendRawSipForResponse(CALLER_IP, server.sipPort, (l) =>
      request('INVITE', l, { user, body: offer(l.ip, ['m=audio 40000 RTP/AVP 96', 'a=rtpmap:96 AMR-WB/16000']) }),
    );
    expect(amrOnly.split('\r\n')[0]).toBe('SIP/2.0 488 Not Acceptable Here');
    expect(amrOnly).toMatch(/^Warning: 305 \S+ "no voice codec offered that we can send \(offered: AMR-WB;/im);
    expect(await sendRaw(CALLER_IP, (l) => request('INVITE', l, { user, sdp: true, cseqMethod: 'BYE' }))).toBe('SIP/2.0 400 Bad Request');
    expect(await sendRaw(CALLER_IP, (l) => request('OPTIONS', l, { user, cseq: 2 ** 31 }))).toBe('SIP/2.0 400 Bad Request');
    expect(await sendRaw(CALLER_IP, (l) => request('INVITE', l, { user, sdp: true, contentLength: 4000 }))).toBe('SIP/2.0 400 Bad Request');
    expect(await sendRaw(CALLER_IP, (l) => request('INFO', l, { user }))).toMatch(/^SIP\/2\.0 481 /);
    expect(server.b2bua.liveCalls()).toBe(0);
    expect(await sendRaw(CALLER_IP, (l) => request('OPTIONS', l, { user: 'ping' }))).toBe('SIP/2.0 200 OK');
  });

  it('answers OPTIONS over UDP with 200', async () => {
    const line = await sendRaw(CALLER_IP, (l) => request('OPTIONS', l, { user: 'ping' }));
    expect(line).toBe('SIP/2.0 200 OK');
  });
  it('survives garbage over TCP (binary, huge Content-Length, oversized headers) and still answers OPTIONS on TCP', async () => {
    const junk = [
      '\x00\x01\x02garbage\r\n\r\n',
      'INVITE sip:x SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n',
      'SIP/2.0 200 OK\r\nVia: x\r\n\r\n',
      'x'.repeat(70_000),
    ];
    for (const j of junk) {
      await new Promise<void>((resolve) => {
        const c = net.connect(server.sipPort, '127.0.0.1', () =>
          c.write(j, () =>
            setTimeout(() => {
              c.destroy();
              resolve();
            }, 50),
          ),
        );
        c.on('error', () => resolve());
      });
    }
    const line = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ port: server.sipPort, host: '127.0.0.1', localAddress: CALLER_IP }, () => {
        c.write(
          `OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP ${CALLER_IP}:${c.localPort};branch=z9hG4bKtcp${Date.now()}\r\nCall-ID: tcp-${Date.now()}\r\nCSeq: 1 OPTIONS\r\nTo: <sip:ping@127.0.0.1>\r\nFrom: <sip:probe@${CALLER_IP}>;tag=1\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
        );
      });
      const timer = setTimeout(() => {
        c.destroy();
        reject(new Error('no answer over TCP'));
      }, 3_000);
      c.on('data', (d) => {
        clearTimeout(timer);
        c.destroy();
        resolve(d.toString().split('\r\n')[0] ?? '');
      });
    });
    expect(line).toBe('SIP/2.0 200 OK');
  });
});
