/** Provisioning through the public API for DNI/attribution tests: trunk, numbers, site, pool, source. */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Harness } from '../helpers/harness.js';

let counter = 0;

/** Distinct valid Moscow numbers per test file run (random block so parallel files do not collide in one schema). */
export function numberBlock(count: number): string[] {
  const base = 1_000_000 + crypto.randomInt(0, 8_000_000);
  counter += count;
  return Array.from({ length: count }, (_, i) => `+7495${String(base + counter + i).padStart(7, '0')}`);
}

export interface Provisioned {
  trunkId: string;
  siteId: string;
  siteKey: string;
  poolId: string;
  numbers: string[];
  defaultNumber: string;
}

export async function provisionPool(
  h: Harness,
  app: FastifyInstance,
  opts: {
    size: number;
    holdSeconds: number;
    maxLeaseSeconds?: number;
    exhaustionPolicy?: 'default_number' | 'share';
    domains?: string[];
    defaultNumber?: string;
  },
): Promise<Provisioned> {
  const post = async (url: string, body: object) => {
    const res = await app.inject({ method: 'POST', url, payload: body, headers: h.adminHeaders });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const trunk = await post('/v1/trunks', { name: `t-${crypto.randomBytes(4).toString('hex')}`, addresses: ['127.0.0.1/32'] });
  const [defaultNumber, ...numbers] = numberBlock(opts.size + 1);
  for (const n of [...numbers]) await post('/v1/numbers', { number: n, trunkId: trunk.id });
  const site = await post('/v1/sites', {
    name: `site-${crypto.randomBytes(4).toString('hex')}`,
    domains: opts.domains ?? ['shop.example', '127.0.0.1'],
    defaultNumber: opts.defaultNumber ?? defaultNumber,
  });
  const pool = await post('/v1/pools', {
    siteId: site.id,
    name: 'main',
    numbers,
    holdSeconds: opts.holdSeconds,
    ...(opts.maxLeaseSeconds ? { maxLeaseSeconds: opts.maxLeaseSeconds } : {}),
    exhaustionPolicy: opts.exhaustionPolicy ?? 'default_number',
  });
  return { trunkId: trunk.id, siteId: site.id, siteKey: site.siteKey, poolId: pool.id, numbers, defaultNumber: opts.defaultNumber ?? defaultNumber! };
}
