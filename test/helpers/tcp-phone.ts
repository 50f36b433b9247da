/**
 * A minimal SIP phone over one TCP connection, as a phone behind NAT uses it: it REGISTERs with
 * digest over a connection from an ephemeral local port, and answers what comes back over that same
 * connection (INVITE → 200 with SDP, BYE → 200). Nothing can reach it any other way: it has no
 * listening socket, so a server that opened a new connection or used UDP would never ring it.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

export interface TcpPhone {
  /** The connection's local port (what the server sees as the phone's source port). */
  localPort: number;
  register(o: { user: string; password: string; realm: string }): Promise<string>;
  /** Requests the phone received, in order (method names). */
  received: string[];
  /** Resolves with the request of that method once it arrives. */
  waitFor(method: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

function splitMessages(buffer: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = buffer;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
    if (rest.length < end + 4 + length) break;
    messages.push(rest.slice(0, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
  return { messages, rest };
}

const header = (message: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(message)?.[1]?.trim() ?? '';

export async function connectTcpPhone(ip: string, serverPort: number): Promise<TcpPhone> {
  const socket = net.connect({ host: '127.0.0.1', port: serverPort, localAddress: ip });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const media = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => media.bind(0, ip, () => resolve()));
  const localPort = socket.localPort!;
  const received: string[] = [];
  const responses: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  const tag = crypto.randomBytes(4).toString('hex');

  const reply = (request: string, status: string, extra: string[] = [], body = '') => {
    const lines = [
      `SIP/2.0 ${status}`,
      ...request.split('\r\n').filter((line) => /^(via|from|call-id|cseq):/i.test(line)),
      `To: ${header(request, 'to')}${/;tag=/.test(header(request, 'to')) ? '' : `;tag=${tag}`}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    socket.write(lines.join('\r\n'));
  };

  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    const { messages, rest } = splitMessages(buffer);
    buffer = rest;
    for (const message of messages) {
      if (message.startsWith('SIP/2.0')) responses.push(message);
      else {
        const method = message.split(' ')[0]!;
        received.push(method);
        if (method === 'INVITE') {
          const sdp = [
            'v=0',
            `o=phone 1 1 IN IP4 ${ip}`,
            's=-',
            `c=IN IP4 ${ip}`,
            't=0 0',
            `m=audio ${media.address().port} RTP/AVP 0`,
            'a=rtpmap:0 PCMU/8000',
            '',
          ].join('\r\n');
          reply(message, '200 OK', [`Contact: <sip:phone@${ip}:${localPort};transport=tcp>`, 'Content-Type: application/sdp'], sdp);
        } else if (method === 'BYE' || method === 'OPTIONS' || method === 'CANCEL') reply(message, '200 OK');
      }
      for (const wake of waiters.splice(0)) wake();
    }
  });

  const next = async <T>(pick: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`tcp phone: no ${what} within ${timeoutMs} ms (got ${received.join(', ') || 'nothing'})`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };

  let cseq = 1;
  const sendRegister = (user: string, authorization?: string) => {
    socket.write(
      [
        `REGISTER sip:127.0.0.1:${serverPort};transport=tcp SIP/2.0`,
        `Via: SIP/2.0/TCP ${ip}:${localPort};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport`,
        `From: <sip:${user}@127.0.0.1>;tag=${tag}`,
        `To: <sip:${user}@127.0.0.1>`,
        `Call-ID: tcp-phone-${tag}@${ip}`,
        `CSeq: ${cseq++} REGISTER`,
        // Behind NAT the phone names an address the server cannot reach.
        `Contact: <sip:${user}@10.0.0.7:5060;transport=tcp>`,
        'Expires: 300',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  };

  return {
    localPort,
    received,
    async register({ user, password, realm }) {
      sendRegister(user);
      const challenge = await next(() => responses.shift(), 5_000, '401');
      const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1];
      if (!nonce) throw new Error(`tcp phone: expected a challenge, got ${challenge.split('\r\n')[0]}`);
      const uri = `sip:127.0.0.1:${serverPort};transport=tcp`;
      const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:00000001:cafe:auth:${md5(`REGISTER:${uri}`)}`);
      sendRegister(
        user,
        `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="cafe"`,
      );
      return (await next(() => responses.shift(), 5_000, 'final response')).split('\r\n')[0]!;
    },
    waitFor: (method, timeoutMs = 10_000) => next(() => (received.includes(method) ? method : undefined), timeoutMs, method),
    close() {
      socket.destroy();
      media.close();
    },
  };
}
