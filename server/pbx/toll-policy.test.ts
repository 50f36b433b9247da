import { describe, expect, it } from 'vitest';
import type { Redis } from '../redis/client.js';
import { createOutsideCallCap, destinationAllowed } from './toll-policy.js';

const grant = (over: Partial<{ international: boolean; outboundPerMinute: number }> = {}) => ({
  id: 'ext-1',
  international: false,
  outboundPerMinute: 2,
  ...over,
});

describe('destinationAllowed', () => {
  it('lets domestic numbers through and international ones only with the grant', () => {
    expect(destinationAllowed(grant(), '+79161234567', 'RU')).toBeUndefined();
    expect(destinationAllowed(grant(), '+74951234567', 'RU')).toBeUndefined();
    expect(destinationAllowed(grant(), '+442079460958', 'RU')?.sipStatus).toBe(403);
    expect(destinationAllowed(grant({ international: true }), '+442079460958', 'RU')).toBeUndefined();
    expect(destinationAllowed(grant({ international: true }), '+7000', 'RU')?.message).toContain('not a valid phone number');
  });
});

describe('createOutsideCallCap without Redis', () => {
  // Every command fails: the node counts alone, over a sliding minute.
  const downRedis = {
    multi: () => ({
      zremrangebyscore: () => {
        throw new Error('down');
      },
    }),
  } as unknown as Redis;

  it('refuses calls over the cap within a minute, and a refused call does not use up the next minute', async () => {
    let now = 1_000_000;
    const cap = createOutsideCallCap(downRedis, () => now);
    expect(await cap.take(grant())).toBeUndefined();
    now += 10_000;
    expect(await cap.take(grant())).toBeUndefined();
    now += 10_000;
    expect((await cap.take(grant()))?.sipStatus).toBe(403);
    // 61 s after the first call one slot is free again; the refused attempt left no trace.
    now = 1_000_000 + 61_000;
    expect(await cap.take(grant())).toBeUndefined();
    expect(await cap.take(grant())).toBeDefined();
    expect((await cap.take(grant({ outboundPerMinute: 0 })))?.message).toContain('0 outside calls');
  });
});
