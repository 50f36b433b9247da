import crypto from 'node:crypto';

/** A challenge as npm `sip` parses WWW-/Proxy-Authenticate: values keep their quotes. */
export type ParsedChallenge = Record<string, string | undefined>;

/** Our answer, in the same form (npm `sip` writes it back out). */
export type ParsedAuthorization = Record<string, string>;

const unquote = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^"(.*)"$/, '$1'));
const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

/**
 * Answers a carrier's digest challenge (RFC 2617 / RFC 3261 22.2) for one request: MD5, with
 * qop=auth when the challenge offers it (a fresh cnonce, nonce-count 1), else the RFC 2069 form.
 * Returns undefined for what we cannot answer (another scheme or algorithm, auth-int only).
 */
export function answerChallenge(
  challenge: ParsedChallenge,
  request: { method: string; uri: string; username: string; password: string },
  cnonce = crypto.randomBytes(8).toString('hex'),
): ParsedAuthorization | undefined {
  if ((challenge.scheme ?? '').toLowerCase() !== 'digest') return undefined;
  const realm = unquote(challenge.realm) ?? '';
  const nonce = unquote(challenge.nonce);
  if (!nonce) return undefined;
  const algorithm = unquote(challenge.algorithm) ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') return undefined;
  const offered = (unquote(challenge.qop) ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qopAuth = offered.includes('auth');
  if (!qopAuth && offered.some(Boolean)) return undefined;
  const ha1 = md5(`${request.username}:${realm}:${request.password}`);
  const ha2 = md5(`${request.method}:${request.uri}`);
  const nc = '00000001';
  const response = qopAuth ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  return {
    scheme: 'Digest',
    username: quote(request.username),
    realm: quote(realm),
    nonce: quote(nonce),
    uri: quote(request.uri),
    response: quote(response),
    algorithm: 'MD5',
    ...(qopAuth ? { qop: 'auth', nc, cnonce: quote(cnonce) } : {}),
    ...(challenge.opaque !== undefined ? { opaque: challenge.opaque } : {}),
  };
}
