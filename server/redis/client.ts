import { Redis } from 'ioredis';

export type { Redis };

export interface RedisOptions {
  url: string;
  prefix: string;
}

/**
 * Redis for the hot path. Commands fail fast while Redis is down (no offline queue) so the
 * call path can fall back to cached routing instead of waiting.
 */
export function createRedis({ url, prefix }: RedisOptions): Redis {
  const redis = new Redis(url, {
    keyPrefix: prefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Connection errors are reported by health checks and failing commands, not as crashes.
  redis.on('error', () => {});
  return redis;
}
