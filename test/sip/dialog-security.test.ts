// In-dialog requests must name the whole dialog, and forwarding loops must end: a stranger who
// learns a Call-ID cannot hang up a call, and a flow that routes back to us ends in 483.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type RawRequestOptions, rawRequest, sendRawSip } from '../helpers/sip-raw.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.60';
const AGENT_IP = '127.0.0.61';
const STRANGER_IP = '127.0.0.62';
const NUMBERS = { talk: '+74952260001', loop: '+74952260002' } as const;
let h: Harness;
let server: CallServer;
let agentPort: number;

const dial = (e164: string) => e164.slice(1);

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  const sipPort = await freePort('127.0.0.1');
  server = await startCallServer(h, {
    sipPort,
    // npm `sip` reads a URI naming its own (public) address as one of its connection flows: the loop
    // below must name the listening address, so the public one is another.
    sipPublicHost: '127.0.0.63',
    dialplans: {
      talk: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] },
      // Forwards the call to our own tracking number: every hop comes back to us.
      loop: { steps: [{ forward: { targets: [`sip:${dial(NUMBERS.loop)}@127.0.0.1:${sipPort}`], ringSeconds: 5 } }] },
    },
  });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`, '127.0.0.1/32'] },
  });
  expect(trunk.statusCode, trunk.body).toBe(201);
  for (const [number, dialplan] of [
    [NUMBERS.talk, 'talk'],
    [NUMBERS.loop, 'loop'],
  ] as const) {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number, trunkId: trunk.json().id, dialplan },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  await server.routing.refresh();
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const sendRaw = (ip: string, build: (local: { ip: string; port: number }) => string) => sendRawSip(ip, server.sipPort, build, 8_000);

const request = (method: string, local: { ip: string; port: number }, options: Omit<RawRequestOptions, 'port'>) =>
  rawRequest(method, local, { cseq: 2, ...(method === 'INVITE' ? {} : { toTag: 'random' }), ...options, port: server.sipPort });

describe('in-dialog requests', () => {
  it('refuses a BYE with the right Call-ID but wrong tags (481), on either leg, and the call goes on', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 800, 4);
    const caller = runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(NUMBERS.talk),
      vars: { TONE: tone, TALK_MS: '2500' },
    });
    const deadline = Date.now() + 5_000;
    while (server.b2bua.liveCalls() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 400)); // answered and bridged
    const [callerCallId] = server.b2bua.liveSipCallIds();
    const [internalId] = server.b2bua.liveCallIds();
    expect(callerCallId).toBeTruthy();
    // The caller's dialog, from the carrier's own address: right Call-ID, guessed tags.
    expect(await sendRaw(CALLER_IP, (local) => request('BYE', local, { callId: callerCallId!, user: dial(NUMBERS.talk) }))).toMatch(/^SIP\/2\.0 481 /);
    // The agent leg's dialog, from a stranger.
    expect(await sendRaw(STRANGER_IP, (local) => request('BYE', local, { callId: `${internalId}-0`, user: 'agent' }))).toMatch(/^SIP\/2\.0 481 /);
    expect(server.b2bua.liveCalls()).toBe(1);
    const done = await caller;
    agent.stop();
    expect(done.code, done.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBERS.talk);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    expect(call.talkSeconds).toBeGreaterThanOrEqual(2);
  });
});

describe('forwarding loops', () => {
  it('a flow that forwards back to us ends in 483 for the caller, and every hop is torn down', async () => {
    const line = await sendRaw(CALLER_IP, (local) =>
      request('INVITE', local, { callId: `${crypto.randomUUID()}@${local.ip}`, user: dial(NUMBERS.loop), maxForwards: 4, sdp: true }),
    );
    expect(line).toMatch(/^SIP\/2\.0 483 /);
    const deadline = Date.now() + 5_000;
    while (server.b2bua.liveCalls() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(server.b2bua.liveCalls()).toBe(0);
    // Hops with Max-Forwards 4, 3, 2, 1 were admitted; the fifth (0) was refused at admission.
    const hopsOf = () => server.ended.filter((r) => r.trackingNumber === NUMBERS.loop);
    while (hopsOf().length < 4 && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
    const hops = hopsOf();
    expect(hops).toHaveLength(4);
    expect(hops.every((r) => r.finalSipStatus === 483)).toBe(true);
  });
});
