// Registered phones get OPTIONS pings (their NAT pinhole stays open); a phone that stops answering
// three of them loses its registration instead of being rung until it expires.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';

const PHONE_IP = '127.0.20.2';
let h: Harness;
let server: CallServer;

beforeAll(async () => {
  h = await createHarness();
  server = await startCallServer(h, { keepaliveMs: 300 });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

it('pings a registered phone and drops it after three unanswered pings', async () => {
  const ext = await server.app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '201', name: 'Desk' } });
  expect(ext.statusCode, ext.body).toBe(201);
  const { id, sipUsername, sipPassword } = ext.json();
  const port = await freePort(PHONE_IP);
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(port, PHONE_IP, resolve));
  let answering = true;
  const options: string[] = [];
  let lastResponse: (text: string) => void = () => {};
  phone.on('message', (buf, rinfo) => {
    const text = buf.toString();
    if (text.startsWith('SIP/2.0')) return lastResponse(text);
    if (!text.startsWith('OPTIONS ')) return;
    options.push(text);
    if (!answering) return;
    // Answer with the request's Via, From, To, Call-ID and CSeq.
    const keep = text.split('\r\n').filter((line) => /^(via|from|to|call-id|cseq):/i.test(line));
    phone.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), rinfo.port, rinfo.address);
  });
  const uri = `sip:127.0.0.1:${server.sipPort}`;
  const register = (authorization?: string) =>
    new Promise<string>((resolve) => {
      lastResponse = resolve;
      const message = [
        `REGISTER ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${PHONE_IP}:${port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport`,
        `From: <sip:${sipUsername}@127.0.0.1>;tag=ka1`,
        `To: <sip:${sipUsername}@127.0.0.1>`,
        'Call-ID: keepalive-test@127.0.20.2',
        `CSeq: ${authorization ? 2 : 1} REGISTER`,
        `Contact: <sip:${sipUsername}@${PHONE_IP}:${port}>`,
        'Expires: 600',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      phone.send(message, server.sipPort, '127.0.0.1');
    });
  try {
    const challenge = await register();
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const ha1 = md5(`${sipUsername}:${h.config.sip.realm}:${sipPassword}`);
    const response = md5(`${ha1}:${nonce}:00000001:feed:auth:${md5(`REGISTER:${uri}`)}`);
    const ok = await register(
      `Digest username="${sipUsername}", realm="${h.config.sip.realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="feed"`,
    );
    expect(ok.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    const registrations = async () =>
      (await server.app.inject({ method: 'GET', url: `/v1/extensions/${id}/registrations`, headers: h.adminHeaders })).json().items as unknown[];

    await expect.poll(() => options.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(options[0]).toMatch(new RegExp(`^OPTIONS sip:${sipUsername}@${PHONE_IP}:${port} SIP/2.0`));
    // Answered pings keep the phone registered.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await registrations()).toHaveLength(1);

    answering = false;
    await expect.poll(registrations, { timeout: 10_000, interval: 200 }).toEqual([]);
  } finally {
    phone.close();
  }
});
