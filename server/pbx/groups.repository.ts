import type { Queryable } from '../db/pool.js';
import type { CreateGroupBody, Group, UpdateGroupBody } from './groups.schemas.js';

interface Row {
  id: string;
  name: string;
  strategy: Group['strategy'];
  ring_seconds: number;
  members: string[];
  created_at: Date;
  updated_at: Date;
}
const toGroup = (r: Row): Group => ({
  id: r.id,
  name: r.name,
  strategy: r.strategy,
  ringSeconds: r.ring_seconds,
  members: r.members,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function insertGroup(db: Queryable, accountId: string, g: CreateGroupBody): Promise<Group> {
  const { rows } = await db.query<Row>('INSERT INTO ring_groups (account_id, name, strategy, ring_seconds, members) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
    accountId,
    g.name,
    g.strategy,
    g.ringSeconds,
    g.members,
  ]);
  return toGroup(rows[0]!);
}

export async function listGroups(db: Queryable, accountId: string): Promise<Group[]> {
  return (await db.query<Row>('SELECT * FROM ring_groups WHERE account_id = $1 ORDER BY lower(name)', [accountId])).rows.map(toGroup);
}

export async function findGroup(db: Queryable, accountId: string, id: string): Promise<Group | undefined> {
  const row = (await db.query<Row>('SELECT * FROM ring_groups WHERE account_id = $1 AND id = $2', [accountId, id])).rows[0];
  return row && toGroup(row);
}

export async function findGroupByName(db: Queryable, accountId: string, name: string): Promise<Group | undefined> {
  const row = (await db.query<Row>('SELECT * FROM ring_groups WHERE account_id = $1 AND lower(name) = lower($2)', [accountId, name])).rows[0];
  return row && toGroup(row);
}

export async function updateGroup(db: Queryable, accountId: string, id: string, g: UpdateGroupBody): Promise<Group | undefined> {
  const row = (
    await db.query<Row>(
      `UPDATE ring_groups SET strategy = COALESCE($3, strategy), ring_seconds = COALESCE($4, ring_seconds), members = COALESCE($5, members), updated_at = now()
       WHERE account_id = $1 AND id = $2 RETURNING *`,
      [accountId, id, g.strategy ?? null, g.ringSeconds ?? null, g.members ?? null],
    )
  ).rows[0];
  return row && toGroup(row);
}

export async function deleteGroup(db: Queryable, accountId: string, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM ring_groups WHERE account_id = $1 AND id = $2', [accountId, id])).rowCount ?? 0) > 0;
}
