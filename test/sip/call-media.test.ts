// server/media/call-media.ts against the real rtpengine: codec policy, anchoring, teardown.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createCallMedia } from '../../server/media/call-media.js';
import { createRtpengine, type Rtpengine } from '../../server/media/rtpengine.js';

let rtpengine: Rtpengine;
const logger = createLogger('silent');
beforeAll(() => {
  rtpengine = createRtpengine(loadConfig({ NODE_ENV: 'test', ADMIN_API_KEY: 'x'.repeat(24) }).rtpengine.ng);
});
afterAll(() => rtpengine.close());

const sdp = (ip: string, codecs: Array<[number, string]>) =>
  [
    'v=0',
    `o=- 1 1 IN IP4 ${ip}`,
    's=-',
    `c=IN IP4 ${ip}`,
    't=0 0',
    `m=audio 40000 RTP/AVP ${codecs.map(([pt]) => pt).join(' ')}`,
    ...codecs.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
    'a=sendrecv',
    '',
  ].join('\r\n');
const payloads = (s: string) => /m=audio \d+ RTP\/AVP ([\d ]*)/.exec(s)?.[1]?.trim().split(' ') ?? [];
const PCMU: [number, string] = [0, 'PCMU/8000'];
const PCMA: [number, string] = [8, 'PCMA/8000'];
const G722: [number, string] = [9, 'G722/8000'];
const OPUS: [number, string] = [96, 'opus/48000/2'];
const DTMF: [number, string] = [101, 'telephone-event/8000'];

function newCall() {
  const callId = crypto.randomUUID();
  return { callId, media: createCallMedia({ rtpengine, callId, callerTag: 'caller-tag', record: false, logger }) };
}

describe('call media in rtpengine', () => {
  it('offers the agent only G.711 and keeps G.711 end to end without transcoding', async () => {
    const { callId, media } = newCall();
    try {
      const toAgent = await media.offerFromCaller(sdp('127.0.0.30', [OPUS, G722, PCMU, DTMF]));
      expect(payloads(toAgent)).toEqual(['0', '8', '101']);
      // Anchored: the agent sends to rtpengine, never to the caller's address.
      expect(toAgent).toMatch(/c=IN IP4 127\.0\.0\.1/);
      expect(toAgent).not.toMatch(/127\.0\.0\.30/);
      const toCaller = await media.answerFromAgentSide(sdp('127.0.0.31', [PCMU, DTMF]));
      expect(payloads(toCaller)).toEqual(['0', '101']);
    } finally {
      await media.remove();
    }
    expect((await rtpengine.command('query', { 'call-id': callId })).result).not.toBe('ok');
  });

  it('connects a caller that offers no G.711 by transcoding for the agent', async () => {
    const { media } = newCall();
    try {
      const toAgent = await media.offerFromCaller(sdp('127.0.0.30', [G722, DTMF]));
      expect(payloads(toAgent)).toEqual(['0', '8', '101']);
      const toCaller = await media.answerFromAgentSide(sdp('127.0.0.31', [PCMA, DTMF]));
      expect(payloads(toCaller)).toEqual(['9', '101']);
    } finally {
      await media.remove();
    }
  });

  it('remove() never throws, even for a call rtpengine does not know', async () => {
    const { media } = newCall();
    await expect(media.remove()).resolves.toBeUndefined();
  });
});
