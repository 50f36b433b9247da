import type pg from 'pg';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import * as repo from './leads.repository.js';
import type { SinkKind } from './leads.schemas.js';
import type { EgressPolicy } from './sinks/egress.js';
import { type AnySinkHandler, DeliveryError } from './sinks/sink.js';

const RESUME_EVERY_MS = 5_000;

/** Standard Webhooks' schedule: the delay before attempt n+1 (attempt 1 goes out at once). */
export const DEFAULT_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];

export interface WorkerOptions {
  db: Db;
  logger: Logger;
  sinks: Record<SinkKind, AnySinkHandler>;
  /** Addresses sinks may reach (SINK_ALLOWED_NETWORKS); see createEgressPolicy. */
  egress: EgressPolicy;
  /** Deliveries in flight per process. */
  concurrency?: number;
  /** Longest sleep between queue scans when no NOTIFY arrives (retries coming due, lost notifications). */
  pollMs?: number;
  /** One delivery attempt (all of a sink's requests) is aborted after this long. */
  attemptTimeoutMs?: number;
  /** How long a claim hides a delivery from other workers; kept above the attempt timeout. */
  leaseMs?: number;
  /** Delay after failed attempt i is schedule[i]; past its end the delivery is dead. */
  scheduleMs?: number[];
  /** ± fraction of each delay, so retries of one outage do not arrive as a thundering herd. */
  jitter?: number;
  /** A delivery older than this (since first try or replay) is dead-lettered instead of retried. */
  maxAgeMs?: number;
  /** Listen for NOTIFY on a dedicated connection (lower latency than polling). */
  listen?: boolean;
}

export interface LeadWorkers {
  start(): Promise<void>;
  /** Stops claiming, waits up to `graceMs` (default 5 s) for in-flight deliveries, then aborts them (they are retried later). */
  stop(graceMs?: number): Promise<void>;
  wake(): void;
}

export function createLeadWorkers(options: WorkerOptions): LeadWorkers {
  const concurrency = options.concurrency ?? 8;
  const pollMs = options.pollMs ?? 1_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
  // A lease shorter than an attempt would let a second worker start the same delivery while the first still runs.
  const leaseMs = Math.max(options.leaseMs ?? 60_000, attemptTimeoutMs + 1_000);
  const schedule = options.scheduleMs ?? DEFAULT_SCHEDULE_MS;
  const jitter = options.jitter ?? 0.2;
  const maxAgeMs = options.maxAgeMs ?? 3 * 86_400_000;
  const log = options.logger.child({ component: 'lead-workers' });
  const inFlight = new Set<Promise<void>>();
  let aborter = new AbortController();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  let listener: pg.PoolClient | undefined;

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function listen(): Promise<void> {
    if (!options.listen && options.listen !== undefined) return;
    if (listener) return;
    let client: pg.PoolClient | undefined;
    let released = false;
    const drop = (c: pg.PoolClient) => {
      if (released) return;
      released = true;
      c.release(true);
    };
    try {
      client = await options.db.connect();
      const connection = client;
      const { rows } = await connection.query<{ ch: string }>(`SELECT ${repo.NOTIFY_CHANNEL_SQL} AS ch`);
      connection.on('notification', () => wake());
      connection.on('error', () => {
        if (listener === connection) listener = undefined;
        drop(connection);
      });
      await connection.query(`LISTEN "${rows[0]!.ch.replaceAll('"', '')}"`);
      listener = connection;
    } catch (err) {
      // A connection that could not LISTEN goes back broken, or the pool would wait for it at shutdown.
      if (client) drop(client);
      log.warn({ err, type: 'lead_listen_failed' }, 'cannot LISTEN for outbox events; polling only');
    }
  }

  function delayFor(attempt: number, retryAfterMs: number | undefined): number | undefined {
    if (retryAfterMs !== undefined) return retryAfterMs;
    const base = schedule[attempt];
    if (base === undefined) return undefined;
    return Math.round(base * (1 + (Math.random() * 2 - 1) * jitter));
  }

  /** When each sink's backlog was last brought forward: at most every few seconds per sink. */
  const resumedAt = new Map<string, number>();
  async function resumeAfterSuccess(sinkId: string): Promise<void> {
    const last = resumedAt.get(sinkId) ?? 0;
    if (Date.now() - last < RESUME_EVERY_MS) return;
    resumedAt.set(sinkId, Date.now());
    const resumed = await repo.resumeSink(options.db, sinkId).catch(() => 0);
    if (resumed > 0) {
      log.info({ type: 'lead_sink_resumed', sinkId, deliveries: resumed }, 'the sink takes deliveries again; its backlog is due now');
      wake();
    }
  }

  async function handle(c: repo.ClaimedDelivery): Promise<void> {
    const handler = options.sinks[c.kind];
    const dlog = log.child({ deliveryId: c.id, sinkId: c.sink_id, callId: c.call_id, event: c.event_type, attempt: c.attempts });
    try {
      const config = handler.parseConfig(c.config);
      let progress = c.progress;
      const result = await handler.deliver({
        config,
        payload: c.payload,
        idempotencyKey: repo.idempotencyKey(c.id),
        attempt: c.attempts,
        sinkId: c.sink_id,
        progress,
        db: options.db,
        signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(attemptTimeoutMs)]),
        egress: options.egress,
        saveProgress: async (p) => {
          progress = p;
          await repo.saveProgress(options.db, c.id, c.attempts, p);
        },
      });
      if (result.status === 'delivered') {
        await repo.markDone(options.db, c.id, c.attempts, 'delivered', result.note ?? null, result.httpStatus ?? null);
        await resumeAfterSuccess(c.sink_id);
      } else await repo.markDone(options.db, c.id, c.attempts, 'skipped', result.reason, null);
      dlog.debug({ type: 'lead_delivered', result: result.status }, 'lead delivery done');
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err));
      const status = e.opts.httpStatus ?? null;
      try {
        if (e.opts.disableSink) {
          await repo.disableSink(options.db, c.sink_id, e.message);
          await repo.markDead(options.db, c.id, c.attempts, e.message, status);
          dlog.warn({ type: 'lead_sink_disabled', err: e.message }, 'sink disabled by the receiver');
          return;
        }
        const delay = e.opts.permanent ? undefined : delayFor(c.attempts, e.opts.retryAfterMs);
        const tooOld = delay !== undefined && Date.now() + delay - c.retry_since.getTime() > maxAgeMs;
        if (delay === undefined || tooOld) {
          await repo.markDead(options.db, c.id, c.attempts, e.message, status);
          dlog.warn({ type: 'lead_dead', err: e.message }, 'lead delivery dead-lettered');
        } else {
          await repo.markRetry(options.db, c.id, c.attempts, e.message, status, delay);
          dlog.info({ type: 'lead_retry', err: e.message, delayMs: delay }, 'lead delivery failed; will retry');
        }
      } catch (dbErr) {
        // The claim's lease expires and another attempt (same idempotency key) follows.
        dlog.error({ err: dbErr, type: 'lead_result_lost' }, 'could not record the delivery result');
      }
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      const free = concurrency - inFlight.size;
      let claimed: repo.ClaimedDelivery[] = [];
      if (free > 0) {
        try {
          if (!listener) await listen();
          claimed = await repo.claimDue(options.db, free, leaseMs);
        } catch (err) {
          log.warn({ err, type: 'lead_claim_failed' }, 'cannot claim deliveries; retrying');
        }
        for (const c of claimed) {
          const p: Promise<void> = handle(c).finally(() => {
            inFlight.delete(p);
            wake();
          });
          inFlight.add(p);
        }
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      await sleep(pollMs);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      aborter = new AbortController();
      await listen();
      loopDone = loop();
    },
    async stop(graceMs = 5_000) {
      running = false;
      wake();
      await loopDone;
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      aborter.abort(new Error('lead workers stopping'));
      await Promise.allSettled([...inFlight]);
      if (listener) {
        const l = listener;
        listener = undefined;
        await l.query('UNLISTEN *').catch(() => {});
        l.release();
      }
    },
    wake,
  };
}
