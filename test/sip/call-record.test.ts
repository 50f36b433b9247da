// What the call path hands to its neighbours: the attribution snapshot in the call record (and a
// stuck attributor never holding a call up), and the CallEventSink calls, callCompleted inside the
// transaction that writes the record.
import { emptyVisit } from '../../server/attribution/visit.js';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionQuery, AttributionSnapshot, Attributor } from '../../server/attribution/attribution.types.js';
import type { CallEventSink, CallRef, CallStart } from '../../server/calls/call-events.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type RunningSipp, runSipp, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.23';
const AGENT_IP = '127.0.0.24';
const ATTRIBUTED = '+74952221001';
const STUCK = '+74952221002';
const SESSION_ID = crypto.randomUUID();

let h: Harness;
let server: CallServer;
let agentPort: number;
let agent: RunningSipp;
const queries: AttributionQuery[] = [];
const started: CallStart[] = [];
const completed: Array<{ call: CallRef; rowInTrx: unknown }> = [];

const attributor: Attributor = {
  attribute(q) {
    queries.push(q);
    if (q.number === STUCK) return new Promise<AttributionSnapshot>(() => {}); // Redis/Postgres hanging
    return Promise.resolve({
      sessionId: SESSION_ID,
      sourceId: null,
      confidence: 'exact',
      reason: 'number leased to one session',
      candidates: [{ sessionId: SESSION_ID, likelihood: 1, reason: 'only lease' }],
      likelihood: 1,
      visit: { ...emptyVisit(), source: 'google', medium: 'cpc', campaign: 'spring' },
      visitChain: [{ ...emptyVisit(), source: 'google', medium: 'cpc', campaign: 'spring' }],
      staticSource: null,
      overflow: false,
      previousCallId: null,
      firstTime: true,
      priorCalls: 0,
    });
  },
};
const events: CallEventSink = {
  callStarted(call) {
    started.push(call);
    // Breaks the "must not throw" contract on purpose for one number: the call must not notice.
    if (started.length === 2) throw new Error('sink bug');
  },
  async callCompleted(trx, call) {
    // Inside the record's transaction: the row is already visible here, before commit.
    const { rows } = await trx.query('SELECT disposition FROM calls WHERE id = $1', [call.callId]);
    completed.push({ call, rowInTrx: rows[0] });
  },
  recordingReady: async () => {},
  callModified: async () => {},
};

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    attributor,
    events,
    convertRecordings: false,
    dialplans: { plain: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`] },
  });
  for (const number of [ATTRIBUTED, STUCK]) {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number, trunkId: trunk.json().id, dialplan: 'plain' },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  await server.routing.refresh();
  // One agent for both calls: one stopped right after its call may miss the B2BUA's BYE, whose
  // retransmission then reaches the next agent on the same port as a call of its own.
  agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 2 });
});
afterAll(async () => {
  agent?.stop();
  await server?.stop();
  await h?.close();
});

async function call(number: string) {
  const caller = await runSipp({ scenario: 'uac', ip: CALLER_IP, target: `127.0.0.1:${server.sipPort}`, service: number.slice(1), extraArgs: ['-d', '500'] });
  expect(caller.code, caller.errors).toBe(0);
  return server.waitForCall((r) => r.trackingNumber === number);
}

describe('the call record', () => {
  it('carries the attribution snapshot taken when the INVITE arrived, and events fire in order', async () => {
    const record = await call(ATTRIBUTED);
    const q = queries.find((x) => x.number === ATTRIBUTED)!;
    expect(q).toMatchObject({ accountId: record.accountId, caller: record.caller });
    expect(Math.abs(q.at.getTime() - new Date(record.startedAt).getTime())).toBeLessThan(1_000);
    const { rows } = await h.db.query(
      'SELECT session_id, confidence, attribution, visit, visit_chain, first_time, prior_calls, disposition, hangup_by FROM calls WHERE id = $1',
      [record.id],
    );
    expect(rows[0]).toMatchObject({
      session_id: SESSION_ID,
      confidence: 'exact',
      first_time: true,
      prior_calls: 0,
      disposition: 'answered',
      hangup_by: 'caller',
      attribution: { reason: 'number leased to one session', overflow: false, likelihood: 1 },
      visit: { source: 'google', medium: 'cpc', campaign: 'spring' },
      visit_chain: [{ source: 'google', medium: 'cpc', campaign: 'spring' }],
    });
    const ref = { callId: record.id, accountId: record.accountId, caller: record.caller, trackingNumber: ATTRIBUTED };
    // call.started comes after attribution (within its deadline), so it carries the snapshot.
    expect(started).toContainEqual(expect.objectContaining({ ...ref, attribution: expect.objectContaining({ sessionId: SESSION_ID, confidence: 'exact' }) }));
    expect(completed).toContainEqual({ call: ref, rowInTrx: { disposition: 'answered' } });
  });

  it('connects the call anyway when the attributor never answers', async () => {
    const record = await call(STUCK);
    expect(record.disposition).toBe('answered');
    // Bounded by the attribution deadline, not by the stuck store.
    expect(new Date(record.answeredAt!).getTime() - new Date(record.startedAt).getTime()).toBeLessThan(2_000);
    expect(record).toMatchObject({ sessionId: null, confidence: 'none' });
    expect(String(record.attribution.reason)).toMatch(/unavailable/);
    expect(completed.some((c) => c.call.callId === record.id)).toBe(true);
  });
});
