/** A UDP datagram out of a capture, with its capture time. */
export interface UdpPacket {
  timeMs: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  payload: Buffer;
}

const LINK_ETHERNET = 1;
const LINK_RAW = new Set([12, 101, 228, 229]);
const LINK_LINUX_SLL = 113;

/**
 * Reads UDP over IPv4 from a classic pcap file. rtpengine's `raw` recording format uses DLT_RAW
 * (fake IPv4/UDP headers, no Ethernet); Ethernet and Linux cooked captures are read too.
 */
export function readUdpPackets(file: Buffer): UdpPacket[] {
  if (file.length < 24) throw new Error('not a pcap file: too short');
  const magic = file.readUInt32LE(0);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) {
    le = true;
    nanos = true;
  } else if (magic === 0x4d3cb2a1) {
    le = false;
    nanos = true;
  } else throw new Error(`not a pcap file (magic ${magic.toString(16)})`);
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const packets: UdpPacket[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const sec = u32(offset);
    const frac = u32(offset + 4);
    const inclLen = u32(offset + 8);
    const start = offset + 16;
    offset = start + inclLen;
    if (offset > file.length) break; // truncated last record (the call was still being written)
    const frame = file.subarray(start, start + inclLen);
    let ip: Buffer | undefined;
    if (LINK_RAW.has(linkType)) ip = frame;
    else if (linkType === LINK_ETHERNET) {
      let etherTypeAt = 12;
      while (frame.length > etherTypeAt + 2 && frame.readUInt16BE(etherTypeAt) === 0x8100) etherTypeAt += 4;
      if (frame.length > etherTypeAt + 2 && frame.readUInt16BE(etherTypeAt) === 0x0800) ip = frame.subarray(etherTypeAt + 2);
    } else if (linkType === LINK_LINUX_SLL) {
      if (frame.length > 16 && frame.readUInt16BE(14) === 0x0800) ip = frame.subarray(16);
    }
    if (!ip || ip.length < 28 || ip[0]! >> 4 !== 4) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== 17 || ip.length < ihl + 8) continue;
    const udp = ip.subarray(ihl);
    const udpLen = Math.min(udp.readUInt16BE(4), udp.length);
    packets.push({
      timeMs: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3),
      srcIp: `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`,
      dstIp: `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`,
      srcPort: udp.readUInt16BE(0),
      dstPort: udp.readUInt16BE(2),
      payload: udp.subarray(8, udpLen),
    });
  }
  return packets;
}
