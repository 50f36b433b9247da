import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { readUdpPackets } from './pcap-reader.js';
import { parseRtp, renderStream, stereoWav } from './rtp-streams.js';

const execFileAsync = promisify(execFile);

export interface ConvertedRecording { wavPath: string; compressedPath: string; durationSeconds: number; channels: 2 }

/**
 * rtpengine's pcap of one call → stereo WAV (caller left, agent right) + MP3 for browsers.
 * Streams are told apart by the rtpengine port they arrived on: `callerSidePort` is the port
 * rtpengine gave the caller (its answer SDP). Without it the first stream seen is the caller's.
 */
export async function convertRecording(o: { pcapPath: string; outputDir: string; baseName: string; callerSidePort?: number | undefined }): Promise<ConvertedRecording> {
  const udp = readUdpPackets(await fs.readFile(o.pcapPath));
  const rtp = udp.map((u) => ({ u, r: parseRtp(u) })).filter((x) => x.r !== undefined);
  if (rtp.length === 0) throw new Error('the capture holds no RTP');
  const ports = [...new Set(rtp.map((x) => x.u.dstPort))];
  const callerPort = o.callerSidePort !== undefined && ports.includes(o.callerSidePort) ? o.callerSidePort : ports[0]!;
  const origin = Math.min(...rtp.map((x) => x.u.timeMs));
  const left = renderStream(rtp.filter((x) => x.u.dstPort === callerPort).map((x) => x.r!), origin);
  const right = renderStream(rtp.filter((x) => x.u.dstPort !== callerPort).map((x) => x.r!), origin);
  await fs.mkdir(o.outputDir, { recursive: true });
  const wavPath = path.join(o.outputDir, `${o.baseName}.wav`);
  const compressedPath = path.join(o.outputDir, `${o.baseName}.mp3`);
  await fs.writeFile(wavPath, stereoWav(left, right));
  await execFileAsync('ffmpeg', ['-y', '-loglevel', 'error', '-i', wavPath, '-ac', '2', '-codec:a', 'libmp3lame', '-b:a', '32k', compressedPath], { timeout: 60_000 });
  return { wavPath, compressedPath, durationSeconds: Math.max(left.length, right.length) / 8000, channels: 2 };
}

/** The caller-facing port from rtpengine's metadata file: the m= line of the SDP it gave the caller ("SDP mode: answer"). */
export function callerSidePortFromMetadata(metadata: string): number | undefined {
  const blocks = metadata.split(/SDP mode: /).slice(1);
  const answers = blocks.filter((b) => b.startsWith('answer'));
  const last = answers[answers.length - 1];
  const m = last && /^m=audio (\d+)/m.exec(last);
  return m ? Number(m[1]) : undefined;
}
