import { describe, expect, it } from 'vitest';
import { E164, toE164 } from './schemas.js';

describe('E164', () => {
  it('normalises common formatting to E.164', () => {
    expect(toE164('+7 (495) 123-45-67')).toBe('+74951234567');
    expect(E164.parse('+1 212 555 0123')).toBe('+12125550123');
  });
  it('reads a query string’s unencoded "+" (decoded as a space) as the plus it was', () => {
    expect(E164.parse(' 74951234567')).toBe('+74951234567');
    expect(E164.safeParse('74951234567').success).toBe(false);
  });
  it('rejects junk with a message', () => {
    for (const junk of ['', 'hello', '+7', '12345', '+74951234567; DROP TABLE', '+'.padEnd(40, '9')]) {
      const r = E164.safeParse(junk);
      expect(r.success, junk).toBe(false);
    }
    expect(E164.safeParse('abc').error?.issues[0]?.message).toMatch(/not a valid phone number/);
  });
});
