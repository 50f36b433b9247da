// Many kinds of call at once through one B2BUA, as a carrier's real traffic arrives: answered,
// busy, cancelled while ringing, hold and resume, SIP-I multipart, reliable 18x with early media,
// SRTP. Each kind passes alone elsewhere; here they share the process, rtpengine and the record
// writer at the same time. Every call must end with its own right record, and nothing may be left
// live in the B2BUA or in rtpengine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../server/calls/calls.repository.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type SippOptions, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

// Kept where this 2-core box answers every message in time: past ~300 calls/s in all, SIPp's
// own scenarios trip over T1 retransmissions they cannot tell apart (a late 200 of the hold
// taken as the resume's), which tests SIPp rather than us.
const CALLS = 20;
const RATE = 10;

interface Kind {
  number: string;
  callerIp: string;
  agentIp: string;
  caller: Omit<SippOptions, 'ip' | 'target' | 'service' | 'calls' | 'rate'>;
  agent: Omit<SippOptions, 'ip' | 'port' | 'calls'>;
  expected: Partial<CallRecord>;
}

const KINDS: Record<string, Kind> = {
  answered: {
    number: '+74958880001',
    callerIp: '127.0.30.1',
    agentIp: '127.0.31.1',
    caller: { scenario: 'uac', extraArgs: ['-d', '400'] },
    agent: { scenario: 'uas' },
    expected: { disposition: 'answered', hangupBy: 'caller' },
  },
  busy: {
    number: '+74958880002',
    callerIp: '127.0.30.2',
    agentIp: '127.0.31.2',
    caller: { scenario: scenarioPath('uac-expect-status.xml'), vars: { STATUS: '486' } },
    agent: { scenario: scenarioPath('uas-reject.xml'), vars: { STATUS: '486', REASON: 'Busy Here' } },
    expected: { disposition: 'busy' },
  },
  cancelled: {
    number: '+74958880003',
    callerIp: '127.0.30.3',
    agentIp: '127.0.31.3',
    caller: { scenario: scenarioPath('uac-cancel.xml') },
    agent: { scenario: scenarioPath('uas-ring-forever.xml') },
    expected: { disposition: 'cancelled', hangupBy: 'caller', finalSipStatus: 487 },
  },
  hold: {
    number: '+74958880004',
    callerIp: '127.0.30.4',
    agentIp: '127.0.31.4',
    caller: { scenario: scenarioPath('uac-hold-unhold-expect-answered.xml') },
    agent: { scenario: scenarioPath('uas-answer-expect-hold-unhold.xml') },
    expected: { disposition: 'answered', hangupBy: 'caller' },
  },
  sipi: {
    number: '+74958880005',
    callerIp: '127.0.30.5',
    agentIp: '127.0.31.5',
    caller: { scenario: scenarioPath('uac-carrier-sipi.xml') },
    agent: { scenario: scenarioPath('uas-sipi-gateway.xml') },
    expected: { disposition: 'answered', caller: '+79161112233' },
  },
  prack: {
    number: '+74958880006',
    callerIp: '127.0.30.6',
    agentIp: '127.0.31.6',
    caller: { scenario: scenarioPath('uac-100rel-early-media.xml') },
    agent: { scenario: scenarioPath('uas-early-media-then-answer.xml'), vars: { EARLY_MS: '50' } },
    expected: { disposition: 'answered', hangupBy: 'caller' },
  },
  srtp: {
    number: '+74958880007',
    callerIp: '127.0.30.7',
    agentIp: '127.0.31.7',
    caller: { scenario: scenarioPath('uac-srtp-offer.xml') },
    agent: { scenario: scenarioPath('uas-expect-plain-rtp.xml') },
    expected: { disposition: 'answered' },
  },
};

let h: Harness;
let server: CallServer;
const agentPorts: Record<string, number> = {};

beforeAll(async () => {
  h = await createHarness();
  for (const [name, kind] of Object.entries(KINDS)) agentPorts[name] = await freePort(kind.agentIp);
  server = await startCallServer(h, {
    dialplans: Object.fromEntries(
      Object.entries(KINDS).map(([name, kind]) => [
        name,
        { steps: [{ forward: { targets: [`sip:agent@${kind.agentIp}:${agentPorts[name]}`], ringSeconds: 10 } }] },
      ]),
    ),
  });
  for (const [name, kind] of Object.entries(KINDS)) {
    await server.provisionNumber({ number: kind.number, trunkAddresses: [`${kind.callerIp}/32`], dialplan: name });
  }
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('a mix of call kinds at once', () => {
  it(`ends ${CALLS} calls of each of ${Object.keys(KINDS).length} kinds with their own right records, leaving nothing live`, async () => {
    const agents = Object.entries(KINDS).map(([name, kind]) =>
      startSipp({ ...kind.agent, ip: kind.agentIp, port: agentPorts[name]!, calls: CALLS, timeoutSeconds: 90 }),
    );
    const started = await Promise.all(agents);
    const callers = await Promise.all(
      Object.values(KINDS).map((kind) =>
        runSipp({
          ...kind.caller,
          ip: kind.callerIp,
          target: `127.0.0.1:${server.sipPort}`,
          service: kind.number.slice(1),
          calls: CALLS,
          rate: RATE,
          timeoutSeconds: 90,
        }),
      ),
    );
    const names = Object.keys(KINDS);
    for (const [i, result] of callers.entries()) expect(result.code, `${names[i]} callers: ${result.errors}${result.stderr}`).toBe(0);
    const agentResults = await Promise.all(started.map((a) => a.done));
    for (const [i, result] of agentResults.entries()) expect(result.code, `${names[i]} agents: ${result.errors}${result.stderr}`).toBe(0);

    await expect.poll(() => server.ended.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(CALLS * names.length);
    for (const [name, kind] of Object.entries(KINDS)) {
      const records = server.ended.filter((r) => r.trackingNumber === kind.number);
      expect(records, name).toHaveLength(CALLS);
      for (const record of records) expect(record, name).toMatchObject(kind.expected);
    }
    await expect.poll(() => server.b2bua.liveCalls(), { timeout: 10_000 }).toBe(0);
    const sample = server.ended.filter((_, i) => i % 7 === 0);
    const left = await Promise.all(sample.map((r) => h.rtpengine.command('query', { 'call-id': r.id })));
    expect(left.filter((reply) => reply.result === 'ok')).toHaveLength(0);
    const stored = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM calls');
    expect(stored.rows[0]!.n).toBe(CALLS * names.length);
  });
});
