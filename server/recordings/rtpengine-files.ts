import fs from 'node:fs/promises';
import path from 'node:path';
import { createRecordingDirIndex, type RecordingDirIndex } from './recording-dir-index.js';

/**
 * rtpengine's files for one recorded call (`--recording-method=pcap`), as measured with
 * rtpengine here (test/recordings/rtpengine-recording.test.ts):
 * - `<dir>/pcaps/<call-id>-<16 hex>.pcap`, written while the call runs, kept after `delete`.
 *   Only packets rtpengine *received* are in it, with their real source address and rtpengine's
 *   local port as destination (raw format: DLT_RAW, fake IPv4/UDP headers).
 * - `<dir>/metadata/rtpengine-meta-<call-id>-<same hex>.txt`, moved there from `<dir>/tmp/` when the
 *   call ends: line 1 the pcap's path; one block per SDP rtpengine *produced* ("SDP mode: offer" = the
 *   SDP it sent to the answerer, "SDP mode: answer" = the SDP it sent to the offerer); start/end
 *   times; last, the `metadata` string given in `offer`.
 */
export interface RtpengineRecordingFiles {
  pcapPath: string;
  metadataPath?: string | undefined;
  metadata?: RtpengineMetadata | undefined;
}

export interface RtpengineMetadata {
  pcapPath: string;
  sdps: Array<{ mode: string; mediaPort?: number | undefined }>;
  /** The `metadata` string passed in the ng `offer`. */
  userMetadata: string;
  /** rtpengine's port the first offerer (the caller) sends to: the m= port of the first answer SDP. */
  callerSidePort?: number | undefined;
}

export function parseRtpengineMetadata(text: string): RtpengineMetadata {
  const lines = text.split('\n');
  const pcapPath = (lines[0] ?? '').trim();
  const sdps = text
    .split(/^SDP mode: /m)
    .slice(1)
    .map((block) => {
      const m = /^m=audio (\d+)/m.exec(block);
      return { mode: block.slice(0, block.indexOf('\n')).trim(), mediaPort: m ? Number(m[1]) : undefined };
    });
  const endAt = text.lastIndexOf('call end time:');
  const userMetadata = endAt < 0 ? '' : text.slice(text.indexOf('\n', endAt) + 1).trim();
  // The FIRST answer: a re-INVITE from the agent adds an offer/answer pair in the other direction,
  // whose answer goes to the agent (measured: ports stay, roles of the blocks flip).
  const firstAnswer = sdps.find((s) => s.mode === 'answer' && s.mediaPort !== undefined);
  return { pcapPath, sdps, userMetadata, callerSidePort: firstAnswer?.mediaPort };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const META_NAME = /^rtpengine-meta-(.+)-[0-9a-f]{16}\.txt$/;
const PCAP_NAME = /^(.+)-[0-9a-f]{16}\.pcap$/;

/** The call a file in rtpengine's `metadata/` or `pcaps/` belongs to, from its name; undefined for any other file. */
export const recordingCallIdOf = (name: string): string | undefined => (META_NAME.exec(name) ?? PCAP_NAME.exec(name))?.[1];

/** One pair of indexes per recording dir, for the life of the process. */
const indexes = new Map<string, { metadata: RecordingDirIndex; pcaps: RecordingDirIndex }>();
function indexesOf(dir: string) {
  let pair = indexes.get(dir);
  if (!pair) {
    pair = {
      metadata: createRecordingDirIndex(path.join(dir, 'metadata'), (n) => META_NAME.exec(n)?.[1]),
      pcaps: createRecordingDirIndex(path.join(dir, 'pcaps'), (n) => PCAP_NAME.exec(n)?.[1]),
    };
    indexes.set(dir, pair);
  }
  return pair;
}

/**
 * Finds a finished call's pcap and metadata in rtpengine's recording dir. rtpengine writes the
 * metadata file right after `delete`, so this polls for it up to `waitMs`; without it (timeout,
 * or rtpengine crashed mid-call) the pcap alone is returned. Undefined when there is no pcap.
 * Files are looked up in an index of the directory (recording-dir-index.ts), not by listing it.
 *
 * @example
 *   const files = await locateRtpengineRecording({ dir: config.rtpengine.recordingDir, callId });
 *   if (files) await convertRecording({ pcapPath: files.pcapPath, callerSidePort: files.metadata?.callerSidePort, … });
 */
export async function locateRtpengineRecording(options: {
  dir: string;
  callId: string;
  waitMs?: number;
  pollMs?: number;
}): Promise<RtpengineRecordingFiles | undefined> {
  const index = indexesOf(options.dir);
  const deadline = Date.now() + (options.waitMs ?? 3000);
  for (;;) {
    const hit = (await index.metadata.names(options.callId)).sort().pop();
    if (hit) {
      const metadataPath = path.join(options.dir, 'metadata', hit);
      const text = await fs.readFile(metadataPath, 'utf8').catch(() => undefined);
      if (text === undefined) index.metadata.forget(hit);
      else {
        const metadata = parseRtpengineMetadata(text);
        const pcapPath = metadata.pcapPath || path.join(options.dir, 'pcaps', `${hit.slice('rtpengine-meta-'.length, -'.txt'.length)}.pcap`);
        if (await exists(pcapPath)) return { pcapPath, metadataPath, metadata };
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(options.pollMs ?? 50);
  }
  const stats = await Promise.all(
    (await index.pcaps.names(options.callId)).map(async (n) => ({ n, t: (await fs.stat(path.join(options.dir, 'pcaps', n)).catch(() => undefined))?.mtimeMs })),
  );
  for (const gone of stats.filter((s) => s.t === undefined)) index.pcaps.forget(gone.n);
  const present = stats.filter((s): s is { n: string; t: number } => s.t !== undefined);
  if (present.length === 0) return undefined;
  // Several pcaps (recording stopped and restarted): the newest is the one still growing.
  return { pcapPath: path.join(options.dir, 'pcaps', present.sort((a, b) => b.t - a.t)[0]!.n) };
}

/** Removes rtpengine's files of one call (once they are converted, or found to hold nothing). */
export async function removeRtpengineRecording(files: RtpengineRecordingFiles): Promise<void> {
  await fs.rm(files.pcapPath, { force: true });
  if (files.metadataPath) await fs.rm(files.metadataPath, { force: true });
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
