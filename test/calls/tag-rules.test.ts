import { emptyVisit } from '../../server/attribution/visit.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CallEventSink, combineCallEventSinks } from '../../server/calls/call-events.js';
import { createCallRecordWriter } from '../../server/calls/call-record-writer.js';
import type { CallRecord } from '../../server/calls/calls.repository.js';
import { createTagRuleSink } from '../../server/calls/tag-rules.sink.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { DEFAULT_ACCOUNT, insertAccount, insertCall, insertSource } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;
let trunkId: string;
let numberId: string;
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tag-rules-'));

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  trunkId = (await h.db.query(`INSERT INTO trunks (account_id, name, addresses) VALUES ($1, 'carrier', '{127.0.0.1/32}') RETURNING id`, [DEFAULT_ACCOUNT]))
    .rows[0].id;
  numberId = (await h.db.query(`INSERT INTO numbers (account_id, number, trunk_id) VALUES ($1, '+74950007070', $2) RETURNING id`, [DEFAULT_ACCOUNT, trunkId]))
    .rows[0].id;
});
afterAll(async () => {
  await h.close();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.db.query('DELETE FROM tag_rules');
  await h.db.query('DELETE FROM calls');
});

const rule = async (body: Record<string, unknown>, headers = h.adminHeaders) => app.inject({ method: 'POST', url: '/v1/tag-rules', headers, payload: body });

function record(o: Partial<CallRecord> = {}): CallRecord {
  const id = crypto.randomUUID();
  return {
    id,
    accountId: DEFAULT_ACCOUNT,
    sipCallId: `sip-${id}`,
    trunkId,
    numberId,
    trackingNumber: '+74950007070',
    caller: '+74951112233',
    callerName: null,
    dialplan: 'sales',
    startedAt: '2026-11-10T10:00:00.000Z',
    answeredAt: '2026-11-10T10:00:05.000Z',
    endedAt: '2026-11-10T10:02:05.000Z',
    disposition: 'answered',
    talkSeconds: 120,
    ringSeconds: 5,
    answeredBy: 'sip:agent1@127.0.0.2',
    hangupBy: 'caller',
    finalSipStatus: 200,
    ivrDigits: null,
    poolId: null,
    sourceId: null,
    sessionId: null,
    confidence: 'none',
    attribution: { reason: null, candidates: [], overflow: false, previousCallId: null },
    visit: null,
    firstTime: true,
    priorCalls: 0,
    recordingStatus: 'none',
    callerMedia: null,
    spamReason: null,
    ...o,
  };
}

/** Writes calls the way the SIP path does: call-record writer → tag-rule sink, then a sink that looks at the tags in the same transaction. */
function writerWithRules() {
  const seenByNextSink: Record<string, string[]> = {};
  const next: CallEventSink = {
    callStarted: () => {},
    callCompleted: async (trx, call) => {
      const { rows } = await trx.query<{ tag: string }>('SELECT tag FROM call_tags WHERE call_id = $1 ORDER BY tag', [call.callId]);
      seenByNextSink[call.callId] = rows.map((r) => r.tag);
    },
    recordingReady: async () => {},
    callModified: async () => {},
  };
  const writer = createCallRecordWriter({
    db: h.db,
    events: combineCallEventSinks([createTagRuleSink({ logger: h.logger }), next]),
    spoolFile: path.join(spoolDir, `${crypto.randomUUID()}.jsonl`),
    logger: h.logger,
  });
  return { writer, seenByNextSink };
}

const tagsOf = async (callId: string) =>
  (
    await h.db.query<{ tag: string; origin: string; rule_id: string | null }>('SELECT tag, origin, rule_id FROM call_tags WHERE call_id = $1 ORDER BY tag', [
      callId,
    ])
  ).rows;

describe('tag rule routes', () => {
  it('create, list, change and delete; the name defaults to the tag', async () => {
    const created = await rule({ tag: 'long call', conditions: { talkSecondsOver: 60 } }, await h.headersFor('marketer'));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'long call', tag: 'long call', conditions: { talkSecondsOver: 60 }, enabled: true });
    const id = created.json().id as string;
    const list = await app.inject({ method: 'GET', url: '/v1/tag-rules', headers: await h.headersFor('viewer') });
    expect(list.json().items.map((r: { id: string }) => r.id)).toEqual([id]);
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/tag-rules/${id}`,
      headers: h.adminHeaders,
      payload: { enabled: false, conditions: { missed: true } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ tag: 'long call', enabled: false, conditions: { missed: true } });
    expect((await app.inject({ method: 'GET', url: `/v1/tag-rules/${id}`, headers: h.adminHeaders })).json().enabled).toBe(false);
    expect((await app.inject({ method: 'DELETE', url: `/v1/tag-rules/${id}`, headers: h.adminHeaders })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/tag-rules/${id}`, headers: h.adminHeaders })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/v1/tag-rules/${id}`, headers: h.adminHeaders })).statusCode).toBe(404);
  });

  it('only admins and marketers change rules', async () => {
    for (const role of ['viewer', 'manager'] as const) {
      const res = await rule({ tag: 'x', conditions: { missed: true } }, await h.headersFor(role));
      expect(res.statusCode, role).toBe(403);
    }
    const id = (await rule({ tag: 'x', conditions: { missed: true } })).json().id;
    const viewer = await h.headersFor('viewer');
    expect((await app.inject({ method: 'PATCH', url: `/v1/tag-rules/${id}`, headers: viewer, payload: { enabled: false } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: `/v1/tag-rules/${id}`, headers: viewer })).statusCode).toBe(403);
  });

  it('400 with a message for rules that cannot work', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ tag: 'x', conditions: {} }, /at least one condition/],
      [{ tag: 'x', conditions: { colour: 'red' } }, /colour|unrecognized/i],
      [{ tag: 'x', conditions: { ivrDigit: 'A' } }, /DTMF/],
      [{ tag: '', conditions: { missed: true } }, /tag/],
      [{ tag: 'x', conditions: { talkSecondsOver: 'long' } }, /talkSecondsOver/],
    ];
    for (const [body, message] of cases) {
      const res = await rule(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message, JSON.stringify(body)).toMatch(message);
    }
    expect((await app.inject({ method: 'PATCH', url: '/v1/tag-rules/nope', headers: h.adminHeaders, payload: {} })).statusCode).toBe(400);
  });
});

describe('tag rules on callCompleted', () => {
  it('tags each new call by the rules it meets, inside the call-record transaction', async () => {
    const flyer = await insertSource(h.db, { name: 'Flyer', campaign: 'autumn' });
    const rules = {
      long: (await rule({ tag: 'long', conditions: { talkSecondsOver: 60 } })).json().id,
      missed: (await rule({ tag: 'missed', conditions: { missed: true } })).json().id,
      newcomer: (await rule({ tag: 'new', conditions: { firstTime: true } })).json().id,
      flyer: (await rule({ tag: 'flyer', conditions: { sourceId: flyer } })).json().id,
      autumn: (await rule({ tag: 'autumn', conditions: { campaign: 'autumn' } })).json().id,
      sales: (await rule({ tag: 'sales menu', conditions: { ivrDigit: '1', disposition: 'answered' } })).json().id,
      google: (await rule({ tag: 'google', conditions: { source: 'google' } })).json().id,
    };
    await rule({ tag: 'off', conditions: { missed: false }, enabled: false });
    const { writer, seenByNextSink } = writerWithRules();
    try {
      const long = record({ talkSeconds: 61, ivrDigits: '21', firstTime: false, visit: { ...emptyVisit(), utmSource: 'Google', utmCampaign: 'autumn' } });
      const missed = record({ disposition: 'busy', talkSeconds: 0, answeredAt: null, answeredBy: null, sourceId: flyer, confidence: 'static' });
      const short = record({ talkSeconds: 60, firstTime: null, ivrDigits: '1', disposition: 'voicemail' });
      for (const r of [long, missed, short]) expect(await writer.write(r)).toBe('stored');

      expect(await tagsOf(long.id)).toEqual([
        { tag: 'autumn', origin: 'rule', rule_id: rules.autumn },
        { tag: 'google', origin: 'rule', rule_id: rules.google },
        { tag: 'long', origin: 'rule', rule_id: rules.long },
        { tag: 'sales menu', origin: 'rule', rule_id: rules.sales },
      ]);
      expect((await tagsOf(missed.id)).map((t) => t.tag)).toEqual(['autumn', 'flyer', 'missed', 'new']);
      expect((await tagsOf(short.id)).map((t) => t.tag)).toEqual(['missed']);
      // A sink combined after the rules (leads) already sees the rule tags.
      expect(seenByNextSink[long.id]).toEqual(['autumn', 'google', 'long', 'sales menu']);
      // The API shows them and can filter by them.
      const res = await app.inject({ method: 'GET', url: '/v1/calls?tag=missed', headers: h.adminHeaders });
      expect(
        res
          .json()
          .items.map((c: { id: string }) => c.id)
          .sort(),
      ).toEqual([missed.id, short.id].sort());
    } finally {
      writer.close();
    }
  });

  it("applies only the call's own account rules", async () => {
    const other = await insertAccount(h.db);
    await h.db.query(`INSERT INTO tag_rules (account_id, name, tag, conditions) VALUES ($1, 'x', 'foreign', '{"missed": false}')`, [other]);
    const { writer } = writerWithRules();
    try {
      const r = record();
      await writer.write(r);
      expect(await tagsOf(r.id)).toEqual([]);
    } finally {
      writer.close();
    }
  });

  it('a failing rule costs the rule tags, never the call record', async () => {
    await rule({ tag: 'fine', conditions: { missed: false } });
    await rule({ tag: 'boom', conditions: { missed: false } });
    // A constraint only this test has makes the rule's insert fail inside the record transaction.
    await h.db.query(`ALTER TABLE call_tags ADD CONSTRAINT test_no_boom CHECK (tag <> 'boom')`);
    const { writer, seenByNextSink } = writerWithRules();
    try {
      const r = record();
      expect(await writer.write(r)).toBe('stored');
      expect((await h.db.query('SELECT 1 FROM calls WHERE id = $1', [r.id])).rowCount).toBe(1);
      expect(await tagsOf(r.id)).toEqual([]);
      expect(seenByNextSink[r.id]).toEqual([]);
    } finally {
      writer.close();
      await h.db.query('ALTER TABLE call_tags DROP CONSTRAINT test_no_boom');
    }
  });
});

describe('POST /v1/tag-rules/:id/apply', () => {
  it('tags the stored calls of a period that meet the rule, once', async () => {
    const long = await insertCall(h.db, { startedAt: '2026-11-01T10:00:00Z', talkSeconds: 300 });
    const short = await insertCall(h.db, { startedAt: '2026-11-01T11:00:00Z', talkSeconds: 30 });
    const before = await insertCall(h.db, { startedAt: '2026-10-31T23:59:59Z', talkSeconds: 300 });
    const foreign = await insertCall(h.db, { accountId: await insertAccount(h.db), startedAt: '2026-11-01T10:00:00Z', talkSeconds: 300 });
    const id = (await rule({ tag: 'long', conditions: { talkSecondsOver: 120 }, enabled: false })).json().id;
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' };
    const res = await app.inject({ method: 'POST', url: `/v1/tag-rules/${id}/apply`, headers: await h.headersFor('marketer'), payload: period });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ checked: 2, tagged: 1, complete: true });
    expect(await tagsOf(long)).toEqual([{ tag: 'long', origin: 'rule', rule_id: id }]);
    for (const other of [short, before, foreign]) expect(await tagsOf(other)).toEqual([]);
    const again = await app.inject({ method: 'POST', url: `/v1/tag-rules/${id}/apply`, headers: h.adminHeaders, payload: period });
    expect(again.json()).toEqual({ checked: 2, tagged: 0, complete: true });
  });

  it('403 for viewers, 400 for a backwards period, 404 for an unknown rule', async () => {
    const id = (await rule({ tag: 'x', conditions: { missed: true } })).json().id;
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' };
    expect((await app.inject({ method: 'POST', url: `/v1/tag-rules/${id}/apply`, headers: await h.headersFor('viewer'), payload: period })).statusCode).toBe(
      403,
    );
    const backwards = await app.inject({
      method: 'POST',
      url: `/v1/tag-rules/${id}/apply`,
      headers: h.adminHeaders,
      payload: { from: period.to, to: period.from },
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().message).toMatch(/after/);
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/tag-rules/7d4c6a9e-1111-4222-8333-444455556666/apply',
      headers: h.adminHeaders,
      payload: period,
    });
    expect(unknown.statusCode).toBe(404);
  });
});
