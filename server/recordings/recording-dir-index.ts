import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * The files of one rtpengine recording directory by call id, kept current by inotify (fs.watch)
 * after one listing. rtpengine names files `<call-id>-<16 random hex>`, so finding a call's files
 * otherwise means listing the directory; with the files that failed conversions keep (thousands in
 * a year, 174,000 after a few days of benches here) a listing per call and poll took the event loop
 * the SIP stack runs on: calls timed out. A lookup here is a map read.
 */
export interface RecordingDirIndex {
  /** The names in the directory that belong to `callId`, as far as the index knows (check they still exist). */
  names(callId: string): Promise<string[]>;
  /** A file went (we deleted it, or found it missing). */
  forget(name: string): void;
  close(): void;
}

export function createRecordingDirIndex(dir: string, callIdOf: (name: string) => string | undefined): RecordingDirIndex {
  const byCall = new Map<string, Set<string>>();
  let watcher: fs.FSWatcher | undefined;
  let seeded: Promise<boolean> | undefined;

  const forget = (name: string) => {
    const callId = callIdOf(name);
    if (callId === undefined) return;
    const set = byCall.get(callId);
    set?.delete(name);
    if (set?.size === 0) byCall.delete(callId);
  };
  const add = (name: string) => {
    const callId = callIdOf(name);
    if (callId === undefined) return;
    const set = byCall.get(callId) ?? new Set<string>();
    set.add(name);
    byCall.set(callId, set);
  };

  /** Watch first, then list, so nothing created in between is missed. False while the directory does not exist yet. */
  async function seed(): Promise<boolean> {
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (!name) return;
        const file = name.toString();
        // 'rename' is both a file arriving and one going (converted calls' files are deleted): look.
        add(file);
        fsp.access(path.join(dir, file)).catch(() => forget(file));
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
        seeded = undefined; // the next lookup starts over (directory removed and made again)
      });
    } catch {
      return false;
    }
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) add(name);
    return true;
  }

  return {
    async names(callId) {
      seeded ??= seed();
      if (!(await seeded)) {
        seeded = undefined;
        return [];
      }
      return [...(byCall.get(callId) ?? [])];
    },
    forget,
    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
}
