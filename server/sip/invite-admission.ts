import { AppError, ERRORS } from '../errors.js';
import { refusedOffer } from '../media/call-media.js';
import type { NumberRoute } from '../numbers/numbers.schemas.js';
import { toE164 } from '../shared/schemas.js';
import type { TrunkCredentials } from '../trunks/trunks.repository.js';
import type { RoutingCache } from './routing-cache.js';
import { type DigestAuth, readCredentials, unquote } from './digest.js';
import { parseUri } from './sip-stack.js';
import type { SipRemote, SipRequest } from './sip-types.js';

/** Everything later steps know about an admitted INVITE. Each step adds to it; nothing mutates a grab-bag. */
export interface InviteContext {
  request: SipRequest;
  remote: SipRemote;
  /** The carrier trunk it came through; null for a call from one of the account's phones. */
  trunk: TrunkCredentials | null;
  /** The number dialled (inbound), or the caller ID shown to the outside (a phone's outbound call). */
  trackingNumber: string;
  route: Pick<NumberRoute, 'accountId' | 'poolId' | 'sourceId'> & { numberId: string | null; dialplan: string };
  caller: string;
  callerName: string | undefined;
  /** Set for calls the PBX half places: an extension calling a colleague or an outside number. */
  pbx?: PbxCall;
}

export interface PbxCall {
  direction: 'internal' | 'outbound';
  /** The calling extension. */
  extensionId: string;
  /** The extension number or +E164 dialled. */
  callee: string;
  /** The missed call this one returns (click-to-call). */
  callbackOf?: string;
}

interface Received {
  request: SipRequest;
  remote: SipRemote;
}
/** The trunks the INVITE may have come through, most specific first (several accounts may share a carrier). */
type FromTrunks = Received & { trunks: TrunkCredentials[] };

export interface AdmissionDeps {
  routing: RoutingCache;
  /** Digest challenges and checks for trunks that authenticate by username and password. */
  digest: DigestAuth;
  /** ISO country whose national formats carriers send without "+" (e.g. RU: 8 495 …). */
  defaultCountry: string;
}

/**
 * Readings already worked out: every INVITE reads its dialled number and its caller, and a
 * libphonenumber parse (two per number sent without "+") was ~4 % of the B2BUA's CPU in bench:sip.
 * Tracking numbers and regular callers repeat.
 */
const readingsSeen = new Map<string, readonly string[]>();
const READINGS_KEPT = 10_000;

/**
 * The E.164 readings of a number a carrier sent, likeliest first: as given when it has "+", then
 * in the national format of the default country (8 495 … and 7 495 … in RU), then with "+" added
 * (international without the plus). "84951234567" is also a valid Vietnamese +84 number, so the
 * national reading must come before the "+" one.
 */
export function e164Readings(raw: string, defaultCountry: string): string[] {
  const key = `${defaultCountry} ${raw}`;
  const known = readingsSeen.get(key);
  if (known) return [...known];
  const number = withoutUserParameters(raw);
  const readings = number.startsWith('+') ? [toE164(number)] : [toE164(number, defaultCountry), toE164(`+${number}`)];
  const found = [...new Set(readings.filter((reading): reading is string => reading !== undefined))];
  // A simple bound: forgetting everything now and then costs a few parses, never a wrong answer.
  if (readingsSeen.size >= READINGS_KEPT) readingsSeen.clear();
  if (raw.length <= 32) readingsSeen.set(key, found);
  return [...found];
}

/**
 * A telephone-subscriber user part without its parameters (RFC 3966, RFC 4694): interconnects add
 * `;cpc=ordinary`, `;npdi;rn=…` (number portability) or `;isup-oli=…` to the number. A local number
 * with a global `phone-context` (`4957770055;phone-context=+7`) is read inside that context.
 */
function withoutUserParameters(user: string): string {
  const [number = '', ...parameters] = user.split(';');
  if (number.startsWith('+')) return number;
  const context = parameters.map((p) => /^\s*phone-context=(\+[\d().-]+)\s*$/i.exec(p)?.[1]).find((c) => c !== undefined);
  return context ? `${context.replace(/[().-]/g, '')}${number}` : number;
}

/**
 * The user part of a SIP URI, or the number of a tel: URI (RFC 3966; IMS interconnects put one in
 * the Request-URI or To). Undefined for neither.
 */
export function userOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const tel = /^tel:([^;?]+)/i.exec(uri.trim());
  if (tel) return tel[1];
  return parseUri(uri)?.user;
}

const isTelUri = (uri: string) => /^tel:[^;?]+/i.test(uri.trim());

function checkHeaders(received: Received): Received | AppError {
  const headers = received.request.headers;
  if (!headers.from?.params?.tag) return ERRORS.malformedRequest('Missing From tag');
  if (!isTelUri(received.request.uri) && !parseUri(received.request.uri)) return ERRORS.malformedRequest('Bad Request-URI');
  if (!headers.contact?.[0]?.uri) return ERRORS.malformedRequest('Missing Contact');
  const maxForwards = headers['max-forwards'] === undefined ? 70 : Number(headers['max-forwards']);
  if (!Number.isInteger(maxForwards) || maxForwards < 0) return ERRORS.malformedRequest('Bad Max-Forwards');
  if (maxForwards === 0) return ERRORS.tooManyHops();
  const sdp = received.request.content ?? '';
  // No body is a late offer (RFC 3261 13.2.1): we make the offer in our 2xx. A body must be a session
  // description (else 400), with audio we can carry (else 488: the offer is fine, its media is not).
  if (sdp.trim() === '') return received;
  if (!/^v=0/m.test(sdp) || !/^m=\S+ \d+/m.test(sdp) || !/^c=IN IP[46] \S+/m.test(sdp)) return ERRORS.malformedRequest('Invalid SDP offer');
  return refusedOffer(sdp) ?? received;
}

async function identifyTrunks(deps: AdmissionDeps, received: Received): Promise<FromTrunks | AppError> {
  const byAddress = deps.routing.trunksByAddress(received.remote.address);
  if (byAddress.length > 0) return { ...received, trunks: byAddress };
  const headers = received.request.headers;
  const credentials = readCredentials((headers['proxy-authorization'] as Array<Record<string, string>> | undefined)?.[0] ?? headers.authorization?.[0]);
  if (!credentials) {
    // Only challenge when some trunk uses digest; otherwise an unknown address is simply refused.
    if (!deps.routing.hasDigestTrunks()) return ERRORS.unknownTrunk(received.remote.address);
    return ERRORS.authenticationRequired(deps.digest.challenge());
  }
  const trunk = deps.routing.trunkByUsername(credentials.username ?? '');
  if (!trunk?.passwordHa1) return ERRORS.badCredentials();
  const verdict = await deps.digest.verify({ method: received.request.method, uri: received.request.uri }, credentials, trunk.passwordHa1);
  if (verdict === 'stale') return ERRORS.authenticationRequired(deps.digest.challenge(true));
  if (verdict !== 'ok') return ERRORS.badCredentials();
  return { ...received, trunks: [trunk] };
}

function resolveNumber(deps: AdmissionDeps, fromTrunks: FromTrunks): InviteContext | AppError {
  const headers = fromTrunks.request.headers;
  const requestUser = userOf(fromTrunks.request.uri);
  const toUser = userOf(headers.to.uri);
  // A carrier we register with calls our registered contact: its Request-URI names the login, and
  // the number dialled is in To. So is it when the Request-URI names no number at all.
  const toContact =
    requestUser === undefined ||
    fromTrunks.trunks.some((t) => t.registration?.username === requestUser) ||
    e164Readings(requestUser, deps.defaultCountry).length === 0;
  const dialled = (toContact ? toUser : requestUser) ?? requestUser ?? '';
  // The reading that is one of our numbers wins: a carrier's format must not route to a look-alike.
  // The trunk is the most specific one of the number's own account: another account's trunk on the
  // same carrier address (or a wider range) never takes this account's calls.
  const readings = e164Readings(dialled, deps.defaultCountry);
  let trunk: TrunkCredentials | undefined;
  const ours = (reading: string) => {
    const account = deps.routing.routeFor(reading)?.accountId;
    trunk = fromTrunks.trunks.find((candidate) => candidate.accountId === account);
    return trunk !== undefined;
  };
  // A call forwarded to us (the business's own carrier diverts its number here) names the number
  // first called in Diversion (RFC 5806) or History-Info (RFC 7044): that is the tracking number
  // when the one dialled here is none of ours.
  const e164 =
    readings.find(ours) ??
    identityUsers([...headerValues(headers.diversion), ...headerValues(headers['history-info'])])
      .flatMap((user) => e164Readings(user, deps.defaultCountry))
      .find(ours);
  const route = e164 ? deps.routing.routeFor(e164) : undefined;
  if (!e164 || !route || !trunk) return ERRORS.numberNotFound(readings[0] ?? dialled);
  if (!route.dialplan) return ERRORS.noDialplan(e164);
  const { trunks: _candidates, ...received } = fromTrunks;
  return {
    ...received,
    trunk,
    trackingNumber: e164,
    route: { ...route, dialplan: route.dialplan },
    caller: callerOf(headers, deps.defaultCountry),
    callerName: unquote(headers.from.name),
  };
}

/** Header values as npm `sip` keeps headers it does not parse: a string, or one per occurrence. */
const headerValues = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);

const decoded = (user: string): string => {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
};

/**
 * The user part of each URI in P-Asserted-Identity or Remote-Party-ID values (tel: or sip:),
 * leaving out a Remote-Party-ID that asks for its number to be withheld (privacy=full or uri).
 */
function identityUsers(values: string[]): string[] {
  const users: string[] = [];
  for (const value of values) {
    for (const entry of value.split(/,(?=\s*(?:"|<|sips?:|tel:))/i)) {
      if (/;\s*privacy\s*=\s*(full|uri)\b/i.test(entry)) continue;
      const match = /(?:sips?:([^@;>\s]+)@|tel:([^;>\s]+))/i.exec(entry);
      const user = match?.[1] ?? match?.[2];
      if (user) users.push(decoded(user));
    }
  }
  return users;
}

/**
 * The caller's number: the From user when it is a phone number; else the identity the carrier
 * asserts (P-Asserted-Identity, RFC 3325, or the older Remote-Party-ID), which interconnects use
 * when From says "anonymous" or names a gateway. A caller who asked to be withheld (Privacy: id
 * or user, RFC 3323) stays anonymous: the business gets the call, not the number.
 */
export function callerOf(headers: SipRequest['headers'], defaultCountry: string): string {
  const fromUser = userOf(headers.from.uri) ?? 'anonymous';
  const fromNumber = e164Readings(fromUser, defaultCountry)[0];
  if (fromNumber) return fromNumber;
  const privacy = headerValues(headers.privacy).join(';').toLowerCase();
  if (/\b(id|user)\b/.test(privacy)) return 'anonymous';
  for (const user of identityUsers([...headerValues(headers['p-asserted-identity']), ...headerValues(headers['remote-party-id'])])) {
    const asserted = e164Readings(user, defaultCountry)[0];
    if (asserted) return asserted;
  }
  return fromUser;
}

/**
 * The INVITE pipeline: well-formed → known trunk (ACL or digest) → known number with a dialplan.
 * Returns the admitted call's context, or the error to refuse it with (`stack.replyError`).
 */
export async function admitInvite(deps: AdmissionDeps, request: SipRequest, remote: SipRemote): Promise<InviteContext | AppError> {
  const received = checkHeaders({ request, remote });
  if (received instanceof AppError) return received;
  const fromTrunks = await identifyTrunks(deps, received);
  if (fromTrunks instanceof AppError) return fromTrunks;
  const admitted = resolveNumber(deps, fromTrunks);
  deps.routing.trunkSeen?.(admitted instanceof AppError ? fromTrunks.trunks[0]!.id : (admitted.trunk?.id ?? fromTrunks.trunks[0]!.id));
  return admitted;
}
