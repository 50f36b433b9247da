/**
 * The whole call path for end-to-end tests: SIP B2BUA + HTTP app on random ports, on the
 * harness's isolated stores, with dialplans from a directory the test writes.
 *
 * @example
 *   const server = await startCallServer(h, { dialplans: { sales: { steps: [{ forward: { targets: [agentUri] } }] } } });
 *   const { number } = await server.provisionNumber({ trunkAddresses: ['127.0.0.5/32'], dialplan: 'sales' });
 *   // …run SIPp against `127.0.0.1:${server.sipPort}` dialling `number`…
 *   const call = await server.waitForCall(sipCallIdOrFilter);
 *   await server.stop();
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify as toYaml } from 'yaml';
import type { Attributor } from '../../server/attribution/attribution.types.js';
import type { B2bua } from '../../server/call/b2bua.js';
import { type CallPath, createCallPath, type RecordingOutcome } from '../../server/call-path.js';
import type { CallEventSink } from '../../server/calls/call-events.js';
import type { CallRecordWriter } from '../../server/calls/call-record-writer.js';
import type { CallRecord } from '../../server/calls/calls.repository.js';
import type { Db } from '../../server/db/pool.js';
import type { LeadService } from '../../server/leads/lead-service.js';
import type { DialplanRegistry } from '../../server/dialplans/dialplan-registry.js';
import type { DtmfListener } from '../../server/media/dtmf-listener.js';
import type { Rtpengine } from '../../server/media/rtpengine.js';
import type { RecordingService } from '../../server/recordings/recordings.service.js';
import type { Services } from '../../server/services.js';
import type { RoutingCache } from '../../server/sip/routing-cache.js';
import type { Harness } from './harness.js';
import { freePort } from './ports.js';
import { readWav } from './wav.js';

export interface CallServerOptions {
  /** Dialplans by name (the YAML body without `name`), written to a fresh directory. */
  dialplans?: Record<string, object>;
  /** Replace the real attributor (e.g. a stuck one) or the call events (tag rules + leads outbox). */
  attributor?: Attributor;
  events?: CallEventSink;
  /** A lead service of the test's own (fake sinks, fast workers); its routes and outbox replace the default one's. */
  leads?: LeadService;
  dtmf?: DtmfListener;
  /** Use another database handle for the call path (e.g. through a TCP proxy for outage tests). */
  db?: Db;
  /** Convert recordings when calls end (default true); benchmarks turn it off to measure the call path alone. */
  convertRecordings?: boolean;
  /** The SIP port to listen on (default: a free one), for dialplans that must name it. */
  sipPort?: number;
  /** The address put in Via/Contact (default 127.0.0.1, where it listens). */
  sipPublicHost?: string;
  /** Addresses of a SIP edge in front of this node (see SIP_TRUSTED_EDGE). */
  sipTrustedEdges?: string[];
  /** How often bridged calls are checked for media rtpengine dropped (B2buaDeps.mediaCheckMs). */
  mediaCheckMs?: number;
  /** Another rtpengine control client (e.g. one aimed at a dead port for outage tests). */
  rtpengine?: Rtpengine;
  /** OPTIONS pings to registered phones (default: the config's 30 s). */
  keepaliveMs?: number;
  /** The most calls this node carries at once (default: the config's SIP_MAX_CALLS). */
  maxCalls?: number;
  /** SIP over WebSocket on 127.0.0.1:<port> (none by default: tests side by side must not fight over 5066). */
  sipWsPort?: number;
  /** Where the call path keeps its spool and live-call journal (default: inside the fresh dialplans directory); a restarted node passes its predecessor's. */
  dataDir?: string;
}

export interface CallServer {
  sipHost: string;
  sipPort: number;
  app: FastifyInstance;
  services: Services;
  callPath: CallPath;
  b2bua: B2bua;
  routing: RoutingCache;
  writer: CallRecordWriter;
  dialplans: DialplanRegistry;
  dialplansDir: string;
  recordings: RecordingService;
  /** Resolves when the call's recording has been processed. */
  waitForRecording(callId: string, timeoutMs?: number): Promise<RecordingOutcome>;
  /** The stored stereo recording of a call (once waitForRecording said 'ready'): left the caller, right the agent side. */
  recordedChannels(callId: string): Promise<Int16Array[]>;
  /** Finished calls as the call path reported them (written or spooled). */
  ended: CallRecord[];
  /** Creates a trunk for the caller's addresses and a number bound to `dialplan`; returns the number. */
  provisionNumber(o: { number: string; trunkAddresses: string[]; dialplan: string }): Promise<{ number: string; trunkId: string }>;
  /** Resolves with the next finished call matching `predicate` (default: any). */
  waitForCall(predicate?: (r: CallRecord) => boolean, timeoutMs?: number): Promise<CallRecord>;
  stop(): Promise<void>;
}

/**
 * Starts the SIP B2BUA (UDP+TCP on 127.0.0.1, random port) and the HTTP app on the harness's own
 * schema, with `options.dialplans` written as YAML to a fresh directory (prompts from
 * dialplans/prompts). It provisions nothing: call `provisionNumber` (or the HTTP API through
 * `app.inject`), then point SIPp at `127.0.0.1:${sipPort}`. Finished calls are written through the
 * real record writer (spool included) and collected in `ended`; `waitForCall` resolves on them.
 * Put SIPp peers on other loopback addresses (npm `sip` answers 404 to URIs naming its own host).
 * Always `await server.stop()` (ends live calls, closes timers) before `h.close()`.
 */
export async function startCallServer(h: Harness, options: CallServerOptions = {}): Promise<CallServer> {
  const dialplansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialplans-'));
  fs.symlinkSync(path.resolve(import.meta.dirname, '../../dialplans/prompts'), path.join(dialplansDir, 'prompts'));
  for (const [name, body] of Object.entries(options.dialplans ?? {})) fs.writeFileSync(path.join(dialplansDir, `${name}.yaml`), toYaml({ name, ...body }));
  const services = h.services({
    dialplansDir,
    dialplanReloadMs: 1_000,
    overrides: {
      ...(options.attributor ? { attributor: options.attributor as Services['attributor'] } : {}),
      ...(options.events ? { callEvents: options.events } : {}),
      ...(options.leads ? { leads: options.leads } : {}),
    },
  });
  const sipPort = options.sipPort ?? (await freePort('127.0.0.1'));
  const callPath = await createCallPath(h.stores, services, {
    sip: {
      host: '127.0.0.1',
      port: sipPort,
      publicHost: options.sipPublicHost ?? '127.0.0.1',
      trustedEdges: options.sipTrustedEdges ?? [],
      ...(options.sipWsPort ? { ws: { port: options.sipWsPort } } : {}),
    },
    spoolFile: path.join(options.dataDir ?? dialplansDir, 'spool', 'calls.jsonl'),
    ttsCacheDir: path.join(os.tmpdir(), 'calltrack-tts'),
    recordingsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-')),
    convertRecordings: options.convertRecordings ?? true,
    dtmf: options.dtmf,
    routingRefreshMs: 60_000,
    spoolFlushMs: 500,
    ...(options.db ? { db: options.db } : {}),
    ...(options.rtpengine ? { rtpengine: options.rtpengine } : {}),
    ...(options.mediaCheckMs ? { mediaCheckMs: options.mediaCheckMs } : {}),
    ...(options.keepaliveMs ? { keepaliveMs: options.keepaliveMs } : {}),
    ...(options.maxCalls !== undefined ? { maxCalls: options.maxCalls } : {}),
  });
  const ended: CallRecord[] = [];
  const recorded = new Map<string, RecordingOutcome>();
  const waiters: Array<{ predicate: (r: CallRecord) => boolean; resolve: (r: CallRecord) => void }> = [];
  callPath.onRecording((callId, outcome) => recorded.set(callId, outcome));
  callPath.onCallEnded((record) => {
    ended.push(record);
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(record)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
  });
  const app = await h.buildApp({ services });

  return {
    sipHost: '127.0.0.1',
    sipPort,
    app,
    services,
    callPath,
    b2bua: callPath.b2bua,
    routing: callPath.routing,
    writer: callPath.writer,
    dialplans: services.dialplans,
    dialplansDir,
    ended,
    recordings: callPath.recordings,
    async waitForRecording(callId, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!recorded.has(callId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const outcome = recorded.get(callId);
      if (!outcome) throw new Error(`no recording was processed for ${callId}`);
      return outcome;
    },
    async recordedChannels(callId) {
      const { rows } = await h.db.query<{ recording_path: string }>('SELECT recording_path FROM calls WHERE id = $1', [callId]);
      if (!rows[0]?.recording_path) throw new Error(`call ${callId} has no stored recording`);
      return readWav(rows[0].recording_path).channels;
    },
    async provisionNumber({ number, trunkAddresses, dialplan }) {
      const trunk = await app.inject({
        method: 'POST',
        url: '/v1/trunks',
        headers: h.adminHeaders,
        payload: { name: `trunk-${number}`, addresses: trunkAddresses },
      });
      if (trunk.statusCode !== 201) throw new Error(`trunk: ${trunk.body}`);
      const created = await app.inject({
        method: 'POST',
        url: '/v1/numbers',
        headers: h.adminHeaders,
        payload: { number, trunkId: trunk.json().id, dialplan },
      });
      if (created.statusCode !== 201) throw new Error(`number: ${created.body}`);
      await callPath.routing.refresh();
      return { number: created.json().number, trunkId: trunk.json().id };
    },
    waitForCall(predicate = () => true, timeoutMs = 20_000) {
      const done = ended.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching call ended in time')), timeoutMs);
        waiters.push({
          predicate,
          resolve: (record) => {
            clearTimeout(timer);
            resolve(record);
          },
        });
      });
    },
    async stop() {
      await callPath.stop();
    },
  };
}
