import { createRequire } from 'node:module';

// rtpengine-client is CommonJS without types; this module is the only place that touches it.
const require = createRequire(import.meta.url);
const { Client } = require('rtpengine-client') as { Client: new (opts: { timeout?: number }) => NgClientRaw };

type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string };
interface NgClientRaw {
  ping(port: number, host: string): Promise<NgReply>;
  close?(): void;
  [verb: string]: unknown;
}

export interface RtpengineAddress { host: string; port: number }

/** Typed access to rtpengine's ng control protocol. */
export interface Rtpengine {
  ping(): Promise<boolean>;
  /** Sends any ng verb (method name as in rtpengine-client: offer, answer, delete, playMedia, …). */
  command(verb: string, params: Record<string, unknown>): Promise<NgReply>;
  close(): void;
}

export function createRtpengine(address: RtpengineAddress, timeoutMs = 2_000): Rtpengine {
  const client = new Client({ timeout: timeoutMs });
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
      return (await (fn as (port: number, host: string, p: Record<string, unknown>) => Promise<NgReply>).call(client, address.port, address.host, params));
    },
    close() {
      client.close?.();
    },
  };
}
