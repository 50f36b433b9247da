import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { answerChallenge } from './digest-client.js';

describe('answerChallenge', () => {
  it('gives the RFC 2617 section 3.5 response', () => {
    const answer = answerChallenge(
      {
        scheme: 'Digest',
        realm: '"testrealm@host.com"',
        qop: '"auth,auth-int"',
        nonce: '"dcd98b7102dd2f0e8b11d0f600bfb0c093"',
        opaque: '"5ccc069c403ebaf9f0171e9517f40e41"',
      },
      { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life' },
      '0a4f113b',
    );
    expect(answer).toEqual({
      scheme: 'Digest',
      username: '"Mufasa"',
      realm: '"testrealm@host.com"',
      nonce: '"dcd98b7102dd2f0e8b11d0f600bfb0c093"',
      uri: '"/dir/index.html"',
      response: '"6629fae49393a05397450978507c4ef1"',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '"0a4f113b"',
      opaque: '"5ccc069c403ebaf9f0171e9517f40e41"',
    });
  });

  it('answers a challenge without qop the RFC 2069 way', () => {
    const md5 = (t: string) => crypto.createHash('md5').update(t).digest('hex');
    const answer = answerChallenge(
      { scheme: 'Digest', realm: '"carrier"', nonce: '"n1"' },
      { method: 'INVITE', uri: 'sip:+7916@gw', username: 'u', password: 'p' },
    );
    expect(answer?.response).toBe(`"${md5(`${md5('u:carrier:p')}:n1:${md5('INVITE:sip:+7916@gw')}`)}"`);
    expect(answer?.qop).toBeUndefined();
  });

  it('declines what it cannot answer', () => {
    const req = { method: 'INVITE', uri: 'sip:x@gw', username: 'u', password: 'p' };
    expect(answerChallenge({ scheme: 'Basic', realm: '"r"' }, req)).toBeUndefined();
    expect(answerChallenge({ scheme: 'Digest', realm: '"r"', nonce: '"n"', algorithm: 'SHA-256' }, req)).toBeUndefined();
    expect(answerChallenge({ scheme: 'Digest', realm: '"r"', nonce: '"n"', qop: '"auth-int"' }, req)).toBeUndefined();
    expect(answerChallenge({ scheme: 'Digest', realm: '"r"' }, req)).toBeUndefined();
  });
});
