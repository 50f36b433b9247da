import { describe, expect, it } from 'vitest';
import { createSoftphoneCredentials } from './softphone-credentials.js';

const extension = { id: '6f1c7a52-3c0e-4d8a-9b7e-2a1f0c9d8e7b', sipUsername: '101-a1b2c3' };

describe(createSoftphoneCredentials.name, () => {
  const at = Date.parse('2026-03-01T10:00:00Z');
  const credentials = createSoftphoneCredentials({ secret: 'a-long-enough-secret-key', realm: 'calltrack', now: () => at });

  it('issues a username carrying its expiry and a password that is an HMAC of the extension and that expiry', () => {
    const issued = credentials.issue(extension);
    expect(issued.expiresAt.toISOString()).toBe('2026-03-01T10:10:00.000Z');
    expect(issued.username).toBe(`101-a1b2c3.${Date.parse('2026-03-01T10:10:00Z') / 1000}`);
    expect(credentials.read(issued.username)).toEqual({ sipUsername: '101-a1b2c3', expiresAtMs: issued.expiresAt.getTime() });
    // Another extension, expiry or secret gives another password.
    expect(credentials.issue({ ...extension, id: '00000000-0000-0000-0000-000000000002' }).password).not.toBe(issued.password);
    expect(createSoftphoneCredentials({ secret: 'another-long-secret-key', realm: 'calltrack', now: () => at }).issue(extension).password).not.toBe(
      issued.password,
    );
    expect(createSoftphoneCredentials({ secret: 'a-long-enough-secret-key', realm: 'calltrack', now: () => at + 1000 }).issue(extension).password).not.toBe(
      issued.password,
    );
  });

  it('derives the HA1 a digest is checked with from the issued password', async () => {
    const { createHash } = await import('node:crypto');
    const issued = credentials.issue(extension);
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    expect(credentials.ha1(extension.id, issued.username)).toBe(md5(`${issued.username}:calltrack:${issued.password}`));
  });

  it('reads only its own usernames', () => {
    expect(credentials.read('101-a1b2c3')).toBeUndefined();
    expect(credentials.read('101-a1b2c3.abc')).toBeUndefined();
    expect(credentials.read('a.b.1767225600')).toBeUndefined();
  });
});
