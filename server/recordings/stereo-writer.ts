import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Interleaves two mono channels into a 16-bit PCM stereo WAV (left = caller, right = agent). */
export function stereoWav(left: Int16Array, right: Int16Array, sampleRate = 8000): Buffer {
  const frames = Math.max(left.length, right.length);
  const out = Buffer.alloc(44 + frames * 4);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + frames * 4, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(2, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 4, 28);
  out.writeUInt16LE(4, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(frames * 4, 40);
  // Little-endian hosts only (x86/ARM Linux), like every Node target we run on: copy as int16.
  const pcm = new Int16Array(out.buffer, out.byteOffset + 44, frames * 2);
  for (let i = 0; i < frames; i++) {
    pcm[2 * i] = left[i] ?? 0;
    pcm[2 * i + 1] = right[i] ?? 0;
  }
  return out;
}

/**
 * Encodes the WAV as MP3 (libmp3lame, 2 channels kept, 32 kbit/s: plenty for 8 kHz telephone audio)
 * for browsers; every browser's <audio> plays MP3, which Safari does not promise for Ogg/Opus.
 */
export async function encodeMp3(wavPath: string, mp3Path: string): Promise<void> {
  await execFileAsync('ffmpeg', ['-nostdin', '-y', '-loglevel', 'error', '-i', wavPath, '-ac', '2', '-codec:a', 'libmp3lame', '-b:a', '32k', mp3Path], { timeout: 120_000 });
  const stat = await fs.stat(mp3Path);
  if (stat.size === 0) throw new Error(`ffmpeg wrote an empty ${mp3Path}`);
}
