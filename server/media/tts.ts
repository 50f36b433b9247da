import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const inFlight = new Map<string, Promise<string>>();

/**
 * Speaks `text` into an 8 kHz mono WAV (espeak-ng, then sox), cached by content under `cacheDir`,
 * for rtpengine `play media` (whispers). 8 kHz is what the call carries, so rtpengine does not
 * resample on every play. The file appears atomically (rename), so a call never plays a
 * half-written whisper another call is still producing; concurrent requests share one synthesis.
 */
export function speakToFile(text: string, cacheDir: string): Promise<string> {
  const file = path.join(cacheDir, `${crypto.createHash('sha1').update(text).digest('hex')}.wav`);
  if (fs.existsSync(file)) return Promise.resolve(file);
  let pending = inFlight.get(file);
  if (!pending) {
    pending = synthesize(text, file).finally(() => inFlight.delete(file));
    inFlight.set(file, pending);
  }
  return pending;
}

async function synthesize(text: string, file: string): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  try {
    // `--` so a whisper starting with "-" is text, never an option.
    await run('espeak-ng', ['-w', `${raw}.wav`, '--', text], { timeout: 5_000 });
    await run('sox', [`${raw}.wav`, '-r', '8000', '-c', '1', '-b', '16', `${raw}.8k.wav`], { timeout: 5_000 });
    fs.renameSync(`${raw}.8k.wav`, file);
    return file;
  } finally {
    fs.rmSync(`${raw}.wav`, { force: true });
    fs.rmSync(`${raw}.8k.wav`, { force: true });
  }
}
