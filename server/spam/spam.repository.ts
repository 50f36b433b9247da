import type { Queryable } from '../db/pool.js';
import { type CallerBlock, DEFAULT_SPAM_POLICY, type SpamPolicy } from './spam.schemas.js';

interface BlockRow {
  id: string;
  account_id: string;
  pattern: string;
  action: 'reject' | 'goodbye';
  note: string | null;
  created_at: Date;
}
const toBlock = (r: BlockRow): CallerBlock => ({ id: r.id, pattern: r.pattern, action: r.action, note: r.note, createdAt: r.created_at.toISOString() });

export async function insertBlock(
  db: Queryable,
  accountId: string,
  b: { pattern: string; action: 'reject' | 'goodbye'; note?: string | undefined },
): Promise<CallerBlock> {
  const { rows } = await db.query<BlockRow>(
    `INSERT INTO caller_blocks (account_id, pattern, action, note) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_id, pattern) DO UPDATE SET action = EXCLUDED.action, note = EXCLUDED.note RETURNING *`,
    [accountId, b.pattern, b.action, b.note ?? null],
  );
  return toBlock(rows[0]!);
}

export async function listBlocks(db: Queryable, accountId: string): Promise<CallerBlock[]> {
  const { rows } = await db.query<BlockRow>('SELECT * FROM caller_blocks WHERE account_id = $1 ORDER BY pattern', [accountId]);
  return rows.map(toBlock);
}

export async function deleteBlock(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM caller_blocks WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

/** Every account's blocks, for the SIP edge's in-memory screen. */
export async function listAllBlocks(db: Queryable): Promise<Array<CallerBlock & { accountId: string }>> {
  const { rows } = await db.query<BlockRow>('SELECT * FROM caller_blocks');
  return rows.map((r) => ({ ...toBlock(r), accountId: r.account_id }));
}

interface PolicyRow {
  account_id: string;
  gate: boolean;
  burst_calls: number;
  short_call_streak: number;
  flag_anonymous: boolean;
}
const toPolicy = (r: PolicyRow): SpamPolicy => ({
  gate: r.gate,
  burstCalls: r.burst_calls,
  shortCallStreak: r.short_call_streak,
  flagAnonymous: r.flag_anonymous,
});

export async function findPolicy(db: Queryable, accountId: string): Promise<SpamPolicy> {
  const { rows } = await db.query<PolicyRow>('SELECT * FROM spam_policies WHERE account_id = $1', [accountId]);
  return rows[0] ? toPolicy(rows[0]) : DEFAULT_SPAM_POLICY;
}

export async function upsertPolicy(db: Queryable, accountId: string, p: SpamPolicy): Promise<SpamPolicy> {
  const { rows } = await db.query<PolicyRow>(
    `INSERT INTO spam_policies (account_id, gate, burst_calls, short_call_streak, flag_anonymous) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id) DO UPDATE SET gate = $2, burst_calls = $3, short_call_streak = $4, flag_anonymous = $5, updated_at = now()
     RETURNING *`,
    [accountId, p.gate, p.burstCalls, p.shortCallStreak, p.flagAnonymous],
  );
  return toPolicy(rows[0]!);
}

export async function listAllPolicies(db: Queryable): Promise<Array<SpamPolicy & { accountId: string }>> {
  const { rows } = await db.query<PolicyRow>('SELECT * FROM spam_policies');
  return rows.map((r) => ({ ...toPolicy(r), accountId: r.account_id }));
}
