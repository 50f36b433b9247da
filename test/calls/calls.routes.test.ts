import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallEventSink } from '../../server/calls/call-events.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { DEFAULT_ACCOUNT, insertAccount, insertCall, insertSource } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;
const changes: Array<{ callId: string; accountId: string; field: string }> = [];
/** Records what the routes tell the call-event sink (the leads outbox in production). */
const events: CallEventSink = {
  callStarted: () => {},
  callCompleted: async () => {},
  recordingReady: async () => {},
  callModified: async (_db, call, change) => {
    changes.push({ ...call, field: change.field });
  },
};
let viewer: { authorization: string };
let manager: { authorization: string };
let marketer: { authorization: string };

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp({ overrides: { callEvents: events } });
  [viewer, manager, marketer] = await Promise.all([h.headersFor('viewer'), h.headersFor('manager'), h.headersFor('marketer')]);
});
afterAll(() => h.close());
beforeEach(async () => {
  changes.length = 0;
  await h.db.query('DELETE FROM calls');
});

const get = (url: string, headers = h.adminHeaders) => app.inject({ method: 'GET', url, headers });
const ids = (res: { json(): { items: Array<{ id: string }> } }) => res.json().items.map((c) => c.id);

describe('GET /v1/calls', () => {
  it('lists newest first and pages by keyset without losing or repeating calls, even within one millisecond', async () => {
    const made: string[] = [];
    // Five calls 100 µs apart inside one millisecond, plus two with the same instant: the cursor must not round them away.
    for (let i = 0; i < 5; i++) made.push(await insertCall(h.db, { startedAt: `2026-11-20T10:00:00.1234${i}0Z` }));
    made.push(await insertCall(h.db, { startedAt: '2026-11-20T09:00:00Z' }), await insertCall(h.db, { startedAt: '2026-11-20T09:00:00Z' }));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res = await get(`/v1/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      seen.push(...ids(res));
      cursor = res.json().nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    // Newest first: the five 10:00 calls in reverse insertion order, then the two 09:00 ones.
    expect(seen.slice(0, 5)).toEqual(made.slice(0, 5).reverse());
    expect(new Set(seen.slice(5))).toEqual(new Set(made.slice(5)));
  });

  it('filters by period, source (id or name), campaign, tag, status, number and caller', async () => {
    const flyer = await insertSource(h.db, { name: 'Flyer', campaign: 'autumn' });
    const a = await insertCall(h.db, { startedAt: '2026-11-01T10:00:00Z', sourceId: flyer, tags: ['lead'] });
    const b = await insertCall(h.db, { startedAt: '2026-11-02T10:00:00Z', session: { utm_source: 'google', utm_campaign: 'brand' }, disposition: 'busy' });
    const c = await insertCall(h.db, {
      startedAt: '2026-11-03T10:00:00Z',
      visit: { source: 'yandex', campaign: 'autumn' },
      disposition: 'no-answer',
      caller: '+12125551234',
    });
    const d = await insertCall(h.db, { startedAt: '2026-11-04T10:00:00Z', trackingNumber: '+74950000099', disposition: null });
    const other = await insertAccount(h.db);
    await insertCall(h.db, { accountId: other, startedAt: '2026-11-02T12:00:00Z', session: { utm_source: 'google' } });

    const cases: Array<[string, string[]]> = [
      ['', [d, c, b, a]],
      ['from=2026-11-02T00:00:00Z&to=2026-11-04T00:00:00Z', [c, b]],
      ['from=2026-11-02T03:00:00%2B03:00', [d, c, b]],
      // Dates are whole UTC days: from the start of the first to the end of the last.
      ['from=2026-11-02&to=2026-11-03', [c, b]],
      ['to=2026-11-01', [a]],
      ['number=+74950000099', [d]],
      [`source=${flyer}`, [a]],
      ['source=Flyer', [a]],
      ['source=google', [b]],
      ['source=yandex', [c]],
      ['campaign=autumn', [c, a]],
      ['campaign=brand', [b]],
      ['tag=lead', [a]],
      ['status=missed', [d, c, b]],
      ['status=busy', [b]],
      ['status=answered', [a]],
      ['number=%2B7%20495%20000-00-99', [d]],
      ['caller=%2B1%20212%20555%201234', [c]],
      ['source=google&status=answered', []],
    ];
    for (const [q, want] of cases) {
      const res = await get(`/v1/calls?${q}`);
      expect(res.statusCode, q).toBe(200);
      expect(ids(res), q).toEqual(want);
    }
  });

  it('answers 400 with a message for bad query parameters', async () => {
    const cases: Array<[string, RegExp]> = [
      ['from=2026-13-01T00:00:00Z', /from/],
      ['from=2026-11-31', /from/],
      ['from=yesterday', /ISO-8601/],
      ['to=2026-11-01T10:00:00', /to/],
      ['status=lost', /status/],
      ['limit=0', /limit/],
      ['limit=501', /limit/],
      ['number=12', /not a valid phone number/],
      ['cursor=bm9wZQ', /cursor/],
      ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', /after/],
    ];
    for (const [q, message] of cases) {
      const res = await get(`/v1/calls?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error, q).toBe('validation_failed');
      expect(res.json().message, q).toMatch(message);
    }
  });

  it('needs a key, and lets every role read', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/calls' })).statusCode).toBe(401);
    for (const headers of [viewer, manager, marketer, h.adminHeaders]) expect((await get('/v1/calls', headers)).statusCode).toBe(200);
  });
});

describe('GET /v1/calls/:id', () => {
  it('returns the call with attribution, tags, notes and the recording link', async () => {
    const id = await insertCall(h.db, {
      startedAt: '2026-11-05T08:00:00Z',
      disposition: 'answered',
      talkSeconds: 95,
      ringSeconds: 7,
      sessionId: '5f0c3a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
      session: {
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'brand',
        utm_term: 'pizza delivery',
        utm_content: 'ad1',
        landing_page: 'https://shop.example/pizza',
        referrer: 'https://www.google.com/',
        gclid: 'Cj0KCQ',
        yclid: null,
        ga_client_id: '123.456',
      },
      reason: 'exact lease match',
      firstTime: false,
      priorCalls: 2,
      ivrDigits: '2',
      value: 1500.5,
      recording: { durationSeconds: 102.5, channels: 2 },
      tags: ['b', 'a'],
    });
    await h.db.query(`INSERT INTO call_notes (call_id, author, text) VALUES ($1, 'ann', 'called back')`, [id]);
    const res = await get(`/v1/calls/${id}`, viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      caller: '+74951112233',
      trackingNumber: '+74950000001',
      startedAt: '2026-11-05T08:00:00.000Z',
      answeredAt: '2026-11-05T08:00:07.000Z',
      endedAt: '2026-11-05T08:02:00.000Z',
      disposition: 'answered',
      talkSeconds: 95,
      ringSeconds: 7,
      answeredBy: 'sip:agent1@127.0.0.2',
      firstTime: false,
      priorCalls: 2,
      ivrDigits: '2',
      score: null,
      value: 1500.5,
      tags: ['a', 'b'],
      hasRecording: true,
      attribution: {
        sessionId: '5f0c3a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
        sourceId: null,
        source: 'google',
        medium: 'cpc',
        campaign: 'brand',
        keyword: 'pizza delivery',
        landingPage: 'https://shop.example/pizza',
        referrer: 'https://www.google.com/',
        utmSource: 'google',
        utmMedium: 'cpc',
        utmCampaign: 'brand',
        utmTerm: 'pizza delivery',
        utmContent: 'ad1',
        gclid: 'Cj0KCQ',
        yclid: null,
        gaClientId: '123.456',
        ymClientId: null,
        confidence: 'exact',
        reason: 'exact lease match',
        utm: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand', utm_term: 'pizza delivery', utm_content: 'ad1' },
      },
      recording: { url: `/v1/calls/${id}/recording`, durationSeconds: 102.5, channels: 2 },
      recordingStatus: 'ready',
    });
    expect(res.json().notes).toEqual([expect.objectContaining({ author: 'ann', text: 'called back' })]);
  });

  it('names a static source from the sources table, and has no recording link until the recording is ready', async () => {
    const src = await insertSource(h.db, { name: 'Billboard M7', channel: 'outdoor', campaign: 'winter' });
    const id = await insertCall(h.db, { sourceId: src, visit: { source: 'ignored' } });
    const body = (await get(`/v1/calls/${id}`)).json();
    expect(body.attribution).toMatchObject({ sourceId: src, source: 'Billboard M7', medium: 'outdoor', campaign: 'winter', confidence: 'static' });
    expect(body.recording).toBeNull();
    expect(body.recordingStatus).toBe('none');
  });

  it("404 for an unknown call and for another account's call; 400 for a bad id", async () => {
    const other = await insertAccount(h.db);
    const foreign = await insertCall(h.db, { accountId: other });
    for (const id of ['7d4c6a9e-1111-4222-8333-444455556666', foreign]) {
      const res = await get(`/v1/calls/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining(id) });
    }
    const bad = await get('/v1/calls/not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/params\.id/);
  });
});

describe('tags, notes, score, value', () => {
  it('adds and removes tags, telling the event sink; viewers get 403', async () => {
    const id = await insertCall(h.db);
    const denied = await app.inject({ method: 'POST', url: `/v1/calls/${id}/tags`, headers: viewer, payload: { tags: ['x'] } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('forbidden');

    const added = await app.inject({ method: 'POST', url: `/v1/calls/${id}/tags`, headers: marketer, payload: { tags: ['hot lead', 'sale', 'sale'] } });
    expect(added.statusCode).toBe(200);
    expect(added.json()).toEqual({ tags: ['hot lead', 'sale'] });
    // Adding only tags it already has changes nothing, so nobody is told.
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${id}/tags`, headers: manager, payload: { tags: ['sale'] } })).statusCode).toBe(200);
    const del = await app.inject({ method: 'DELETE', url: `/v1/calls/${id}/tags/hot%20lead`, headers: manager });
    expect(del.statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/calls/${id}/tags/nope`, headers: manager })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/v1/calls/${id}/tags/sale`, headers: viewer })).statusCode).toBe(403);
    expect((await get(`/v1/calls/${id}`)).json().tags).toEqual(['sale']);
    expect(changes).toEqual([
      { callId: id, accountId: DEFAULT_ACCOUNT, caller: '+74951112233', trackingNumber: '+74950000001', field: 'tags' },
      { callId: id, accountId: DEFAULT_ACCOUNT, caller: '+74951112233', trackingNumber: '+74950000001', field: 'tags' },
    ]);
    const origin = await h.db.query('SELECT origin, rule_id FROM call_tags WHERE call_id = $1', [id]);
    expect(origin.rows).toEqual([{ origin: 'manual', rule_id: null }]);
  });

  it('rejects empty or oversized tags and unknown calls', async () => {
    const id = await insertCall(h.db);
    for (const payload of [{ tags: [] }, { tags: [''] }, { tags: ['x'.repeat(65)] }, {}]) {
      const res = await app.inject({ method: 'POST', url: `/v1/calls/${id}/tags`, headers: h.adminHeaders, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/calls/7d4c6a9e-1111-4222-8333-444455556666/tags',
      headers: h.adminHeaders,
      payload: { tags: ['a'] },
    });
    expect(missing.statusCode).toBe(404);
    expect(changes).toEqual([]);
  });

  it('notes: managers and admins only, the author is the key name', async () => {
    const id = await insertCall(h.db);
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${id}/notes`, headers: marketer, payload: { text: 'hi' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${id}/notes`, headers: viewer, payload: { text: 'hi' } })).statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: `/v1/calls/${id}/notes`, headers: manager, payload: { text: '  wants a quote  ' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ author: 'test manager', text: 'wants a quote' });
    expect((await get(`/v1/calls/${id}`)).json().notes).toEqual([res.json()]);
    expect(changes).toEqual([{ callId: id, accountId: DEFAULT_ACCOUNT, caller: '+74951112233', trackingNumber: '+74950000001', field: 'notes' }]);
  });

  it('score 0..100 and value in cents, stored and announced', async () => {
    const id = await insertCall(h.db);
    expect((await app.inject({ method: 'PUT', url: `/v1/calls/${id}/score`, headers: manager, payload: { score: 101 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PUT', url: `/v1/calls/${id}/score`, headers: manager, payload: { score: 7.5 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PUT', url: `/v1/calls/${id}/score`, headers: viewer, payload: { score: 5 } })).statusCode).toBe(403);
    const score = await app.inject({ method: 'PUT', url: `/v1/calls/${id}/score`, headers: manager, payload: { score: 80 } });
    expect(score.json()).toEqual({ score: 80 });
    expect((await app.inject({ method: 'PUT', url: `/v1/calls/${id}/value`, headers: h.adminHeaders, payload: { value: -1 } })).statusCode).toBe(400);
    const value = await app.inject({ method: 'PUT', url: `/v1/calls/${id}/value`, headers: h.adminHeaders, payload: { value: 12.345 } });
    expect(value.json()).toEqual({ value: 12.35 });
    expect((await get(`/v1/calls/${id}`)).json()).toMatchObject({ score: 80, value: 12.35 });
    expect(changes.map((c) => c.field)).toEqual(['score', 'value']);
  });

  it('a failing event sink does not fail the change', async () => {
    const failing = await h.buildApp({
      overrides: {
        callEvents: {
          ...events,
          callModified: async () => {
            throw new Error('outbox down');
          },
        },
      },
    });
    const id = await insertCall(h.db);
    const res = await failing.inject({ method: 'PUT', url: `/v1/calls/${id}/score`, headers: h.adminHeaders, payload: { score: 50 } });
    expect(res.statusCode).toBe(200);
    expect((await get(`/v1/calls/${id}`)).json().score).toBe(50);
  });
});

describe('GET /v1/calls/export.csv', () => {
  /** A small RFC 4180 reader, enough to check our quoting round-trips. */
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cell += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        row.push(cell);
        cell = '';
      } else if (ch === '\r' && text[i + 1] === '\n') {
        row.push(cell);
        rows.push(row);
        row = [];
        cell = '';
        i++;
      } else cell += ch;
    }
    return rows;
  }

  it('exports the filtered log with a header, quoting, and no spreadsheet formulas', async () => {
    const a = await insertCall(h.db, {
      startedAt: '2026-11-06T10:00:00Z',
      caller: '+74951234567',
      talkSeconds: 42,
      tags: ['=HYPERLINK("x")', 'vip'],
      session: { utm_source: 'news, "daily"', landing_page: 'https://shop.example/a?x=1,2', utm_term: 'line1\nline2' },
      value: 99.9,
    });
    await insertCall(h.db, { startedAt: '2026-11-07T10:00:00Z', disposition: 'busy' });
    const res = await get('/v1/calls/export.csv?status=answered', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('calls.csv');
    const rows = parseCsv(res.body);
    expect(rows).toHaveLength(2);
    const header = rows[0]!;
    expect(header.slice(0, 7)).toEqual(['id', 'started_at', 'answered_at', 'ended_at', 'caller', 'tracking_number', 'disposition']);
    const rec = Object.fromEntries(header.map((k, i) => [k, rows[1]![i]]));
    expect(rec).toMatchObject({
      id: a,
      started_at: '2026-11-06T10:00:00.000Z',
      caller: '+74951234567',
      disposition: 'answered',
      talk_seconds: '42',
      source: 'news, "daily"',
      landing_page: 'https://shop.example/a?x=1,2',
      keyword: 'line1\nline2',
      value: '99.9',
      first_time: 'true',
    });
    // The tag cell starts with "=": it gets an apostrophe so a spreadsheet shows it instead of running it.
    expect(rec.tags).toBe(`'=HYPERLINK("x") vip`);
  });

  it('streams every row across many pages', async () => {
    await h.db.query(
      `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at, disposition)
       SELECT $1, 'bulk-' || g, '+74950000001', '+74951112233', '2026-11-01T00:00:00Z'::timestamptz + g * interval '1 second', 'answered'
       FROM generate_series(1, 1234) AS g`,
      [DEFAULT_ACCOUNT],
    );
    const res = await get('/v1/calls/export.csv');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(1235);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(1234);
    // Newest first across page boundaries.
    expect(lines[1]).toContain('2026-11-01T00:20:34.000Z');
    expect(lines[1234]).toContain('2026-11-01T00:00:01.000Z');
  });

  it('rejects bad filters with 400 before streaming', async () => {
    const res = await get('/v1/calls/export.csv?from=nope');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/from/);
  });
});
