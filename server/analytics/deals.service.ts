import crypto from 'node:crypto';
import { type Db, withTransaction } from '../db/pool.js';
import type { DealWonPayload } from '../leads/lead-payload.js';
import { insertEvent } from '../leads/leads.repository.js';
import { ERRORS } from '../errors.js';
import { accountCurrency } from './currency-rates.repository.js';
import * as repo from './deals.repository.js';
import type { Deal, DealStage } from './deals.schemas.js';
import { majorToMinor, minorDigits } from './money.js';

/** A deal as any channel reports it (API, amoCRM, Bitrix24), with whatever it knows to link it. */
export interface DealReport {
  origin: Deal['origin'];
  externalId: string;
  stage: DealStage;
  /** Major units as the sender wrote them ("15000.00", 1500.5). */
  revenue?: number | string | undefined;
  currency?: string | undefined;
  at: string;
  link: { callId?: string | undefined; visitorId?: string | undefined; gaClientId?: string | undefined; phone?: string | undefined };
}

export interface DealService {
  /** Stores or updates the deal (idempotent on origin + externalId) and links it to the lead that caused it. */
  report(accountId: string, deal: DealReport): Promise<Deal>;
}

/** Minor units as the decimal text of major units: 1500050 with 2 digits → "15000.50". */
export function minorToDecimal(minor: number, digits: number): string {
  const text = String(minor).padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

function wonPayload(accountId: string, deal: Deal, click: repo.ClickIds, eventId: string): DealWonPayload {
  return {
    version: 1,
    id: eventId,
    type: 'deal.won',
    occurred_at: new Date().toISOString(),
    account_id: accountId,
    deal: {
      id: deal.id,
      external_id: deal.externalId,
      origin: deal.origin,
      won_at: deal.wonAt!,
      revenue: deal.revenueMinor !== null && deal.currency ? minorToDecimal(deal.revenueMinor, minorDigits(deal.currency)) : null,
      currency: deal.currency,
      phone: deal.phone,
      call_id: deal.callId,
    },
    click,
  };
}

export function createDealService({ db }: { db: Db }): DealService {
  /** callId → that call; visitorId / gaClientId → that visitor's latest call or form; phone → the latest call from that caller. */
  async function resolveLink(accountId: string, deal: DealReport): Promise<repo.DealLink> {
    const { link } = deal;
    if (link.callId) {
      const call = await repo.findCallLink(db, accountId, link.callId);
      if (!call) throw ERRORS.notFound('call', link.callId);
      return call;
    }
    const visitorId = link.visitorId ?? (link.gaClientId ? await repo.visitorOfGaClient(db, accountId, link.gaClientId) : undefined);
    if (visitorId) {
      const found = await repo.findLatestLead(db, accountId, { visitorId }, deal.at);
      if (found) return { ...found, phone: found.phone ?? link.phone ?? null };
    }
    if (link.phone) {
      const found = await repo.findLatestLead(db, accountId, { phone: link.phone }, deal.at);
      if (found) return { ...found, visitorId: found.visitorId ?? visitorId ?? null };
    }
    return { callId: null, formLeadId: null, visitorId: visitorId ?? null, phone: link.phone ?? null };
  }

  return {
    async report(accountId, deal) {
      let revenueMinor: bigint | null = null;
      let currency: string | null = null;
      let digits: number | null = null;
      if (deal.revenue !== undefined) {
        currency = deal.currency ?? (await accountCurrency(db, accountId));
        digits = minorDigits(currency);
        revenueMinor = majorToMinor(deal.revenue, digits) ?? null;
        if (revenueMinor === null)
          throw ERRORS.validation(`revenue "${deal.revenue}" is not an amount in ${currency} (at most ${digits} digits after the point)`);
      }
      const link = await resolveLink(accountId, deal);
      return withTransaction(db, async (trx) => {
        const before = await repo.lockDealKey(trx, accountId, deal.origin, deal.externalId);
        const stored = await repo.upsertDeal(
          trx,
          accountId,
          { externalId: deal.externalId, origin: deal.origin, stage: deal.stage, revenueMinor, currency, minorDigits: digits, at: deal.at },
          link,
        );
        // Only the report that makes the deal won emits deal.won: a webhook delivered twice uploads one conversion.
        if (stored.wonAt && !before?.wonAt) {
          const click = await repo.clickIdsOf(trx, accountId, stored);
          const eventId = crypto.randomUUID();
          await insertEvent(trx, { uid: eventId, accountId, callId: stored.id, type: 'deal.won', payload: wonPayload(accountId, stored, click, eventId) });
        }
        return stored;
      });
    },
  };
}
