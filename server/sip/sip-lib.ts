import { createRequire } from 'node:module';
import type { SipMessage, SipRemote, SipRequest, SipResponse, SipUri } from './sip-types.js';

/** npm `sip`'s UDP/TCP stack as `create` returns it. */
export interface RawStack {
  send(message: SipRequest | SipResponse, onResponse?: (response: SipResponse) => void): void;
  destroy(): void;
}

// npm `sip` is CommonJS without types; this module is the only place that touches it.
const require = createRequire(import.meta.url);
export const sipLib = require('sip') as {
  create(options: Record<string, unknown>, onRequest: (request: SipRequest, remote: SipRemote) => void): RawStack;
  makeResponse(request: SipRequest, status: number, reason?: string, extension?: Record<string, unknown>): SipResponse;
  parse(text: string): SipMessage | undefined;
  stringify(message: SipMessage): string;
  parseUri(s: string): SipUri | undefined;
  stringifyUri(uri: SipUri): string;
  generateBranch(): string;
};
