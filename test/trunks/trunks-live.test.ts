/** The Trunks page's live facts: the last INVITE seen from a trunk (SIP edge → Postgres), and the OPTIONS test button. */
import dgram from 'node:dgram';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';

const CARRIER_IP = '127.0.16.12';
const STRANGER_IP = '127.0.16.13';
const RESPONDER_IP = '127.0.16.10';
const SILENT_IP = '127.0.16.11';

let h: Harness;
let app: FastifyInstance;
let sip: CallServer;
let trunkId: string;
const sockets: dgram.Socket[] = [];

async function udp(ip: string, onMessage: (text: string, reply: (text: string) => void) => void): Promise<number> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  socket.on('message', (msg, from) => onMessage(msg.toString('utf8'), (text) => socket.send(text, from.port, from.address)));
  await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
  return socket.address().port;
}

const probe = (payload: object, headers = h.adminHeaders) => app.inject({ method: 'POST', url: '/v1/trunks/options-probe', headers, payload });
const lastInviteAt = async () =>
  (await app.inject({ method: 'GET', url: `/v1/trunks/${trunkId}`, headers: h.adminHeaders })).json().lastInviteAt as string | null;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  sip = await startCallServer(h);
  const trunk = await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'carrier', addresses: [`${CARRIER_IP}/32`] } });
  trunkId = trunk.json().id;
  await sip.routing.refresh();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await sip?.stop();
  await h?.close();
});

describe('last INVITE seen from a trunk', () => {
  it('is null until the trunk sends an INVITE, set even when the number is unknown, and ignores strangers', async () => {
    expect(await lastInviteAt()).toBeNull();
    const stranger = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: STRANGER_IP,
      target: `127.0.0.1:${sip.sipPort}`,
      service: '74959990000',
      vars: { STATUS: '403' },
    });
    expect(stranger.code, stranger.errors + stranger.stderr).toBe(0);
    expect(await lastInviteAt()).toBeNull();

    const before = Date.now();
    const call = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CARRIER_IP,
      target: `127.0.0.1:${sip.sipPort}`,
      service: '74959990000',
      vars: { STATUS: '404' },
    });
    expect(call.code, call.errors + call.stderr).toBe(0);
    await expect.poll(lastInviteAt, { timeout: 5_000 }).not.toBeNull();
    const first = await lastInviteAt();
    expect(Date.parse(first!)).toBeGreaterThanOrEqual(before - 1_000);

    // A second INVITE within the write interval does not write again (one UPDATE per trunk per 5 s at most).
    const again = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CARRIER_IP,
      target: `127.0.0.1:${sip.sipPort}`,
      service: '74959990000',
      vars: { STATUS: '404' },
    });
    expect(again.code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await lastInviteAt()).toBe(first);
  });
});

describe('OPTIONS test button', () => {
  it('sends a well-formed OPTIONS and reports the final answer, its round trip and Server header', async () => {
    const received: string[] = [];
    const port = await udp(RESPONDER_IP, (text, reply) => {
      received.push(text);
      const header = (name: string) => text.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`))!;
      const common = [header('via'), header('from'), `${header('to')};tag=x1`, header('call-id'), header('cseq')];
      reply(['SIP/2.0 100 Trying', ...common, 'Content-Length: 0', '', ''].join('\r\n'));
      reply(['SIP/2.0 200 OK', ...common, 'Server: FakeSBC 1.0', 'Allow: INVITE, ACK, BYE, OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
    });
    const res = await probe({ target: `${RESPONDER_IP}:${port}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ target: `${RESPONDER_IP}:${port}`, answered: true, status: 200, reason: 'OK', server: 'FakeSBC 1.0' });
    expect(res.json().rttMs).toBeGreaterThanOrEqual(0);
    expect(received[0]).toMatch(new RegExp(`^OPTIONS sip:${RESPONDER_IP.replaceAll('.', '\\.')}:${port} SIP/2\\.0\\r\\n`));
    expect(received[0]).toMatch(/\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK\w+;rport\r\n/);
    expect(received[0]).toContain('\r\nMax-Forwards: 70\r\n');
  });

  it('reports no answer after the timeout, having retransmitted', async () => {
    const received: string[] = [];
    const port = await udp(SILENT_IP, (text) => received.push(text));
    const res = await probe({ target: `sip:${SILENT_IP}:${port}`, timeoutMs: 1_200 });
    expect(res.json()).toMatchObject({ answered: false, status: null, rttMs: null });
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(received.map((r) => /Call-ID: (\S+)/.exec(r)![1])).size).toBe(1);
  });

  it('rejects bad targets with 400 and non-admins with 403', async () => {
    for (const target of ['http://x', '127.0.16.10:70000', '', 'a b']) expect((await probe({ target })).statusCode, target).toBe(400);
    expect((await probe({ target: '127.0.16.10:5060' }, await h.headersFor('manager'))).statusCode).toBe(403);
  });
});
