import { parseContentType } from './message-body.js';
import type { SipRequest } from './sip-types.js';

const DIGITS = '0123456789*#ABCD';

/**
 * The key a SIP INFO carries (the legacy DTMF-over-signalling many carriers and PBXs use instead
 * of RFC 4733 events in the RTP): `application/dtmf-relay` ("Signal=5", with Signal=10/11 for * and
 * # from some gateways) or `application/dtmf` (the key alone). Undefined for any other INFO.
 */
export function dtmfDigitOf(request: SipRequest): string | undefined {
  const type = parseContentType(String(request.headers['content-type'] ?? '')).type;
  const body = request.content ?? '';
  let signal: string | undefined;
  if (type === 'application/dtmf-relay') signal = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
  else if (type === 'application/dtmf') signal = body.trim();
  if (signal === undefined) return undefined;
  const upper = signal.toUpperCase();
  if (upper.length === 1 && DIGITS.includes(upper)) return upper;
  const event = Number(upper);
  return Number.isInteger(event) && event >= 10 && event <= 15 ? DIGITS[event] : undefined;
}
