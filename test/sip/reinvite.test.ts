import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

  it('answers the caller’s hold itself (100 at once, 200 recvonly within seconds) when the agent’s phone never answers re-INVITEs, and the call goes on', async () => {
    // SIPp's built-in uas ignores a re-INVITE; a carrier left waiting 32 s would hang up.
    const since = Date.now();
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort });
    const caller = await runSipp({
      scenario: scenarioPath('uac-hold-expect-answered-anyway.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    agent.stop();
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && new Date(r.startedAt).getTime() >= since);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    expect(server.b2bua.liveCalls()).toBe(0);
  });

  it('answers a session refresh (offerless re-INVITE, UPDATE) itself with the session unchanged, without bothering the agent', async () => {
    // The agent expects nothing between its answer and the BYE: a relayed refresh would fail it.
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-expect-bye.xml'), ip: AGENT_IP, port: agentPort });
    const trace = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'refresh-')), 'messages.log');
    const caller = await runSipp({
      scenario: scenarioPath('uac-refresh-then-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      extraArgs: ['-trace_msg', '-message_file', trace],
    });
    const agentResult = await agent.done;
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    expect(agentResult.code, agentResult.errors + agentResult.stderr).toBe(0);
    // The offer answering the refresh is the session as answered: same origin line, same version (RFC 3264 8).
    const origins = [...(await fs.readFile(trace, 'utf8')).matchAll(/^SIP\/2\.0 200 OK[\s\S]*?^CSeq: \d+ INVITE[\s\S]*?^(o=.*)$/gm)].map((m) => m[1]!.trim());
    expect(new Set(origins).size, origins.join(' | ')).toBe(1);
    expect(origins.length).toBeGreaterThanOrEqual(2);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && r.hangupBy === 'caller');
    expect(call).toMatchObject({ disposition: 'answered' });
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});
