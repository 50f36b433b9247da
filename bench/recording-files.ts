import fs from 'node:fs';
import path from 'node:path';
import { recordingCallIdOf } from '../server/recordings/rtpengine-files.js';

/**
 * Deletes the pcaps and metadata rtpengine wrote for a bench's calls (`ours` picks them by call id
 * or by when the file was written). rtpengine finishes a call's files after `delete`, so this sweeps
 * until a few rounds in a row find nothing. Benches leave nothing behind: a recording directory
 * that grew to 174,000 files slowed every lookup in it.
 */
export async function removeBenchRecordings(dir: string, ours: (file: { callId: string; mtimeMs: number }) => boolean): Promise<number> {
  let total = 0;
  const sweep = (): number => {
    let removed = 0;
    for (const sub of ['pcaps', 'metadata']) {
      const folder = path.join(dir, sub);
      if (!fs.existsSync(folder)) continue;
      for (const name of fs.readdirSync(folder)) {
        const callId = recordingCallIdOf(name);
        const file = path.join(folder, name);
        const mtimeMs = callId ? fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs : undefined;
        if (!callId || mtimeMs === undefined || !ours({ callId, mtimeMs })) continue;
        fs.rmSync(file, { force: true });
        removed++;
      }
    }
    return removed;
  };
  let quietRounds = 0;
  for (let round = 0; round < 30 && quietRounds < 3; round++) {
    const removed = sweep();
    total += removed;
    quietRounds = removed === 0 ? quietRounds + 1 : 0;
    await new Promise((r) => setTimeout(r, 500));
  }
  return total;
}
