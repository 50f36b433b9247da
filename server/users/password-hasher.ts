import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** bcrypt hashing and checking, off the event loop that also carries SIP. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  close(): Promise<void>;
}

type Job = { op: 'hash'; password: string; rounds: number } | { op: 'verify'; password: string; hash: string };
type Reply = { id: number; result?: string | boolean; error?: string };

const WORKER_URL = new URL('./password-worker.mjs', import.meta.url);

/**
 * A small pool of worker threads running bcryptjs. Pure-JS bcrypt at cost 10 takes ~80 ms of CPU;
 * on the main thread a few dozen sign-ins per second would delay SIP retransmissions and media
 * control. Jobs queue here and go to the first idle worker. By default two workers, but always one
 * core left for the main thread (on a 2-core machine two busy workers would starve it just the same).
 *
 * @example const hasher = createPasswordHasher(); await hasher.verify(password, stored);
 */
export function createPasswordHasher({
  workers: size = Math.max(1, Math.min(2, os.availableParallelism() - 1)),
  rounds = 10,
}: {
  workers?: number;
  rounds?: number;
} = {}): PasswordHasher {
  interface Slot {
    worker: Worker;
    busy: { id: number; resolve: (value: string | boolean) => void; reject: (err: Error) => void } | undefined;
  }
  const queue: Array<{ job: Job; resolve: (value: string | boolean) => void; reject: (err: Error) => void }> = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_URL), busy: undefined };
    // Idle workers must not keep the process (or a test run) alive.
    slot.worker.unref();
    slot.worker.on('message', (reply: Reply) => {
      const busy = slot.busy;
      slot.busy = undefined;
      slot.worker.unref();
      if (busy && busy.id === reply.id) {
        if (reply.error !== undefined) busy.reject(new Error(`password hashing failed: ${reply.error}`));
        else busy.resolve(reply.result!);
      }
      pump();
    });
    slot.worker.on('error', (err) => {
      slot.busy?.reject(err);
      slot.busy = undefined;
      // A crashed worker is replaced so the pool keeps its size.
      const i = slots.indexOf(slot);
      if (i >= 0 && !closed) slots[i] = spawn();
      pump();
    });
    return slot;
  }
  for (let i = 0; i < Math.max(1, size); i++) slots.push(spawn());

  function pump(): void {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.busy) continue;
      const next = queue.shift()!;
      const id = nextId++;
      slot.busy = { id, resolve: next.resolve, reject: next.reject };
      // Referenced while working: a pending sign-in keeps the process alive until it answers.
      slot.worker.ref();
      slot.worker.postMessage({ id, ...next.job });
    }
  }

  function run(job: Job): Promise<string | boolean> {
    if (closed) return Promise.reject(new Error('password hasher closed'));
    return new Promise((resolve, reject) => {
      queue.push({ job, resolve, reject });
      pump();
    });
  }

  return {
    hash: async (password) => String(await run({ op: 'hash', password, rounds })),
    verify: async (password, hash) => (await run({ op: 'verify', password, hash })) === true,
    async close() {
      closed = true;
      for (const item of queue.splice(0)) item.reject(new Error('password hasher closed'));
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
