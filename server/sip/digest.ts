import crypto from 'node:crypto';

/**
 * SIP digest authentication (RFC 3261 22, RFC 2617 with qop=auth) without replay: nonces are
 * HMACs of their issue time (any node verifies them), valid for `nonceSeconds`; with qop the
 * nonce-count must grow for every request under one nonce, without qop a nonce serves once.
 * Both are tracked in a store shared by the nodes (Redis).
 */
export interface NonceStore {
  /** Records `count` as the highest nonce-count seen for `nonce`; false when it is not higher than one seen before. */
  advance(nonce: string, count: number, ttlSeconds: number): Promise<boolean>;
}

export type DigestVerdict = 'ok' | 'stale' | 'bad';

export interface DigestCredentials {
  username?: string;
  realm?: string;
  nonce?: string;
  uri?: string;
  response?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
}

/**
 * The digest URI names the Request-URI's target: the same host and port, and the same user when it
 * gives one. Some clients (SIPp among them) put only "sip:host:port" there; nonce-counts keep such a
 * response single-use all the same.
 */
export function sameTarget(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const parse = (uri: string) => /^sips?:(?:([^@;?]+)@)?([^:;?>]+)(?::(\d+))?/i.exec(uri.trim());
  const given = parse(digestUri);
  const target = parse(requestUri);
  if (!given || !target) return false;
  const [, user, host, port] = given;
  return host!.toLowerCase() === target[2]!.toLowerCase() && (port ?? '5060') === (target[3] ?? '5060') && (user === undefined || user === target[1]);
}

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
export const unquote = (value: string | undefined) => value?.replace(/^"|"$/g, '');

/** Reads an Authorization / Proxy-Authorization header as npm `sip` parses it (quoted values). */
export function readCredentials(raw: Record<string, string> | undefined): DigestCredentials | undefined {
  if (!raw) return undefined;
  const field = (name: string) => unquote(raw[name]);
  return {
    username: field('username'),
    realm: field('realm'),
    nonce: field('nonce'),
    uri: field('uri'),
    response: field('response'),
    qop: field('qop'),
    nc: field('nc'),
    cnonce: field('cnonce'),
    algorithm: field('algorithm'),
  };
}

export interface DigestAuth {
  /** The WWW-/Proxy-Authenticate value of a fresh challenge; `stale` tells the client its password was right but the nonce old. */
  challenge(stale?: boolean): string;
  /** Checks a response against the stored HA1 (MD5 of "username:realm:password"). */
  verify(request: { method: string; uri: string }, credentials: DigestCredentials, ha1: string): Promise<DigestVerdict>;
}

export function createDigestAuth({
  secret,
  realm,
  nonces,
  nonceSeconds = 300,
  now = () => Date.now(),
}: {
  secret: string;
  realm: string;
  nonces: NonceStore;
  nonceSeconds?: number;
  now?: () => number;
}): DigestAuth {
  const sign = (payload: string) => crypto.createHmac('sha256', secret).update(payload).digest('hex').slice(0, 16);
  // Unique per challenge (time + random): nonce-counts are kept per nonce, so two clients challenged
  // in the same second must not share one.
  const makeNonce = () => {
    const payload = `${Math.floor(now() / 1000).toString(16)}.${crypto.randomBytes(6).toString('hex')}`;
    return `${payload}.${sign(payload)}`;
  };
  /** 'fresh', 'expired' (ours, but old) or 'forged'. */
  function nonceState(nonce: string): 'fresh' | 'expired' | 'forged' {
    const [timestamp, salt, signature, extra] = nonce.split('.');
    if (!timestamp || !salt || !signature || extra !== undefined || !/^[0-9a-f]{1,12}$/.test(timestamp)) return 'forged';
    const expected = Buffer.from(sign(`${timestamp}.${salt}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return 'forged';
    return now() / 1000 - parseInt(timestamp, 16) < nonceSeconds ? 'fresh' : 'expired';
  }
  const sameText = (a: string, b: string) => {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && crypto.timingSafeEqual(left, right);
  };

  return {
    challenge: (stale = false) => `Digest realm="${realm}", nonce="${makeNonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`,
    async verify(request, credentials, ha1) {
      const { nonce, uri, response } = credentials;
      if (!nonce || !uri || !response) return 'bad';
      if (credentials.algorithm && credentials.algorithm.toUpperCase() !== 'MD5') return 'bad';
      // The digest covers the URI the client says it used: it must name this request's target, or a
      // captured response for another one could be replayed here.
      if (!sameTarget(uri, request.uri)) return 'bad';
      const state = nonceState(nonce);
      if (state === 'forged') return 'bad';
      const ha2 = md5(`${request.method}:${uri}`);
      let expected: string;
      let count: number;
      if (credentials.qop === 'auth') {
        if (!credentials.nc || !/^[0-9a-fA-F]{8}$/.test(credentials.nc) || !credentials.cnonce) return 'bad';
        expected = md5(`${ha1}:${nonce}:${credentials.nc}:${credentials.cnonce}:auth:${ha2}`);
        count = parseInt(credentials.nc, 16);
      } else if (credentials.qop === undefined) {
        expected = md5(`${ha1}:${nonce}:${ha2}`);
        count = 1; // without qop a nonce serves once
      } else {
        return 'bad';
      }
      if (!sameText(expected, response.toLowerCase())) return 'bad';
      // Right password, old nonce: tell the client to retry with a new one (RFC 2617 3.2.1 stale).
      if (state === 'expired') return 'stale';
      return (await nonces.advance(nonce, count, nonceSeconds)) ? 'ok' : 'bad';
    },
  };
}

/**
 * The nonce store on Redis: one key per nonce holding the highest nonce-count seen, expiring with
 * the nonce. A Lua script makes the compare-and-raise atomic across nodes.
 */
export function redisNonceStore(redis: { eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown> }): NonceStore {
  const script = `local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= seen then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;
  return {
    advance: async (nonce, count, ttlSeconds) => (await redis.eval(script, 1, `digest-nc:${nonce}`, count, ttlSeconds)) === 1,
  };
}

/** For one process without Redis (tests): the same rule in memory. */
export function memoryNonceStore(): NonceStore {
  const seen = new Map<string, number>();
  return {
    async advance(nonce, count) {
      if (count <= (seen.get(nonce) ?? 0)) return false;
      seen.set(nonce, count);
      if (seen.size > 100_000) seen.clear();
      return true;
    },
  };
}
