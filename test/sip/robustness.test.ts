// Hostile or broken input at the SIP port, over UDP and TCP: the server answers what it can
// (400 for a malformed INVITE) and never stops serving. Each case ends with an OPTIONS that must
// still get 200, so a crash, a wedged socket or an event-loop stall fails the test.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const PEER_IP = '127.0.0.12';
let h: Harness;
let server: CallServer;

beforeAll(async () => {
  h = await createHarness();
  server = await startCallServer(h, { dialplans: { any: { steps: [{ hangup: { status: 480 } }] } } });
  await server.provisionNumber({ number: '+74953334400', trunkAddresses: [`${PEER_IP}/32`], dialplan: 'any' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

function request(method: string, o: { transport?: 'UDP' | 'TCP'; port?: number; headers?: Record<string, string | null>; body?: string } = {}): string {
  const base: Record<string, string | null> = {
    Via: `SIP/2.0/${o.transport ?? 'UDP'} ${PEER_IP}:${o.port ?? 5999};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport`,
    From: `<sip:79161234567@${PEER_IP}>;tag=${crypto.randomBytes(4).toString('hex')}`,
    To: '<sip:74953334400@127.0.0.1>',
    'Call-ID': `${crypto.randomUUID()}@${PEER_IP}`,
    CSeq: `1 ${method}`,
    'Max-Forwards': '70',
    Contact: `<sip:79161234567@${PEER_IP}:${o.port ?? 5999}>`,
  };
  const headers = { ...base, ...o.headers };
  const body = o.body ?? '';
  const lines = Object.entries(headers)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}`);
  return [`${method} sip:74953334400@127.0.0.1:${server.sipPort} SIP/2.0`, ...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

/** Sends datagrams from PEER_IP and collects the status codes of the responses for `waitMs`. */
async function overUdp(messages: Array<string | Buffer>, waitMs = 250): Promise<number[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, PEER_IP, () => r()));
  const statuses: number[] = [];
  sock.on('message', (m) => statuses.push(Number(/^SIP\/2\.0 (\d{3})/.exec(m.toString())?.[1] ?? 0)));
  for (const m of messages) sock.send(m, server.sipPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, waitMs));
  sock.close();
  return statuses;
}

/** OPTIONS over UDP: the server is alive and serving. */
async function optionsAnswered(): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, PEER_IP, () => r()));
  const port = sock.address().port;
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 3_000);
      sock.on('message', (m) => {
        if (m.toString().startsWith('SIP/2.0 200')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      sock.send(request('OPTIONS', { port }), server.sipPort, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** Writes chunks over one TCP connection, then waits a little and closes it. */
async function overTcp(chunks: Array<string | Buffer>, waitMs = 300): Promise<string> {
  const socket = net.connect(server.sipPort, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => {
    received += d.toString();
  });
  socket.on('error', () => undefined); // the server may reset a connection it cannot parse
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  for (const c of chunks) socket.write(c);
  await new Promise((r) => setTimeout(r, waitMs));
  socket.destroy();
  return received;
}

describe('malformed input over UDP', () => {
  const cases: Record<string, () => Array<string | Buffer>> = {
    'random bytes': () => [crypto.randomBytes(1200)],
    'an empty datagram and CRLF keep-alives': () => [Buffer.alloc(0), '\r\n\r\n'],
    'a request without Call-ID': () => [request('INVITE', { headers: { 'Call-ID': null } })],
    'a request without From and To': () => [request('INVITE', { headers: { From: null, To: null } })],
    'a request without Via': () => [request('OPTIONS', { headers: { Via: null } })],
    'a CSeq that is not a number': () => [request('INVITE', { headers: { CSeq: 'abc INVITE' } })],
    'a To without a URI': () => [request('INVITE', { headers: { To: 'nonsense' } })],
    'a BYE with a bad Content-Length': () => [
      request('BYE', { headers: { To: '<sip:x@127.0.0.1>;tag=1' } }).replace(/Content-Length: \d+/, 'Content-Length: -5'),
    ],
    'an unknown method in no dialog': () => [request('FROBNICATE')],
    'a response nobody asked for': () => [
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.12:5999;branch=z9hG4bKx\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n',
    ],
    'an ACK for nothing': () => [request('ACK', { headers: { CSeq: '1 ACK', To: '<sip:x@127.0.0.1>;tag=zz' } })],
  };
  for (const [name, messages] of Object.entries(cases)) {
    it(`survives ${name}`, async () => {
      await overUdp(messages());
      expect(await optionsAnswered()).toBe(true);
    });
  }

  it('answers an INVITE with a broken offer with 400 (no offer at all is a late offer, and is admitted), and an unknown method outside a dialog with 405', async () => {
    expect(await overUdp([request('INVITE', { headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\nthis is no offer\r\n' })])).toContain(400);
    // Admitted (the offer will be ours): the dialplan's own 480 answers it, not a 400.
    expect(await overUdp([request('INVITE')])).toEqual([480]);
    expect(await overUdp([request('FROBNICATE')])).toContain(405);
  });
});

describe('malformed input over TCP', () => {
  const cases: Record<string, () => Array<string | Buffer>> = {
    'random bytes': () => [crypto.randomBytes(4000)],
    'a header line without a colon': () => ['OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nthis is not a header\r\n\r\n'],
    'a Content-Length larger than what follows, then a hang-up': () => [
      request('OPTIONS', { transport: 'TCP' }).replace(/Content-Length: \d+/, 'Content-Length: 100000'),
    ],
    'a negative Content-Length': () => [request('OPTIONS', { transport: 'TCP' }).replace(/Content-Length: \d+/, 'Content-Length: -1')],
    'a message split in tiny pieces': () => request('OPTIONS', { transport: 'TCP' }).match(/[\s\S]{1,7}/g)!,
    'a megabyte without a blank line': () => [Buffer.alloc(1024 * 1024, 'A')],
  };
  for (const [name, chunks] of Object.entries(cases)) {
    it(`survives ${name}`, async () => {
      await overTcp(chunks());
      expect(await optionsAnswered()).toBe(true);
    });
  }

  it('answers a well-formed OPTIONS over TCP on the same connection', async () => {
    const reply = await overTcp([request('OPTIONS', { transport: 'TCP' })], 500);
    expect(reply).toMatch(/^SIP\/2\.0 200/);
  });
});
