// INVITEs as carriers and gateways write them, each a complete call through the B2BUA: what the
// number and caller are read from, and the answer each gets. A regression net for the SIP parsing
// and SDP handling a new carrier would exercise on its first call.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type RunningSipp, startSipp } from '../helpers/sipp.js';

const CARRIER_IP = '127.0.0.52';
const AGENT_IP = '127.0.0.53';
const NUMBER = '+74957770055';
const CALLER = '+79161234567';
let h: Harness;
let server: CallServer;
let agent: RunningSipp;

const VARIANTS: Array<{ name: string; edit: (invite: string) => string }> = [
  {
    name: 'compact header names',
    edit: (m) =>
      m
        .replace(/^Via:/m, 'v:')
        .replace(/^From:/m, 'f:')
        .replace(/^To:/m, 't:')
        .replace(/^Call-ID:/m, 'i:')
        .replace(/^Contact:/m, 'm:')
        .replace(/^Content-Type:/m, 'c:')
        .replace(/^Content-Length:/m, 'l:'),
  },
  {
    name: 'lower-case header names',
    edit: (m) =>
      m
        .replace(/^Via:/m, 'via:')
        .replace(/^From:/m, 'from:')
        .replace(/^To:/m, 'TO:'),
  },
  { name: 'a tel: Request-URI', edit: (m) => m.replace(/^INVITE \S+/m, 'INVITE tel:+74957770055') },
  {
    name: 'number-portability parameters on the dialled number',
    edit: (m) => m.replace(/^INVITE sip:74957770055@/m, 'INVITE sip:+74957770055;npdi;rn=+74950000000@').replace(/^To: .*$/m, 'To: <sip:shop@127.0.0.1>'),
  },
  {
    name: 'user=phone with +',
    edit: (m) => m.replace(/^INVITE sip:74957770055@/m, 'INVITE sip:+74957770055@').replace(/(INVITE \S+?)( SIP)/, '$1;user=phone$2'),
  },
  { name: 'the national format (8 …)', edit: (m) => m.replace(/^INVITE sip:74957770055@/m, 'INVITE sip:84957770055@') },
  { name: 'ten digits without the country code', edit: (m) => m.replace(/^INVITE sip:74957770055@/m, 'INVITE sip:4957770055@') },
  { name: 'no number in the Request-URI, the number in To', edit: (m) => m.replace(/^INVITE sip:74957770055@/m, 'INVITE sip:') },
  {
    name: 'the caller only in P-Asserted-Identity',
    edit: (m) =>
      m
        .replace(/^From: .*$/m, (l) => l.replace(/<[^>]+>/, '<sip:anonymous@anonymous.invalid>'))
        .replace(/^Max-Forwards/m, 'P-Asserted-Identity: <tel:+79161234567>\r\nMax-Forwards'),
  },
  { name: 'a caller with URI parameters in its user part', edit: (m) => m.replace('<sip:79161234567@', '<sip:+79161234567;cpc=ordinary@') },
  {
    name: 'folded header lines and a charset on the SDP type',
    edit: (m) => m.replace(/^Contact: (.*)$/m, 'Contact:\r\n  $1').replace('Content-Type: application/sdp', 'Content-Type: Application/SDP; charset=utf-8'),
  },
  {
    name: 'SDP with bare line feeds, no t= line, ptime and bandwidth',
    edit: (m) =>
      withBody(m, sdp().replaceAll('\r\n', '\n').replace('t=0 0\n', '').replace('a=rtpmap:0 PCMU/8000\n', 'a=rtpmap:0 PCMU/8000\nb=AS:64\na=ptime:30\n')),
  },
  {
    name: 'SDP with the address only at media level',
    edit: (m) => withBody(m, sdp().replace(`c=IN IP4 ${CARRIER_IP}\r\n`, '').replace('a=rtpmap:0', `c=IN IP4 ${CARRIER_IP}\r\na=rtpmap:0`)),
  },
  {
    name: 'G.711 A-law and G.729 first',
    edit: (m) =>
      withBody(
        m,
        sdp()
          .replace('RTP/AVP 0', 'RTP/AVP 18 8 101')
          .replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000'),
      ),
  },
];

function sdp(): string {
  return ['v=0', `o=carrier 1 1 IN IP4 ${CARRIER_IP}`, 's=-', `c=IN IP4 ${CARRIER_IP}`, 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join(
    '\r\n',
  );
}

function withBody(invite: string, body: string): string {
  const head = invite.slice(0, invite.indexOf('\r\n\r\n'));
  return `${head.replace(/^Content-Length: \d+$/m, `Content-Length: ${Buffer.byteLength(body)}`)}\r\n\r\n${body}`;
}

function invite(local: { port: number }, callId: string): string {
  const body = sdp();
  return [
    `INVITE sip:74957770055@127.0.0.1:${server.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${CARRIER_IP}:${local.port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport`,
    `From: "Caller" <sip:79161234567@${CARRIER_IP}>;tag=${crypto.randomBytes(4).toString('hex')}`,
    `To: <sip:74957770055@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:carrier@${CARRIER_IP}:${local.port}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Places the call from a raw socket, ACKs the final answer and hangs up an answered call; resolves with the final status and body. */
async function call(message: (local: { port: number }) => string): Promise<{ status: number; body: string }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, CARRIER_IP, () => resolve()));
  const local = { port: socket.address().port };
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the call did not complete')), 10_000);
      let final: { status: number; body: string } | undefined;
      socket.on('message', (datagram) => {
        const text = datagram.toString('utf8');
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
        const method = /^CSeq:\s*\d+ (\w+)/im.exec(text)?.[1];
        if (method === 'BYE' && status === 200 && final) {
          clearTimeout(timer);
          return resolve(final);
        }
        if (method !== 'INVITE' || status < 200 || final) return;
        final = { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
        const header = (name: string) => new RegExp(`^${name}:.*$`, 'im').exec(text)?.[0] ?? '';
        const inDialog = (verb: string, cseq: number) =>
          [
            `${verb} ${/^Contact:\s*<([^>]+)>/im.exec(text)?.[1] ?? `sip:127.0.0.1:${server.sipPort}`} SIP/2.0`,
            `Via: SIP/2.0/UDP ${CARRIER_IP}:${local.port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport`,
            header('From'),
            header('To'),
            header('Call-ID'),
            `CSeq: ${cseq} ${verb}`,
            'Max-Forwards: 70',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n');
        socket.send(inDialog('ACK', 1), server.sipPort, '127.0.0.1');
        if (status >= 300) {
          clearTimeout(timer);
          return resolve(final);
        }
        setTimeout(() => socket.send(inDialog('BYE', 2), server.sipPort, '127.0.0.1'), 200);
      });
      socket.send(message(local), server.sipPort, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

beforeAll(async () => {
  h = await createHarness();
  const agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    convertRecordings: false,
    dialplans: { formats: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CARRIER_IP}/32`], dialplan: 'formats' });
  agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: VARIANTS.length + 5, timeoutSeconds: 120 });
});
afterAll(async () => {
  agent?.stop();
  await server?.stop();
  await h?.close();
});

describe('an INVITE written the way some carrier writes it', () => {
  it.each(VARIANTS)('$name: answered, with the number and caller read right', async ({ edit }) => {
    const callId = `${crypto.randomUUID()}@${CARRIER_IP}`;
    const { status, body } = await call((local) => edit(invite(local, callId)));
    expect(status, body).toBe(200);
    expect(body).toMatch(/^m=audio [1-9]\d* RTP\/AVP /m);
    const record = await server.waitForCall((r) => r.sipCallId === callId);
    expect(record).toMatchObject({ trackingNumber: NUMBER, caller: CALLER, disposition: 'answered', hangupBy: 'caller' });
  });
});
