import type { Queryable } from '../db/pool.js';
import type { DealWonPayload, EventType, FormLeadPayload, LeadPayload } from './lead-payload.js';
import type { Delivery, SinkKind } from './leads.schemas.js';

/** Postgres NOTIFY channel per schema, so test schemas (and tenants on one database) do not wake each other. */
export const NOTIFY_CHANNEL_SQL = `'leads_' || current_schema()`;

export interface SinkRow {
  id: string;
  account_id: string;
  kind: SinkKind;
  name: string;
  config: Record<string, unknown>;
  events: EventType[];
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
}

export interface NewEvent {
  uid: string;
  accountId: string;
  callId: string;
  type: EventType;
  payload: LeadPayload | FormLeadPayload | DealWonPayload;
  /**
   * Drops a late call.started whose call already completed (as stored before this statement):
   * popping a card for a finished call helps nobody, and it would be ordered after call.completed.
   */
  unlessCompleted?: boolean;
}

/** Inserts one event and its deliveries; returns how many deliveries it got. */
export async function insertEvent(db: Queryable, e: NewEvent): Promise<number> {
  return insertEvents(db, [e]);
}

/**
 * Writes outbox events (in the given order: event ids order each call's deliveries) and a pending
 * delivery for every enabled sink that wants each one's type, in one statement, then NOTIFYs the
 * workers once (Postgres sends it at commit, so a worker never wakes before the rows are visible).
 * Returns how many deliveries were created.
 */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const { rows } = await db.query<{ deliveries: number }>(
    `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::boolean[]) WITH ORDINALITY
         AS i(uid, account_id, call_id, type, payload, unless_completed, n)),
     ev AS (
       INSERT INTO lead_events (uid, account_id, call_id, type, payload)
       SELECT i.uid, i.account_id, i.call_id, i.type, i.payload FROM input i
        WHERE NOT (i.unless_completed AND EXISTS (SELECT 1 FROM lead_events e WHERE e.call_id = i.call_id AND e.type = 'call.completed'))
        ORDER BY i.n
       RETURNING id, account_id, call_id, type),
     d AS (
       INSERT INTO lead_deliveries (event_id, sink_id, call_id)
       SELECT ev.id, s.id, ev.call_id FROM ev JOIN lead_sinks s ON s.account_id = ev.account_id AND s.enabled AND ev.type = ANY (s.events)
       RETURNING 1)
     SELECT (SELECT count(*) FROM d)::int AS deliveries, pg_notify(${NOTIFY_CHANNEL_SQL}, '')`,
    [
      events.map((e) => e.uid),
      events.map((e) => e.accountId),
      events.map((e) => e.callId),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.payload)),
      events.map((e) => e.unlessCompleted ?? false),
    ],
  );
  return rows[0]?.deliveries ?? 0;
}

export interface ClaimedDelivery {
  id: string;
  attempts: number;
  progress: Record<string, unknown>;
  retry_since: Date;
  event_uid: string;
  event_type: EventType;
  /** A FormLeadPayload for form.submitted: only webhook sinks subscribe to it (KIND_EVENTS), and they send it as is. */
  payload: LeadPayload;
  call_id: string;
  sink_id: string;
  kind: SinkKind;
  config: Record<string, unknown>;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`. SKIP LOCKED lets several processes claim at
 * once without waiting on or taking each other's rows; the lease (not a held transaction) marks a
 * delivery as taken, so a crashed worker's claims come back when it expires. A delivery waits
 * while an earlier event of the same call is still open for the same sink: per-call order.
 * `attempts` is bumped here and doubles as a fencing token for the result.
 */
export async function claimDue(db: Queryable, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<ClaimedDelivery>(
    `UPDATE lead_deliveries d
        SET locked_until = now() + $2 * interval '1 millisecond', attempts = d.attempts + 1
       FROM lead_events e, lead_sinks s
      WHERE d.id IN (
              SELECT c.id FROM lead_deliveries c JOIN lead_sinks cs ON cs.id = c.sink_id AND cs.enabled
               WHERE c.status = 'pending' AND c.next_attempt_at <= now() AND (c.locked_until IS NULL OR c.locked_until < now())
                 AND NOT EXISTS (SELECT 1 FROM lead_deliveries p
                                  WHERE p.sink_id = c.sink_id AND p.call_id = c.call_id AND p.status = 'pending' AND p.event_id < c.event_id)
               ORDER BY c.next_attempt_at
               LIMIT $1
               FOR UPDATE OF c SKIP LOCKED)
        AND e.id = d.event_id AND s.id = d.sink_id
    RETURNING d.id, d.attempts, d.progress, d.retry_since, e.uid AS event_uid, e.type AS event_type, e.payload, d.call_id,
              s.id AS sink_id, s.kind, s.config`,
    [limit, leaseMs],
  );
  return rows;
}

/** The earliest time a pending delivery becomes due (for the worker's sleep). */
export async function nextDueAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT min(GREATEST(next_attempt_at, COALESCE(locked_until, next_attempt_at))) AS at FROM lead_deliveries WHERE status = 'pending'`,
  );
  return rows[0]?.at ?? null;
}

/** Results are fenced by `attempts`: a worker whose lease expired and was re-claimed cannot overwrite the newer claim's result. */
export async function markDone(
  db: Queryable,
  id: string,
  attempts: number,
  status: 'delivered' | 'skipped',
  note: string | null,
  httpStatus: number | null,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE lead_deliveries SET status = $3, delivered_at = now(), locked_until = NULL, last_error = $4, last_status = $5
      WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
    [id, attempts, status, note, httpStatus],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * The sink took a delivery again: its deliveries waiting out a backoff are due now (a receiver that
 * was down for ten minutes would otherwise get its backlog over the next half hour). Returns how
 * many were brought forward.
 */
export async function resumeSink(db: Queryable, sinkId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE lead_deliveries SET next_attempt_at = now()
      WHERE sink_id = $1 AND status = 'pending' AND next_attempt_at > now() AND last_error IS NOT NULL`,
    [sinkId],
  );
  return rowCount ?? 0;
}

export async function markRetry(db: Queryable, id: string, attempts: number, error: string, httpStatus: number | null, delayMs: number): Promise<void> {
  await db.query(
    `UPDATE lead_deliveries SET next_attempt_at = now() + $3 * interval '1 millisecond', locked_until = NULL, last_error = $4, last_status = $5
      WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
    [id, attempts, delayMs, error.slice(0, 1000), httpStatus],
  );
}

/** Dead-letters a delivery and every later open event of the same call for the same sink (their order cannot be kept). */
export async function markDead(db: Queryable, id: string, attempts: number, error: string, httpStatus: number | null): Promise<void> {
  await db.query(
    `WITH dead AS (
       UPDATE lead_deliveries SET status = 'dead', locked_until = NULL, last_error = $3, last_status = $4
        WHERE id = $1 AND attempts = $2 AND status = 'pending'
       RETURNING sink_id, call_id, event_id)
     UPDATE lead_deliveries l SET status = 'dead', last_error = 'an earlier event of this call is dead for this sink'
       FROM dead WHERE l.sink_id = dead.sink_id AND l.call_id = dead.call_id AND l.event_id > dead.event_id AND l.status = 'pending'`,
    [id, attempts, error.slice(0, 1000), httpStatus],
  );
}

export async function saveProgress(db: Queryable, id: string, attempts: number, progress: Record<string, unknown>): Promise<void> {
  await db.query('UPDATE lead_deliveries SET progress = $3 WHERE id = $1 AND attempts = $2', [id, attempts, JSON.stringify(progress)]);
}

/** The progress another (earlier) event of this call left for this sink, e.g. Bitrix24's CALL_ID for attachRecord. */
export async function progressOf(db: Queryable, sinkId: string, callId: string, type: EventType): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{ progress: Record<string, unknown> }>(
    `SELECT d.progress FROM lead_deliveries d JOIN lead_events e ON e.id = d.event_id
      WHERE d.sink_id = $1 AND d.call_id = $2 AND e.type = $3 ORDER BY d.event_id DESC LIMIT 1`,
    [sinkId, callId, type],
  );
  return rows[0]?.progress;
}

export async function disableSink(db: Queryable, sinkId: string, reason: string | null, enabled = false): Promise<void> {
  await db.query('UPDATE lead_sinks SET enabled = $2, disabled_reason = $3, updated_at = now() WHERE id = $1', [sinkId, enabled, reason]);
}

// ---- admin API ----

export async function insertSink(db: Queryable, s: { accountId: string; kind: SinkKind; name: string; config: object; events: EventType[] }): Promise<SinkRow> {
  const { rows } = await db.query<SinkRow>('INSERT INTO lead_sinks (account_id, kind, name, config, events) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
    s.accountId,
    s.kind,
    s.name,
    JSON.stringify(s.config),
    s.events,
  ]);
  return rows[0]!;
}

export async function updateSink(db: Queryable, accountId: string, id: string, s: { name: string; config: object; events: EventType[] }): Promise<SinkRow> {
  const { rows } = await db.query<SinkRow>(
    'UPDATE lead_sinks SET name = $3, config = $4, events = $5, updated_at = now() WHERE account_id = $1 AND id = $2 RETURNING *',
    [accountId, id, s.name, JSON.stringify(s.config), s.events],
  );
  return rows[0]!;
}

export async function listSinks(db: Queryable, accountId: string): Promise<SinkRow[]> {
  return (await db.query<SinkRow>('SELECT * FROM lead_sinks WHERE account_id = $1 ORDER BY created_at', [accountId])).rows;
}

export async function findSink(db: Queryable, accountId: string, id: string): Promise<SinkRow | undefined> {
  return (await db.query<SinkRow>('SELECT * FROM lead_sinks WHERE account_id = $1 AND id = $2', [accountId, id])).rows[0];
}

export async function deleteSink(db: Queryable, accountId: string, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM lead_sinks WHERE account_id = $1 AND id = $2', [accountId, id])).rowCount ?? 0) > 0;
}

interface DeliveryRow {
  id: string;
  event_uid: string;
  event_type: EventType;
  call_id: string;
  status: Delivery['status'];
  attempts: number;
  last_error: string | null;
  last_status: number | null;
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
}

export const idempotencyKey = (deliveryId: string) => `msg_${deliveryId.replaceAll('-', '')}`;

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    eventId: r.event_uid,
    eventType: r.event_type,
    callId: r.call_id,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    lastStatus: r.last_status,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    deliveredAt: r.delivered_at?.toISOString() ?? null,
    idempotencyKey: idempotencyKey(r.id),
  };
}

export async function listDeliveries(
  db: Queryable,
  sinkId: string,
  q: { status?: Delivery['status'] | undefined; callId?: string | undefined; limit: number },
): Promise<Delivery[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.*, e.uid AS event_uid, e.type AS event_type FROM lead_deliveries d JOIN lead_events e ON e.id = d.event_id
      WHERE d.sink_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::uuid IS NULL OR d.call_id = $3)
      ORDER BY d.event_id DESC LIMIT $4`,
    [sinkId, q.status ?? null, q.callId ?? null, q.limit],
  );
  return rows.map(toDelivery);
}

/**
 * Puts dead deliveries back in the queue with a fresh schedule and age. Replaying one delivery
 * also revives the later events of its call that died behind it, so order is kept.
 */
export async function replay(db: Queryable, sinkId: string, deliveryId: string | null): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE lead_deliveries l SET status = 'pending', attempts = 0, next_attempt_at = now(), retry_since = now(), locked_until = NULL
      WHERE l.sink_id = $1 AND l.status = 'dead'
        AND ($2::uuid IS NULL OR l.id = $2
             OR EXISTS (SELECT 1 FROM lead_deliveries t WHERE t.id = $2 AND t.sink_id = l.sink_id AND t.call_id = l.call_id AND t.event_id < l.event_id))`,
    [sinkId, deliveryId],
  );
  if ((rowCount ?? 0) > 0) await db.query(`SELECT pg_notify(${NOTIFY_CHANNEL_SQL}, '')`);
  return rowCount ?? 0;
}

export async function findDelivery(db: Queryable, sinkId: string, deliveryId: string): Promise<Delivery | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.*, e.uid AS event_uid, e.type AS event_type FROM lead_deliveries d JOIN lead_events e ON e.id = d.event_id
      WHERE d.sink_id = $1 AND d.id = $2`,
    [sinkId, deliveryId],
  );
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

export async function upsertCallFact(db: Queryable, p: LeadPayload, source: { starts_on: string | null; ends_on: string | null } | undefined): Promise<void> {
  const c = p.call;
  const a = p.attribution;
  await db.query(
    `INSERT INTO call_facts (call_id, account_id, day, started_at, tracking_number, source_id, source, medium, campaign, keyword,
       confidence, overflow, disposition, answered, talk_seconds, ring_seconds, first_time, source_cost, source_currency,
       source_starts_on, source_ends_on, value, score, tags)
     VALUES ($1, $2, ($3::timestamptz AT TIME ZONE 'UTC')::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
     ON CONFLICT (call_id) DO UPDATE SET value = EXCLUDED.value, score = EXCLUDED.score, tags = EXCLUDED.tags, updated_at = now()`,
    [
      c.id,
      p.account_id,
      c.start_time,
      c.tracking_number,
      a.source_id,
      a.source,
      a.medium,
      a.campaign,
      a.keyword,
      a.confidence,
      a.overflow,
      c.status,
      c.answered,
      c.talk_time,
      c.ring_time,
      c.first_call,
      a.source_cost,
      a.source_currency,
      source?.starts_on ?? null,
      source?.ends_on ?? null,
      c.value,
      c.score,
      c.tags,
    ],
  );
}

export async function sourceDates(db: Queryable, sourceId: string): Promise<{ starts_on: string | null; ends_on: string | null } | undefined> {
  const { rows } = await db.query<{ starts_on: string | null; ends_on: string | null }>(`SELECT starts_on::text, ends_on::text FROM sources WHERE id = $1`, [
    sourceId,
  ]);
  return rows[0];
}
