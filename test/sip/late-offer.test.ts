// A carrier INVITE without SDP (late offer, RFC 3261 13.2.1): our 2xx carries the offer through
// rtpengine, the caller's ACK carries the answer, and the call is bridged and recorded in stereo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.70';
const AGENT_IP = '127.0.0.71';
const NUMBER = '+74952300001';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { late: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'late' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

it('answers an INVITE without SDP with an offer, takes the answer from the ACK, and records both sides', async () => {
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
  const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 3);
  const caller = await runSipp({
    scenario: scenarioPath('uac-late-offer-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    vars: { TONE: tone, TALK_MS: '3000' },
  });
  agent.stop();
  expect(caller.code, caller.errors + caller.stderr).toBe(0);
  const call = await server.waitForCall((r) => r.trackingNumber === NUMBER);
  expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
  expect(await server.waitForRecording(call.id)).toBe('ready');
  const channels = await server.recordedChannels(call.id);
  // The caller's tone reached rtpengine (left) and came back from the echoing agent (right).
  expect(toneSeconds(channels[0]!, 8000, 1000, [1000, 440])).toBeGreaterThanOrEqual(2.5);
  expect(toneSeconds(channels[1]!, 8000, 1000, [1000, 440])).toBeGreaterThanOrEqual(2.5);
});
