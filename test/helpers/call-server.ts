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
import type { CallEventSink } from '../../server/calls/call-events.js';
import { type CallRecordWriter, createCallRecordWriter } from '../../server/calls/call-record-writer.js';
import type { CallRecord } from '../../server/calls/call-records.repository.js';
import type { Db } from '../../server/db/pool.js';
import { createDialplanRegistry, type DialplanRegistry } from '../../server/dialplans/dialplan-registry.js';
import { createMetrics } from '../../server/http/metrics.js';
import type { DtmfListener } from '../../server/media/dtmf-listener.js';
import type { Rtpengine } from '../../server/media/rtpengine.js';
import { type B2bua, startB2bua } from '../../server/sip/b2bua.js';
import { createRoutingCache, type RoutingCache } from '../../server/sip/routing-cache.js';
import { createRecordingService, type RecordingService } from '../../server/recordings/recordings.service.js';
import type { Harness } from './harness.js';
import { freePort } from './ports.js';

export interface CallServerOptions {
  /** Dialplans by name (the YAML body without `name`), written to a fresh directory. */
  dialplans?: Record<string, object>;
  attributor?: Attributor;
  events?: CallEventSink;
  dtmf?: DtmfListener;
  /** Use another database handle for the call path (e.g. through a TCP proxy for outage tests). */
  db?: Db;
  onRecorded?: (record: CallRecord) => void;
  /** Convert recordings when calls end (default true); benchmarks turn it off to measure the call path alone. */
  convertRecordings?: boolean;
  /** How often bridged calls are checked for media rtpengine dropped (B2buaDeps.mediaCheckMs). */
  mediaCheckMs?: number;
  /** Another rtpengine control client (e.g. one aimed at a dead port for outage tests). */
  rtpengine?: Rtpengine;
}

export interface CallServer {
  sipHost: string;
  sipPort: number;
  app: FastifyInstance;
  b2bua: B2bua;
  routing: RoutingCache;
  writer: CallRecordWriter;
  dialplans: DialplanRegistry;
  dialplansDir: string;
  recordings: RecordingService;
  /** Resolves when the call's recording has been processed. */
  waitForRecording(callId: string, timeoutMs?: number): Promise<'ready' | 'failed' | 'missing'>;
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
  const db = options.db ?? h.db;
  const dialplans = createDialplanRegistry(dialplansDir, h.logger, 1_000);
  const routing = createRoutingCache(db, h.logger, 60_000);
  await routing.refresh();
  const metrics = createMetrics();
  const writer = createCallRecordWriter({
    db,
    events: options.events,
    spoolFile: path.join(dialplansDir, 'spool', 'calls.jsonl'),
    logger: h.logger,
    flushMs: 500,
  });
  const ended: CallRecord[] = [];
  const recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-'));
  const recordings = createRecordingService({ db, rtpengineDir: h.config.rtpengine.recordingDir, recordingsDir, logger: h.logger, events: options.events });
  const processed = new Map<string, Promise<'ready' | 'failed' | 'missing'>>();
  const waiters: Array<{ predicate: (r: CallRecord) => boolean; resolve: (r: CallRecord) => void }> = [];
  const sipPort = await freePort('127.0.0.1');
  const b2bua = startB2bua({
    host: '127.0.0.1',
    port: sipPort,
    publicHost: '127.0.0.1',
    realm: h.config.sip.realm,
    nonceSecret: h.config.secretKey,
    routing,
    dialplans,
    rtpengine: options.rtpengine ?? h.rtpengine,
    dtmf: options.dtmf,
    attributor: options.attributor,
    events: options.events,
    promptsDir: path.join(dialplansDir, 'prompts'),
    ttsCacheDir: path.join(os.tmpdir(), 'calltrack-tts'),
    metrics,
    logger: h.logger,
    ...(options.mediaCheckMs ? { mediaCheckMs: options.mediaCheckMs } : {}),
    onCallEnded: (record) => {
      void writer.write(record).then(() => {
        if (record.recordingStatus === 'pending' && options.convertRecordings !== false) processed.set(record.id, recordings.process(record));
        ended.push(record);
        options.onRecorded?.(record);
        for (const w of [...waiters])
          if (w.predicate(record)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(record);
          }
      });
    },
  });
  const app = await h.buildApp({ metrics, dialplans, onRoutingChange: () => void routing.refresh() });

  return {
    sipHost: '127.0.0.1',
    sipPort,
    app,
    b2bua,
    routing,
    writer,
    dialplans,
    dialplansDir,
    ended,
    recordings,
    async waitForRecording(callId, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!processed.has(callId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const p = processed.get(callId);
      if (!p) throw new Error(`no recording was started for ${callId}`);
      return p;
    },
    async provisionNumber({ number, trunkAddresses, dialplan }) {
      const trunk = await app.inject({
        method: 'POST',
        url: '/v1/trunks',
        headers: h.adminHeaders,
        payload: { name: `trunk-${number}`, addresses: trunkAddresses },
      });
      if (trunk.statusCode !== 201) throw new Error(`trunk: ${trunk.body}`);
      const n = await app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number, trunkId: trunk.json().id, dialplan } });
      if (n.statusCode !== 201) throw new Error(`number: ${n.body}`);
      await routing.refresh();
      return { number: n.json().number, trunkId: trunk.json().id };
    },
    waitForCall(predicate = () => true, timeoutMs = 20_000) {
      const done = ended.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching call ended in time')), timeoutMs);
        waiters.push({
          predicate,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async stop() {
      await b2bua.stop();
      routing.close();
      writer.close();
      dialplans.close();
    },
  };
}
