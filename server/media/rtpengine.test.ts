import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bencodable, bdecode, bencode } from './bencode.js';
import { createRtpengine } from './rtpengine.js';

// The ng wire format is "<cookie> <bencoded dict>" both ways.

/** A fake rtpengine ng endpoint that lets the test decide what happens to each datagram. */
async function fakeNg(onCommand: (cookie: string, cmd: Record<string, unknown>, reply: (data: Record<string, unknown>) => void) => void) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const space = msg.indexOf(32);
    const cookie = msg.subarray(0, space).toString();
    const cmd = bdecode(msg.subarray(space + 1)) as Record<string, unknown>;
    onCommand(cookie, cmd, (data) => socket.send(Buffer.from(`${cookie} ${bencode(data as Bencodable)}`), rinfo.port, rinfo.address));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe(createRtpengine.name, () => {
  it('resends a command whose datagram was lost, and ignores the late reply to the lost attempt', async () => {
    let seen = 0;
    const late: Array<() => void> = [];
    const ng = await fakeNg((_cookie, cmd, reply) => {
      seen++;
      // First attempt: "lost" (answered only after the client gave up on it).
      if (seen === 1) late.push(() => reply({ result: 'ok', sdp: 'late' }));
      else reply({ result: 'ok', sdp: String(cmd['call-id']) });
    });
    cleanups.push(ng.close);
    const rtp = createRtpengine({ host: '127.0.0.1', port: ng.port }, 400, 4);
    cleanups.push(() => rtp.close());
    const reply = await rtp.command('offer', { 'call-id': 'c1', 'from-tag': 'a', sdp: 'v=0' });
    expect(reply).toMatchObject({ result: 'ok', sdp: 'c1' });
    expect(seen).toBe(2);
    // The stale reply must neither resolve anything nor crash the process.
    for (const f of late) f();
    await new Promise((r) => setTimeout(r, 50));
    expect(await rtp.command('query', { 'call-id': 'c1' })).toMatchObject({ result: 'ok' });
  });

  it('gives up after the last attempt with a timeout error', async () => {
    const ng = await fakeNg(() => undefined);
    cleanups.push(ng.close);
    const rtp = createRtpengine({ host: '127.0.0.1', port: ng.port }, 300, 3);
    cleanups.push(() => rtp.close());
    await expect(rtp.command('delete', { 'call-id': 'gone' })).rejects.toThrow(/timeout/);
  });

  it("never has more commands in flight than its cap, so a burst cannot overflow rtpengine's socket", async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const ng = await fakeNg((_c, _cmd, reply) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding--;
        reply({ result: 'ok' });
      }, 5);
    });
    cleanups.push(ng.close);
    const rtp = createRtpengine({ host: '127.0.0.1', port: ng.port }, 2_000, 4, 8);
    cleanups.push(() => rtp.close());
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => rtp.command('query', { 'call-id': `c${i}` })));
    expect(replies.every((r) => r.result === 'ok')).toBe(true);
    expect(maxOutstanding).toBeLessThanOrEqual(8);
    expect(maxOutstanding).toBeGreaterThan(1);
  });
});
