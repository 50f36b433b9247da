import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/**
 * Runs `work` under the V8 CPU profiler of this thread when `dir` is set, and writes the profile
 * there as `<name>-<time>.cpuprofile` (open it in Chrome DevTools or speedscope). Returns the
 * work's result and the file written (undefined without `dir`).
 */
export async function profiled<T>(dir: string | undefined, name: string, work: () => Promise<T>): Promise<{ result: T; file: string | undefined }> {
  if (!dir) return { result: await work(), file: undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const stop = async (): Promise<string> => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}-${Date.now()}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    process.stdout.write(`CPU profile of ${name}: ${file}\n`);
    return file;
  };
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await stop();
    throw err;
  }
  return { result, file: await stop() };
}
