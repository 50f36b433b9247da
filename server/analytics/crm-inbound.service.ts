import crypto from 'node:crypto';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { toE164 } from '../shared/schemas.js';
import * as inbound from './crm-inbound.repository.js';
import { callOfCrmLead } from './deals.repository.js';
import type { DealStage } from './deals.schemas.js';
import type { DealService } from './deals.service.js';

/** amoCRM's system statuses (contracts.md): 142 = closed and won, 143 = closed and lost. */
const AMO_WON = 142;
const AMO_LOST = 143;
const BITRIX_TIMEOUT_MS = 10_000;

export interface AmoLead {
  id: number;
  statusId: number | null;
  price: string | null;
  /** Unix seconds of the change, when amoCRM says. */
  changedAt: number | null;
}

/**
 * amoCRM posts form fields like `leads[status][0][id]=1&leads[status][0][status_id]=142&leads[status][0][price]=15000`
 * (also `leads[add]` and `leads[update]`). Returns one entry per lead id, the last mention winning.
 */
export function parseAmoWebhook(form: Record<string, string>): AmoLead[] {
  const byIndex = new Map<string, Record<string, string>>();
  for (const [key, value] of Object.entries(form)) {
    const m = /^leads\[(add|update|status)\]\[(\d+)\]\[([a-z_]+)\]$/.exec(key);
    if (!m) continue;
    const slot = `${m[1]}:${m[2]}`;
    const fields = byIndex.get(slot) ?? {};
    fields[m[3]!] = value;
    byIndex.set(slot, fields);
  }
  const leads = new Map<number, AmoLead>();
  for (const fields of byIndex.values()) {
    const id = Number(fields.id);
    if (!Number.isSafeInteger(id) || id <= 0) continue;
    const changed = Number(fields.last_modified ?? fields.updated_at ?? fields.date_create ?? fields.created_at);
    leads.set(id, {
      id,
      statusId: fields.status_id !== undefined && /^\d+$/.test(fields.status_id) ? Number(fields.status_id) : null,
      price: fields.price !== undefined && /^\d+(\.\d+)?$/.test(fields.price) ? fields.price : null,
      changedAt: Number.isFinite(changed) && changed > 0 ? changed : null,
    });
  }
  return [...leads.values()];
}

export function amoStage(statusId: number | null, qualified: number[]): DealStage {
  if (statusId === AMO_WON) return 'won';
  if (statusId === AMO_LOST) return 'lost';
  return statusId !== null && qualified.includes(statusId) ? 'qualified' : 'lead';
}

/** Bitrix24 stage ids: WON / C<n>:WON, LOSE / C<n>:LOSE (contracts.md: won stages end in WON). */
export function bitrixStage(stageId: string, qualified: string[]): DealStage {
  if (/(^|:)WON$/.test(stageId)) return 'won';
  if (/(^|:)(LOSE|APOLOGY)$/.test(stageId)) return 'lost';
  return qualified.includes(stageId) ? 'qualified' : 'lead';
}

/** Constant-time comparison of a presented token with the stored one. */
const sameToken = (a: string, b: string) => {
  const left = crypto.createHash('sha256').update(a).digest();
  const right = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(left, right);
};

/** A Bitrix24 entity as crm.*.get returns it (UPPER_CASE fields). */
type BitrixRecord = Record<string, unknown>;

export interface CrmInboundService {
  /** Creates (or rotates) the secret token of the amoCRM webhook URL. */
  setupAmo(accountId: string, config: { qualifiedStatusIds: number[]; currency?: string | undefined }): Promise<string>;
  setupBitrix(accountId: string, config: { applicationToken: string; qualifiedStages: string[] }): Promise<void>;
  settings(accountId: string): Promise<inbound.InboundSetting[]>;
  /** Handles one amoCRM webhook; 401 (nothing stored) when the token is not one we issued. */
  amocrm(token: string, form: Record<string, string>): Promise<{ deals: number }>;
  /** Handles one Bitrix24 ONCRMDEALUPDATE: verified by application_token, then the deal is read with crm.deal.get. */
  bitrix24(form: Record<string, string>): Promise<{ deals: number }>;
}

export function createCrmInboundService({ db, deals }: { db: Db; deals: DealService }): CrmInboundService {
  async function bitrix(webhookUrl: string, method: string, params: Record<string, unknown>): Promise<BitrixRecord | undefined> {
    let res: Response;
    try {
      res = await fetch(`${webhookUrl.replace(/\/+$/, '')}/${method}.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(BITRIX_TIMEOUT_MS),
      });
    } catch (err) {
      throw ERRORS.unavailable(`Bitrix24 ${method}`, err);
    }
    const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: string };
    if (!res.ok || body.error) throw ERRORS.unavailable(`Bitrix24 ${method} (${res.status} ${body.error ?? ''})`);
    return typeof body.result === 'object' && body.result !== null ? (body.result as BitrixRecord) : undefined;
  }

  return {
    async setupAmo(accountId, config) {
      const token = crypto.randomBytes(24).toString('base64url');
      await inbound.saveInbound(db, { accountId, kind: 'amocrm', token, config });
      return token;
    },
    async setupBitrix(accountId, { applicationToken, qualifiedStages }) {
      await inbound.saveInbound(db, { accountId, kind: 'bitrix24', token: applicationToken, config: { qualifiedStages } });
    },
    settings: (accountId) => inbound.inboundOf(db, accountId),

    async amocrm(token, form) {
      const setting = await inbound.inboundByToken(db, 'amocrm', token);
      if (!setting || !sameToken(setting.token, token)) throw ERRORS.unauthenticated();
      const qualified = Array.isArray(setting.config.qualifiedStatusIds) ? (setting.config.qualifiedStatusIds as number[]) : [];
      const currency = typeof setting.config.currency === 'string' ? setting.config.currency : undefined;
      let count = 0;
      for (const lead of parseAmoWebhook(form)) {
        const callId = await callOfCrmLead(db, setting.accountId, 'amocrm', lead.id);
        await deals.report(setting.accountId, {
          origin: 'amocrm',
          externalId: String(lead.id),
          stage: amoStage(lead.statusId, qualified),
          revenue: lead.price !== null && Number(lead.price) > 0 ? lead.price : undefined,
          currency,
          at: new Date((lead.changedAt ?? Date.now() / 1000) * 1000).toISOString(),
          link: { callId },
        });
        count++;
      }
      return { deals: count };
    },

    async bitrix24(form) {
      const token = form['auth[application_token]'] ?? '';
      const setting = token ? await inbound.inboundByToken(db, 'bitrix24', token) : undefined;
      if (!setting || !sameToken(setting.token, token)) throw ERRORS.unauthenticated();
      if (form.event !== 'ONCRMDEALUPDATE' && form.event !== 'ONCRMDEALADD') return { deals: 0 };
      const dealId = form['data[FIELDS][ID]'];
      if (!dealId || !/^\d+$/.test(dealId)) throw ERRORS.validation('data[FIELDS][ID] is missing or not a number');
      const webhookUrl = await inbound.bitrixWebhookUrl(db, setting.accountId);
      if (!webhookUrl) throw ERRORS.conflict('no bitrix24 sink with a REST webhook URL is configured to read the deal');
      const deal = await bitrix(webhookUrl, 'crm.deal.get', { id: dealId });
      if (!deal) throw ERRORS.unavailable('Bitrix24 crm.deal.get (no deal)');
      const qualified = Array.isArray(setting.config.qualifiedStages) ? (setting.config.qualifiedStages as string[]) : [];
      // Our own lead (bitrix24 sink in lead mode) became this deal: its LEAD_ID leads back to the call.
      const leadId = Number(deal.LEAD_ID);
      const callId = Number.isSafeInteger(leadId) && leadId > 0 ? await callOfCrmLead(db, setting.accountId, 'bitrix24', leadId) : undefined;
      let phone: string | undefined;
      if (!callId && Number(deal.CONTACT_ID) > 0) {
        const contact = await bitrix(webhookUrl, 'crm.contact.get', { id: deal.CONTACT_ID });
        const phones = contact?.PHONE;
        const raw = Array.isArray(phones) ? (phones[0] as { VALUE?: unknown } | undefined)?.VALUE : undefined;
        phone = typeof raw === 'string' ? toE164(raw) : undefined;
      }
      const opportunity = typeof deal.OPPORTUNITY === 'string' || typeof deal.OPPORTUNITY === 'number' ? String(deal.OPPORTUNITY) : undefined;
      const changed = Date.parse(String(deal.DATE_MODIFY ?? ''));
      await deals.report(setting.accountId, {
        origin: 'bitrix24',
        externalId: dealId,
        stage: bitrixStage(String(deal.STAGE_ID ?? ''), qualified),
        revenue: opportunity !== undefined && Number(opportunity) > 0 ? opportunity : undefined,
        currency: typeof deal.CURRENCY_ID === 'string' && deal.CURRENCY_ID ? deal.CURRENCY_ID : undefined,
        at: new Date(Number.isFinite(changed) ? changed : Date.now()).toISOString(),
        link: { callId, phone },
      });
      return { deals: 1 };
    },
  };
}
