import type { Queryable } from '../db/pool.js';
import type { CreateQueueBody, Queue, UpdateQueueBody } from './queues.schemas.js';

interface Row {
  id: string;
  name: string;
  strategy: Queue['strategy'];
  members: string[];
  ring_seconds: number;
  wrap_up_seconds: number;
  max_wait_seconds: number;
  announce_seconds: number;
  service_level_seconds: number;
  music: string | null;
  created_at: Date;
  updated_at: Date;
}
const toQueue = (r: Row): Queue => ({
  id: r.id,
  name: r.name,
  strategy: r.strategy,
  members: r.members,
  ringSeconds: r.ring_seconds,
  wrapUpSeconds: r.wrap_up_seconds,
  maxWaitSeconds: r.max_wait_seconds,
  announceSeconds: r.announce_seconds,
  serviceLevelSeconds: r.service_level_seconds,
  music: r.music,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function insertQueue(db: Queryable, accountId: string, q: CreateQueueBody): Promise<Queue> {
  const { rows } = await db.query<Row>(
    `INSERT INTO call_queues (account_id, name, strategy, members, ring_seconds, wrap_up_seconds, max_wait_seconds, announce_seconds, service_level_seconds, music)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [accountId, q.name, q.strategy, q.members, q.ringSeconds, q.wrapUpSeconds, q.maxWaitSeconds, q.announceSeconds, q.serviceLevelSeconds, q.music ?? null],
  );
  return toQueue(rows[0]!);
}

export async function listQueues(db: Queryable, accountId: string): Promise<Queue[]> {
  return (await db.query<Row>('SELECT * FROM call_queues WHERE account_id = $1 ORDER BY lower(name)', [accountId])).rows.map(toQueue);
}

export async function findQueue(db: Queryable, accountId: string, id: string): Promise<Queue | undefined> {
  const row = (await db.query<Row>('SELECT * FROM call_queues WHERE account_id = $1 AND id = $2', [accountId, id])).rows[0];
  return row && toQueue(row);
}

export async function findQueueByName(db: Queryable, accountId: string, name: string): Promise<Queue | undefined> {
  const row = (await db.query<Row>('SELECT * FROM call_queues WHERE account_id = $1 AND lower(name) = lower($2)', [accountId, name])).rows[0];
  return row && toQueue(row);
}

export async function updateQueue(db: Queryable, accountId: string, id: string, q: UpdateQueueBody): Promise<Queue | undefined> {
  const row = (
    await db.query<Row>(
      `UPDATE call_queues SET strategy = COALESCE($3, strategy), members = COALESCE($4, members), ring_seconds = COALESCE($5, ring_seconds),
         wrap_up_seconds = COALESCE($6, wrap_up_seconds), max_wait_seconds = COALESCE($7, max_wait_seconds),
         announce_seconds = COALESCE($8, announce_seconds), service_level_seconds = COALESCE($9, service_level_seconds),
         music = CASE WHEN $10 THEN $11 ELSE music END, updated_at = now()
       WHERE account_id = $1 AND id = $2 RETURNING *`,
      [
        accountId,
        id,
        q.strategy ?? null,
        q.members ?? null,
        q.ringSeconds ?? null,
        q.wrapUpSeconds ?? null,
        q.maxWaitSeconds ?? null,
        q.announceSeconds ?? null,
        q.serviceLevelSeconds ?? null,
        q.music !== undefined,
        q.music ?? null,
      ],
    )
  ).rows[0];
  return row && toQueue(row);
}

export async function deleteQueue(db: Queryable, accountId: string, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM call_queues WHERE account_id = $1 AND id = $2', [accountId, id])).rowCount ?? 0) > 0;
}

/** Today's queue figures for the wallboard: answered, abandoned, and the share answered within the service level. */
export async function queueDayStats(
  db: Queryable,
  accountId: string,
  since: Date,
): Promise<{ answered: number; abandoned: number; serviceLevel: number | null }> {
  const { rows } = await db.query<{ answered: string; abandoned: string; within: string; offered: string }>(
    `SELECT count(*) FILTER (WHERE queue_outcome = 'answered') AS answered,
            count(*) FILTER (WHERE queue_outcome = 'abandoned') AS abandoned,
            count(*) FILTER (WHERE queue_within_service_level) AS within,
            count(*) FILTER (WHERE queue_outcome IN ('answered', 'abandoned', 'timeout')) AS offered
       FROM calls WHERE account_id = $1 AND started_at >= $2 AND queue_name IS NOT NULL`,
    [accountId, since],
  );
  const r = rows[0]!;
  const offered = Number(r.offered);
  return { answered: Number(r.answered), abandoned: Number(r.abandoned), serviceLevel: offered > 0 ? Number(r.within) / offered : null };
}
