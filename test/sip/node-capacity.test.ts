// A node at its most calls (SIP_MAX_CALLS) refuses the next INVITE with 503 and Retry-After, before
// any lookup, so the carrier fails over (or the edge tries another node) while the calls already up
// keep their media; once a call ends the node admits again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.66';
const AGENT_IP = '127.0.0.67';
const NUMBER = '+74952270011';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness({ SIP_MAX_CALLS: '1' });
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { capped: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'capped' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const invite = (local: { ip: string; port: number }) => rawRequest('INVITE', local, { user: NUMBER.slice(1), port: server.sipPort });

it('refuses a call beyond the node’s most calls with 503 and Retry-After, and admits again once a call ended', async () => {
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 2 });
  const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 700, 3);
  const call = (talkMs: number) =>
    runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: String(talkMs) },
    });
  const first = call(1500);
  await expect.poll(() => server.b2bua.liveCalls(), { timeout: 5_000, interval: 25 }).toBeGreaterThan(0);
  const refused = await sendRawSipForResponse(CALLER_IP, server.sipPort, invite);
  expect(refused.split('\r\n')[0]).toBe('SIP/2.0 503 Node At Capacity');
  expect(refused).toMatch(/^Retry-After: 1$/im);
  expect((await first).code).toBe(0);
  await server.waitForCall((r) => r.trackingNumber === NUMBER);
  const second = await call(300);
  agent.stop();
  expect(second.code, second.errors).toBe(0);
});
