import { decoderFor } from './g711.js';
import type { UdpPacket } from './pcap-reader.js';

export interface RtpPacket { timeMs: number; seq: number; timestamp: number; ssrc: number; payloadType: number; payload: Buffer }

export function parseRtp(udp: UdpPacket): RtpPacket | undefined {
  const b = udp.payload;
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  const csrcCount = b[0]! & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (b[0]! & 0x10) {
    if (b.length < offset + 4) return undefined;
    offset += 4 + b.readUInt16BE(offset + 2) * 4;
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (offset > end) return undefined;
  return { timeMs: udp.timeMs, seq: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payloadType: b[1]! & 0x7f, payload: b.subarray(offset, end) };
}

/**
 * Turns one direction's RTP into 8 kHz PCM placed on a timeline starting at `originMs`: packets are
 * reordered by sequence number (wrap-aware), placed by RTP timestamp, gaps stay silent. A new
 * SSRC (re-INVITE, transfer) is anchored again by its arrival time.
 */
export function renderStream(packets: RtpPacket[], originMs: number): Int16Array {
  const audio = packets.filter((p) => decoderFor(p.payloadType) !== undefined);
  const bySsrc = new Map<number, RtpPacket[]>();
  for (const p of audio) bySsrc.set(p.ssrc, [...(bySsrc.get(p.ssrc) ?? []), p]);
  const pieces: Array<{ at: number; samples: Int16Array }> = [];
  let total = 0;
  for (const group of bySsrc.values()) {
    // Extended sequence numbers: each packet's signed distance from the highest seen so far, so a
    // wrap (65535 → 0) and a late packet from before it both land in the right place.
    let highest = group[0]!.seq;
    const extended = group.map((p) => {
      const delta = ((p.seq - (highest & 0xffff) + 0x18000) % 0x10000) - 0x8000;
      const ext = highest + delta;
      highest = Math.max(highest, ext);
      return { p, ext };
    }).sort((a, b) => a.ext - b.ext);
    const first = extended[0]!.p;
    const anchor = Math.max(0, Math.round((first.timeMs - originMs) * 8));
    let tsCycles = 0;
    let prevTs = first.timestamp;
    for (const { p } of extended) {
      if (p.timestamp < prevTs && prevTs - p.timestamp > 0x80000000) tsCycles += 0x100000000;
      prevTs = p.timestamp;
      const at = anchor + (p.timestamp + tsCycles - first.timestamp);
      const table = decoderFor(p.payloadType)!;
      const samples = new Int16Array(p.payload.length);
      for (let i = 0; i < p.payload.length; i++) samples[i] = table[p.payload[i]!]!;
      pieces.push({ at, samples });
      total = Math.max(total, at + samples.length);
    }
  }
  const out = new Int16Array(total);
  for (const piece of pieces) if (piece.at >= 0) out.set(piece.samples.subarray(0, Math.max(0, out.length - piece.at)), piece.at);
  return out;
}

/** Interleaves two mono channels into a 16-bit PCM stereo WAV (left = caller, right = agent). */
export function stereoWav(left: Int16Array, right: Int16Array, sampleRate = 8000): Buffer {
  const frames = Math.max(left.length, right.length);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    data.writeInt16LE(left[i] ?? 0, i * 4);
    data.writeInt16LE(right[i] ?? 0, i * 4 + 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
