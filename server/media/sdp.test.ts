import { describe, expect, it } from 'vitest';
import { alignAnswerToOffer, answeringDirection, directionOf, mediaAddressOf, mediaStreamsOf, sameSessionVersion, withDirection } from './sdp.js';

const offer = (lines: string[]) => `${['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', ...lines].join('\r\n')}\r\n`;

describe(mediaAddressOf.name, () => {
  it('takes the session-level address and the audio port', () => {
    expect(mediaAddressOf(offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 0 8']))).toEqual({ ip: '192.0.2.10', port: 40000 });
  });

  it('prefers the audio stream’s own c= line', () => {
    expect(mediaAddressOf(offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'c=IN IP4 198.51.100.7']))).toEqual({
      ip: '198.51.100.7',
      port: 40000,
    });
  });

  it('skips a video stream before the audio and ignores later streams', () => {
    const sdp = offer(['t=0 0', 'm=video 5000 RTP/AVP 96', 'c=IN IP4 203.0.113.1', 'm=audio 6000 RTP/AVP 0', 'c=IN IP4 203.0.113.2', 'm=audio 7000 RTP/AVP 0']);
    expect(mediaAddressOf(sdp)).toEqual({ ip: '203.0.113.2', port: 6000 });
  });

  it('is null without an offer, without audio, or on hold to 0.0.0.0', () => {
    expect(mediaAddressOf(undefined)).toBeNull();
    expect(mediaAddressOf(offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=video 5000 RTP/AVP 96']))).toBeNull();
    expect(mediaAddressOf(offer(['c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 40000 RTP/AVP 0']))).toBeNull();
  });
});

describe('sameSessionVersion', () => {
  const sdp = (version: number) => `v=0\r\no=user1 53655765 ${version} IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;
  it('is a refresh when the origin line, version included, is the same', () => {
    expect(sameSessionVersion(sdp(5), sdp(5))).toBe(true);
    expect(sameSessionVersion(sdp(6), sdp(5))).toBe(false);
    expect(sameSessionVersion(sdp(5).replace('user1', 'user2'), sdp(5))).toBe(false);
    expect(sameSessionVersion(sdp(5), undefined)).toBe(false);
    expect(sameSessionVersion('v=0\r\n', 'v=0\r\n')).toBe(false);
  });
});

describe(mediaStreamsOf.name, () => {
  it('names each format from its rtpmap or the static payload table, per stream', () => {
    const sdp = offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'm=image 0 udptl t38']);
    expect(mediaStreamsOf(sdp)).toEqual([
      { type: 'audio', port: 40000, codecs: ['PCMA', 'PCMU', 'TELEPHONE-EVENT'] },
      { type: 'image', port: 0, codecs: ['T38'] },
    ]);
  });

  it('reads bare line feeds and a port count (m=audio 4000/2)', () => {
    expect(mediaStreamsOf('v=0\nm=audio 4000/2 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n')).toEqual([{ type: 'audio', port: 4000, codecs: ['OPUS'] }]);
  });
});

describe(alignAnswerToOffer.name, () => {
  const audioVideo = offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 8 0', 'm=video 40002 RTP/AVP 96', 'a=rtpmap:96 H264/90000']);
  const audioAnswer = offer(['c=IN IP4 192.0.2.20', 't=0 0', 'm=audio 50000 RTP/AVP 8', 'a=sendrecv']);

  it('puts a stream the answer left out back, declined, where the offer had it', () => {
    expect(alignAnswerToOffer(audioVideo, audioAnswer)).toBe(`${audioAnswer}m=video 0 RTP/AVP 96\r\n`);
    const videoFirst = offer(['c=IN IP4 192.0.2.10', 't=0 0', 'm=video 40002 RTP/AVP 96', 'm=audio 40000 RTP/AVP 0']);
    expect(alignAnswerToOffer(videoFirst, audioAnswer)).toBe(
      offer(['c=IN IP4 192.0.2.20', 't=0 0', 'm=video 0 RTP/AVP 96', 'm=audio 50000 RTP/AVP 8', 'a=sendrecv']),
    );
  });

  it('leaves an answer with every stream as it is', () => {
    const full = `${audioAnswer}m=video 0 RTP/AVP 96\r\n`;
    expect(alignAnswerToOffer(audioVideo, full)).toBe(full);
    expect(alignAnswerToOffer(offer(['t=0 0', 'm=audio 4000 RTP/AVP 0']), audioAnswer)).toBe(audioAnswer);
  });
});

describe('answer directions', () => {
  it('reads the offer’s direction, sendrecv when it names none', () => {
    expect(directionOf(offer(['t=0 0', 'm=audio 4000 RTP/AVP 0', 'a=sendonly']))).toBe('sendonly');
    expect(directionOf(offer(['t=0 0', 'm=audio 4000 RTP/AVP 0']))).toBe('sendrecv');
  });

  it('answers hold with recvonly and keeps inactive and sendrecv', () => {
    expect(answeringDirection('sendonly')).toBe('recvonly');
    expect(answeringDirection('recvonly')).toBe('sendonly');
    expect(answeringDirection('inactive')).toBe('inactive');
    expect(answeringDirection('sendrecv')).toBe('sendrecv');
  });

  it('replaces every direction line with one at session level', () => {
    const sdp = offer(['c=IN IP4 192.0.2.1', 't=0 0', 'a=sendrecv', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv']);
    expect(withDirection(sdp, 'recvonly')).toBe(offer(['c=IN IP4 192.0.2.1', 't=0 0', 'a=recvonly', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']));
  });
});
