/** Snippet workers (DNI_WORKERS) on a harness's isolated schema and Redis prefix, for tests and benches. */
import { type SnippetWorkers, startSnippetWorkers } from '../../server/dni/snippet-workers.js';
import type { Harness } from './harness.js';
import { freePort } from './ports.js';

/**
 * Forks `count` snippet workers that see this harness's schema (search_path in the database URL)
 * and Redis keys, on a free loopback port with no per-client lease caps (one loopback client stands
 * for many visitors), and resolves once one answers /healthz (20 s at most). `env` adds settings.
 */
export async function startHarnessSnippetWorkers(
  h: Harness,
  count: number,
  env: Record<string, string> = {},
): Promise<{ workers: SnippetWorkers; port: number }> {
  const port = await freePort('127.0.0.1');
  const url = new URL(h.config.database.url);
  url.searchParams.set('options', `-c search_path=${h.schema},public`);
  const workers = startSnippetWorkers({
    count,
    logger: h.logger,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: url.toString(),
      REDIS_PREFIX: h.config.redis.prefix,
      HTTP_HOST: '127.0.0.1',
      DNI_PORT: String(port),
      DNI_MAX_LEASES_PER_IP: '0',
      DNI_MAX_LEASES_PER_SUBNET: '0',
      ...env,
    },
  });
  const deadline = Date.now() + 20_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) {
      await workers.stop();
      throw new Error('no snippet worker answered /healthz in 20 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { workers, port };
}
