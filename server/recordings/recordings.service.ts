import fs from 'node:fs/promises';
import path from 'node:path';
import type { CallEventSink } from '../calls/call-events.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { callerSidePortFromMetadata, convertRecording } from './recording-converter.js';
import * as repo from './recordings.repository.js';

export interface RecordingService {
  /** Converts the call's pcap and links the result to the call. Never throws; failures mark the call. */
  process(call: { id: string; accountId: string; startedAt: string }): Promise<'ready' | 'failed' | 'missing'>;
  /** Deletes recordings older than `days`; returns how many. */
  sweep(days: number): Promise<number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function findFile(dir: string, match: (name: string) => boolean): Promise<string | undefined> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const hit = names.find(match);
  return hit && path.join(dir, hit);
}

export function createRecordingService(deps: { db: Db; rtpengineDir: string; recordingsDir: string; logger: Logger; events?: CallEventSink | undefined; concurrency?: number }): RecordingService {
  const { db, logger } = deps;
  // Conversions (ffmpeg) queue behind a small limit so a burst of hang-ups never starves the call path of CPU.
  const limit = deps.concurrency ?? 2;
  let running = 0;
  const queue: Array<() => void> = [];
  const slot = async () => {
    if (running >= limit) await new Promise<void>((r) => queue.push(r));
    running++;
  };
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return {
    async process(call) {
      await slot();
      try {
        return await convertOne(call);
      } finally {
        release();
      }
    },
    sweep,
  };

  async function convertOne(call: { id: string; accountId: string; startedAt: string }): Promise<'ready' | 'failed' | 'missing'> {
    const log = logger.child({ internalCallId: call.id });
    // rtpengine names files <call-id>-<random>.pcap and writes the metadata file after `delete`.
    const pcap = await findFile(path.join(deps.rtpengineDir, 'pcaps'), (n) => n.startsWith(`${call.id}-`) && n.endsWith('.pcap'));
    if (!pcap) {
      log.warn({ type: 'recording_missing' }, 'no pcap for call');
      await repo.markRecordingFailed(db, call.id).catch(() => {});
      return 'missing';
    }
    let metadataFile: string | undefined;
    for (let i = 0; i < 30 && !metadataFile; i++) {
      metadataFile = await findFile(path.join(deps.rtpengineDir, 'metadata'), (n) => n.includes(call.id));
      if (!metadataFile) await sleep(100);
    }
    const metadata = metadataFile ? await fs.readFile(metadataFile, 'utf8') : '';
    const day = call.startedAt.slice(0, 10).split('-');
    try {
      const result = await convertRecording({
        pcapPath: pcap, outputDir: path.join(deps.recordingsDir, ...day), baseName: call.id, callerSidePort: callerSidePortFromMetadata(metadata),
      });
      await repo.markRecordingReady(db, call.id, { wavPath: result.wavPath, mp3Path: result.compressedPath, durationSeconds: result.durationSeconds, channels: result.channels });
      // The pcap goes only once the playable files are safely linked.
      await fs.rm(pcap, { force: true });
      if (metadataFile) await fs.rm(metadataFile, { force: true });
      await deps.events?.recordingReady(db, { callId: call.id, accountId: call.accountId }).catch((err: unknown) => log.warn({ err }, 'recording_ready event failed'));
      log.info({ type: 'recording_ready', seconds: result.durationSeconds }, 'recording ready');
      return 'ready';
    } catch (err) {
      log.error({ err, type: 'recording_failed' }, 'recording conversion failed; pcap kept');
      await repo.markRecordingFailed(db, call.id).catch(() => {});
      return 'failed';
    }
  }

  async function sweep(days: number): Promise<number> {
    const expired = await repo.listExpiredRecordings(db, new Date(Date.now() - days * 86_400_000));
    for (const r of expired) {
      for (const f of [r.wavPath, r.mp3Path]) if (f) await fs.rm(f, { force: true });
      await repo.clearRecording(db, r.id);
    }
    return expired.length;
  }
}
