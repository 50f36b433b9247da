import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../server/db/pool.js';
import { createRtpengine } from '../../server/media/rtpengine.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const CALLER_IP = '127.0.0.7';
const AGENT_IP = '127.0.0.8';
let h: Harness;
let proxy: TcpProxy;
let proxiedDb: Db;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  const url = new URL(h.config.database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  proxiedDb = createDb({ url: url.toString(), poolSize: 4, schema: h.schema });
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    db: proxiedDb,
    dialplans: { plain: { record: true, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: '+74953330000', trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'plain' });
});
afterAll(async () => {
  await server?.stop();
  await proxiedDb?.end().catch(() => {});
  await proxy?.close();
  await h?.close();
});

describe('Postgres down', () => {
  it('still connects calls from cached routing; once Postgres is back it stores the record, converts the recording and announces it', async () => {
    proxy.cut();
    // The cache cannot refresh now, and must keep the last routes it had.
    expect(await server.routing.refresh()).toBe(false);
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
    const caller = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: '74953330000',
      vars: { TONE: tone, TALK_MS: '1000' },
    });
    agent.stop();
    expect(caller.code, caller.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === '+74953330000');
    expect(call.disposition).toBe('answered');
    expect(call.recordingStatus).toBe('pending');
    // The caller's media address (from its SDP) travels with the record, through the spool, to the converter.
    expect(call.callerMedia).toMatchObject({ ip: CALLER_IP });
    expect((await h.db.query('SELECT count(*) FROM calls WHERE id = $1', [call.id])).rows[0].count).toBe(0);
    expect(await server.writer.flush()).toBe(1);

    proxy.restore();
    expect(await server.writer.flush()).toBe(0);
    const { rows } = await h.db.query('SELECT disposition, tracking_number FROM calls WHERE id = $1', [call.id]);
    expect(rows[0]).toEqual({ disposition: 'answered', tracking_number: '+74953330000' });
    // Stored → converted → announced: the recording is made from the pcap only now that the row exists.
    expect(await server.waitForRecording(call.id)).toBe('ready');
    const stored = await h.db.query('SELECT recording_status, recording_channels FROM calls WHERE id = $1', [call.id]);
    expect(stored.rows[0]).toEqual({ recording_status: 'ready', recording_channels: 2 });
    const events = await h.db.query(
      `SELECT type, payload->'call'->>'caller_number' AS caller, payload->'call'->>'tracking_number' AS number, payload->'call'->>'recording_status' AS recording
         FROM lead_events WHERE call_id = $1 AND type IN ('call.completed', 'call.recording_ready') ORDER BY id`,
      [call.id],
    );
    expect(events.rows).toEqual([
      { type: 'call.completed', caller: call.caller, number: '+74953330000', recording: 'pending' },
      { type: 'call.recording_ready', caller: call.caller, number: '+74953330000', recording: 'ready' },
    ]);
    // Replaying again (a crash between insert and spool rewrite) must not duplicate it.
    expect(await server.writer.flush()).toBe(0);
    expect((await h.db.query('SELECT count(*) FROM calls WHERE sip_call_id = (SELECT sip_call_id FROM calls WHERE id = $1)', [call.id])).rows[0].count).toBe(1);
  });
});

describe('rtpengine down', () => {
  it('refuses the call with 503 (so the carrier fails over) and leaves nothing behind', async () => {
    const deadPort = await freePort('127.0.0.1');
    const deadRtpengine = createRtpengine({ host: '127.0.0.1', port: deadPort }, 400);
    const noMedia = await startCallServer(h, {
      rtpengine: deadRtpengine,
      dialplans: { plain: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
    });
    try {
      const caller = await runSipp({
        scenario: scenarioPath('uac-expect-status.xml'),
        ip: CALLER_IP,
        target: `127.0.0.1:${noMedia.sipPort}`,
        service: '74953330000',
        vars: { STATUS: '503' },
      });
      expect(caller.code, caller.errors).toBe(0);
      const call = await noMedia.waitForCall((r) => r.trackingNumber === '+74953330000');
      expect(call).toMatchObject({ disposition: 'failed', finalSipStatus: 503, hangupBy: 'system' });
      expect(noMedia.b2bua.liveCalls()).toBe(0);
    } finally {
      await noMedia.stop();
      deadRtpengine.close();
    }
  });
});
