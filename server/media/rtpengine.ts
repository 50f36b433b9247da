import { createRequire } from 'node:module';

// rtpengine-client is CommonJS without types; this module is the only place that touches it.
const require = createRequire(import.meta.url);
const { Client } = require('rtpengine-client') as { Client: new (opts: { timeout?: number }) => NgClientRaw };

type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string };
interface NgClientRaw {
  ping(port: number, host: string): Promise<NgReply>;
  close?(): void;
  on(event: 'error', listener: (err: unknown) => void): void;
  messages: Map<string, unknown>;
  _onParsedMessage(obj: { id: string; data: unknown }): void;
  [verb: string]: unknown;
}

export interface RtpengineAddress {
  host: string;
  port: number;
}

/** Typed access to rtpengine's ng control protocol. */
export interface Rtpengine {
  ping(): Promise<boolean>;
  /** Sends any ng verb (method name as in rtpengine-client: offer, answer, delete, playMedia, …). */
  command(verb: string, params: Record<string, unknown>): Promise<NgReply>;
  close(): void;
}

// ng runs over UDP and rtpengine reads it from one socket: a burst of calls overflows that
// socket's buffer (measured: thousands of drops at 400 CPS) and rtpengine-client never resends.
// So we resend, like SIP proxies' rtpengine modules do (Kamailio's: 1 s per try, 5 tries). offer/answer/delete/query are idempotent
// in rtpengine (same call-id and tags give the same result); sending DTMF twice would not be.
const NOT_REPEATABLE = new Set(['playDTMF']);

/**
 * Commands in flight are capped as well: rtpengine's ng socket buffer holds ~100 datagrams, so a
 * burst beyond that is dropped by the kernel; queueing here instead keeps bursts lossless.
 */
export function createRtpengine(address: RtpengineAddress, timeoutMs = 5_000, attempts = 5, maxInFlight = 48): Rtpengine {
  const client = new Client({ timeout: Math.max(100, Math.floor(timeoutMs / attempts)) });
  const isTimeout = (err: unknown) => err instanceof Error && /timeout/i.test(err.message);
  // A reply arriving after its attempt timed out is expected once we resend. rtpengine-client
  // console.logs it and emits 'error', which with no listener kills the process: drop such
  // replies quietly, and never let an 'error' event go unhandled.
  const handleReply = client._onParsedMessage.bind(client);
  client._onParsedMessage = (obj) => {
    if (client.messages.has(obj.id)) handleReply(obj);
  };
  client.on('error', () => undefined);
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (inFlight >= maxInFlight) return new Promise<void>((r) => waiting.push(r));
    inFlight++;
    return Promise.resolve();
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };
  return {
    async ping() {
      try {
        const reply = await client.ping(address.port, address.host);
        return reply.result === 'pong';
      } catch {
        return false;
      }
    },
    async command(verb, params) {
      const fn = client[verb];
      if (typeof fn !== 'function') throw new Error(`unknown rtpengine verb ${verb}`);
      const tries = NOT_REPEATABLE.has(verb) ? 1 : attempts;
      await acquire();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await (fn as (port: number, host: string, p: Record<string, unknown>) => Promise<NgReply>).call(client, address.port, address.host, params);
          } catch (err) {
            if (attempt >= tries || !isTimeout(err)) throw err;
          }
        }
      } finally {
        release();
      }
    },
    close() {
      client.close?.();
    },
  };
}
