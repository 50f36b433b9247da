// Per-trunk limits at the SIP edge: a carrier beyond its concurrent-call limit gets 503 with
// Retry-After (it fails over or retries), and the slot is free again once the call ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest, sendRawSip } from '../helpers/sip-raw.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.64';
const AGENT_IP = '127.0.0.65';
const NUMBER = '+74952270001';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { limited: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'small carrier', addresses: [`${CALLER_IP}/32`], maxConcurrentCalls: 1, maxCallsPerSecond: 20 },
  });
  expect(trunk.statusCode, trunk.body).toBe(201);
  expect(trunk.json()).toMatchObject({ maxConcurrentCalls: 1, maxCallsPerSecond: 20 });
  const number = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBER, trunkId: trunk.json().id, dialplan: 'limited' },
  });
  expect(number.statusCode, number.body).toBe(201);
  await server.routing.refresh();
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const invite = (local: { ip: string; port: number }) => rawRequest('INVITE', local, { user: NUMBER.slice(1), port: server.sipPort, sdp: true });

describe('trunk limits', () => {
  it('refuses a call beyond the concurrent limit with 503, and admits again once the call ended', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 2 });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 700, 3);
    const first = runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: '1500' },
    });
    await expect.poll(() => server.b2bua.liveCalls(), { timeout: 5_000, interval: 25 }).toBeGreaterThan(0);
    expect(await sendRawSip(CALLER_IP, server.sipPort, invite)).toBe('SIP/2.0 503 Service Unavailable');
    expect((await first).code).toBe(0);
    await server.waitForCall((r) => r.trackingNumber === NUMBER);
    // The slot is free again: the next call gets through.
    const second = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: '300' },
    });
    agent.stop();
    expect(second.code, second.errors).toBe(0);
  });
});
