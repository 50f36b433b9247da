import fs from 'node:fs';

/** Reads a 16-bit PCM WAV into one Int16Array per channel. */
export function readWav(file: string): { sampleRate: number; channels: Int16Array[] } {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let offset = 12;
  let channelCount = 0;
  let sampleRate = 0;
  while (offset + 8 <= b.length) {
    const id = b.toString('ascii', offset, offset + 4);
    const size = b.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channelCount = b.readUInt16LE(offset + 10);
      sampleRate = b.readUInt32LE(offset + 12);
    } else if (id === 'data') {
      const frames = Math.floor(size / (2 * channelCount));
      const channels = Array.from({ length: channelCount }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) for (let c = 0; c < channelCount; c++) channels[c]![i] = b.readInt16LE(offset + 8 + (i * channelCount + c) * 2);
      return { sampleRate, channels };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}
