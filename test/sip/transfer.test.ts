// Blind transfer with REFER from the agent who has the call (SIPp), through rtpengine: the
// colleague's registered phone rings and answers, the transferor hears 100 then 200 in NOTIFYs and
// is hung up, the caller talks on and the record names the new agent. A Refer-To that is not an
// extension, a group or a callable number is refused with 403 and the call stays as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.25.1';
const AGENT_IP = '127.0.25.2';
const COLLEAGUE_IP = '127.0.25.3';
const NUMBER = '+74957660001';
let h: Harness;
let server: CallServer;
let agentPort: number;
let colleaguePort: number;
let colleagueUser: string;
let tone: string;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  colleaguePort = await freePort(COLLEAGUE_IP);
  server = await startCallServer(h, { dialplans: { desk: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } } });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'desk' });
  const colleague = (
    await server.app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '502', name: 'Colleague' } })
  ).json();
  colleagueUser = colleague.sipUsername;
  const registered = await runSipp({
    scenario: scenarioPath('uac-register-digest-expect-200.xml'),
    ip: COLLEAGUE_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: 'register',
    vars: { USER: colleague.sipUsername, PASS: colleague.sipPassword, CONTACT_PORT: String(colleaguePort) },
  });
  expect(registered.code, registered.errors).toBe(0);
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const callIn = (talkMs: number) =>
  runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    vars: { TONE: tone, TALK_MS: String(talkMs) },
  });

describe('blind transfer (REFER)', () => {
  it('moves the caller to the colleague’s phone; the transferor gets NOTIFYs and is hung up', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-then-refer.xml'), ip: AGENT_IP, port: agentPort, vars: { TARGET: '502' } });
    const colleague = await startSipp({ scenario: 'uas', ip: COLLEAGUE_IP, port: colleaguePort, rtpEcho: true });
    const caller = await callIn(4000);
    expect(caller.code, caller.errors).toBe(0);
    const agentResult = await agent.done;
    expect(agentResult.code, agentResult.errors).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    expect(record).toMatchObject({
      disposition: 'answered',
      answeredTarget: 'extension:502',
      answeredBy: `sip:${colleagueUser}@${COLLEAGUE_IP}:${colleaguePort}`,
      hangupBy: 'caller',
    });
    // Talk time runs from the first answer, not from the transfer.
    expect(record.talkSeconds).toBeGreaterThanOrEqual(3);
  });

  it('refuses a Refer-To that is no extension, group or callable number, and keeps the call', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-refer-refused.xml'), ip: AGENT_IP, port: agentPort, vars: { TARGET: 'evil' } });
    const caller = await callIn(1500);
    expect(caller.code, caller.errors).toBe(0);
    const agentResult = await agent.done;
    expect(agentResult.code, agentResult.errors).toBe(0);
    await expect.poll(() => server.ended.filter((r) => r.trackingNumber === NUMBER).length).toBe(2);
    // The agent kept the call; the caller hung up.
    expect(server.ended.filter((r) => r.trackingNumber === NUMBER).at(-1)).toMatchObject({
      disposition: 'answered',
      answeredBy: `sip:agent@${AGENT_IP}:${agentPort}`,
      hangupBy: 'caller',
    });
  });
});
