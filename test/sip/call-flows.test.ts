import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { freePort } from '../helpers/ports.js';
import { readWav } from '../helpers/wav.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.5';
const AGENT_IP = '127.0.0.2';
let h: Harness;
let server: CallServer;
let agentPort: number;
let toneDir: string;
/** One agent port per flow so each test's SIPp agent is the only one its dialplan rings. */
const ports: Record<string, number> = {};
const FLOWS = { direct: '+74951234567', busy: '+74951234501', noanswer: '+74951234502', cancel: '+74951234503', calleebye: '+74951234504' } as const;
const target = (flow: string) => `sip:agent@${AGENT_IP}:${ports[flow]}`;

beforeAll(async () => {
  h = await createHarness();
  for (const flow of Object.keys(FLOWS)) ports[flow] = await freePort(AGENT_IP);
  agentPort = ports.direct!;
  toneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tones-'));
  server = await startCallServer(h, {
    dialplans: Object.fromEntries(
      Object.keys(FLOWS).map((flow) => [flow, { steps: [{ forward: { targets: [target(flow)], ringSeconds: flow === 'noanswer' ? 2 : 5 } }] }]),
    ),
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
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

/** rtpengine calls still alive for this call (none may be left after teardown). */
async function rtpengineHas(callId: string): Promise<boolean> {
  const reply = await h.rtpengine.command('query', { 'call-id': callId });
  return reply.result === 'ok';
}

describe('an answered call', () => {
  it('is forwarded, bridged, recorded in the call log and torn down', async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
    const tone = makeToneFile(toneDir, 1000, 3);
    const caller = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: '74951234567',
      vars: { TONE: tone, TALK_MS: '3000' },
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === '+74951234567');
    agent.stop();
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller', caller: '+79161234567', answeredBy: `sip:agent@${AGENT_IP}:${agentPort}` });
    expect(call.talkSeconds).toBeGreaterThanOrEqual(2);
    expect(call.talkSeconds).toBeLessThanOrEqual(5);
    const { rows } = await h.db.query('SELECT disposition, talk_seconds, recording_status FROM calls WHERE id = $1', [call.id]);
    expect(rows[0]).toMatchObject({ disposition: 'answered' });
    expect(['pending', 'ready']).toContain(rows[0].recording_status);
    expect(await rtpengineHas(call.id)).toBe(false);
    expect(server.b2bua.liveCalls()).toBe(0);

    expect(await server.waitForRecording(call.id)).toBe('ready');
    const rec = (
      await h.db.query('SELECT recording_path, recording_mp3_path, recording_channels, recording_duration_seconds FROM calls WHERE id = $1', [call.id])
    ).rows[0];
    expect(rec.recording_channels).toBe(2);
    expect(fs.existsSync(rec.recording_mp3_path)).toBe(true);
    const wav = readWav(rec.recording_path);
    expect(wav.channels).toHaveLength(2);
    // Caller streamed 3 s of 1 kHz; the agent (SIPp -rtp_echo) sent it back: both channels carry it.
    const left = toneSeconds(wav.channels[0]!, 8000, 1000, [1000, 440]);
    const right = toneSeconds(wav.channels[1]!, 8000, 1000, [1000, 440]);
    expect(left).toBeGreaterThanOrEqual(2.5);
    expect(left).toBeLessThanOrEqual(3.3);
    expect(right).toBeGreaterThanOrEqual(2.5);
    expect(right).toBeLessThanOrEqual(3.3);
    // The call log and the recording are served by the API, with HTTP Range for seeking.
    const list = await server.app.inject({ method: 'GET', url: `/v1/calls?number=${encodeURIComponent(FLOWS.direct)}`, headers: h.adminHeaders });
    expect(list.json().items[0]).toMatchObject({ id: call.id, disposition: 'answered', hasRecording: true });
    const detail = await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}`, headers: h.adminHeaders });
    expect(detail.json().recording).toMatchObject({ url: `/v1/calls/${call.id}/recording`, channels: 2 });
    expect(detail.json().recording.durationSeconds).toBeGreaterThan(2.5);
    const whole = await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}/recording`, headers: h.adminHeaders });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/mpeg');
    const size = whole.rawPayload.length;
    const part = await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}/recording`, headers: { ...h.adminHeaders, range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${size}`);
    expect(part.rawPayload).toEqual(whole.rawPayload.subarray(100, 200));
    const beyond = await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}/recording`, headers: { ...h.adminHeaders, range: `bytes=${size}-` } });
    expect(beyond.statusCode).toBe(416);
    const signed = await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}/recording-url`, headers: h.adminHeaders });
    const viaLink = await server.app.inject({ method: 'GET', url: signed.json().url });
    expect(viaLink.statusCode).toBe(200);
    // Change the token's first character to a different one (a fixed 'x' would be no change when the token starts with x).
    const tamperedUrl = (signed.json().url as string).replace(/token=(.)/, (_m, c: string) => `token=${c === 'x' ? 'y' : 'x'}`);
    const tampered = await server.app.inject({ method: 'GET', url: tamperedUrl });
    expect(tampered.statusCode).toBe(401);
    expect((await server.app.inject({ method: 'GET', url: `/v1/calls/${call.id}/recording` })).statusCode).toBe(401);
    // The pcap is deleted once converted.
    expect(fs.readdirSync(path.join(h.config.rtpengine.recordingDir, 'pcaps')).some((f) => f.startsWith(call.id))).toBe(false);
  });
});

const dial = (number: string) => number.slice(1);
const callTo = (number: string) => server.waitForCall((r) => r.trackingNumber === number);

describe('calls that do not connect', () => {
  it('busy agent: 486 to the caller, disposition busy, nothing left in rtpengine', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-reject.xml'), ip: AGENT_IP, port: ports.busy!, vars: { STATUS: '486', REASON: 'Busy Here' } });
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.busy),
      vars: { STATUS: '486' },
    });
    expect(caller.code, caller.errors).toBe(0);
    expect((await agent.done).code).toBe(0);
    const call = await callTo(FLOWS.busy);
    expect(call).toMatchObject({ disposition: 'busy', talkSeconds: 0, answeredAt: null, finalSipStatus: 486, recordingStatus: 'none' });
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('nobody answers within the ring time: agent cancelled, caller gets 480, disposition no-answer', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-ring-forever.xml'), ip: AGENT_IP, port: ports.noanswer! });
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.noanswer),
      vars: { STATUS: '480' },
    });
    expect(caller.code, caller.errors).toBe(0);
    expect((await agent.done).code, 'agent saw CANCEL').toBe(0);
    const call = await callTo(FLOWS.noanswer);
    expect(call.disposition).toBe('no-answer');
    expect(call.ringSeconds).toBeGreaterThanOrEqual(2);
    expect(await rtpengineHas(call.id)).toBe(false);
  });

  it('caller hangs up while ringing: 487, agent leg cancelled, disposition cancelled', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-ring-forever.xml'), ip: AGENT_IP, port: ports.cancel! });
    const caller = await runSipp({
      scenario: scenarioPath('uac-cancel.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.cancel),
    });
    expect(caller.code, caller.errors).toBe(0);
    expect((await agent.done).code, 'agent saw CANCEL').toBe(0);
    const call = await callTo(FLOWS.cancel);
    expect(call).toMatchObject({ disposition: 'cancelled', hangupBy: 'caller', finalSipStatus: 487 });
    expect(await rtpengineHas(call.id)).toBe(false);
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});

describe('the agent hangs up', () => {
  it('BYE from the agent ends the caller leg too', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-then-bye.xml'), ip: AGENT_IP, port: ports.calleebye!, vars: { TALK_MS: '1500' } });
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.calleebye),
    });
    expect(caller.code, caller.errors).toBe(0);
    expect((await agent.done).code).toBe(0);
    const call = await callTo(FLOWS.calleebye);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'callee' });
    expect(call.talkSeconds).toBeGreaterThanOrEqual(1);
    expect(call.talkSeconds).toBeLessThanOrEqual(3);
    expect(await rtpengineHas(call.id)).toBe(false);
  });
});

describe('the SIP edge', () => {
  it('refuses an INVITE from an address no trunk owns with 403', async () => {
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: '127.0.0.9',
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.direct),
      vars: { STATUS: '403' },
    });
    expect(caller.code, caller.errors).toBe(0);
  });

  it('answers 404 for a number that is not provisioned', async () => {
    const caller = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: '74959999999',
      vars: { STATUS: '404' },
    });
    expect(caller.code, caller.errors).toBe(0);
  });

  it('answers a malformed INVITE with 400 and keeps serving', async () => {
    const caller = await runSipp({
      scenario: scenarioPath('uac-malformed-then-options.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.direct),
    });
    expect(caller.code, caller.errors).toBe(0);
  });

  it('survives garbage datagrams', async () => {
    const dgram = await import('node:dgram');
    const sock = dgram.createSocket('udp4');
    for (const junk of [
      '\x00\x01garbage',
      'INVITE\r\n\r\n',
      'SIP/2.0 200\r\nVia: x\r\n\r\n',
      'INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nCall-ID: a\r\nFrom: <sip:a>\r\nTo: <sip:b>\r\nCSeq: x INVITE\r\n\r\n',
    ]) {
      await new Promise<void>((r) => sock.send(junk, server.sipPort, '127.0.0.1', () => r()));
    }
    sock.close();
    const caller = await runSipp({
      scenario: scenarioPath('uac-malformed-then-options.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: dial(FLOWS.direct),
    });
    expect(caller.code, caller.errors).toBe(0);
  });
});
