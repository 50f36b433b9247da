// SIP over WebSocket (RFC 7118) for browser softphones: short-lived credentials from the signed-in
// session register a browser over its socket, a tracked call rings it down that socket, junk and
// floods on the WebSocket port leave UDP answering, and a closed socket takes its registration along.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftphoneCredentials } from '../../server/pbx/softphone-credentials.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest, sendRawSip, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { connectWsPhone, sipHeader, statusLine, type WsPhone } from '../helpers/ws-phone.js';

const CALLER_IP = '127.0.26.1';
const BROWSER_IP = '127.0.26.2';
const JUNK_IP = '127.0.26.3';
const DESK_IP = '127.0.26.4';
const FLOOD_IP = '127.0.26.5';
const FALLBACK_IP = '127.0.26.6';
const NUMBERS = { toBrowser: '+74952660001', toBrowserThenFallback: '+74952660002' };
const PASSWORD = 'a long enough password';

let h: Harness;
let server: CallServer;
let wsUrl: string;
let fallbackPort: number;
/** The extension linked to the signed-in manager, and that manager's session. */
let linked: { id: string; sipUsername: string; sipPassword: string };
let session: { cookie: string; 'x-csrf-token': string };

const api = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = h.adminHeaders) =>
  server.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

async function signIn(email: string): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const signedIn = await api('POST', '/v1/auth/sign-in', { email, password: PASSWORD }, {});
  expect(signedIn.statusCode, signedIn.body).toBe(200);
  const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
  const csrf = (await api('GET', '/v1/auth/session', undefined, { cookie })).json().csrfToken as string;
  return { cookie, 'x-csrf-token': csrf };
}

async function createUser(email: string): Promise<string> {
  const created = await api('POST', '/v1/users', { email, name: email, role: 'manager', password: PASSWORD });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().id;
}

async function issueCredentials(): Promise<{ extension: string; username: string; password: string; realm: string; wsUrl: string; expiresAt: string }> {
  const issued = await api('POST', '/v1/softphone/credentials', undefined, session);
  expect(issued.statusCode, issued.body).toBe(200);
  return issued.json();
}

const registrations = async (extensionId: string) =>
  (await api('GET', `/v1/extensions/${extensionId}/registrations`)).json().items as Array<{ contact: string; source: string }>;

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A UDP REGISTER with the extension's stored password, as a desk phone sends it (401, then digest). */
async function registerDeskPhone(user: string, password: string): Promise<string> {
  const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
  const contactPort = await freePort(DESK_IP);
  const build = (authorization?: string) => (local: { ip: string; port: number }) =>
    [
      `REGISTER sip:127.0.0.1:${server.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')}`,
      `From: <sip:${user}@127.0.0.1>;tag=desk`,
      `To: <sip:${user}@127.0.0.1>`,
      `Call-ID: desk-${crypto.randomBytes(4).toString('hex')}@${DESK_IP}`,
      `CSeq: ${authorization ? 2 : 1} REGISTER`,
      `Contact: <sip:${user}@${DESK_IP}:${contactPort}>`,
      'Expires: 300',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const challenge = await sendRawSipForResponse(DESK_IP, server.sipPort, build());
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1];
  if (!nonce) return statusLine(challenge);
  const uri = `sip:127.0.0.1:${server.sipPort}`;
  const response = md5(`${md5(`${user}:${h.config.sip.realm}:${password}`)}:${nonce}:00000001:d00d:auth:${md5(`REGISTER:${uri}`)}`);
  return sendRawSip(
    DESK_IP,
    server.sipPort,
    build(
      `Digest username="${user}", realm="${h.config.sip.realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="d00d"`,
    ),
  );
}

beforeAll(async () => {
  const wsPort = await freePort('127.0.0.1');
  h = await createHarness({ SIP_WS_PORT: String(wsPort) });
  fallbackPort = await freePort(FALLBACK_IP);
  server = await startCallServer(h, {
    sipWsPort: h.config.sip.ws!.port,
    dialplans: {
      browser: { record: false, steps: [{ forward: { targets: ['extension:201'], ringSeconds: 10 } }] },
      'browser-then-fallback': {
        record: false,
        steps: [
          { forward: { targets: ['extension:201'], ringSeconds: 10 } },
          { forward: { targets: [`sip:fallback@${FALLBACK_IP}:${fallbackPort}`], ringSeconds: 5 } },
        ],
      },
    },
  });
  wsUrl = `ws://127.0.0.1:${server.b2bua.stack.wsPort()}`;
  const trunk = await server.provisionNumber({ number: NUMBERS.toBrowser, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'browser' });
  const second = await api('POST', '/v1/numbers', { number: NUMBERS.toBrowserThenFallback, trunkId: trunk.trunkId, dialplan: 'browser-then-fallback' });
  expect(second.statusCode, second.body).toBe(201);
  await server.routing.refresh();
  const userId = await createUser('agent@example.com');
  const created = await api('POST', '/v1/extensions', { extension: '201', name: 'Browser agent', userId });
  expect(created.statusCode, created.body).toBe(201);
  linked = created.json();
  session = await signIn('agent@example.com');
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('softphone credentials and REGISTER over WebSocket', () => {
  it('issues short-lived credentials to the signed-in user of an extension, and only to one', async () => {
    const issued = await issueCredentials();
    expect(issued).toMatchObject({ extension: '201', realm: h.config.sip.realm, wsUrl: h.config.sip.ws!.publicUrl });
    expect(issued.wsUrl).toBe(wsUrl);
    expect(issued.username.startsWith(`${linked.sipUsername}.`)).toBe(true);
    expect(issued.password).not.toBe(linked.sipPassword);
    const lifetime = Date.parse(issued.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(8 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(10 * 60_000);

    // An API key is nobody's: it has no extension. A user without one is told so.
    const byKey = await api('POST', '/v1/softphone/credentials');
    expect(byKey.statusCode, byKey.body).toBe(409);
    await createUser('nobody@example.com');
    const unlinked = await api('POST', '/v1/softphone/credentials', undefined, await signIn('nobody@example.com'));
    expect(unlinked.statusCode, unlinked.body).toBe(404);
    expect(unlinked.json().message).toMatch(/no extension is linked/);
    // Cookie sessions need the CSRF header on POST, like every other mutating route.
    expect((await api('POST', '/v1/softphone/credentials', undefined, { cookie: session.cookie })).statusCode).toBe(403);
  });

  it('challenges a REGISTER over WebSocket, takes the issued credentials, refuses wrong and expired ones', async () => {
    const phone = await connectWsPhone(wsUrl, BROWSER_IP);
    try {
      const callId = `ws-noauth-${crypto.randomBytes(3).toString('hex')}`;
      phone.send(
        [
          'REGISTER sip:127.0.0.1 SIP/2.0',
          'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnoauth1',
          'Max-Forwards: 70',
          'To: <sip:201@127.0.0.1>',
          'From: <sip:201@127.0.0.1>;tag=noauth',
          `Call-ID: ${callId}`,
          'CSeq: 1 REGISTER',
          `Contact: <${phone.contact}>`,
          'Expires: 300',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      const challenge = await phone.waitFor((m) => sipHeader(m, 'call-id') === callId, 5_000, 'challenge');
      expect(statusLine(challenge)).toBe('SIP/2.0 401 Unauthorized');
      expect(sipHeader(challenge, 'www-authenticate')).toMatch(/^Digest realm="[^"]+", nonce="[^"]+"/);
      // The response went back over the socket, naming the transport the request came on.
      expect(sipHeader(challenge, 'via')).toMatch(/^SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bKnoauth1;received=127\.0\.26\.2/);

      const issued = await issueCredentials();
      const realm = issued.realm;
      expect(await phone.register({ username: issued.username, password: `${issued.password}x`, realm })).toBe('SIP/2.0 403 Forbidden');
      // Valid signature, but its time is up.
      const past = createSoftphoneCredentials({ secret: h.config.secretKey, realm, now: () => Date.now() - 11 * 60_000 }).issue(linked);
      expect(await phone.register({ username: past.username, password: past.password, realm })).toBe('SIP/2.0 403 Forbidden');
      expect(phone.received.at(-1)).toMatch(/Warning: 399 .*expired/);
      // Another extension's username with this one's password: the HMAC binds the extension.
      const other = (await api('POST', '/v1/extensions', { extension: '202', name: 'Other' })).json();
      const forged = `${other.sipUsername}.${issued.username.split('.').at(-1)}`;
      expect(await phone.register({ username: forged, password: issued.password, realm })).toBe('SIP/2.0 403 Forbidden');
      expect(await registrations(linked.id)).toEqual([]);

      expect(await phone.register({ username: issued.username, password: issued.password, realm })).toBe('SIP/2.0 200 OK');
      const contactUser = /^sip:([^@]+)@/.exec(phone.contact)![1];
      expect(await registrations(linked.id)).toEqual([
        expect.objectContaining({
          contact: `sip:${contactUser}@${BROWSER_IP}:${phone.localPort};transport=ws`,
          source: `ws:${BROWSER_IP}:${phone.localPort}`,
          userAgent: 'ws-phone (test)',
        }),
      ]);
    } finally {
      phone.close();
    }
  });

  it('takes the issued credentials over WebSocket only, while desk phones keep their stored password on UDP', async () => {
    const issued = await issueCredentials();
    expect(await registerDeskPhone(issued.username, issued.password)).toBe('SIP/2.0 403 Forbidden');
    expect(await registerDeskPhone(linked.sipUsername, linked.sipPassword)).toBe('SIP/2.0 200 OK');
    const desk = (await registrations(linked.id)).filter((r) => r.source.startsWith('udp:'));
    expect(desk).toHaveLength(1);
    // Unregister the desk phone again: the call tests below ring the browser alone.
    await server.services.registrar.drop(linked.id, desk[0]!.contact);
    expect((await registrations(linked.id)).filter((r) => r.source.startsWith('udp:'))).toEqual([]);
  });
});

describe('WebSocket port under abuse', () => {
  it('survives junk frames, an oversized frame, a socket dropped mid-transaction and a connection flood, while UDP keeps answering', async () => {
    const udpOptions = () => sendRawSip(CALLER_IP, server.sipPort, (local) => rawRequest('OPTIONS', local, { user: 'probe', port: server.sipPort }));

    // No `sip` subprotocol: not a SIP client, no handshake.
    await expect(connectWsPhone(wsUrl, JUNK_IP, ['chat'])).rejects.toThrow(/handshake refused: 400/);

    // A few junk frames are dropped; the socket still speaks SIP afterwards.
    const junk = await connectWsPhone(wsUrl, JUNK_IP);
    junk.socket.send(crypto.randomBytes(600));
    junk.send('hello, is this SIP?\r\n\r\n');
    junk.send('INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n');
    expect(await junk.options()).toBe('SIP/2.0 200 OK');
    expect(await udpOptions()).toBe('SIP/2.0 200 OK');
    // Only so many: a peer that keeps sending junk is cut off (1008 policy violation).
    for (let i = 0; i < 6; i++) junk.send(`junk ${i}`);
    expect(await junk.closed).toBe(1008);
    junk.close();

    // A frame far larger than any SIP message closes that socket (1009), nothing else.
    const big = await connectWsPhone(wsUrl, JUNK_IP);
    big.send(`OPTIONS sip:127.0.0.1 SIP/2.0\r\nX-Pad: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    expect(await big.closed).toBe(1009);
    big.close();
    expect(await udpOptions()).toBe('SIP/2.0 200 OK');

    // REGISTER, then gone before the answer: the answer has nowhere to go, and the binding it made goes too.
    const issued = await issueCredentials();
    const quitter = await connectWsPhone(wsUrl, JUNK_IP);
    const nonce = await quitter.registerAndQuit({ username: issued.username, password: issued.password, realm: issued.realm });
    // The digest was checked (its nonce-count recorded), so the REGISTER did reach the registrar.
    expect(
      await eventually(
        () => h.redis.get(`digest-nc:${nonce}`),
        (count) => count !== null,
      ),
    ).toBe('1');
    // From there the binding is written within milliseconds; it must be gone again, not linger for its 300 s.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const left = await registrations(linked.id);
    expect(left.some((r) => r.source === `ws:${JUNK_IP}:${quitter.localPort}`)).toBe(false);
    expect(await udpOptions()).toBe('SIP/2.0 200 OK');

    // A flood from one address: sockets over the per-address cap are refused, none crash anything.
    const attempts = await Promise.allSettled(Array.from({ length: 90 }, () => connectWsPhone(wsUrl, FLOOD_IP)));
    const opened = attempts.filter((a): a is PromiseFulfilledResult<WsPhone> => a.status === 'fulfilled').map((a) => a.value);
    const refused = attempts.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason));
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.length).toBeLessThanOrEqual(64);
    expect(refused.length).toBe(90 - opened.length);
    expect(refused.every((reason) => /handshake refused: 503/.test(reason))).toBe(true);
    for (const phone of opened) phone.close();
    // Half-open handshakes and garbage in place of HTTP, dropped at once.
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port: server.b2bua.stack.wsPort()!, localAddress: FLOOD_IP }, () => {
              socket.write(i % 2 ? 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n' : crypto.randomBytes(64));
              socket.destroy();
              resolve();
            });
            socket.on('error', () => resolve());
          }),
      ),
    );
    expect(await udpOptions()).toBe('SIP/2.0 200 OK');
    // Once the flood's sockets are gone the address may connect again.
    const after = await eventually(
      () => connectWsPhone(wsUrl, FLOOD_IP).catch(() => undefined),
      (phone) => phone !== undefined,
    );
    expect(after).toBeDefined();
    expect(await after!.options()).toBe('SIP/2.0 200 OK');
    after!.close();
  });
});

describe('calls to a browser on WebSocket', () => {
  async function registeredBrowser(): Promise<WsPhone> {
    const phone = await connectWsPhone(wsUrl, BROWSER_IP);
    const issued = await issueCredentials();
    expect(await phone.register({ username: issued.username, password: issued.password, realm: issued.realm })).toBe('SIP/2.0 200 OK');
    return phone;
  }
  const toneFile = () => makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);

  it('rings the browser down its socket: it answers, the ACK comes over WebSocket, and BYE works both ways', async () => {
    const phone = await registeredBrowser();
    const contactUser = /^sip:([^@]+)@/.exec(phone.contact)![1];
    const browserTarget = `sip:${contactUser}@${BROWSER_IP}:${phone.localPort};transport=ws`;
    try {
      // The carrier hangs up.
      const call = await runSipp({
        scenario: scenarioPath('uac-tone-bye.xml'),
        ip: CALLER_IP,
        target: `127.0.0.1:${server.sipPort}`,
        service: NUMBERS.toBrowser.slice(1),
        vars: { TONE: toneFile(), TALK_MS: '500' },
      });
      expect(call.code, call.errors).toBe(0);
      const invite = await phone.waitFor((m) => m.startsWith('INVITE '), 5_000, 'INVITE');
      expect(invite.split(' ')[1]).toBe(browserTarget);
      expect(sipHeader(invite, 'via')).toMatch(/^SIP\/2\.0\/WS 127\.0\.0\.1:\d+;branch=z9hG4bK/);
      expect(sipHeader(invite, 'content-type')).toBe('application/sdp');
      const callId = sipHeader(invite, 'call-id');
      const ack = await phone.waitFor((m) => m.startsWith('ACK ') && sipHeader(m, 'call-id') === callId, 5_000, 'ACK');
      // In-dialog requests go to the Contact the browser answered with, and still down its socket.
      expect(ack.split(' ')[1]).toBe(phone.contact);
      await phone.waitFor((m) => m.startsWith('BYE ') && sipHeader(m, 'call-id') === callId, 5_000, 'BYE');
      expect(await server.waitForCall((r) => r.trackingNumber === NUMBERS.toBrowser)).toMatchObject({
        disposition: 'answered',
        answeredTarget: 'extension:201',
        answeredBy: browserTarget,
      });

      // The browser hangs up.
      const caller = startSipp({
        scenario: scenarioPath('uac-expect-bye.xml'),
        ip: CALLER_IP,
        target: `127.0.0.1:${server.sipPort}`,
        service: NUMBERS.toBrowser.slice(1),
      });
      const second = await phone.waitFor((m) => m.startsWith('INVITE ') && sipHeader(m, 'call-id') !== callId, 10_000, 'second INVITE');
      await phone.waitFor((m) => m.startsWith('ACK ') && sipHeader(m, 'call-id') === sipHeader(second, 'call-id'), 5_000, 'second ACK');
      // The B2BUA ACKs the browser before it answers the caller (rtpengine first): talk a moment, as people do.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await phone.hangUp()).toBe('SIP/2.0 200 OK');
      const hungUp = await (await caller).done;
      expect(hungUp.code, hungUp.errors).toBe(0);
      const records = await eventually(
        async () => server.ended.filter((r) => r.trackingNumber === NUMBERS.toBrowser),
        (list) => list.length >= 2,
      );
      expect(records[1]).toMatchObject({ disposition: 'answered', answeredBy: browserTarget });
    } finally {
      phone.close();
    }
  });

  it('a closed socket takes its registration along; one closed while ringing fails its leg at once', async () => {
    const phone = await registeredBrowser();
    expect((await registrations(linked.id)).map((r) => r.source)).toEqual([`ws:${BROWSER_IP}:${phone.localPort}`]);
    phone.close();
    expect(
      await eventually(
        () => registrations(linked.id),
        (items) => items.length === 0,
      ),
    ).toEqual([]);

    // Ringing, then gone: the call moves on to the next step instead of waiting out the ring time.
    const ringing = await registeredBrowser();
    ringing.answer = false;
    const fallback = await startSipp({ scenario: 'uas', ip: FALLBACK_IP, port: fallbackPort });
    const started = Date.now();
    const call = runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBERS.toBrowserThenFallback.slice(1),
      vars: { TONE: toneFile(), TALK_MS: '300' },
    });
    await ringing.waitFor((m) => m.startsWith('INVITE '), 5_000, 'INVITE');
    ringing.close();
    const done = await call;
    fallback.stop();
    expect(done.code, done.errors).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBERS.toBrowserThenFallback);
    expect(record).toMatchObject({ disposition: 'answered', answeredBy: `sip:fallback@${FALLBACK_IP}:${fallbackPort}` });
    // Well under the browser's 10 s of ringing.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(
      await eventually(
        () => registrations(linked.id),
        (items) => items.length === 0,
      ),
    ).toEqual([]);
  });
});
