import { describe, expect, it } from 'vitest';
import { ALAW, ULAW } from './g711.js';
import { readUdpPackets } from './pcap-reader.js';
import { demuxRtp, groupRtp, parseRtp, renderChannel, splitCallerAgent, streamsStartMs, undecodedAudioTypes } from './rtp-demux.js';
import { dominantToneWindows } from '../../test/helpers/goertzel.js';
import {
  buildPcap,
  byTime,
  type CapturedDatagram,
  linearToAlaw,
  linearToUlaw,
  rtpPacket,
  tone,
  toneStream,
  type ToneStreamOptions,
} from '../../test/recordings/synthetic.js';

const T0 = 1_795_000_000_000;
const CALLER = { ip: '127.0.0.2', port: 4000 };
const AGENT = { ip: '127.0.0.3', port: 5000 };
const ENGINE_CALLER_SIDE = { ip: '127.0.0.1', port: 30000 };
const ENGINE_AGENT_SIDE = { ip: '127.0.0.1', port: 30002 };

const callerStream = (o: Partial<ToneStreamOptions> = {}) =>
  toneStream({ freq: 1000, packets: 50, ssrc: 0x1111, startMs: T0, src: CALLER, dst: ENGINE_CALLER_SIDE, ...o });

/** Capture → pcap bytes → reader → demux → one rendered channel, the whole path the converter takes. */
function render(datagrams: CapturedDatagram[], originMs = T0): Int16Array {
  return renderChannel(demuxRtp(readUdpPackets(buildPcap(datagrams))), originMs);
}

/** What an ideal receiver decodes: every packet's samples, in order, no gaps. */
function ideal(packets: number, freq = 1000, table = ULAW, encode = linearToUlaw): Int16Array {
  return Int16Array.from(tone(freq, 0, packets * 160), (s) => table[encode(s)]!);
}

describe('readUdpPackets', () => {
  const datagrams = callerStream({ packets: 3 });
  const variants: Array<[string, Parameters<typeof buildPcap>[1]]> = [
    ['little-endian DLT_RAW 101 (rtpengine raw)', {}],
    ['big-endian', { bigEndian: true }],
    ['nanosecond timestamps', { nanos: true }],
    ['DLT_RAW 12', { linkType: 12 }],
    ['LINKTYPE_IPV4 228', { linkType: 228 }],
    ['Ethernet', { linkType: 1 }],
    ['Ethernet with a VLAN tag', { linkType: 1, vlan: true }],
  ];
  it.each(variants)('reads %s', (_name, options) => {
    const packets = readUdpPackets(buildPcap(datagrams, options));
    expect(packets).toHaveLength(3);
    packets.forEach((p, i) => {
      const d = datagrams[i]!;
      expect(p).toMatchObject({ srcIp: d.srcIp, srcPort: d.srcPort, dstIp: d.dstIp, dstPort: d.dstPort });
      expect(p.timeMs).toBeCloseTo(d.timeMs, 3);
      expect(p.payload.equals(d.payload)).toBe(true);
    });
  });

  it('skips a truncated last record (pcap still being written) and non-UDP packets', () => {
    const file = buildPcap(datagrams);
    expect(readUdpPackets(file.subarray(0, file.length - 5))).toHaveLength(2);
    const tcp = Buffer.from(file);
    tcp[24 + 16 + 9] = 6; // first record's IP protocol → TCP
    expect(readUdpPackets(tcp).map((p) => p.payload.readUInt16BE(2))).toEqual([1001, 1002]);
  });

  it('rejects files that are not pcap', () => {
    expect(() => readUdpPackets(Buffer.alloc(40, 1))).toThrow(/not a pcap/);
    expect(() => readUdpPackets(Buffer.alloc(4))).toThrow(/too short/);
  });
});

describe('parseRtp', () => {
  const udp = (payload: Buffer) => ({ timeMs: 0, srcIp: '', srcPort: 0, dstIp: '', dstPort: 0, payload });

  it('skips CSRCs and the header extension and strips padding', () => {
    const payload = Buffer.from([1, 2, 3, 4, 5]);
    const p = parseRtp(udp(rtpPacket({ seq: 7, timestamp: 99, ssrc: 0xdeadbeef, pt: 8, marker: true, payload, csrc: 2, extensionWords: 1, padding: 3 })));
    expect(p).toMatchObject({ seq: 7, timestamp: 99, ssrc: 0xdeadbeef, payloadType: 8, marker: true });
    expect([...p!.payload]).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects RTCP, other versions and runts', () => {
    const rtcp = Buffer.alloc(28);
    rtcp[0] = 0x80;
    rtcp[1] = 200; // sender report
    expect(parseRtp(udp(rtcp))).toBeUndefined();
    const v1 = rtpPacket({ seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(160) });
    v1[0] = 0x40;
    expect(parseRtp(udp(v1))).toBeUndefined();
    expect(parseRtp(udp(Buffer.alloc(8)))).toBeUndefined();
  });
});

describe('renderChannel', () => {
  it('decodes an in-order µ-law stream sample for sample', () => {
    expect(render(callerStream())).toEqual(ideal(50));
  });

  it('puts reordered packets back in place (late arrivals do not move the stream)', () => {
    const d = callerStream();
    for (const i of [0, 3, 17, 31]) {
      // packet i arrives 25 ms late, after packet i+1
      d[i] = { ...d[i]!, timeMs: d[i]!.timeMs + 25 };
    }
    expect(render(byTime(d))).toEqual(ideal(50));
  });

  it('leaves lost packets silent and keeps the rest in place', () => {
    const out = render(callerStream({ drop: new Set([10, 11, 30]) }));
    const expected = ideal(50);
    for (const i of [10, 11, 30]) expected.fill(0, i * 160, (i + 1) * 160);
    expect(out).toEqual(expected);
  });

  it('handles the sequence number wrap, also with reordering across it', () => {
    const d = callerStream({ packets: 60, firstSeq: 65_510 });
    const wrapAt = 65_536 - 65_510; // index of seq 0
    d[wrapAt - 1] = { ...d[wrapAt - 1]!, timeMs: d[wrapAt - 1]!.timeMs + 30 }; // seq 65535 arrives after 0
    expect(render(byTime(d))).toEqual(ideal(60));
  });

  it('handles the RTP timestamp wrap', () => {
    expect(render(callerStream({ firstTimestamp: 0xffff_ff00 }))).toEqual(ideal(50));
  });

  it('drops duplicated packets instead of mixing them twice', () => {
    const d = callerStream();
    expect(render(byTime(d, [{ ...d[5]!, timeMs: d[5]!.timeMs + 40 }]))).toEqual(ideal(50));
  });

  it('ignores telephone-event and comfort noise in the same stream', () => {
    const d = callerStream();
    const dtmf = [0, 1, 2].map((k) => ({
      ...d[20]!,
      timeMs: d[20]!.timeMs + 1 + k,
      payload: rtpPacket({ seq: 3000 + k, timestamp: 5000 + 20 * 160, ssrc: 0x1111, pt: 101, payload: Buffer.from([5, 0x0a, 0, 160]) }),
    }));
    const cn = {
      ...d[40]!,
      timeMs: d[40]!.timeMs + 1,
      payload: rtpPacket({ seq: 4000, timestamp: 5000 + 40 * 160, ssrc: 0x1111, pt: 13, payload: Buffer.from([40]) }),
    };
    expect(render(byTime(d, dtmf, [cn]))).toEqual(ideal(50));
  });

  it('anchors a stream by its least-delayed packet, not by a late first packet', () => {
    const d = callerStream({ startMs: T0 + 500 });
    d[0] = { ...d[0]!, timeMs: d[0]!.timeMs + 30 };
    const out = render(d);
    expect(out.length).toBe(4000 + 50 * 160);
    expect(out.subarray(0, 4000).every((s) => s === 0)).toBe(true);
    expect(out.subarray(4000)).toEqual(ideal(50));
  });

  it('places a new SSRC (re-INVITE, transfer) by its arrival time', () => {
    const second = toneStream({
      freq: 1000,
      packets: 25,
      ssrc: 0x2222,
      startMs: T0 + 2000,
      src: CALLER,
      dst: ENGINE_CALLER_SIDE,
      firstSeq: 9,
      firstTimestamp: 123_456,
    });
    const out = render(byTime(callerStream(), second));
    expect(out.length).toBe(16_000 + 25 * 160);
    expect(out.subarray(8000, 16_000).every((s) => s === 0)).toBe(true);
    expect(out.subarray(16_000)).toEqual(ideal(25));
  });

  it('re-anchors on the wall clock when the RTP timestamp jumps (hold/resume by a media server)', () => {
    const a = callerStream({ packets: 25 });
    const b = toneStream({
      freq: 1000,
      packets: 25,
      ssrc: 0x1111,
      startMs: T0 + 500,
      src: CALLER,
      dst: ENGINE_CALLER_SIDE,
      firstSeq: 1025,
      firstTimestamp: 5000 + 10_000_000,
    });
    const out = render(byTime(a, b));
    expect(out.length).toBe(50 * 160);
    expect(out.subarray(4000)).toEqual(ideal(25));
  });

  it('decodes A-law (PT 8)', () => {
    expect(render(callerStream({ pt: 8 }))).toEqual(ideal(50, 1000, ALAW, linearToAlaw));
    const original = tone(1000, 0, 8000);
    expect(ideal(50, 1000, ALAW, linearToAlaw).every((s, i) => Math.abs(s - original[i]!) < 300)).toBe(true);
    expect(ideal(50).every((s, i) => Math.abs(s - original[i]!) < 300)).toBe(true);
  });
});

describe('demuxRtp + splitCallerAgent', () => {
  // The agent's stream is seen first here (e.g. early media): the case the hints exist for.
  const agent = toneStream({ freq: 440, packets: 50, ssrc: 0x2222, startMs: T0, src: AGENT, dst: ENGINE_AGENT_SIDE });
  const caller = callerStream({ startMs: T0 + 300 });
  const rtcp: CapturedDatagram = {
    timeMs: T0 - 5,
    srcIp: AGENT.ip,
    srcPort: AGENT.port + 1,
    dstIp: '127.0.0.1',
    dstPort: 30003,
    payload: Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)]),
  };
  const dtmfOnly = [0, 1].map(
    (k): CapturedDatagram => ({
      timeMs: T0 - 3 + k,
      srcIp: '127.0.0.9',
      srcPort: 7000,
      dstIp: '127.0.0.1',
      dstPort: 30004,
      payload: rtpPacket({ seq: k, timestamp: 0, ssrc: 0x9999, pt: 101, payload: Buffer.from([1, 0, 0, 160]) }),
    }),
  );
  const streams = demuxRtp(readUdpPackets(buildPcap(byTime(agent, caller, [rtcp], dtmfOnly))));

  it('finds one stream per SSRC and address, ignoring RTCP and streams without audio', () => {
    expect(streams.map((s) => [s.ssrc, s.srcIp, s.srcPort, s.dstPort, s.packets.length])).toEqual([
      [0x2222, AGENT.ip, AGENT.port, ENGINE_AGENT_SIDE.port, 50],
      [0x1111, CALLER.ip, CALLER.port, ENGINE_CALLER_SIDE.port, 50],
    ]);
  });

  it('tells the caller by media address, then by rtpengine port, else takes the first stream seen', () => {
    const byAddress = splitCallerAgent(streams, { callerAddress: CALLER });
    expect([byAddress.method, byAddress.caller.map((s) => s.ssrc), byAddress.agent.map((s) => s.ssrc)]).toEqual(['address', [0x1111], [0x2222]]);
    const byPort = splitCallerAgent(streams, { callerSidePort: ENGINE_CALLER_SIDE.port });
    expect([byPort.method, byPort.caller.map((s) => s.ssrc)]).toEqual(['port', [0x1111]]);
    const unmatched = splitCallerAgent(streams, { callerAddress: { ip: '10.0.0.1', port: 1 }, callerSidePort: 1 });
    expect([unmatched.method, unmatched.caller.map((s) => s.ssrc)]).toEqual(['first-seen', [0x2222]]);
  });

  it('keeps both channels on one clock: the later stream starts later', () => {
    const { caller: c, agent: a } = splitCallerAgent(streams, { callerAddress: CALLER });
    const left = renderChannel(c, T0);
    const right = renderChannel(a, T0);
    expect(right.length).toBe(8000);
    expect(left.length).toBe(2400 + 8000);
    expect(dominantToneWindows(left, 8000, [1000, 440]).slice(0, 3)).toEqual([null, null, null]);
    expect(
      dominantToneWindows(left, 8000, [1000, 440])
        .slice(3)
        .every((f) => f === 1000),
    ).toBe(true);
    expect(dominantToneWindows(right, 8000, [1000, 440]).every((f) => f === 440)).toBe(true);
  });

  it('reports audio in codecs it cannot decode (G.722 from a transcoded caller), not DTMF or CN', () => {
    const g722 = toneStream({ freq: 1000, packets: 5, ssrc: 0x7777, startMs: T0, src: CALLER, dst: ENGINE_CALLER_SIDE }).map((d) => ({
      ...d,
      payload: Buffer.concat([d.payload.subarray(0, 1), Buffer.from([9]), d.payload.subarray(2)]),
    }));
    expect(undecodedAudioTypes(groupRtp(readUdpPackets(buildPcap(byTime(agent, caller, [rtcp], dtmfOnly)))))).toEqual([]);
    const all = groupRtp(readUdpPackets(buildPcap(byTime(agent, g722, dtmfOnly))));
    expect(undecodedAudioTypes(all)).toEqual([9]);
    expect(demuxRtp(readUdpPackets(buildPcap(g722)))).toEqual([]);
  });

  it("puts the caller's new SSRC on the caller's side too", () => {
    const again = toneStream({ freq: 1000, packets: 10, ssrc: 0x3333, startMs: T0 + 1500, src: { ip: CALLER.ip, port: 4100 }, dst: ENGINE_CALLER_SIDE });
    const s = demuxRtp(readUdpPackets(buildPcap(byTime(agent, caller, again))));
    expect(
      splitCallerAgent(s, { callerAddress: CALLER })
        .caller.map((x) => x.ssrc)
        .sort((x, y) => x - y),
    ).toEqual([0x1111, 0x3333]);
  });
});

describe('streamsStartMs', () => {
  it("takes the call's start from the least-delayed packets, not from a late first packet", () => {
    const caller = callerStream();
    caller[0] = { ...caller[0]!, timeMs: caller[0]!.timeMs + 180 }; // the first packet of the call, delayed
    const agent = toneStream({ freq: 440, packets: 50, ssrc: 0x2222, startMs: T0 + 200, src: AGENT, dst: ENGINE_AGENT_SIDE });
    const streams = demuxRtp(readUdpPackets(buildPcap(byTime(caller, agent))));
    const origin = streamsStartMs(streams);
    expect(origin).toBeCloseTo(T0, 3);
    const { caller: c, agent: a } = splitCallerAgent(streams, { callerAddress: CALLER });
    expect(renderChannel(c, origin)).toEqual(ideal(50));
    const right = renderChannel(a, origin);
    expect(right.findIndex((s) => s !== 0)).toBeGreaterThanOrEqual(1600);
    expect(right.findIndex((s) => s !== 0)).toBeLessThan(1600 + 2);
    // An origin after the stream's start cuts its beginning instead of shifting it.
    expect(renderChannel(c, T0 + 100)).toEqual(ideal(50).subarray(800));
  });
});
