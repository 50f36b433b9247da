import crypto from 'node:crypto';
import type { NumberRoute } from '../numbers/numbers.schemas.js';
import { toE164 } from '../shared/schemas.js';
import type { TrunkCredentials } from '../trunks/trunks.repository.js';
import type { RoutingCache } from './routing-cache.js';
import { parseUri } from './sip-stack.js';
import type { SipRemote, SipRequest } from './sip-types.js';

/** Everything later steps know about an admitted INVITE. Each step adds to it; nothing mutates a grab-bag. */
export interface InviteContext {
  request: SipRequest;
  remote: SipRemote;
  trunk: TrunkCredentials;
  trackingNumber: string;
  route: NumberRoute & { dialplan: string };
  caller: string;
  callerName: string | undefined;
}

export type Rejection = { status: number; reason: string; headers?: Record<string, unknown> };
type Step<In, Out> = (input: In) => Out | Rejection;
const isRejection = (x: unknown): x is Rejection => typeof x === 'object' && x !== null && 'status' in x && 'reason' in x;

/** Digest challenge nonces: stateless, HMAC of a timestamp so any node can verify them. */
export function makeNonce(secret: string, now = Date.now()): string {
  const ts = Math.floor(now / 1000).toString(16);
  return `${ts}.${crypto.createHmac('sha256', secret).update(ts).digest('hex').slice(0, 16)}`;
}
function nonceValid(secret: string, nonce: string, now = Date.now()): boolean {
  const [ts] = nonce.split('.');
  if (!ts || makeNonce(secret, parseInt(ts, 16) * 1000) !== nonce) return false;
  return now / 1000 - parseInt(ts, 16) < 300;
}
const unquote = (s: string | undefined) => s?.replace(/^"|"$/g, '');

export interface AdmissionDeps {
  routing: RoutingCache;
  realm: string;
  nonceSecret: string;
}

const checkHeaders: Step<{ request: SipRequest; remote: SipRemote }, { request: SipRequest; remote: SipRemote }> = (x) => {
  const h = x.request.headers;
  if (!h.from?.params?.tag) return { status: 400, reason: 'Missing From tag' };
  if (!parseUri(x.request.uri)) return { status: 400, reason: 'Bad Request-URI' };
  if (!h.contact?.[0]?.uri) return { status: 400, reason: 'Missing Contact' };
  const mf = h['max-forwards'] === undefined ? 70 : Number(h['max-forwards']);
  if (!Number.isInteger(mf) || mf < 0) return { status: 400, reason: 'Bad Max-Forwards' };
  if (mf === 0) return { status: 483, reason: 'Too Many Hops' };
  const sdp = x.request.content ?? '';
  if (!/^v=0/m.test(sdp) || !/^m=audio \d+ /m.test(sdp) || !/^c=IN IP[46] \S+/m.test(sdp)) return { status: 400, reason: 'Missing or invalid SDP offer' };
  return x;
};

function identifyTrunk(deps: AdmissionDeps) {
  return (x: { request: SipRequest; remote: SipRemote }): { request: SipRequest; remote: SipRemote; trunk: TrunkCredentials } | Rejection => {
    const byIp = deps.routing.trunkByAddress(x.remote.address);
    if (byIp) return { ...x, trunk: byIp };
    const auth = x.request.headers.authorization?.[0];
    const challenge = {
      status: 407,
      reason: 'Proxy Authentication Required',
      headers: { 'proxy-authenticate': `Digest realm="${deps.realm}", nonce="${makeNonce(deps.nonceSecret)}", algorithm=MD5` },
    };
    const proxyAuth = (x.request.headers['proxy-authorization'] as Array<Record<string, string>> | undefined)?.[0] ?? auth;
    if (!proxyAuth) {
      // Only challenge when some trunk uses digest; otherwise an unknown address is simply refused.
      return deps.routing.hasDigestTrunks() ? challenge : { status: 403, reason: 'Forbidden' };
    }
    const username = unquote(proxyAuth.username) ?? '';
    const trunk = deps.routing.trunkByUsername(username);
    const nonce = unquote(proxyAuth.nonce) ?? '';
    if (!trunk?.passwordHa1 || !nonceValid(deps.nonceSecret, nonce)) return { status: 403, reason: 'Forbidden' };
    const ha2 = crypto
      .createHash('md5')
      .update(`${x.request.method}:${unquote(proxyAuth.uri)}`)
      .digest('hex');
    const expected = crypto.createHash('md5').update(`${trunk.passwordHa1}:${nonce}:${ha2}`).digest('hex');
    if (unquote(proxyAuth.response) !== expected) return { status: 403, reason: 'Forbidden' };
    return { ...x, trunk };
  };
}

function resolveNumber(deps: AdmissionDeps) {
  return (x: { request: SipRequest; remote: SipRemote; trunk: TrunkCredentials }): InviteContext | Rejection => {
    const uri = parseUri(x.request.uri);
    const dialled = uri?.user ?? parseUri(x.request.headers.to.uri)?.user ?? '';
    // Carriers send national formats too ("84951234567", "74951234567"); try as given, then with "+".
    const e164 = toE164(dialled) ?? toE164(`+${dialled}`) ?? toE164(dialled, 'RU');
    const route = e164 ? deps.routing.routeFor(e164) : undefined;
    if (!e164 || !route || route.accountId !== x.trunk.accountId) return { status: 404, reason: 'Not Found' };
    if (!route.dialplan) return { status: 480, reason: 'No Dialplan Bound' };
    const fromUri = parseUri(x.request.headers.from.uri);
    const rawCaller = fromUri?.user ?? 'anonymous';
    return {
      ...x,
      trackingNumber: e164,
      route: { ...route, dialplan: route.dialplan },
      caller: toE164(rawCaller) ?? toE164(`+${rawCaller}`) ?? rawCaller,
      callerName: unquote(x.request.headers.from.name),
    };
  };
}

/** The INVITE pipeline: well-formed → known trunk (ACL or digest) → known number with a dialplan. */
export function admitInvite(deps: AdmissionDeps, request: SipRequest, remote: SipRemote): InviteContext | Rejection {
  const a = checkHeaders({ request, remote });
  if (isRejection(a)) return a;
  const b = identifyTrunk(deps)(a);
  if (isRejection(b)) return b;
  deps.routing.trunkSeen?.(b.trunk.id);
  return resolveNumber(deps)(b);
}
export { isRejection };
