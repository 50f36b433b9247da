import crypto from 'node:crypto';
import dgram from 'node:dgram';

export interface ProbeResult {
  answered: boolean;
  status: number | null;
  reason: string | null;
  /** From the first request sent to the final answer. */
  rttMs: number | null;
  /** The far end's Server or User-Agent header: which SBC or PBX answered. */
  server: string | null;
}

const rand = () => crypto.randomBytes(8).toString('hex');

/** Status line and the headers we show, from one SIP response datagram (undefined when it is not one). */
function parseResponse(text: string): { status: number; reason: string; callId: string | undefined; server: string | null } | undefined {
  const [first, ...lines] = text.split('\r\n');
  const statusLine = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first ?? '');
  if (!statusLine) return undefined;
  const header = (...names: string[]) => {
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0 && names.includes(line.slice(0, colon).trim().toLowerCase())) return line.slice(colon + 1).trim();
    }
    return undefined;
  };
  return { status: Number(statusLine[1]), reason: statusLine[2] ?? '', callId: header('call-id', 'i'), server: header('server', 'user-agent') ?? null };
}

/**
 * Sends one SIP OPTIONS over UDP to `host:port` and waits for the final answer: the "is my carrier
 * (or my SBC) reachable and talking SIP to us" check of the Trunks page. Retransmits like a UAC
 * (RFC 3261 timer E: 500 ms, doubling) until `timeoutMs`.
 *
 * @example await probeOptions({ host: '203.0.113.10', port: 5060, bindHost: config.sip.host, timeoutMs: 3000 })
 */
export async function probeOptions(options: { host: string; port: number; bindHost: string; advertiseHost?: string; timeoutMs: number }): Promise<ProbeResult> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, options.bindHost === '0.0.0.0' ? undefined : options.bindHost, () => resolve());
  });
  const local = socket.address();
  const via = options.advertiseHost ?? (local.address === '0.0.0.0' ? '127.0.0.1' : local.address);
  const callId = `${rand()}@${via}`;
  const target = `sip:${options.host}:${options.port}`;
  const request = [
    `OPTIONS ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${via}:${local.port};branch=z9hG4bK${rand()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${via}>;tag=${rand()}`,
    `To: <${target}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:probe@${via}:${local.port}>`,
    'Accept: application/sdp',
    'User-Agent: calltrack trunk test',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const started = performance.now();
  try {
    return await new Promise<ProbeResult>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const finish = (result: ProbeResult) => {
        for (const t of timers) clearTimeout(t);
        resolve(result);
      };
      socket.on('message', (msg) => {
        const response = parseResponse(msg.toString('utf8'));
        // Provisional answers (100 Trying) are not the answer; wait for the final one.
        if (!response || response.callId !== callId || response.status < 200) return;
        finish({ answered: true, status: response.status, reason: response.reason, rttMs: Math.round(performance.now() - started), server: response.server });
      });
      // An unreachable port may come back as ICMP on some systems: report it as no answer at once.
      socket.on('error', () => finish({ answered: false, status: null, reason: null, rttMs: null, server: null }));
      const send = () => socket.send(request, options.port, options.host, () => {});
      send();
      for (let at = 500, step = 500; at < options.timeoutMs; step *= 2, at += step) timers.push(setTimeout(send, at));
      timers.push(setTimeout(() => finish({ answered: false, status: null, reason: null, rttMs: null, server: null }), options.timeoutMs));
    });
  } finally {
    socket.close();
  }
}
