/** Retention: old website sessions without calls, and delivered outbox rows, are deleted in batches; dead leads stay. */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCallRecord } from '../../server/calls/calls.repository.js';
import { insertSink } from '../../server/leads/leads.repository.js';
import { runRetention } from '../../server/retention.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { ACCOUNT, callRecord, seed } from '../leads/lead-fixtures.js';

let h: Harness;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('retention', () => {
  it('deletes old sessions no call refers to, in batches, and keeps the rest', async () => {
    const site = await h.db.query(
      `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 'r', '{shop.example}', '+74950000000', $2) RETURNING id`,
      [ACCOUNT, `site_${crypto.randomBytes(6).toString('hex')}`],
    );
    const addSession = async (createdAt: Date) => {
      const id = crypto.randomUUID();
      await h.db.query('INSERT INTO dni_sessions (id, account_id, site_id, visitor_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)', [
        id,
        ACCOUNT,
        site.rows[0].id,
        'visitor-1',
        createdAt,
      ]);
      return id;
    };
    const old = await Promise.all(Array.from({ length: 5 }, () => addSession(ago(500))));
    const called = await addSession(ago(500));
    const recent = await addSession(ago(10));
    await insertCallRecord(h.db, callRecord(await seed(h.db), { sessionId: called }));

    const result = await runRetention(h.db, { sessionDays: 400, leadDays: 0, batch: 2 });
    expect(result.sessions).toBe(old.length);
    const { rows } = await h.db.query<{ id: string }>('SELECT id FROM dni_sessions');
    expect(rows.map((r) => r.id).sort()).toEqual([called, recent].sort());
  });

  it('prunes delivered and skipped outbox rows past the window, keeps dead, pending and recent ones', async () => {
    const sink = await insertSink(h.db, { accountId: ACCOUNT, kind: 'webhook', name: 'r', config: {}, events: ['call.completed'] });
    const addDelivery = async (status: string, days: number) => {
      const callId = crypto.randomUUID();
      const event = await h.db.query(
        "INSERT INTO lead_events (account_id, call_id, type, payload, created_at) VALUES ($1, $2, 'call.completed', '{}', $3) RETURNING id",
        [ACCOUNT, callId, ago(days)],
      );
      const finished = status === 'delivered' || status === 'skipped' ? ago(days) : null;
      const delivery = await h.db.query(
        'INSERT INTO lead_deliveries (event_id, sink_id, call_id, status, created_at, delivered_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [event.rows[0].id, sink.id, callId, status, ago(days), finished],
      );
      return { event: Number(event.rows[0].id), delivery: delivery.rows[0].id as string };
    };
    const gone = [await addDelivery('delivered', 40), await addDelivery('delivered', 45), await addDelivery('skipped', 60)];
    const kept = [await addDelivery('dead', 40), await addDelivery('pending', 40), await addDelivery('delivered', 5)];

    const result = await runRetention(h.db, { sessionDays: 0, leadDays: 30, batch: 2 });
    expect(result).toMatchObject({ deliveries: gone.length, events: gone.length });
    const deliveries = (await h.db.query<{ id: string }>('SELECT id FROM lead_deliveries WHERE sink_id = $1', [sink.id])).rows.map((r) => r.id);
    expect(deliveries.sort()).toEqual(kept.map((k) => k.delivery).sort());
    const events = (await h.db.query<{ id: number }>('SELECT id FROM lead_events')).rows.map((r) => Number(r.id));
    for (const k of kept) expect(events).toContain(k.event);
    for (const g of gone) expect(events).not.toContain(g.event);
  });

  it('sets a statement timeout on the pool', async () => {
    const { rows } = await h.db.query('SHOW statement_timeout');
    expect(rows[0].statement_timeout).toBe(`${h.config.database.statementTimeoutMs / 1000}s`);
  });
});
