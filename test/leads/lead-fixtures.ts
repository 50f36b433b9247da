/** Completed calls for lead tests: a real call row written with its outbox event in one transaction. */
import crypto from 'node:crypto';
import { emptyVisit } from '../../server/attribution/visit.js';
import type { CallEventSink, CallStart } from '../../server/calls/call-events.js';
import { callRefOf } from '../../server/calls/call-record-writer.js';
import { type CallRecord, insertCallRecord } from '../../server/calls/calls.repository.js';
import { type Db, withTransaction } from '../../server/db/pool.js';

export const ACCOUNT = '00000000-0000-0000-0000-000000000001';

export interface Seed {
  trunkId: string;
  numberId: string;
  sourceId: string;
  trackingNumber: string;
}

let seq = 0;
/** A trunk, a tracking number and an online source to attribute calls to. */
export async function seed(db: Db): Promise<Seed> {
  const tag = crypto.randomBytes(3).toString('hex');
  const trunk = await db.query(`INSERT INTO trunks (account_id, name, addresses) VALUES ($1, $2, '{127.0.0.9/32}') RETURNING id`, [ACCOUNT, `leads-${tag}`]);
  const trackingNumber = `+7495${String(3_000_000 + Math.floor(Math.random() * 999_999)).padStart(7, '0')}`;
  const source = await db.query(
    `INSERT INTO sources (account_id, name, kind, channel, medium, campaign, cost, currency, starts_on, ends_on)
     VALUES ($1, 'Yandex Direct', 'online', 'yandex', 'cpc', 'spring-sale', 15000, 'RUB', '2026-01-01', '2026-12-31') RETURNING id`,
    [ACCOUNT],
  );
  const number = await db.query('INSERT INTO numbers (account_id, number, trunk_id) VALUES ($1, $2, $3) RETURNING id', [
    ACCOUNT,
    trackingNumber,
    trunk.rows[0].id,
  ]);
  return { trunkId: trunk.rows[0].id, numberId: number.rows[0].id, sourceId: source.rows[0].id, trackingNumber };
}

export function callRecord(s: Seed, over: Partial<CallRecord> = {}): CallRecord {
  const n = ++seq;
  const started = new Date(Date.now() - 60_000);
  return {
    id: crypto.randomUUID(),
    accountId: ACCOUNT,
    sipCallId: `leads-${crypto.randomUUID()}`,
    trunkId: s.trunkId,
    numberId: s.numberId,
    trackingNumber: s.trackingNumber,
    caller: `+7916${String(1_000_000 + n).padStart(7, '0')}`,
    callerName: null,
    dialplan: 'sales',
    startedAt: started.toISOString(),
    answeredAt: new Date(started.getTime() + 5_000).toISOString(),
    endedAt: new Date(started.getTime() + 47_000).toISOString(),
    disposition: 'answered',
    talkSeconds: 42,
    ringSeconds: 5,
    answeredBy: 'sip:agent@127.0.0.2',
    hangupBy: 'caller',
    finalSipStatus: 200,
    ivrDigits: null,
    poolId: null,
    sourceId: s.sourceId,
    sessionId: crypto.randomUUID(),
    confidence: 'exact',
    attribution: { reason: 'lease held by the session', candidates: [], overflow: false, previousCallId: null },
    visit: {
      ...emptyVisit(),
      source: 'yandex',
      medium: 'cpc',
      campaign: 'spring-sale',
      keyword: 'buy sofa',
      utmSource: 'yandex',
      utmMedium: 'cpc',
      utmCampaign: 'spring-sale',
      utmTerm: 'buy sofa',
      utmContent: 'ad-1',
      yclid: '1234567890',
      gaClientId: '1234567890.1700000000',
      ymClientId: '1700000000123456789',
      landingPage: 'https://shop.example/sofas?utm_source=yandex',
      referrer: 'https://yandex.ru/',
    },
    firstTime: true,
    priorCalls: 0,
    recordingStatus: 'none',
    callerMedia: null,
    spamReason: null,
    ...over,
  };
}

/** Writes the call record and its call.completed event in one transaction, as the call path does. */
export async function completeCall(db: Db, events: CallEventSink, record: CallRecord): Promise<void> {
  await withTransaction(db, async (trx) => {
    await insertCallRecord(trx, record);
    await events.callCompleted(trx, callRefOf(record));
  });
}

/** The call reference event sinks get for this record. */
export const refOf = callRefOf;

/** What the call path tells sinks while this call rings (no attribution snapshot). */
export function startOf(record: CallRecord): CallStart {
  return {
    ...callRefOf(record),
    sipCallId: record.sipCallId,
    callerName: record.callerName,
    dialplan: record.dialplan,
    startedAt: new Date(record.startedAt),
    attribution: null,
    spam: false,
  };
}

/** Polls `check` until it returns a truthy value (bounded). */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
