import type { Queryable } from '../db/pool.js';
import type { CreateTagRuleBody, TagRule, TagRuleConditions, UpdateTagRuleBody } from './tag-rules.schemas.js';

interface TagRuleRow {
  id: string;
  name: string;
  tag: string;
  conditions: TagRuleConditions;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const toRule = (r: TagRuleRow): TagRule => ({
  id: r.id,
  name: r.name,
  tag: r.tag,
  conditions: r.conditions,
  enabled: r.enabled,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function listTagRules(db: Queryable, accountId: string): Promise<TagRule[]> {
  const { rows } = await db.query<TagRuleRow>('SELECT * FROM tag_rules WHERE account_id = $1 ORDER BY created_at, id', [accountId]);
  return rows.map(toRule);
}

/** The enabled rules of each account the call path stores calls for, in rule order; read inside the call-record transaction. */
export async function listEnabledTagRules(
  db: Queryable,
  accountIds: readonly string[],
): Promise<Map<string, Array<{ id: string; tag: string; conditions: TagRuleConditions }>>> {
  const { rows } = await db.query<TagRuleRow & { account_id: string }>({
    name: 'enabled-tag-rules',
    text: 'SELECT account_id, id, tag, conditions FROM tag_rules WHERE account_id = ANY($1::uuid[]) AND enabled ORDER BY created_at, id',
    values: [[...new Set(accountIds)]],
  });
  const byAccount = new Map<string, Array<{ id: string; tag: string; conditions: TagRuleConditions }>>();
  for (const { account_id, id, tag, conditions } of rows) {
    const rules = byAccount.get(account_id) ?? [];
    rules.push({ id, tag, conditions });
    byAccount.set(account_id, rules);
  }
  return byAccount;
}

export async function findTagRule(db: Queryable, accountId: string, id: string): Promise<TagRule | undefined> {
  const { rows } = await db.query<TagRuleRow>('SELECT * FROM tag_rules WHERE account_id = $1 AND id = $2', [accountId, id]);
  return rows[0] && toRule(rows[0]);
}

export async function insertTagRule(db: Queryable, accountId: string, body: CreateTagRuleBody): Promise<TagRule> {
  const { rows } = await db.query<TagRuleRow>('INSERT INTO tag_rules (account_id, name, tag, conditions, enabled) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
    accountId,
    body.name ?? body.tag,
    body.tag,
    JSON.stringify(body.conditions),
    body.enabled,
  ]);
  return toRule(rows[0]!);
}

export async function updateTagRule(db: Queryable, accountId: string, id: string, body: UpdateTagRuleBody): Promise<TagRule | undefined> {
  const { rows } = await db.query<TagRuleRow>(
    `UPDATE tag_rules SET name = COALESCE($3, name), tag = COALESCE($4, tag), conditions = COALESCE($5::jsonb, conditions),
       enabled = COALESCE($6, enabled), updated_at = now()
     WHERE account_id = $1 AND id = $2 RETURNING *`,
    [accountId, id, body.name ?? null, body.tag ?? null, body.conditions ? JSON.stringify(body.conditions) : null, body.enabled ?? null],
  );
  return rows[0] && toRule(rows[0]);
}

export async function deleteTagRule(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM tag_rules WHERE account_id = $1 AND id = $2', [accountId, id]);
  return (rowCount ?? 0) > 0;
}

/** Puts a rule's tag on many calls at once; returns how many did not have it yet. */
export async function addTagToCalls(db: Queryable, callIds: string[], tag: string, ruleId: string): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO call_tags (call_id, tag, origin, rule_id) SELECT id, $2, 'rule', $3 FROM unnest($1::uuid[]) AS id ON CONFLICT DO NOTHING`,
    [callIds, tag, ruleId],
  );
  return rowCount ?? 0;
}
