import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDigestAuth, memoryNonceStore, sameTarget } from './digest.js';

const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');
const HA1 = md5('alice:calltrack:secret-password');
const URI = 'sip:74951234567@198.51.100.1';

function setUp(start = 1_800_000_000_000) {
  let clock = start;
  const digest = createDigestAuth({ secret: 'digest-test-secret-123456', realm: 'calltrack', nonces: memoryNonceStore(), now: () => clock });
  const nonce = /nonce="([^"]+)"/.exec(digest.challenge())![1]!;
  return { digest, nonce, advance: (ms: number) => void (clock += ms) };
}
const withQop = (nonce: string, nc: string, over: Record<string, string> = {}) => ({
  nonce,
  uri: URI,
  qop: 'auth',
  nc,
  cnonce: 'abc',
  response: md5(`${HA1}:${nonce}:${nc}:abc:auth:${md5(`INVITE:${URI}`)}`),
  ...over,
});

describe(createDigestAuth.name, () => {
  it('challenges with qop=auth and a nonce of its own each time, and with stale=true when asked', () => {
    const { digest } = setUp();
    expect(digest.challenge()).not.toBe(digest.challenge());
    expect(digest.challenge()).toMatch(/^Digest realm="calltrack", nonce="[0-9a-f]+\.[0-9a-f]{12}\.[0-9a-f]{16}", algorithm=MD5, qop="auth"$/);
    expect(digest.challenge(true)).toMatch(/, stale=true$/);
  });

  it('accepts growing nonce-counts and refuses a count seen before (a replay)', async () => {
    const { digest, nonce } = setUp();
    const request = { method: 'INVITE', uri: URI };
    expect(await digest.verify(request, withQop(nonce, '00000001'), HA1)).toBe('ok');
    expect(await digest.verify(request, withQop(nonce, '00000001'), HA1)).toBe('bad');
    expect(await digest.verify(request, withQop(nonce, '00000005'), HA1)).toBe('ok');
    expect(await digest.verify(request, withQop(nonce, '00000004'), HA1)).toBe('bad');
  });

  it('takes a digest URI naming the request’s target with or without its user, and nothing else', () => {
    expect(sameTarget(URI, URI)).toBe(true);
    expect(sameTarget('sip:198.51.100.1', URI)).toBe(true);
    expect(sameTarget('sip:198.51.100.1:5060', URI)).toBe(true);
    expect(sameTarget('sip:74951234567@198.51.100.2', URI)).toBe(false);
    expect(sameTarget('sip:74951234568@198.51.100.1', URI)).toBe(false);
    expect(sameTarget('sip:198.51.100.1:5070', URI)).toBe(false);
  });

  it('refuses a response made for another URI, another method, or a wrong password', async () => {
    const { digest, nonce } = setUp();
    expect(await digest.verify({ method: 'INVITE', uri: 'sip:other@198.51.100.1' }, withQop(nonce, '00000001'), HA1)).toBe('bad');
    expect(await digest.verify({ method: 'REGISTER', uri: URI }, withQop(nonce, '00000001'), HA1)).toBe('bad');
    expect(await digest.verify({ method: 'INVITE', uri: URI }, withQop(nonce, '00000001'), md5('alice:calltrack:wrong'))).toBe('bad');
  });

  it('without qop a nonce serves once', async () => {
    const { digest, nonce } = setUp();
    const plain = { nonce, uri: URI, response: md5(`${HA1}:${nonce}:${md5(`INVITE:${URI}`)}`) };
    expect(await digest.verify({ method: 'INVITE', uri: URI }, plain, HA1)).toBe('ok');
    expect(await digest.verify({ method: 'INVITE', uri: URI }, plain, HA1)).toBe('bad');
  });

  it('says stale for a right answer to an expired nonce, and bad for a forged one', async () => {
    const { digest, nonce, advance } = setUp();
    advance(301_000);
    expect(await digest.verify({ method: 'INVITE', uri: URI }, withQop(nonce, '00000001'), HA1)).toBe('stale');
    const forged = `${nonce.split('.').slice(0, 2).join('.')}.ffffffffffffffff`;
    expect(await digest.verify({ method: 'INVITE', uri: URI }, withQop(forged, '00000001'), HA1)).toBe('bad');
  });
});
