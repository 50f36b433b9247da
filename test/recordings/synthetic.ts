/** Builders for synthetic captures: tones, G.711 encoders, RTP packets and pcap files in memory. */

/** Linear 16-bit → µ-law (G.711, with the usual 0x84 bias and 32635 clip). */
export function linearToUlaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  s = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return s;
}

/** Linear 16-bit → A-law (G.711). */
export function linearToAlaw(sample: number): number {
  const sign = sample >= 0 ? 0x80 : 0;
  const s = Math.min(Math.abs(sample), 32767) >> 3;
  let out: number;
  if (s < 32) out = s >> 1;
  else {
    let exponent = 1;
    while (exponent < 7 && s >= 32 << exponent) exponent++;
    out = (exponent << 4) | ((s >> exponent) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

/** `count` samples of a sine at `freq` Hz, continuing at sample index `from` (so packets join seamlessly). */
export function tone(freq: number, from: number, count: number, amplitude = 8000, rate = 8000): Int16Array {
  return Int16Array.from({ length: count }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freq * (from + i)) / rate)));
}

export function rtpPacket(o: {
  seq: number;
  timestamp: number;
  ssrc: number;
  pt?: number;
  marker?: boolean;
  payload: Buffer;
  csrc?: number;
  extensionWords?: number;
  padding?: number;
}): Buffer {
  const csrc = o.csrc ?? 0;
  const ext = o.extensionWords;
  const header = Buffer.alloc(12 + csrc * 4 + (ext !== undefined ? 4 + ext * 4 : 0));
  header[0] = 0x80 | csrc | (ext !== undefined ? 0x10 : 0) | (o.padding ? 0x20 : 0);
  header[1] = (o.pt ?? 0) | (o.marker ? 0x80 : 0);
  header.writeUInt16BE(o.seq & 0xffff, 2);
  header.writeUInt32BE(o.timestamp >>> 0, 4);
  header.writeUInt32BE(o.ssrc >>> 0, 8);
  if (ext !== undefined) header.writeUInt16BE(ext, 12 + csrc * 4 + 2);
  const pad = o.padding ? Buffer.alloc(o.padding, 0) : Buffer.alloc(0);
  if (o.padding) pad[o.padding - 1] = o.padding;
  return Buffer.concat([header, o.payload, pad]);
}

export interface CapturedDatagram {
  timeMs: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  payload: Buffer;
}

function ipv4Udp(d: CapturedDatagram): Buffer {
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + d.payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  d.srcIp.split('.').forEach((o, i) => {
    ip[12 + i] = Number(o);
  });
  d.dstIp.split('.').forEach((o, i) => {
    ip[16 + i] = Number(o);
  });
  ip.writeUInt16BE(d.srcPort, 20);
  ip.writeUInt16BE(d.dstPort, 22);
  ip.writeUInt16BE(8 + d.payload.length, 24);
  return Buffer.concat([ip, d.payload]);
}

/** A classic pcap file. `linkType` 101/12/228 = raw IPv4 (rtpengine's raw format), 1 = Ethernet. */
export function buildPcap(datagrams: CapturedDatagram[], o: { bigEndian?: boolean; nanos?: boolean; linkType?: number; vlan?: boolean } = {}): Buffer {
  const linkType = o.linkType ?? 101;
  const w32 = (b: Buffer, v: number, off: number) => (o.bigEndian ? b.writeUInt32BE(v >>> 0, off) : b.writeUInt32LE(v >>> 0, off));
  const w16 = (b: Buffer, v: number, off: number) => (o.bigEndian ? b.writeUInt16BE(v, off) : b.writeUInt16LE(v, off));
  const header = Buffer.alloc(24);
  w32(header, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(header, 2, 4);
  w16(header, 4, 6);
  w32(header, 65535, 16);
  w32(header, linkType, 20);
  const records = datagrams.map((d) => {
    let frame = ipv4Udp(d);
    if (linkType === 1) {
      const eth = Buffer.alloc(o.vlan ? 18 : 14);
      if (o.vlan) {
        eth.writeUInt16BE(0x8100, 12);
        eth.writeUInt16BE(7, 14);
        eth.writeUInt16BE(0x0800, 16);
      } else eth.writeUInt16BE(0x0800, 12);
      frame = Buffer.concat([eth, frame]);
    }
    const rec = Buffer.alloc(16);
    const sec = Math.floor(d.timeMs / 1000);
    const frac = o.nanos ? Math.round((d.timeMs - sec * 1000) * 1e6) : Math.round((d.timeMs - sec * 1000) * 1e3);
    w32(rec, sec, 0);
    w32(rec, frac, 4);
    w32(rec, frame.length, 8);
    w32(rec, frame.length, 12);
    return Buffer.concat([rec, frame]);
  });
  return Buffer.concat([header, ...records]);
}

export interface ToneStreamOptions {
  freq: number;
  packets: number;
  ssrc: number;
  startMs: number;
  src: { ip: string; port: number };
  dst: { ip: string; port: number };
  firstSeq?: number;
  firstTimestamp?: number;
  pt?: 0 | 8;
  /** Indexes of packets never sent. */
  drop?: Set<number>;
}

/** A 20 ms G.711 stream of one tone, in sending order, captured at send time. */
export function toneStream(o: ToneStreamOptions): CapturedDatagram[] {
  const encode = o.pt === 8 ? linearToAlaw : linearToUlaw;
  const out: CapturedDatagram[] = [];
  for (let i = 0; i < o.packets; i++) {
    if (o.drop?.has(i)) continue;
    const payload = Buffer.from(Array.from(tone(o.freq, i * 160, 160), encode));
    out.push({
      timeMs: o.startMs + i * 20,
      srcIp: o.src.ip,
      srcPort: o.src.port,
      dstIp: o.dst.ip,
      dstPort: o.dst.port,
      payload: rtpPacket({ seq: (o.firstSeq ?? 1000) + i, timestamp: (o.firstTimestamp ?? 5000) + i * 160, ssrc: o.ssrc, pt: o.pt ?? 0, payload }),
    });
  }
  return out;
}

/** Merges datagram lists by capture time (what a capture of several streams looks like). */
export function byTime(...lists: CapturedDatagram[][]): CapturedDatagram[] {
  return lists.flat().sort((a, b) => a.timeMs - b.timeMs);
}
