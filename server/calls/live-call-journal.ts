import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { SipRequest } from '../sip/sip-types.js';
import type { CallRecord } from './calls.repository.js';

/**
 * What this node's calls in progress would look like as records if the process died now. A node
 * killed with SIGKILL loses its memory, not its disk: on restart it reads the journal back, ends
 * the calls it left open (the media relay keeps their sessions otherwise) and stores their records,
 * ended at the node's last sign of life. Without it a crash loses exactly the calls people were on.
 */
export interface LiveCallJournal {
  /** The call's record as of now (admitted, attributed, answered) and the BYEs that would end its dialogs; replaces the previous note. */
  note(record: CallRecord, byes?: SipRequest[]): void;
  /** The call ended and its record went to the writer. */
  done(callId: string): void;
  /** Calls a previous run of this node left open, as records ended at its last heartbeat; empties the journal. */
  recover(): RecoveredCall[];
  close(): void;
}

export interface RecoveredCall {
  record: CallRecord;
  /** BYEs for the caller's and the agent's dialogs, so neither phone stays in a dead call. */
  byes: SipRequest[];
  /** The media relay's session of the call, to delete. */
  rtpengineCallId: string;
}

interface JournalLine {
  /** Note (n) or done (d). */
  t: 'n' | 'd';
  id: string;
  r?: CallRecord;
  b?: SipRequest[];
}

export interface LiveCallJournalOptions {
  file: string;
  logger: Logger;
  /** How often an idle journal is touched, so its mtime says when the node was last alive. Default 2 s. */
  heartbeatMs?: number;
  /** Above this size the journal is rewritten with only the open calls. Default 8 MiB. */
  compactBytes?: number;
  /** How long changes wait to be written together (default 25 ms): what a crash can lose. */
  writeMs?: number;
}

export function createLiveCallJournal(options: LiveCallJournalOptions): LiveCallJournal {
  const { file, logger } = options;
  const compactBytes = options.compactBytes ?? 8 * 1024 * 1024;
  const writeMs = options.writeMs ?? 25;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  /** The latest note of each open call (to compact the file without reading it back), and whether any note of it is on disk. */
  const open = new Map<string, { r: CallRecord; b: SipRequest[]; onDisk: boolean }>();
  /** What the next write adds: the latest note of each call noted since the last write, or its end. */
  const unwritten = new Map<string, JournalLine>();
  let writeTimer: NodeJS.Timeout | undefined;
  let written = 0;
  let fd: number | undefined;
  let recovered = false;
  let failing = false;

  // Notes are written together every `writeMs`, only the latest of each call: a call is noted on
  // admission, attribution and answer within a few ms, so it costs one JSON line and a share of
  // one write instead of three of each (the journal was ~6 % of the B2BUA's CPU in bench:sip).
  // A crash loses at most the last `writeMs` of changes.
  // Synchronous appends on one descriptor: a compaction can never interleave with a write still
  // queued (an async stream reopening the path would double lines).
  function writeNow(): void {
    clearTimeout(writeTimer);
    writeTimer = undefined;
    if (unwritten.size === 0) return;
    let text = '';
    for (const line of unwritten.values()) text += `${JSON.stringify(line)}\n`;
    const noted = [...unwritten.values()].filter((line) => line.t === 'n');
    unwritten.clear();
    try {
      fd ??= fs.openSync(file, 'a');
      fs.writeSync(fd, text);
      for (const line of noted) {
        const entry = open.get(line.id);
        if (entry) entry.onDisk = true;
      }
      written += text.length;
      failing = false;
      if (written > compactBytes) compact();
    } catch (err) {
      if (!failing) logger.error({ err, type: 'live_call_journal_failed' }, 'cannot write the live-call journal; a crash now would lose live calls');
      failing = true;
    }
  }
  const writeSoon = () => {
    if (writeTimer) return;
    writeTimer = setTimeout(writeNow, writeMs);
    writeTimer.unref();
  };

  function compact(): void {
    const lines = [...open.entries()].map(([id, { r, b }]) => `${JSON.stringify({ t: 'n', id, r, b } satisfies JournalLine)}\n`).join('');
    const tmp = `${file}.compact`;
    fs.writeFileSync(tmp, lines);
    fs.renameSync(tmp, file);
    for (const entry of open.values()) entry.onDisk = true;
    if (fd !== undefined) fs.closeSync(fd);
    fd = fs.openSync(file, 'a');
    written = lines.length;
  }

  const heartbeat = setInterval(() => {
    if (!recovered) return;
    const now = new Date();
    fs.utimes(file, now, now, () => {});
  }, options.heartbeatMs ?? 2_000);
  heartbeat.unref();

  return {
    note(record, byes = []) {
      const onDisk = open.get(record.id)?.onDisk ?? false;
      open.set(record.id, { r: record, b: byes, onDisk });
      if (!recovered) return;
      unwritten.set(record.id, { t: 'n', id: record.id, r: record, b: byes });
      writeSoon();
    },
    done(callId) {
      const entry = open.get(callId);
      if (!entry) return;
      open.delete(callId);
      // A call that begins and ends between two writes never reaches the file.
      if (!entry.onDisk) return void unwritten.delete(callId);
      unwritten.set(callId, { t: 'd', id: callId });
      writeSoon();
    },
    recover() {
      recovered = true;
      let content: string;
      let lastAlive: Date;
      try {
        content = fs.readFileSync(file, 'utf8');
        lastAlive = fs.statSync(file).mtime;
      } catch {
        fs.writeFileSync(file, '');
        return [];
      }
      const left = new Map<string, { r: CallRecord; b: SipRequest[] }>();
      for (const text of content.split('\n')) {
        if (!text) continue;
        try {
          const line = JSON.parse(text) as JournalLine;
          if (line.t === 'n' && line.r) left.set(line.id, { r: line.r, b: line.b ?? [] });
          else if (line.t === 'd') left.delete(line.id);
        } catch {
          // A line cut short by the crash: the note before it (if any) still stands.
        }
      }
      fs.writeFileSync(file, '');
      written = 0;
      return [...left.values()].map(({ r, b }) => ({ record: endedAt(r, lastAlive), byes: b, rtpengineCallId: r.id }));
    },
    close() {
      writeNow();
      clearInterval(heartbeat);
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

/** The record of a call the node died on: ended by the system at the node's last sign of life. */
function endedAt(r: CallRecord, lastAlive: Date): CallRecord {
  const started = new Date(r.startedAt);
  const ended = lastAlive < started ? started : lastAlive;
  const seconds = (from: Date) => Math.max(0, Math.round((ended.getTime() - from.getTime()) / 1000));
  const answered = r.answeredAt ? new Date(r.answeredAt) : null;
  return {
    ...r,
    endedAt: ended.toISOString(),
    hangupBy: 'system',
    disposition: answered ? 'answered' : r.disposition === 'voicemail' ? 'voicemail' : 'failed',
    talkSeconds: answered ? seconds(answered) : 0,
    ringSeconds: answered ? r.ringSeconds : seconds(started),
    finalSipStatus: answered ? 200 : (r.finalSipStatus ?? 500),
  };
}
