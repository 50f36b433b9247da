/**
 * rtpengine sends every DTMF event to ONE UDP address (--dtmf-log-dest). Test files run in
 * parallel (and other engineers' suites too), and only one socket can receive those datagrams,
 * so tests that need digits take this machine-wide lock for as long as they listen.
 *
 * @example
 *   const dtmf = await acquireDtmfListener(h);   // waits while another test file holds it
 *   const server = await startCallServer(h, { dtmf });
 *   afterAll(() => dtmf.close());                // releases the lock
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DtmfListener, startDtmfListener } from '../../server/media/dtmf-listener.js';
import type { Harness } from './harness.js';

const LOCK_DIR = path.join(os.tmpdir(), 'calltrack-dtmf-port.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tryLock(): boolean {
  try {
    fs.mkdirSync(LOCK_DIR);
    fs.writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
    return true;
  } catch {
    // Held: steal it only from a process that no longer exists (a crashed test run).
    const pid = Number(fs.readFileSync(path.join(LOCK_DIR, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
    if (pid > 0 && !alive(pid)) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    return false;
  }
}

/** Binds the rtpengine DTMF log address under the lock; `close()` releases both. */
export async function acquireDtmfListener(h: Harness, waitMs = 120_000): Promise<DtmfListener> {
  const deadline = Date.now() + waitMs;
  while (!tryLock()) {
    if (Date.now() > deadline) throw new Error(`DTMF port lock ${LOCK_DIR} still held after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const release = () => fs.rmSync(LOCK_DIR, { recursive: true, force: true });
  try {
    const listener = await startDtmfListener(h.config.rtpengine.dtmfLog, h.logger);
    return {
      subscribe: listener.subscribe,
      async close() {
        await listener.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
