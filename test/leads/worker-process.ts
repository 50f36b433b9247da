// A lead-worker process for the crash test: `node --import tsx test/leads/worker-process.ts '<json options>'`.
import { createDb } from '../../server/db/pool.js';
import { createLeadWorkers } from '../../server/leads/lead-worker.js';
import { createEgressPolicy } from '../../server/leads/sinks/egress.js';
import { SINK_HANDLERS } from '../../server/leads/sinks/index.js';
import { createLogger } from '../../server/logger.js';

const o = JSON.parse(process.argv[2] ?? '{}') as { url: string; schema: string; leaseMs: number; pollMs: number; concurrency: number };
const db = createDb({ url: o.url, poolSize: 4, schema: o.schema });
const workers = createLeadWorkers({
  db,
  logger: createLogger('silent'),
  sinks: SINK_HANDLERS,
  // The test's fake receiver listens on loopback.
  egress: createEgressPolicy(['127.0.0.0/8']),
  leaseMs: o.leaseMs,
  attemptTimeoutMs: o.leaseMs - 1_000,
  pollMs: o.pollMs,
  concurrency: o.concurrency,
  scheduleMs: [0, 100, 200, 400, 800],
  jitter: 0,
});
await workers.start();
process.stdout.write('ready\n');
process.on(
  'SIGTERM',
  () =>
    void workers
      .stop()
      .then(() => db.end())
      .then(() => process.exit(0)),
);
