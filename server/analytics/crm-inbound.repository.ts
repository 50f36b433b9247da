import type { Queryable } from '../db/pool.js';

export interface InboundSetting {
  accountId: string;
  kind: 'amocrm' | 'bitrix24';
  token: string;
  config: Record<string, unknown>;
}

export async function saveInbound(db: Queryable, setting: InboundSetting): Promise<void> {
  await db.query(
    `INSERT INTO crm_inbound (account_id, kind, token, config) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_id, kind) DO UPDATE SET token = EXCLUDED.token, config = EXCLUDED.config`,
    [setting.accountId, setting.kind, setting.token, setting.config],
  );
}

export async function inboundOf(db: Queryable, accountId: string): Promise<InboundSetting[]> {
  const { rows } = await db.query<{ kind: InboundSetting['kind']; token: string; config: Record<string, unknown> }>(
    'SELECT kind, token, config FROM crm_inbound WHERE account_id = $1',
    [accountId],
  );
  return rows.map((r) => ({ accountId, ...r }));
}

/** The account a webhook belongs to, by the token it carries. */
export async function inboundByToken(db: Queryable, kind: InboundSetting['kind'], token: string): Promise<InboundSetting | undefined> {
  const { rows } = await db.query<{ account_id: string; token: string; config: Record<string, unknown> }>(
    'SELECT account_id, token, config FROM crm_inbound WHERE kind = $1 AND token = $2',
    [kind, token],
  );
  const row = rows[0];
  return row ? { accountId: row.account_id, kind, token: row.token, config: row.config } : undefined;
}

/** The Bitrix24 REST webhook URL of the account's (enabled) bitrix24 sink: deals are read through it. */
export async function bitrixWebhookUrl(db: Queryable, accountId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ url: string }>(
    `SELECT config->>'webhookUrl' AS url FROM lead_sinks WHERE account_id = $1 AND kind = 'bitrix24' AND enabled ORDER BY created_at LIMIT 1`,
    [accountId],
  );
  return rows[0]?.url ?? undefined;
}
