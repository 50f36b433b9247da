// Runs bcrypt off the main thread (plain JS: worker threads load it without the TypeScript loader).
// Messages: { id, op: 'hash', password, rounds } → { id, result: hash }; { id, op: 'verify', password, hash } → { id, result: boolean }.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

parentPort.on('message', (job) => {
  try {
    const result = job.op === 'hash' ? bcrypt.hashSync(job.password, job.rounds) : bcrypt.compareSync(job.password, job.hash);
    parentPort.postMessage({ id: job.id, result });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
