/**
 * A browser softphone as the server sees it (RFC 7118): one WebSocket with subprotocol `sip`, raw SIP
 * text per frame, a Contact with an unroutable `.invalid` host, no listening socket. It REGISTERs
 * with digest, answers INVITE (180, then 200 with a plain RTP offer from a UDP socket of its own)
 * and BYE, and can hang up the call it answered.
 *
 * @example
 *   const phone = await connectWsPhone(`ws://127.0.0.1:${wsPort}`, '127.0.26.2');
 *   expect(await phone.register({ username, password, realm })).toBe('SIP/2.0 200 OK');
 *   phone.close();
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import WebSocket from 'ws';

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
export const sipHeader = (message: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(message)?.[1]?.trim() ?? '';
export const statusLine = (message: string) => message.split('\r\n')[0] ?? '';
const branch = () => `z9hG4bK${crypto.randomBytes(6).toString('hex')}`;

export interface WsPhone {
  socket: WebSocket;
  localPort: number;
  /** The Contact it registers (what SIP.js would make up). */
  contact: string;
  /** Every SIP message received, in order. */
  received: string[];
  /** Whether it answers INVITEs (default) or lets them ring. */
  answer: boolean;
  send(text: string): void;
  /** Resolves with the first message received (now or later) that `match` accepts and no earlier wait took. */
  waitFor(match: (message: string) => boolean, timeoutMs?: number, what?: string): Promise<string>;
  /** REGISTER, answer the 401 with these credentials; resolves with the final status line. */
  register(o: { username: string; password: string; realm: string; user?: string; expires?: number }): Promise<string>;
  /**
   * Half a transaction: REGISTER, answer the challenge, and close the socket in the same tick as the
   * answer is sent, before the server can reply. Resolves with the nonce the answer used.
   */
  registerAndQuit(o: { username: string; password: string; realm: string }): Promise<string>;
  /** Sends OPTIONS over the socket; resolves with the response's status line. */
  options(): Promise<string>;
  /** BYE in the dialog of the last INVITE it answered; resolves with the response's status line. */
  hangUp(): Promise<string>;
  /** Resolves with the close code once the server closed the socket. */
  closed: Promise<number>;
  close(): void;
}

/** Opens the phone's WebSocket from `ip`; rejects when the server refuses the handshake. */
export async function connectWsPhone(url: string, ip: string, protocols: string[] = ['sip']): Promise<WsPhone> {
  const socket = new WebSocket(url, protocols, { localAddress: ip });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake refused: ${response.statusCode}`)));
  });
  socket.on('error', () => undefined);
  const media = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => media.bind(0, ip, () => resolve()));
  const localPort = (socket as unknown as { _socket: { localPort: number } })._socket.localPort;
  const tag = crypto.randomBytes(4).toString('hex');
  const contactUser = crypto.randomBytes(4).toString('hex');
  const contact = `sip:${contactUser}@${crypto.randomBytes(4).toString('hex')}.invalid;transport=ws`;
  const received: string[] = [];
  /** Messages a waitFor has taken already: each answers one wait. */
  const consumed = new Set<number>();
  const waiters: Array<() => void> = [];
  let answered: string | undefined;
  let cseq = 1;
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  const send = (text: string) => socket.send(text);
  const reply = (request: string, status: string, extra: string[] = [], body = '') => {
    const to = sipHeader(request, 'to');
    send(
      [
        `SIP/2.0 ${status}`,
        ...request.split('\r\n').filter((line) => /^(via|from|call-id|cseq):/i.test(line)),
        `To: ${to}${/;tag=/.test(to) ? '' : `;tag=${tag}`}`,
        ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );
  };

  socket.on('message', (data) => {
    const message = data.toString();
    received.push(message);
    if (!message.startsWith('SIP/2.0')) {
      const method = message.split(' ')[0];
      if (method === 'INVITE' && phone.answer) {
        reply(message, '180 Ringing', [`Contact: <${contact}>`]);
        const sdp = [
          'v=0',
          `o=ws-phone 1 1 IN IP4 ${ip}`,
          's=-',
          `c=IN IP4 ${ip}`,
          't=0 0',
          `m=audio ${media.address().port} RTP/AVP 0`,
          'a=rtpmap:0 PCMU/8000',
          '',
        ].join('\r\n');
        reply(message, '200 OK', [`Contact: <${contact}>`, 'Content-Type: application/sdp'], sdp);
        answered = message;
      } else if (method === 'BYE' || method === 'OPTIONS' || method === 'CANCEL') reply(message, '200 OK');
    }
    for (const wake of waiters.splice(0)) wake();
  });

  const waitFor = async (match: (message: string) => boolean, timeoutMs = 10_000, what = 'message') => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < received.length; i++) {
        if (consumed.has(i) || !match(received[i]!)) continue;
        consumed.add(i);
        return received[i]!;
      }
      if (Date.now() > deadline) throw new Error(`ws phone: no ${what} within ${timeoutMs} ms (got ${received.map(statusLine).join(' | ') || 'nothing'})`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  const responseTo = (callId: string, method: string) => (m: string) =>
    m.startsWith('SIP/2.0') && Number(m.split(' ')[1]) >= 200 && sipHeader(m, 'call-id') === callId && sipHeader(m, 'cseq').endsWith(method);

  /** The first REGISTER and its challenge; `answer` is the authorized REGISTER to send (or the status line when not challenged). */
  async function challenged({
    username,
    password,
    realm,
    user = username,
    expires = 300,
  }: {
    username: string;
    password: string;
    realm: string;
    user?: string;
    expires?: number;
  }): Promise<{ callId: string; answer: { text: string; nonce: string } | string }> {
    const callId = `ws-reg-${crypto.randomBytes(4).toString('hex')}`;
    const uri = 'sip:127.0.0.1';
    const build = (authorization?: string) =>
      [
        `REGISTER ${uri} SIP/2.0`,
        `Via: SIP/2.0/WS ${crypto.randomBytes(3).toString('hex')}.invalid;branch=${branch()}`,
        'Max-Forwards: 70',
        `To: <sip:${user}@127.0.0.1>`,
        `From: <sip:${user}@127.0.0.1>;tag=${tag}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq++} REGISTER`,
        `Contact: <${contact}>;expires=${expires}`,
        `Expires: ${expires}`,
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'User-Agent: ws-phone (test)',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    send(build());
    const challenge = await waitFor(responseTo(callId, 'REGISTER'), 5_000, 'REGISTER challenge');
    const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1];
    if (!nonce) return { callId, answer: statusLine(challenge) };
    const response = md5(`${md5(`${username}:${realm}:${password}`)}:${nonce}:00000001:beef:auth:${md5(`REGISTER:${uri}`)}`);
    const authorization = `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="beef"`;
    return { callId, answer: { text: build(authorization), nonce } };
  }

  const phone: WsPhone = {
    socket,
    localPort,
    contact,
    received,
    answer: true,
    send,
    waitFor,
    closed,
    async register(o) {
      const { callId, answer } = await challenged(o);
      if (typeof answer === 'string') return answer;
      send(answer.text);
      return statusLine(await waitFor(responseTo(callId, 'REGISTER'), 5_000, 'REGISTER answer'));
    },
    async registerAndQuit(o) {
      const { answer } = await challenged(o);
      if (typeof answer === 'string') throw new Error(`ws phone: REGISTER was not challenged (${answer})`);
      send(answer.text);
      phone.close();
      return answer.nonce;
    },
    async options() {
      const callId = `ws-opt-${crypto.randomBytes(4).toString('hex')}`;
      send(
        [
          'OPTIONS sip:127.0.0.1 SIP/2.0',
          `Via: SIP/2.0/WS ${crypto.randomBytes(3).toString('hex')}.invalid;branch=${branch()}`,
          'Max-Forwards: 70',
          'To: <sip:127.0.0.1>',
          `From: <sip:probe@127.0.0.1>;tag=${tag}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq++} OPTIONS`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      return statusLine(await waitFor(responseTo(callId, 'OPTIONS'), 5_000, 'OPTIONS answer'));
    },
    async hangUp() {
      if (!answered) throw new Error('ws phone: no call answered');
      const invite = answered;
      const callId = sipHeader(invite, 'call-id');
      const ourContact = /<([^>]+)>/.exec(sipHeader(invite, 'contact'))?.[1] ?? '';
      const to = sipHeader(invite, 'to');
      send(
        [
          `BYE ${ourContact} SIP/2.0`,
          `Via: SIP/2.0/WS ${crypto.randomBytes(3).toString('hex')}.invalid;branch=${branch()}`,
          'Max-Forwards: 70',
          `From: ${to}${/;tag=/.test(to) ? '' : `;tag=${tag}`}`,
          `To: ${sipHeader(invite, 'from')}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq++} BYE`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      return statusLine(await waitFor(responseTo(callId, 'BYE'), 5_000, 'BYE answer'));
    },
    close() {
      socket.terminate();
      media.close();
    },
  };
  return phone;
}
