import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where playable recordings live. Local directory today (RECORDINGS_DIR); the interface is what an
 * object store would implement later. Paths stored in `calls` are what `dirFor` produced.
 */
export interface RecordingStorage {
  /** Directory for a call's files: <root>/YYYY/MM/DD by the call's start (UTC). */
  dirFor(startedAt: string | Date): string;
  /** Size in bytes, or undefined when the file is missing. */
  size(file: string): Promise<number | undefined>;
  /** Bytes [start, end] inclusive, or the whole file. */
  read(file: string, range?: { start: number; end: number }): Readable;
  remove(file: string): Promise<void>;
}

export function createLocalRecordingStorage(root: string): RecordingStorage {
  return {
    dirFor(startedAt) {
      const iso = (typeof startedAt === 'string' ? new Date(startedAt) : startedAt).toISOString();
      return path.join(root, iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10));
    },
    async size(file) {
      const st = await fsp.stat(file).catch(() => undefined);
      return st?.isFile() ? st.size : undefined;
    },
    read(file, range) {
      return range ? fs.createReadStream(file, range) : fs.createReadStream(file);
    },
    async remove(file) {
      await fsp.rm(file, { force: true });
    },
  };
}
