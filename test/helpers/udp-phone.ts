/**
 * A desk phone over UDP written as raw SIP, for flows SIPp cannot script across two dialogs (an
 * attended transfer names one dialog inside a request of another). It answers INVITEs (200 with
 * SDP), BYEs and NOTIFYs with 200, places calls answering the 407 digest challenge, and sends
 * requests inside its dialogs.
 *
 * @example
 *   const phone = await startUdpPhone('127.0.25.4', port);
 *   const a = await phone.answered();               // a call rings it
 *   const b = await phone.call('502', { user, password, serverPort });
 *   await phone.request(a, 'REFER', [`Refer-To: <sip:502@127.0.0.1?Replaces=${replacesOf(b)}>`]);
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
const header = (message: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(message)?.[1]?.trim() ?? '';
const tagOf = (value: string) => /;tag=([^;>\s]+)/.exec(value)?.[1] ?? '';
const uriOf = (value: string) => /<([^>]+)>/.exec(value)?.[1] ?? value.split(';')[0]!;
const newTag = () => crypto.randomBytes(4).toString('hex');
const branch = () => `z9hG4bK${crypto.randomBytes(6).toString('hex')}`;

/** One of the phone's dialogs, as the phone sees it. */
export interface PhoneDialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Where in-dialog requests go (the other side's Contact). */
  remoteTarget: string;
  local: string;
  remote: string;
  cseq: number;
}

/** A request the phone received. */
export interface Received {
  method: string;
  callId: string;
  text: string;
  body: string;
}

export interface UdpPhone {
  received: Received[];
  mediaPort: number;
  /** Resolves with the dialog of the next call that rang the phone (it answers at once). */
  answered(timeoutMs?: number): Promise<PhoneDialog>;
  /**
   * Calls `user` at the server, answering its digest challenge with `auth` (From names `fromUser`,
   * default the digest username); rejects with the status line of a failure.
   */
  call(user: string, auth: { username: string; password: string; fromUser?: string }, timeoutMs?: number): Promise<PhoneDialog>;
  /** Sends a request inside `dialog`; resolves with the final response. */
  request(dialog: PhoneDialog, method: string, headers?: string[], body?: { type: string; text: string }): Promise<string>;
  /** Resolves with the first request matching `pick` (already received or still to come). */
  waitFor(pick: (r: Received) => boolean, what: string, timeoutMs?: number): Promise<Received>;
  close(): void;
}

/** The phone's audio offer or answer (direction sendonly puts the other side on hold). */
export const phoneSdp = (ip: string, port: number, direction = 'sendrecv') =>
  ['v=0', `o=phone 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=${direction}`, ''].join('\r\n');

export async function startUdpPhone(ip: string, port: number, serverPort: number): Promise<UdpPhone> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, ip, () => resolve()));
  const media = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => media.bind(0, ip, () => resolve()));
  const mediaPort = media.address().port;
  const contact = `<sip:phone@${ip}:${port}>`;
  const received: Received[] = [];
  const answeredDialogs: PhoneDialog[] = [];
  const responseWaiters = new Map<string, (response: string) => void>();
  const wakers: Array<() => void> = [];
  const send = (text: string) => socket.send(text, serverPort, '127.0.0.1');

  const message = (start: string, headers: string[], body?: { type: string; text: string }) =>
    [start, ...headers, ...(body ? [`Content-Type: ${body.type}`] : []), `Content-Length: ${Buffer.byteLength(body?.text ?? '')}`, '', body?.text ?? ''].join(
      '\r\n',
    );

  const reply = (request: string, status: string, toTag?: string, body?: { type: string; text: string }) => {
    const to = header(request, 'to');
    const lines = request.split('\r\n').filter((line) => /^(via|from|call-id|cseq):/i.test(line));
    send(message(`SIP/2.0 ${status}`, [...lines, `To: ${to}${toTag && !tagOf(to) ? `;tag=${toTag}` : ''}`, `Contact: ${contact}`], body));
  };

  socket.on('message', (datagram) => {
    const text = datagram.toString('utf8');
    if (text.startsWith('SIP/2.0')) {
      // Responses are matched by CSeq and Call-ID; provisional ones are dropped.
      if (Number(text.slice(8, 11)) < 200) return;
      const key = `${header(text, 'call-id')} ${header(text, 'cseq')}`;
      responseWaiters.get(key)?.(text);
      return;
    }
    const method = text.split(' ')[0]!;
    const callId = header(text, 'call-id');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    received.push({ method, callId, text, body });
    if (method === 'INVITE' && !tagOf(header(text, 'to'))) {
      const localTag = newTag();
      reply(text, '200 OK', localTag, { type: 'application/sdp', text: phoneSdp(ip, mediaPort) });
      answeredDialogs.push({
        callId,
        localTag,
        remoteTag: tagOf(header(text, 'from')),
        remoteTarget: uriOf(header(text, 'contact')),
        local: uriOf(header(text, 'to')),
        remote: uriOf(header(text, 'from')),
        cseq: 1,
      });
    } else if (method === 'INVITE') reply(text, '200 OK', undefined, { type: 'application/sdp', text: phoneSdp(ip, mediaPort) });
    else if (method !== 'ACK') reply(text, '200 OK');
    for (const wake of wakers.splice(0)) wake();
  });

  async function until<T>(pick: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`udp phone: no ${what} within ${timeoutMs} ms (got ${received.map((r) => r.method).join(', ') || 'nothing'})`);
      await new Promise<void>((resolve) => {
        wakers.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Sends and waits for the final response to (Call-ID, CSeq). */
  function transact(text: string, timeoutMs = 5_000): Promise<string> {
    const key = `${header(text, 'call-id')} ${header(text, 'cseq')}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        responseWaiters.delete(key);
        reject(new Error(`udp phone: no final response to ${key}`));
      }, timeoutMs);
      responseWaiters.set(key, (response) => {
        clearTimeout(timer);
        responseWaiters.delete(key);
        resolve(response);
      });
      send(text);
    });
  }

  const ack = (dialog: PhoneDialog, seq: number, via: string, requestUri: string, to: string) =>
    send(
      message(`ACK ${requestUri} SIP/2.0`, [
        `Via: ${via}`,
        `From: <${dialog.local}>;tag=${dialog.localTag}`,
        `To: ${to}`,
        `Call-ID: ${dialog.callId}`,
        `CSeq: ${seq} ACK`,
        'Max-Forwards: 70',
      ]),
    );

  return {
    received,
    mediaPort,
    answered: (timeoutMs = 15_000) => until(() => answeredDialogs.shift(), 'incoming call', timeoutMs),
    async call(user, auth, timeoutMs = 15_000) {
      const requestUri = `sip:${user}@127.0.0.1:${serverPort}`;
      const dialog: PhoneDialog = {
        callId: `${crypto.randomUUID()}@${ip}`,
        localTag: newTag(),
        remoteTag: '',
        remoteTarget: requestUri,
        local: `sip:${auth.fromUser ?? auth.username}@127.0.0.1`,
        remote: `sip:${user}@127.0.0.1`,
        cseq: 1,
      };
      const invite = (seq: number, via: string, authorization?: string) =>
        message(
          `INVITE ${requestUri} SIP/2.0`,
          [
            `Via: ${via}`,
            `From: <${dialog.local}>;tag=${dialog.localTag}`,
            `To: <${dialog.remote}>`,
            `Call-ID: ${dialog.callId}`,
            `CSeq: ${seq} INVITE`,
            `Contact: ${contact}`,
            'Max-Forwards: 70',
            ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
          ],
          { type: 'application/sdp', text: phoneSdp(ip, mediaPort) },
        );
      let via = `SIP/2.0/UDP ${ip}:${port};branch=${branch()}`;
      let response = await transact(invite(dialog.cseq, via), timeoutMs);
      if (response.startsWith('SIP/2.0 407')) {
        // A non-2xx final response is ACKed inside its own transaction (same branch, RFC 3261 17.1.1.3).
        ack(dialog, dialog.cseq, via, requestUri, header(response, 'to'));
        const nonce = /nonce="([^"]+)"/.exec(response)?.[1] ?? '';
        const realm = /realm="([^"]+)"/.exec(response)?.[1] ?? '';
        const ha1 = md5(`${auth.username}:${realm}:${auth.password}`);
        const digest = md5(`${ha1}:${nonce}:00000001:beef:auth:${md5(`INVITE:${requestUri}`)}`);
        dialog.cseq += 1;
        via = `SIP/2.0/UDP ${ip}:${port};branch=${branch()}`;
        response = await transact(
          invite(
            dialog.cseq,
            via,
            `Digest username="${auth.username}", realm="${realm}", nonce="${nonce}", uri="${requestUri}", response="${digest}", algorithm=MD5, qop=auth, nc=00000001, cnonce="beef"`,
          ),
          timeoutMs,
        );
      }
      if (!response.startsWith('SIP/2.0 200')) throw new Error(`udp phone: call to ${user} failed: ${response.split('\r\n')[0]}`);
      dialog.remoteTag = tagOf(header(response, 'to'));
      dialog.remoteTarget = uriOf(header(response, 'contact')) || requestUri;
      ack(dialog, dialog.cseq, `SIP/2.0/UDP ${ip}:${port};branch=${branch()}`, dialog.remoteTarget, header(response, 'to'));
      return dialog;
    },
    async request(dialog, method, headers = [], body) {
      dialog.cseq += 1;
      const text = message(
        `${method} ${dialog.remoteTarget} SIP/2.0`,
        [
          `Via: SIP/2.0/UDP ${ip}:${port};branch=${branch()}`,
          `From: <${dialog.local}>;tag=${dialog.localTag}`,
          `To: <${dialog.remote}>;tag=${dialog.remoteTag}`,
          `Call-ID: ${dialog.callId}`,
          `CSeq: ${dialog.cseq} ${method}`,
          `Contact: ${contact}`,
          'Max-Forwards: 70',
          ...headers,
        ],
        body,
      );
      const response = await transact(text);
      if (method === 'INVITE' && response.startsWith('SIP/2.0 2'))
        ack(dialog, dialog.cseq, `SIP/2.0/UDP ${ip}:${port};branch=${branch()}`, dialog.remoteTarget, header(response, 'to'));
      return response;
    },
    waitFor: (pick, what, timeoutMs = 15_000) => until(() => received.find(pick), what, timeoutMs),
    close() {
      socket.close();
      media.close();
    },
  };
}
