import type { CallEventSink } from '../calls/call-events.js';
import type { CallRecord } from '../calls/calls.repository.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { convertRecording, NoAudioRecorded } from './recording-converter.js';
import { createLocalRecordingStorage, type RecordingStorage } from './recording-storage.js';
import * as repo from './recordings.repository.js';
import { locateRtpengineRecording, removeRtpengineRecording } from './rtpengine-files.js';

/** What a call without any audio shows as its recording error. */
export const NO_AUDIO_REASON = 'no audio was exchanged on this call: nothing to record';

/** What converting a call's recording needs to know about the call. */
export type RecordedCall = Pick<CallRecord, 'id' | 'accountId' | 'caller' | 'trackingNumber' | 'startedAt' | 'callerMedia'>;

export interface RecordingService {
  /**
   * Converts the call's rtpengine pcap and links the result to the call row (which must exist:
   * call it after the call record is written). Never throws; failures mark the call 'failed' and
   * keep the pcap for a retry by hand.
   */
  process(call: RecordedCall): Promise<'ready' | 'failed' | 'missing'>;
  /** Deletes recordings of calls older than `days` and clears their columns; returns how many. */
  sweep(days: number): Promise<number>;
  /**
   * Converts recordings that are due: failed ones at their retry time (backoff 1 min … 6 h) and
   * pending ones the call path left (older than `settledSeconds`). Returns the outcomes.
   */
  retryDue(settledSeconds?: number): Promise<Array<{ callId: string; outcome: 'ready' | 'failed' | 'missing' }>>;
}

export function createRecordingService(deps: {
  db: Db;
  rtpengineDir: string;
  recordingsDir: string;
  logger: Logger;
  events?: CallEventSink | undefined;
  storage?: RecordingStorage | undefined;
  /** How long to wait for rtpengine's metadata file after `delete` (default 3 s). */
  metadataWaitMs?: number;
  /** Conversions at once (each holds the call's audio in memory and runs ffmpeg); default 2. */
  maxConcurrent?: number;
}): RecordingService {
  const { db, logger } = deps;
  // A burst of hang-ups must not start a hundred ffmpeg processes next to the SIP stack.
  const limit = createLimiter(deps.maxConcurrent ?? 2);
  const storage = deps.storage ?? createLocalRecordingStorage(deps.recordingsDir);
  return {
    async process(call) {
      const log = logger.child({ internalCallId: call.id });
      const files = await locateRtpengineRecording({ dir: deps.rtpengineDir, callId: call.id, waitMs: deps.metadataWaitMs ?? 3000 });
      if (!files) {
        log.warn({ type: 'recording_missing' }, 'no pcap for call');
        await repo.markRecordingFailed(db, call.id, 'rtpengine left no pcap for this call').catch(() => {});
        return 'missing';
      }
      try {
        const result = await limit(() =>
          convertRecording({
            pcapPath: files.pcapPath,
            outputDir: storage.dirFor(call.startedAt),
            baseName: call.id,
            callerAddress: call.callerMedia ?? undefined,
            callerSidePort: files.metadata?.callerSidePort,
          }),
        );
        if (!(await repo.attachRecording(db, call.id, result))) throw new Error('the call row does not exist');
        // rtpengine's files go only once the playable files are safely linked.
        await removeRtpengineRecording(files);
        await deps.events
          ?.recordingReady(db, { callId: call.id, accountId: call.accountId, caller: call.caller, trackingNumber: call.trackingNumber })
          .catch((err: unknown) => log.warn({ err }, 'recording_ready event failed'));
        if (result.undecodedPayloadTypes.length > 0) {
          log.warn(
            { type: 'recording_partial', payloadTypes: result.undecodedPayloadTypes },
            'recording has audio in codecs other than G.711; that part is silent',
          );
        }
        log.info({ type: 'recording_ready', seconds: result.durationSeconds, callerMatchedBy: result.callerMatchedBy }, 'recording ready');
        return 'ready';
      } catch (err) {
        if (err instanceof NoAudioRecorded) {
          // Nothing to keep for a retry: the pcap has no packet to convert, now or ever.
          log.info({ type: 'recording_empty' }, 'no audio was exchanged on this call; nothing to record');
          await repo.markRecordingFinal(db, call.id, NO_AUDIO_REASON).catch(() => {});
          await removeRtpengineRecording(files);
          return 'failed';
        }
        log.error({ err, type: 'recording_failed', pcap: files.pcapPath }, 'recording conversion failed; pcap kept');
        // Only the kind of failure goes on the call (people see it); the details stay in the log.
        const reason =
          err instanceof Error && /row does not exist/.test(err.message) ? 'the call record is not stored yet' : 'conversion failed (see the server log)';
        await repo.markRecordingFailed(db, call.id, reason).catch(() => {});
        return 'failed';
      }
    },
    async retryDue(settledSeconds = 120) {
      const due = await repo.listDueRecordings(db, settledSeconds, 20);
      const outcomes: Array<{ callId: string; outcome: 'ready' | 'failed' | 'missing' }> = [];
      // One at a time: the converter's own limiter keeps ffmpeg beside the SIP stack to two anyway.
      for (const call of due) outcomes.push({ callId: call.id, outcome: await this.process(call) });
      if (outcomes.length > 0) logger.info({ type: 'recordings_retried', outcomes }, 'due recordings converted');
      return outcomes;
    },
    async sweep(days) {
      const cutoff = new Date(Date.now() - days * 86_400_000);
      let removed = 0;
      // Batches, bounded: a first sweep over years of history must not load every row at once.
      for (let batch = 0; batch < 1000; batch++) {
        const expired = await repo.listExpiredRecordings(db, cutoff, 500);
        for (const r of expired) {
          for (const f of [r.wavPath, r.mp3Path]) if (f) await storage.remove(f);
          await repo.clearRecording(db, r.id);
        }
        removed += expired.length;
        if (expired.length < 500) break;
      }
      if (removed > 0) logger.info({ type: 'recordings_swept', removed, days }, 'old recordings deleted');
      return removed;
    },
  };
}

/**
 * Runs `service.sweep(days)` now and then every `everyMs` (default 6 h); returns a stop function.
 * Days = 0 keeps recordings forever (nothing is scheduled).
 */
export function scheduleRetentionSweep(service: RecordingService, days: number, logger: Logger, everyMs = 6 * 3_600_000): () => void {
  if (days <= 0) return () => {};
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    void service
      .sweep(days)
      .catch((err: unknown) => logger.error({ err, type: 'recordings_sweep_failed' }, 'recording retention sweep failed'))
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Runs at most `max` tasks at once; the others wait in arrival order. */
export function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the finishing task hands its slot over
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
