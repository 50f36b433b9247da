import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import type { Rtpengine } from '../media/rtpengine.js';
import type { Redis } from '../redis/client.js';
import type { Metrics } from './metrics.js';

const Check = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
const Health = z.object({ status: z.enum(['ok', 'degraded']), checks: z.object({ postgres: Check, redis: Check, rtpengine: Check }) });

async function timed(probe: () => Promise<unknown>, timeoutMs = 1_500): Promise<z.infer<typeof Check>> {
  const started = performance.now();
  try {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      probe().then((v) => v !== false),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return { ok, latencyMs: Math.round(performance.now() - started), ...(ok ? {} : { error: 'unexpected answer' }) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: err instanceof Error ? err.message : String(err) };
  }
}

export function healthRoutes({ db, redis, rtpengine, metrics }: { db: Db; redis: Redis; rtpengine: Rtpengine; metrics: Metrics }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['operations'],
          summary: '200 when Postgres, Redis and rtpengine answer; 503 naming the one that does not',
          response: { 200: Health, 503: Health },
        },
        config: { public: true },
      },
      async (_request, reply) => {
        const [postgres, redisCheck, rtp] = await Promise.all([
          timed(() => db.query('SELECT 1')),
          timed(async () => (await redis.ping()) === 'PONG'),
          timed(() => rtpengine.ping()),
        ]);
        const checks = { postgres, redis: redisCheck, rtpengine: rtp };
        const ok = postgres.ok && redisCheck.ok && rtp.ok;
        return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks });
      },
    );

    app.get(
      '/metrics',
      {
        schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false },
        config: { public: true },
      },
      async (_request, reply) => {
        reply.header('content-type', metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  };
}
