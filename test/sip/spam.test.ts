// Spam and robocalls at the SIP edge: blocked callers get the account's answer (403, or a polite
// goodbye), and a flagged caller who presses nothing behind the gate never reaches an agent. Spam
// calls are tagged and produce no lead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { eventually } from '../leads/lead-fixtures.js';

const CALLER_IP = '127.0.0.68';
const AGENT_IP = '127.0.0.69';
const NUMBER = '+74952290001';
const CALLER = '+79161234567'; // the SIPp scenarios' From user
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness({ SPAM_GATE_SECONDS: '2' });
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { sales: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'sales' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: h.adminHeaders, ...(payload ? { payload } : {}) });
const leadEvents = async (callId: string) => (await h.db.query('SELECT type FROM lead_events WHERE call_id = $1', [callId])).rows;
const reportedCalls = async (): Promise<number> => {
  const report = await api('GET', '/v1/reports/sources?from=2026-01-01&to=2027-12-31');
  expect(report.statusCode, report.body).toBe(200);
  return report.json().totals.calls;
};
const tags = async (callId: string) => (await h.db.query('SELECT tag, origin FROM call_tags WHERE call_id = $1', [callId])).rows;

describe('the default policy', () => {
  it('flags nobody: six short calls in a row from one caller each count and each make a lead', { timeout: 60_000 }, async () => {
    const before = server.ended.length;
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 6 });
    // SIPp's own uac: every call from the same caller ("sipp"), answered and hung up within 200 ms.
    const caller = await runSipp({
      scenario: 'uac',
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      calls: 6,
      rate: 6,
      extraArgs: ['-d', '200'],
    });
    agent.stop();
    expect(caller.code, caller.errors).toBe(0);
    const calls = await eventually(async () => server.ended.length - before >= 6 && server.ended.slice(before));
    expect(calls.map((c) => [c.disposition, c.spamReason])).toEqual(Array.from({ length: 6 }, () => ['answered', null]));
    expect(await reportedCalls()).toBe(6);
    for (const call of calls) {
      expect(await tags(call.id)).toEqual([]);
      await eventually(async () => (await leadEvents(call.id)).some((e) => e.type === 'call.completed'));
    }
  });
});

describe('block lists', () => {
  it('answers a blocked number with 403 and a blocked prefix with a goodbye; bad patterns are 400', async () => {
    expect((await api('POST', '/v1/spam/blocks', { pattern: '7916', action: 'reject' })).statusCode).toBe(400);
    const block = await api('POST', '/v1/spam/blocks', { pattern: CALLER, action: 'reject', note: 'debt collector' });
    expect(block.statusCode, block.body).toBe(201);
    const refused = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { STATUS: '403' },
    });
    expect(refused.code, refused.errors).toBe(0);
    expect(server.b2bua.liveCalls()).toBe(0);

    expect((await api('DELETE', `/v1/spam/blocks/${block.json().id}`)).statusCode).toBe(204);
    expect((await api('POST', '/v1/spam/blocks', { pattern: '+7916*', action: 'goodbye' })).statusCode).toBe(201);
    const goodbye = await runSipp({
      scenario: scenarioPath('uac-expect-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
    });
    expect(goodbye.code, goodbye.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && r.caller === CALLER);
    expect(call).toMatchObject({ answeredBy: null, spamReason: 'blocked (+7916*)', hangupBy: 'system' });
    expect(await tags(call.id)).toEqual([{ tag: 'spam', origin: 'system' }]);
    expect(await leadEvents(call.id)).toEqual([]);
    const items = (await api('GET', '/v1/spam/blocks')).json().items;
    for (const item of items) await api('DELETE', `/v1/spam/blocks/${item.id}`);
  });
});

describe('the press-1 gate', () => {
  it('a flagged robocaller that presses nothing never reaches an agent, is tagged spam and makes no lead', async () => {
    // Every call is "a burst" with burstCalls 1: the caller is flagged on this call.
    const policy = await api('PUT', '/v1/spam/policy', { gate: true, burstCalls: 1, shortCallStreak: 0, flagAnonymous: true });
    expect(policy.statusCode, policy.body).toBe(200);
    const before = server.ended.length;
    const reportedBefore = await reportedCalls();
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 1, timeoutSeconds: 15 });
    const robot = await runSipp({
      scenario: scenarioPath('uac-expect-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
    });
    expect(robot.code, robot.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && server.ended.indexOf(r) >= before);
    agent.stop();
    expect(call.answeredBy).toBeNull();
    expect(call.spamReason).toContain('calls in 10 minutes');
    expect(call.disposition).not.toBe('answered');
    expect(await tags(call.id)).toEqual([{ tag: 'spam', origin: 'system' }]);
    expect(await leadEvents(call.id)).toEqual([]);
    // Reports leave spam out.
    expect(await reportedCalls()).toBe(reportedBefore);
    await api('PUT', '/v1/spam/policy', { gate: true, burstCalls: 5, shortCallStreak: 3, flagAnonymous: true });
  });
});
