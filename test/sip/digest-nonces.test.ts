// The digest nonce-counts live in Redis so every node refuses a replay another node has seen.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisNonceStore } from '../../server/sip/digest.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

it('a nonce-count is accepted once and only upwards, whichever node asks, and expires with the nonce', async () => {
  const nodeA = redisNonceStore(h.redis);
  const other = h.redis.duplicate();
  await other.connect();
  const nodeB = redisNonceStore(other);
  expect(await nodeA.advance('n1.abc', 1, 300)).toBe(true);
  expect(await nodeB.advance('n1.abc', 1, 300)).toBe(false); // the replay, at another node
  expect(await nodeB.advance('n1.abc', 2, 300)).toBe(true);
  expect(await nodeA.advance('n1.abc', 2, 300)).toBe(false);
  expect(await h.redis.ttl('digest-nc:n1.abc')).toBeGreaterThan(290);
  other.disconnect();
});
