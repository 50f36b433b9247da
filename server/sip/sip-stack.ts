import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { Logger } from '../logger.js';
import type { SipRemote, SipRequest, SipResponse, SipUri } from './sip-types.js';

// npm `sip` is CommonJS without types; this module is the only place that touches it.
const require = createRequire(import.meta.url);
const sipLib = require('sip') as {
  create(options: Record<string, unknown>, onRequest: (rq: SipRequest, remote: SipRemote) => void): RawStack;
  makeResponse(rq: SipRequest, status: number, reason?: string, extension?: Record<string, unknown>): SipResponse;
  parseUri(s: string): SipUri | undefined;
  stringifyUri(uri: SipUri): string;
  generateBranch(): string;
};

interface RawStack {
  send(m: SipRequest | SipResponse, onResponse?: (rs: SipResponse) => void): void;
  destroy(): void;
}

export interface SipStackOptions {
  host: string;
  port: number;
  publicHost: string;
  logger: Logger;
  onRequest(request: SipRequest, remote: SipRemote): void;
}

/**
 * Transport and transactions (UDP and TCP) from npm `sip`, typed. It has no dialog layer and does
 * not retransmit 2xx to INVITE: the B2BUA above does both.
 */
export interface SipStack {
  readonly host: string;
  readonly port: number;
  send(request: SipRequest, onResponse?: (response: SipResponse) => void): void;
  /** Sends a response inside the request's server transaction. */
  reply(request: SipRequest, status: number, reason?: string, extra?: { headers?: Record<string, unknown>; content?: string }): SipResponse;
  /** Sends an already built response again (2xx retransmission until ACK). */
  resend(response: SipResponse): void;
  stop(): void;
}

export const parseUri = (s: string): SipUri | undefined => {
  try {
    return sipLib.parseUri(s);
  } catch {
    return undefined;
  }
};
export const stringifyUri = (u: SipUri): string => sipLib.stringifyUri(u);
export const newTag = (): string => crypto.randomBytes(6).toString('hex');
export const newBranch = (): string => sipLib.generateBranch();

export function createSipStack(options: SipStackOptions): SipStack {
  const log = options.logger;
  const raw = sipLib.create(
    {
      address: options.host,
      port: options.port,
      publicAddress: options.publicHost,
      udp: true,
      tcp: true,
      logger: { error: (err: unknown) => log.warn({ err, type: 'sip_stack_error' }, 'sip stack error') },
    },
    (rq, remote) => options.onRequest(rq, remote),
  );
  return {
    host: options.publicHost,
    port: options.port,
    send: (request, onResponse) => raw.send(request, onResponse),
    reply(request, status, reason, extra) {
      const response = sipLib.makeResponse(request, status, reason, extra?.headers ? { headers: extra.headers } : undefined);
      if (extra?.content !== undefined) {
        response.content = extra.content;
        response.headers['content-type'] = 'application/sdp';
      }
      raw.send(response);
      return response;
    },
    resend(response) {
      raw.send(response);
    },
    stop: () => raw.destroy(),
  };
}
