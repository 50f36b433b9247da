// MAX_CALL_SECONDS: a call that outlives it is hung up on both sides and recorded as ended by us.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.66';
const AGENT_IP = '127.0.0.67';
const NUMBER = '+74952280001';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness({ MAX_CALL_SECONDS: '2' });
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { long: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'long' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

it('hangs up a call that reaches the maximum length, on both sides', async () => {
  const agent = await startSipp({ scenario: scenarioPath('uas-answer-expect-bye.xml'), ip: AGENT_IP, port: agentPort });
  const caller = await runSipp({
    scenario: scenarioPath('uac-expect-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
  });
  expect(caller.code, caller.errors).toBe(0);
  expect((await agent.done).code).toBe(0);
  const call = await server.waitForCall((r) => r.trackingNumber === NUMBER);
  expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'system' });
  expect(new Date(call.endedAt).getTime() - new Date(call.startedAt).getTime()).toBeGreaterThanOrEqual(1_900);
  expect(new Date(call.endedAt).getTime() - new Date(call.startedAt).getTime()).toBeLessThan(4_000);
});
