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

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  toneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tones-'));
  const agent = `sip:agent@${AGENT_IP}:${agentPort}`;
  server = await startCallServer(h, {
    dialplans: {
      direct: { steps: [{ forward: { targets: [agent], ringSeconds: 3 } }] },
    },
  });
  await server.provisionNumber({ number: '+74951234567', trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'direct' });
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
      scenario: scenarioPath('uac-tone-bye.xml'), ip: CALLER_IP, target: `127.0.0.1:${server.sipPort}`, service: '74951234567',
      vars: { TONE: tone, TALK_MS: '3000' },
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === '+74951234567');
    agent.stop();
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller', caller: '+79161234567', answeredBy: `sip:agent@${AGENT_IP}:${agentPort}` });
    expect(call.talkSeconds).toBeGreaterThanOrEqual(2);
    expect(call.talkSeconds).toBeLessThanOrEqual(5);
    const { rows } = await h.db.query('SELECT disposition, talk_seconds, recording_status FROM calls WHERE id = $1', [call.id]);
    expect(rows[0]).toMatchObject({ disposition: 'answered', recording_status: 'pending' });
    expect(await rtpengineHas(call.id)).toBe(false);
    expect(server.b2bua.liveCalls()).toBe(0);

    expect(await server.waitForRecording(call.id)).toBe('ready');
    const rec = (await h.db.query('SELECT recording_path, recording_mp3_path, recording_channels, recording_duration_seconds FROM calls WHERE id = $1', [call.id])).rows[0];
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
    // The pcap is deleted once converted.
    expect(fs.readdirSync(path.join(h.config.rtpengine.recordingDir, 'pcaps')).some((f) => f.startsWith(call.id))).toBe(false);
  });
});
