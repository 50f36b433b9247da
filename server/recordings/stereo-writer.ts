import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

function wavHeader(frames: number, sampleRate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + frames * 4, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(frames * 4, 40);
  return h;
}

/** Interleaves frames [from, to) of two mono channels into 16-bit little-endian stereo PCM. */
function interleave(left: Int16Array, right: Int16Array, from: number, to: number): Buffer {
  const out = Buffer.alloc((to - from) * 4);
  for (let i = from, o = 0; i < to; i++, o += 4) {
    out.writeInt16LE(left[i] ?? 0, o);
    out.writeInt16LE(right[i] ?? 0, o + 2);
  }
  return out;
}

/** Interleaves two mono channels into a 16-bit PCM stereo WAV (left = caller, right = agent). */
export function stereoWav(left: Int16Array, right: Int16Array, sampleRate = 8000): Buffer {
  const frames = Math.max(left.length, right.length);
  return Buffer.concat([wavHeader(frames, sampleRate), interleave(left, right, 0, frames)]);
}

/** Same as stereoWav, written to `file` in 1 MB pieces: an hour-long call is a 115 MB WAV. */
export async function writeStereoWav(file: string, left: Int16Array, right: Int16Array, sampleRate = 8000): Promise<void> {
  const frames = Math.max(left.length, right.length);
  const fh = await fs.open(file, 'w');
  try {
    await fh.write(wavHeader(frames, sampleRate));
    for (let from = 0; from < frames; from += 262_144) await fh.write(interleave(left, right, from, Math.min(frames, from + 262_144)));
  } finally {
    await fh.close();
  }
}

/**
 * Encodes the WAV as MP3 (libmp3lame, 2 channels kept, 32 kbit/s: plenty for 8 kHz telephone audio)
 * for browsers; every browser's <audio> plays MP3, which Safari does not promise for Ogg/Opus.
 */
export async function encodeMp3(wavPath: string, mp3Path: string): Promise<void> {
  await execFileAsync('ffmpeg', ['-nostdin', '-y', '-loglevel', 'error', '-i', wavPath, '-ac', '2', '-codec:a', 'libmp3lame', '-b:a', '32k', mp3Path], {
    timeout: 120_000,
  });
  const stat = await fs.stat(mp3Path);
  if (stat.size === 0) throw new Error(`ffmpeg wrote an empty ${mp3Path}`);
}
