// rtpengine `play media` on real calls: an announcement before forwarding, a text whisper spoken
// to the agent (espeak-ng) before the caller is bridged, and voicemail after a busy agent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { DEFAULT_ACCOUNT_ID } from '../../server/auth/auth.schemas.js';

const CALLER_IP = '127.0.0.25';
const AGENT_IP = '127.0.0.26';
const FLOWS = { announce: '+74952223001', whisper: '+74952223002', voicemail: '+74952223003', vanish: '+74952223004' } as const;
const ports: Record<string, number> = {};
let h: Harness;
let server: CallServer;
let tone: string;

const msBetween = (a: string, b: string) => new Date(b).getTime() - new Date(a).getTime();
const rtpengineHas = async (callId: string) => (await h.rtpengine.command('query', { 'call-id': callId })).result === 'ok';

beforeAll(async () => {
  h = await createHarness();
  for (const flow of Object.keys(FLOWS)) ports[flow] = await freePort(AGENT_IP);
  const agent = (flow: string) => `sip:agent@${AGENT_IP}:${ports[flow]}`;
  server = await startCallServer(h, {
    convertRecordings: false,
    mediaCheckMs: 250,
    dialplans: {
      // beep.wav lasts 0.4 s.
      announce: { steps: [{ announce: { file: 'beep.wav' } }, { forward: { targets: [agent('announce')], ringSeconds: 5 } }] },
      // espeak-ng says this in about 1 s.
      whisper: { steps: [{ forward: { targets: [agent('whisper')], ringSeconds: 5, whisper: 'Sales line' } }] },
      voicemail: { steps: [{ forward: { targets: [agent('voicemail')], ringSeconds: 5 } }, { voicemail: { maxSeconds: 10 } }] },
      vanish: { steps: [{ forward: { targets: [agent('vanish')], ringSeconds: 5 } }] },
    },
  });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`] },
  });
  for (const [flow, number] of Object.entries(FLOWS)) {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number, trunkId: trunk.json().id, dialplan: flow },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  await server.routing.refresh();
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 2);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

async function callerTalks(number: string, talkMs: number) {
  const caller = await runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: number.slice(1),
    vars: { TONE: tone, TALK_MS: String(talkMs) },
  });
  expect(caller.code, caller.errors).toBe(0);
  return server.waitForCall((r) => r.trackingNumber === number);
}

describe('media features', () => {
  it('plays the announcement to the caller before ringing the agent', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: ports.announce! });
    const call = await callerTalks(FLOWS.announce, 1_500);
    agent.stop();
    expect(call).toMatchObject({ disposition: 'answered', answeredBy: `sip:agent@${AGENT_IP}:${ports.announce}` });
    // The agent answers at once; only the prompt's length can delay the bridge this much.
    expect(msBetween(call.startedAt, call.answeredAt!)).toBeGreaterThanOrEqual(380);
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('whispers to the agent before the caller is bridged', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: ports.whisper! });
    const call = await callerTalks(FLOWS.whisper, 1_000);
    agent.stop();
    expect(call.disposition).toBe('answered');
    expect(msBetween(call.startedAt, call.answeredAt!)).toBeGreaterThanOrEqual(800);
    expect(msBetween(call.startedAt, call.answeredAt!)).toBeLessThan(3_000);
  });

  it('takes a voicemail when the agent is busy', async () => {
    const agent = await startSipp({
      scenario: scenarioPath('uas-reject.xml'),
      ip: AGENT_IP,
      port: ports.voicemail!,
      vars: { STATUS: '486', REASON: 'Busy Here' },
    });
    const call = await callerTalks(FLOWS.voicemail, 1_500);
    agent.stop();
    expect(call).toMatchObject({ disposition: 'voicemail', hangupBy: 'caller', answeredBy: null, recordingStatus: 'pending' });
    expect(await rtpengineHas(call.id)).toBe(false);
  });
  it('hangs up both sides when rtpengine drops the call (RTP timeout), leaving no live session', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-expect-bye.xml'), ip: AGENT_IP, port: ports.vanish! });
    const caller = runSipp({
      scenario: scenarioPath('uac-expect-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: FLOWS.vanish.slice(1),
    });
    const deadline = Date.now() + 5_000;
    while (server.b2bua.liveCallIds().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [callId] = server.b2bua.liveCallIds();
    expect(callId).toBeDefined();
    // The agent answers (a loaded box may take longer than any fixed pause: deleting the session
    // while it still rang failed the bridge instead), then the caller ACKs.
    const state = async () => (await server.services.liveBoard.snapshot(DEFAULT_ACCOUNT_ID)).calls.find((c) => c.callId === callId)?.state;
    await expect.poll(state, { timeout: 10_000, interval: 20 }).toBe('talking');
    await new Promise((r) => setTimeout(r, 200));
    // What rtpengine does by itself after --timeout seconds without RTP.
    expect((await h.rtpengine.command('delete', { 'call-id': callId })).result).toBe('ok');
    const result = await caller;
    expect(result.code, result.errors).toBe(0);
    expect((await agent.done).code, 'agent got BYE').toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === FLOWS.vanish);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'system' });
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});
