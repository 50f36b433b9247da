import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';

const RESTART_MS = 1_000;
const WORKER_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), `snippet-worker${path.extname(fileURLToPath(import.meta.url))}`);

export interface SnippetWorkers {
  /** Workers alive now. */
  alive(): number;
  stop(): Promise<void>;
}

/**
 * Forks `count` snippet workers (snippet-worker.ts) that share DNI_PORT: the kernel hands each
 * new connection to one of them (SCHED_NONE: the server's own event loop does not accept for
 * them). A worker that dies is forked again after a second; `stop` ends them with SIGTERM so each
 * writes its sessions and lease history behind first.
 */
export function startSnippetWorkers({ count, logger, env = {} }: { count: number; logger: Logger; env?: Record<string, string> }): SnippetWorkers {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Run from TypeScript sources (npm start runs tsx), a worker loads them the same way.
  cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv: WORKER_ENTRY.endsWith('.ts') ? ['--import', 'tsx'] : [] });
  const workers = new Set<Worker>();
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork(env);
    workers.add(worker);
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      logger.error({ type: 'snippet_worker_exited', code, signal, pid: worker.process.pid }, 'a snippet worker died; starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, RESTART_MS).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();
  return {
    alive: () => [...workers].filter((w) => !w.isDead()).length,
    async stop() {
      stopping = true;
      await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              worker.once('exit', () => resolve());
              worker.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
