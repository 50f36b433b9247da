import { AppError, ERRORS } from '../errors.js';
import { keepSessionDescription } from './message-body.js';
import { sessionTimerOf } from './session-timer.js';
import { optionTags, type SipRemote, type SipRequest } from './sip-types.js';

/** Option tags we implement (RFC 3261 8.2.2.3); any other in a Require is answered 420. */
const SUPPORTED_OPTIONS = new Set<string>(['timer', '100rel']);
/** Our Supported header (OPTIONS answers say what we can do). */
export const SUPPORTED = [...SUPPORTED_OPTIONS].join(', ');
const MAX_CSEQ = 2 ** 31 - 1;

/**
 * What every request must get right before any dialog or dialplan looks at it (RFC 3261 8.2 and
 * 18.3): the SIP version, a CSeq that matches the method and fits in 31 bits, a Content-Length
 * that does not promise more than a datagram brought, option tags we support, and (for an INVITE)
 * a body we can read (rewritten to its SDP alone) and a session interval we accept. Returns the error to answer with, or undefined.
 */
export function checkRequest(request: SipRequest, remote: SipRemote): AppError | undefined {
  if (request.version !== undefined && request.version !== '2.0') return ERRORS.versionNotSupported(request.version);
  const cseq = request.headers.cseq;
  if (!cseq || cseq.method !== request.method) return ERRORS.malformedRequest(`CSeq method ${cseq?.method ?? '(none)'} is not ${request.method}`);
  if (!Number.isInteger(cseq.seq) || cseq.seq < 0 || cseq.seq > MAX_CSEQ) return ERRORS.malformedRequest('CSeq number out of range');
  const declared = request.headers['content-length'];
  const actual = Buffer.byteLength(request.content ?? '');
  // Over UDP a datagram is the whole message: a body shorter than announced was cut (RFC 3261 18.3).
  if (remote.protocol.toUpperCase() === 'UDP' && declared !== undefined && Number(declared) !== actual && Number(declared) > actual) {
    return ERRORS.malformedRequest(`Content-Length ${declared} but the datagram carries ${actual} bytes of body`);
  }
  // ACK and CANCEL never carry a Require that matters (RFC 3261 8.2.2.3); they cannot be refused either.
  if (request.method !== 'ACK' && request.method !== 'CANCEL') {
    const unsupported = optionTags(request.headers.require).filter((tag) => !SUPPORTED_OPTIONS.has(tag));
    if (unsupported.length > 0) return ERRORS.badExtension(unsupported);
  }
  if (request.method === 'INVITE') {
    // From here on an INVITE's content is its SDP alone (a SIP-I carrier's multipart body included).
    const unreadable = keepSessionDescription(request);
    if (unreadable) return unreadable;
    const timer = sessionTimerOf(request);
    if (timer instanceof AppError) return timer;
  }
  // The other carriers of an offer or answer: read the same way, never refused for it (an ACK cannot be).
  if (request.method === 'ACK' || request.method === 'UPDATE' || request.method === 'PRACK') keepSessionDescription(request);
  return undefined;
}
