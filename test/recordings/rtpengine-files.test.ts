import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRange } from '../../server/recordings/http-range.js';
import { locateRtpengineRecording, parseRtpengineMetadata } from '../../server/recordings/rtpengine-files.js';
import { stereoWav } from '../../server/recordings/stereo-writer.js';
import { dominantToneWindows, goertzelPower } from '../helpers/goertzel.js';
import { readWav } from '../helpers/wav.js';
import { tone } from './synthetic.js';

// A metadata file as rtpengine wrote it here (shape measured in rtpengine-recording.test.ts).
const sample = (dir: string, id: string, hex: string) => `${dir}/pcaps/${id}-${hex}.pcap


Timestamp started ms: 1795382194312.369
SDP mode: offer
SDP before RTP packet: 1

v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 30702 RTP/AVP 0 8 101
a=rtcp:30703

Timestamp started ms: 1795382194312.373
SDP mode: answer
SDP before RTP packet: 1

v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 30720 RTP/AVP 0 8 101
a=rtcp:30721

Timestamp terminated ms(first monologue): 1795382194618.853

call start time: 2026-11-22T21:16:34
call end time: 2026-11-22T21:16:34


callid:${id}|x=y
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtpengine-files-'));
fs.mkdirSync(path.join(dir, 'pcaps'));
fs.mkdirSync(path.join(dir, 'metadata'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parseRtpengineMetadata', () => {
  it('reads the pcap path, the SDP blocks, our metadata string and the caller-facing port', () => {
    expect(parseRtpengineMetadata(sample('/r', 'abc', '0123456789abcdef'))).toEqual({
      pcapPath: '/r/pcaps/abc-0123456789abcdef.pcap',
      sdps: [
        { mode: 'offer', mediaPort: 30702 },
        { mode: 'answer', mediaPort: 30720 },
      ],
      userMetadata: 'callid:abc|x=y',
      callerSidePort: 30720,
    });
  });

  it('keeps the caller-facing port after a re-INVITE from the agent (blocks in the other direction)', () => {
    // Measured: a re-offer from the agent is sent to the caller (30720) and its answer to the agent (30702).
    const reinvite = sample('/r', 'abc', '0123456789abcdef').replace(
      'Timestamp terminated',
      'SDP mode: offer\n\nm=audio 30720 RTP/AVP 0\n\nSDP mode: answer\n\nm=audio 30702 RTP/AVP 0\n\nTimestamp terminated',
    );
    const parsed = parseRtpengineMetadata(reinvite);
    expect(parsed.sdps.map((x) => `${x.mode}:${x.mediaPort}`)).toEqual(['offer:30702', 'answer:30720', 'offer:30720', 'answer:30702']);
    expect(parsed.callerSidePort).toBe(30720);
  });
});

describe('locateRtpengineRecording', () => {
  it('waits for the metadata file that rtpengine writes after delete', async () => {
    const id = 'c1b2';
    const hex = 'aaaaaaaaaaaaaaaa';
    fs.writeFileSync(path.join(dir, 'pcaps', `${id}-${hex}.pcap`), 'x');
    fs.writeFileSync(path.join(dir, 'pcaps', `${id}x-${hex}.pcap`), 'x'); // another call whose id starts alike
    setTimeout(() => fs.writeFileSync(path.join(dir, 'metadata', `rtpengine-meta-${id}-${hex}.txt`), sample(dir, id, hex)), 150);
    const started = Date.now();
    const found = await locateRtpengineRecording({ dir, callId: id, waitMs: 3000, pollMs: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(found).toMatchObject({
      pcapPath: path.join(dir, 'pcaps', `${id}-${hex}.pcap`),
      metadataPath: path.join(dir, 'metadata', `rtpengine-meta-${id}-${hex}.txt`),
    });
    expect(found?.metadata?.userMetadata).toBe(`callid:${id}|x=y`);
  });

  it('falls back to the pcap alone after the wait, and to nothing without a pcap', async () => {
    fs.writeFileSync(path.join(dir, 'pcaps', 'lonely-bbbbbbbbbbbbbbbb.pcap'), 'x');
    expect(await locateRtpengineRecording({ dir, callId: 'lonely', waitMs: 50 })).toEqual({
      pcapPath: path.join(dir, 'pcaps', 'lonely-bbbbbbbbbbbbbbbb.pcap'),
    });
    expect(await locateRtpengineRecording({ dir, callId: 'c1b', waitMs: 30 })).toBeUndefined();
    expect(await locateRtpengineRecording({ dir: path.join(dir, 'nowhere'), callId: 'x', waitMs: 0 })).toBeUndefined();
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=10-', { start: 10, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=990-5000', { start: 990, end: 999 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=0-1,4-5', undefined],
    ['bytes=5-1', undefined],
    ['lines=1-2', undefined],
    ['bytes=-', undefined],
  ] as const)('%s of 1000 bytes → %o', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});

describe('stereoWav + readWav + Goertzel helpers', () => {
  it('round-trips two channels and finds each tone in its channel', () => {
    const left = tone(1000, 0, 8000);
    const right = tone(440, 0, 4000); // shorter: padded with silence
    const file = path.join(dir, 'x.wav');
    fs.writeFileSync(file, stereoWav(left, right));
    const wav = readWav(file);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.channels.map((c) => c.length)).toEqual([8000, 8000]);
    expect(wav.channels[0]).toEqual(left);
    expect(wav.channels[1]!.subarray(0, 4000)).toEqual(right);
    expect(dominantToneWindows(wav.channels[0]!, 8000, [1000, 440]).every((f) => f === 1000)).toBe(true);
    expect(dominantToneWindows(wav.channels[1]!, 8000, [1000, 440])).toEqual([...Array(5).fill(440), ...Array(5).fill(null)]);
  });

  it('accepts Float32Array samples', () => {
    const f = Float32Array.from(tone(440, 0, 800), (s) => s / 32768);
    expect(goertzelPower(f, 8000, 440)).toBeGreaterThan(1000 * goertzelPower(f, 8000, 1000));
    expect(dominantToneWindows(f, 8000, [1000, 440], 100, 1e-3)).toEqual([440]);
  });
});

describe('writeStereoWav', () => {
  it('writes the same bytes as stereoWav, across several 1 MB pieces', async () => {
    const { writeStereoWav } = await import('../../server/recordings/stereo-writer.js');
    const left = tone(1000, 0, 600_000);
    const right = tone(440, 0, 500_000);
    const file = path.join(dir, 'big.wav');
    await writeStereoWav(file, left, right);
    expect(fs.readFileSync(file).equals(stereoWav(left, right))).toBe(true);
  });
});
