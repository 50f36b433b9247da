/** One SIP request over UDP from a chosen loopback address, for edge cases SIPp cannot write. */
import crypto from 'node:crypto';
import dgram from 'node:dgram';

/**
 * Binds a UDP socket on `ip`, sends what `build` makes (it gets the socket's address for Via and
 * Contact) to `host`:`port` (default 127.0.0.1), and resolves with the status line of the first final response.
 */
export async function sendRawSip(
  ip: string,
  port: number,
  build: (local: { ip: string; port: number }) => string,
  timeoutMs = 5_000,
  host = '127.0.0.1',
): Promise<string> {
  return (await sendRawSipForResponse(ip, port, build, timeoutMs, host)).split('\r\n')[0] ?? '';
}

/** Like sendRawSip, resolving with the whole final response (status line, headers, body). */
export async function sendRawSipForResponse(
  ip: string,
  port: number,
  build: (local: { ip: string; port: number }) => string,
  timeoutMs = 5_000,
  host = '127.0.0.1',
): Promise<string> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no final response')), timeoutMs);
      socket.on('message', (datagram) => {
        const text = datagram.toString('utf8');
        if (Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0) >= 200) {
          clearTimeout(timer);
          resolve(text);
        }
      });
      socket.send(build({ ip, port: socket.address().port }), port, host);
    });
  } finally {
    socket.close();
  }
}

export interface RawRequestOptions {
  /** Where it goes: the Request-URI is sip:<user>@127.0.0.1:<port>. */
  user: string;
  port: number;
  callId?: string;
  /** A To tag (in-dialog requests); 'random' makes one up. */
  toTag?: string;
  maxForwards?: number;
  cseq?: number;
  /** The caller's user part (default a mobile number): a phone's own username, say. */
  fromUser?: string;
  /** An audio offer from the sender's address. */
  sdp?: boolean;
  /** Odd requests: another version, a CSeq method of its own, a body of another type, a Content-Length that lies, more headers. */
  version?: string;
  cseqMethod?: string;
  body?: { type: string; text: string };
  contentLength?: number;
  headers?: string[];
}

/** A SIP request as a phone would write it, from `local` (the sender's bound address). */
export function rawRequest(method: string, local: { ip: string; port: number }, options: RawRequestOptions): string {
  const sdp = options.sdp
    ? ['v=0', `o=- 1 1 IN IP4 ${local.ip}`, 's=-', `c=IN IP4 ${local.ip}`, 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n')
    : '';
  const body = options.body?.text ?? sdp;
  const type = options.body?.type ?? (sdp ? 'application/sdp' : undefined);
  const toTag = options.toTag === 'random' ? crypto.randomBytes(4).toString('hex') : options.toTag;
  return [
    `${method} sip:${options.user}@127.0.0.1:${options.port} SIP/${options.version ?? '2.0'}`,
    `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')}`,
    `From: <sip:${options.fromUser ?? '79161234567'}@${local.ip}>;tag=${crypto.randomBytes(4).toString('hex')}`,
    `To: <sip:${options.user}@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${options.callId ?? `${crypto.randomUUID()}@${local.ip}`}`,
    `CSeq: ${options.cseq ?? 1} ${options.cseqMethod ?? method}`,
    `Contact: <sip:79161234567@${local.ip}:${local.port}>`,
    `Max-Forwards: ${options.maxForwards ?? 70}`,
    ...(options.headers ?? []),
    ...(type ? [`Content-Type: ${type}`] : []),
    `Content-Length: ${options.contentLength ?? Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
