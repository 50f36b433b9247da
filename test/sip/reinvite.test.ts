import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.10';
const AGENT_IP = '127.0.0.11';
const NUMBER = '+74953331100';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, { dialplans: { hold: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } } });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'hold' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('re-INVITE passthrough', () => {
  it('relays hold and resume from the caller and hold from the agent, each answered by the far end through rtpengine', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-expect-hold-unhold.xml'), ip: AGENT_IP, port: agentPort });
    const caller = await runSipp({
      scenario: scenarioPath('uac-hold-unhold-expect-answered.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
    });
    const agentResult = await agent.done;
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    expect(agentResult.code, agentResult.errors + agentResult.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    // Teardown left nothing behind in rtpengine for this call.
    expect((await h.rtpengine.command('query', { 'call-id': call.id })).result).not.toBe('ok');
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});
