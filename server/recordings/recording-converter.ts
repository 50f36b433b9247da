import fs from 'node:fs/promises';
import path from 'node:path';
import { readUdpPackets } from './pcap-reader.js';
import { type CallerHint, groupRtp, hasG711, renderChannel, splitCallerAgent, streamsStartMs, undecodedAudioTypes } from './rtp-demux.js';
import { encodeMp3, writeStereoWav } from './stereo-writer.js';

export interface ConvertedRecording {
  wavPath: string;
  compressedPath: string;
  durationSeconds: number;
  channels: 2;
  /** How the caller's stream was recognised (see splitCallerAgent). */
  callerMatchedBy: 'address' | 'port' | 'first-seen';
  /** Audio payload types found but not decodable (their time is silent): worth a warning. */
  undecodedPayloadTypes: number[];
}

export interface ConvertOptions extends CallerHint {
  pcapPath: string;
  outputDir: string;
  /** File name without extension: `<baseName>.wav` and `<baseName>.mp3` are written. */
  baseName: string;
  /** Remove the pcap once both files are written (default false: callers that must link the result first remove it themselves). */
  deletePcap?: boolean;
}

/**
 * The pcap holds no audio at all: nobody sent RTP on the call (a signalling-only peer, media that
 * never got through). No retry can change that; the call simply has nothing to hear.
 */
export class NoAudioRecorded extends Error {
  override readonly name = 'NoAudioRecorded';
  constructor(pcapPath: string) {
    super(`${pcapPath} holds no RTP`);
  }
}

/**
 * rtpengine's pcap of one call → stereo WAV (caller left, agent right, 8 kHz, 16-bit) + MP3.
 * Both channels share one clock: sample 0 is when the call's first RTP packet was sent (estimated
 * from the least-delayed packets, see streamsStartMs), so a late-answering agent starts later in
 * the right channel, as heard.
 *
 * @example
 *   const r = await convertRecording({ pcapPath, outputDir: '/rec/2026/11/22', baseName: callId, callerAddress: { ip: '203.0.113.5', port: 4000 } });
 *   // r.wavPath = '/rec/2026/11/22/<callId>.wav', r.compressedPath = '…/<callId>.mp3'
 */
export async function convertRecording(options: ConvertOptions): Promise<ConvertedRecording> {
  const all = groupRtp(readUdpPackets(await fs.readFile(options.pcapPath)));
  const streams = all.filter(hasG711);
  const undecodedPayloadTypes = undecodedAudioTypes(all);
  if (streams.length === 0 && undecodedPayloadTypes.length === 0) throw new NoAudioRecorded(options.pcapPath);
  if (streams.length === 0)
    throw new Error(`${options.pcapPath} holds no G.711 RTP${undecodedPayloadTypes.length ? ` (payload types ${undecodedPayloadTypes.join(', ')})` : ''}`);
  const { caller, agent, method } = splitCallerAgent(streams, options);
  const origin = streamsStartMs(streams);
  const left = renderChannel(caller, origin);
  const right = renderChannel(agent, origin);
  await fs.mkdir(options.outputDir, { recursive: true });
  const wavPath = path.join(options.outputDir, `${options.baseName}.wav`);
  const compressedPath = path.join(options.outputDir, `${options.baseName}.mp3`);
  await writeStereoWav(wavPath, left, right);
  await encodeMp3(wavPath, compressedPath);
  if (options.deletePcap) await fs.rm(options.pcapPath, { force: true });
  return { wavPath, compressedPath, durationSeconds: Math.max(left.length, right.length) / 8000, channels: 2, callerMatchedBy: method, undecodedPayloadTypes };
}
