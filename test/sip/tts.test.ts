// Whisper synthesis (espeak-ng + sox): 8 kHz mono, cached by text, one synthesis for concurrent asks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { speakToFile } from '../../server/media/tts.js';
import { readWav } from '../helpers/wav.js';

describe(speakToFile.name, () => {
  it('writes an 8 kHz mono WAV once per text, shared by concurrent callers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tts-'));
    const [a, b] = await Promise.all([speakToFile('Sales line', dir), speakToFile('Sales line', dir)]);
    expect(a).toBe(b);
    const wav = readWav(a);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.channels).toHaveLength(1);
    // About a second of speech, and not silence.
    expect(wav.channels[0]!.length / 8000).toBeGreaterThan(0.5);
    expect(Math.max(...wav.channels[0]!.map(Math.abs))).toBeGreaterThan(1000);
    // Only the cached file is left: no temporaries.
    expect(fs.readdirSync(dir)).toEqual([path.basename(a)]);
    const other = await speakToFile('-rf is text, not an option', dir);
    expect(other).not.toBe(a);
    expect(fs.readdirSync(dir)).toHaveLength(2);
  });
});
