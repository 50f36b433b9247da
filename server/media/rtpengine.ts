import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { type Bencodable, bdecode, bencode } from './bencode.js';

type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string };

export interface RtpengineAddress {
  host: string;
  port: number;
}

/** Typed access to rtpengine's ng control protocol. */
export interface Rtpengine {
  ping(): Promise<boolean>;
  /** Sends any ng verb, named in camelCase: offer, answer, delete, query, playMedia, stopMedia, playDTMF, … */
  command(verb: string, params: Record<string, unknown>): Promise<NgReply>;
  close(): void;
}

/** The ng commands by the names callers use. */
const NG_COMMANDS: Record<string, string> = {
  offer: 'offer',
  answer: 'answer',
  delete: 'delete',
  query: 'query',
  list: 'list',
  ping: 'ping',
  statistics: 'statistics',
  startRecording: 'start recording',
  stopRecording: 'stop recording',
  playMedia: 'play media',
  stopMedia: 'stop media',
  playDTMF: 'play DTMF',
  blockMedia: 'block media',
  unblockMedia: 'unblock media',
  silenceMedia: 'silence media',
  unsilenceMedia: 'unsilence media',
  blockDTMF: 'block DTMF',
  unblockDTMF: 'unblock DTMF',
};

// ng runs over UDP and rtpengine reads it from one socket: a burst of calls overflows that
// socket's buffer (measured: thousands of drops at 400 CPS), and a lost datagram is never answered.
// So we resend, like SIP proxies' rtpengine modules do (Kamailio's: 1 s per try, 5 tries). offer/answer/delete/query are idempotent
// in rtpengine (same call-id and tags give the same result); sending DTMF twice would not be.
const NOT_REPEATABLE = new Set(['playDTMF']);

/**
 * rtpengine's ng control protocol over UDP: "<cookie> <bencoded dictionary>" each way, the reply
 * carrying the request's cookie. Our own client, not npm `rtpengine-client`: that one stringified
 * every command to JSON twice for debug output nobody reads and took two extra event-loop turns
 * per reply (~5 % of the B2BUA's CPU in bench:sip, three commands per call).
 *
 * Commands in flight are capped as well: rtpengine's ng socket buffer holds ~100 datagrams, so a
 * burst beyond that is dropped by the kernel; queueing here instead keeps bursts lossless.
 */
export function createRtpengine(address: RtpengineAddress, timeoutMs = 5_000, attempts = 5, maxInFlight = 48): Rtpengine {
  const attemptMs = Math.max(100, Math.floor(timeoutMs / attempts));
  const socket = dgram.createSocket('udp4');
  // A send error reaches the command that sent; nothing else on this socket may crash the process.
  socket.on('error', () => undefined);
  /** Commands waiting for their reply, by cookie. A reply to an attempt given up on finds nothing here and is dropped. */
  const pending = new Map<string, { settle(reply: NgReply): void; fail(err: Error): void }>();
  const cookiePrefix = crypto.randomBytes(4).toString('hex');
  let sent = 0;
  let closed = false;
  socket.on('message', (msg) => {
    const space = msg.indexOf(0x20);
    const waiter = space > 0 ? pending.get(msg.toString('latin1', 0, space)) : undefined;
    if (!waiter) return;
    try {
      waiter.settle(bdecode(msg.subarray(space + 1)) as NgReply);
    } catch {
      // Unreadable: the attempt times out and is sent again.
    }
  });

  function attempt(command: string, params: Record<string, unknown>): Promise<NgReply> {
    return new Promise((resolve, reject) => {
      const cookie = `${cookiePrefix}_${(sent++).toString(36)}`;
      const done = () => {
        clearTimeout(timer);
        pending.delete(cookie);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`rtpengine timeout ${address.host}:${address.port}`));
      }, attemptMs);
      pending.set(cookie, {
        settle: (reply) => {
          done();
          resolve(reply);
        },
        fail: (err) => {
          done();
          reject(err);
        },
      });
      const message = Buffer.from(`${cookie} ${bencode({ ...(params as Record<string, Bencodable>), command })}`);
      socket.send(message, address.port, address.host, (err) => {
        if (err) pending.get(cookie)?.fail(err);
      });
    });
  }

  const isTimeout = (err: unknown) => err instanceof Error && /timeout/i.test(err.message);
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
        return (await attempt('ping', {})).result === 'pong';
      } catch {
        return false;
      }
    },
    async command(verb, params) {
      const command = NG_COMMANDS[verb];
      if (!command) throw new Error(`unknown rtpengine verb ${verb}`);
      const tries = NOT_REPEATABLE.has(verb) ? 1 : attempts;
      await acquire();
      try {
        for (let n = 1; ; n++) {
          try {
            return await attempt(command, params);
          } catch (err) {
            if (n >= tries || !isTimeout(err)) throw err;
          }
        }
      } finally {
        release();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const waiter of pending.values()) waiter.fail(new Error('rtpengine client closed'));
      socket.close();
    },
  };
}
