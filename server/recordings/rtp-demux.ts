import { decoderFor } from './g711.js';
import type { UdpPacket } from './pcap-reader.js';

export interface RtpPacket {
  timeMs: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  marker: boolean;
  payload: Buffer;
}

/** One RTP stream as rtpengine received it: one SSRC from one source address to one rtpengine port. */
export interface RtpStream {
  key: string;
  ssrc: number;
  srcIp: string;
  srcPort: number;
  dstPort: number;
  /** Capture time of the stream's first packet (ms since the epoch). */
  firstSeenMs: number;
  packets: RtpPacket[];
}

/** Where the caller's media comes from, to tell the caller's stream from the agent's. */
export interface CallerHint {
  /** The caller's media address as rtpengine saw it (the source of the caller's packets). */
  callerAddress?: { ip: string; port: number } | undefined;
  /** The rtpengine port the caller sends to (the m= port of rtpengine's answer SDP in its metadata). */
  callerSidePort?: number | undefined;
}

export function parseRtp(udp: UdpPacket): RtpPacket | undefined {
  const b = udp.payload;
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  // RTCP shares the version bits; its packet types 200-204 would read as RTP PT 72-76 (RFC 5761).
  const pt = b[1]! & 0x7f;
  if (pt >= 72 && pt <= 76) return undefined;
  let offset = 12 + (b[0]! & 0x0f) * 4;
  if (b[0]! & 0x10) {
    if (b.length < offset + 4) return undefined;
    offset += 4 + b.readUInt16BE(offset + 2) * 4;
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (offset > end) return undefined;
  return {
    timeMs: udp.timeMs,
    seq: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payloadType: pt,
    marker: (b[1]! & 0x80) !== 0,
    payload: b.subarray(offset, end),
  };
}

/** Groups the capture's RTP into streams by SSRC + source address + rtpengine port, in order of first appearance. */
export function groupRtp(udp: UdpPacket[]): RtpStream[] {
  const streams = new Map<string, RtpStream>();
  for (const u of udp) {
    const p = parseRtp(u);
    if (!p) continue;
    const key = `${p.ssrc}|${u.srcIp}:${u.srcPort}|${u.dstPort}`;
    let s = streams.get(key);
    if (!s) {
      s = { key, ssrc: p.ssrc, srcIp: u.srcIp, srcPort: u.srcPort, dstPort: u.dstPort, firstSeenMs: p.timeMs, packets: [] };
      streams.set(key, s);
    }
    s.packets.push(p);
  }
  return [...streams.values()];
}

/** The streams that carry G.711 audio (streams of only telephone-event or comfort noise are dropped). */
export function demuxRtp(udp: UdpPacket[]): RtpStream[] {
  return groupRtp(udp).filter(hasG711);
}

export function hasG711(s: RtpStream): boolean {
  return s.packets.some((p) => decoderFor(p.payloadType) !== undefined);
}

/**
 * Payload types that look like audio we cannot decode (G.722, Opus… from a caller rtpengine
 * transcodes for): not G.711, not comfort noise (13), and longer than an RFC 4733 event (4 bytes).
 * Their time stays silent in the recording; the caller of this logs it.
 */
export function undecodedAudioTypes(streams: RtpStream[]): number[] {
  const types = new Set<number>();
  for (const s of streams)
    for (const p of s.packets) {
      if (decoderFor(p.payloadType) === undefined && p.payloadType !== 13 && p.payload.length > 4) types.add(p.payloadType);
    }
  return [...types].sort((a, b) => a - b);
}

/**
 * Splits streams into the caller's and the agent's. The caller is, in order of preference: the
 * stream coming from `callerAddress`; the streams sent to `callerSidePort`; otherwise the stream
 * seen first (the caller usually speaks first: early media and ringback flow agent → caller only
 * through rtpengine's answer, which comes later). A hint that matches nothing falls through.
 */
export function splitCallerAgent(
  streams: RtpStream[],
  hint: CallerHint = {},
): { caller: RtpStream[]; agent: RtpStream[]; method: 'address' | 'port' | 'first-seen' } {
  const byAddress = hint.callerAddress ? streams.filter((s) => s.srcIp === hint.callerAddress!.ip && s.srcPort === hint.callerAddress!.port) : [];
  if (byAddress.length > 0) {
    // The caller's other streams (a new SSRC after a re-INVITE) arrive on the same rtpengine port.
    const ports = new Set(byAddress.map((s) => s.dstPort));
    return { caller: streams.filter((s) => ports.has(s.dstPort)), agent: streams.filter((s) => !ports.has(s.dstPort)), method: 'address' };
  }
  if (hint.callerSidePort !== undefined && streams.some((s) => s.dstPort === hint.callerSidePort)) {
    return {
      caller: streams.filter((s) => s.dstPort === hint.callerSidePort),
      agent: streams.filter((s) => s.dstPort !== hint.callerSidePort),
      method: 'port',
    };
  }
  const first = [...streams].sort((a, b) => a.firstSeenMs - b.firstSeenMs)[0];
  if (!first) return { caller: [], agent: [], method: 'first-seen' };
  return { caller: streams.filter((s) => s.dstPort === first.dstPort), agent: streams.filter((s) => s.dstPort !== first.dstPort), method: 'first-seen' };
}

// When RTP time and capture time disagree by more than this, the sender jumped its timestamps
// (hold/resume, a media server switching sources): start a new segment anchored on the wall clock.
const RESYNC_SAMPLES = 8000;

/**
 * Renders streams into one 8 kHz channel on a timeline starting at `originMs` (wall clock).
 * Per stream: packets are ordered by extended sequence number (wrap-aware; duplicates dropped),
 * placed by extended RTP timestamp (wrap-aware), lost packets stay silent. Each stream (and each
 * segment after a timestamp jump) is anchored by the least-delayed packet: min(arrival − RTP offset),
 * so jitter on the first packet does not shift the whole stream. Overlapping streams are mixed.
 */
export function renderChannel(streams: RtpStream[], originMs: number, rate = 8000): Int16Array {
  // Two passes: place every packet, then decode straight into the output (no per-packet buffers:
  // an hour-long call is 180 000 packets per side).
  const placed: Array<{ at: number; p: RtpPacket }> = [];
  let total = 0;
  for (const stream of streams) {
    for (const segment of segments(orderedPackets(stream.packets), rate)) {
      const base = Math.round(((segmentStartMs(segment, rate) - originMs) * rate) / 1000) - segment[0]!.ts;
      for (const { p, ts } of segment) {
        placed.push({ at: base + ts, p });
        total = Math.max(total, base + ts + p.payload.length);
      }
    }
  }
  const out = new Int16Array(total);
  const mixing = streams.length > 1;
  for (const { at, p } of placed) {
    const table = decoderFor(p.payloadType)!;
    const payload = p.payload;
    // Samples before the origin (a caller passing an origin later than the stream) are cut, not shifted.
    for (let i = Math.max(0, -at); i < payload.length; i++) {
      const s = table[payload[i]!]!;
      out[at + i] = mixing ? Math.max(-32768, Math.min(32767, out[at + i]! + s)) : s;
    }
  }
  return out;
}

/**
 * When the streams' audio began on the wall clock: the earliest segment start, each estimated from
 * its least-delayed packet. The capture time of the very first packet is no good origin: when that
 * one packet was delayed (seen here once on a loaded machine: ~180 ms), every stream that is
 * anchored correctly would start before it, and the channels would drift apart by that delay.
 */
export function streamsStartMs(streams: RtpStream[], rate = 8000): number {
  let start = Infinity;
  for (const stream of streams) for (const segment of segments(orderedPackets(stream.packets), rate)) start = Math.min(start, segmentStartMs(segment, rate));
  return start;
}

/** min(arrival − RTP offset): the arrival time the segment's first sample would have had without network delay. */
function segmentStartMs(segment: Placed[], rate: number): number {
  let start = Infinity;
  for (const x of segment) start = Math.min(start, x.p.timeMs - ((x.ts - segment[0]!.ts) * 1000) / rate);
  return start;
}

interface Placed {
  p: RtpPacket;
  seq: number;
  ts: number;
}

/** Audio packets sorted by extended sequence number, each with an extended (unwrapped) timestamp. */
function orderedPackets(packets: RtpPacket[]): Placed[] {
  const audio = packets.filter((p) => decoderFor(p.payloadType) !== undefined);
  if (audio.length === 0) return [];
  // Extended numbers: the signed 16-bit distance from the highest seen so far, so both a wrap
  // (65535 → 0) and a late packet from before the wrap land where they belong.
  let highest = audio[0]!.seq;
  let highestTs = audio[0]!.timestamp;
  const seen = new Set<number>();
  const placed: Placed[] = [];
  for (const p of audio) {
    const seq = highest + (((p.seq - (highest & 0xffff)) << 16) >> 16);
    const ts = highestTs + ((p.timestamp - (highestTs >>> 0)) | 0);
    if (seen.has(seq)) continue; // a duplicate (retransmission, or a packet captured twice)
    seen.add(seq);
    if (seq > highest) {
      highest = seq;
      highestTs = ts;
    }
    placed.push({ p, seq, ts });
  }
  return placed.sort((a, b) => a.seq - b.seq);
}

function segments(placed: Placed[], rate: number): Placed[][] {
  const out: Placed[][] = [];
  let current: Placed[] = [];
  for (const x of placed) {
    const prev = current[current.length - 1];
    if (prev) {
      const byTs = x.ts - prev.ts;
      const byClock = ((x.p.timeMs - prev.p.timeMs) * rate) / 1000;
      if (Math.abs(byTs - byClock) > RESYNC_SAMPLES) {
        out.push(current);
        current = [];
      }
    }
    current.push(x);
  }
  if (current.length > 0) out.push(current);
  return out;
}
