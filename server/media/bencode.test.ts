import { describe, expect, it } from 'vitest';
import { bdecode, bencode } from './bencode.js';

describe('bencode', () => {
  it('encodes ng commands: sorted keys, byte lengths, lists, numbers, booleans, no nulls', () => {
    expect(bencode({ sdp: 'v=0', command: 'offer', 'record call': 'yes', replace: ['origin'], n: 3, on: true, gone: undefined, none: null })).toBe(
      'd7:command5:offer1:ni3e2:oni1e11:record call3:yes7:replacel6:origine3:sdp3:v=0e',
    );
    // Lengths count UTF-8 bytes, not characters.
    expect(bencode('Привет')).toBe('12:Привет');
  });

  it('decodes what it encodes, text as UTF-8', () => {
    const value = {
      result: 'ok',
      sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n',
      tags: { a: { medias: [{ streams: [{ stats: { packets: 42 } }] }] } },
      name: 'Привет',
    };
    expect(bdecode(Buffer.from(bencode(value)))).toEqual(value);
    expect(bdecode(Buffer.from('i-7e'))).toBe(-7);
  });

  it('refuses what is cut short or trails', () => {
    expect(() => bdecode(Buffer.from('d6:result2:o'))).toThrow(/malformed/);
    expect(() => bdecode(Buffer.from('d6:result2:okeX'))).toThrow(/malformed/);
    expect(() => bdecode(Buffer.from('d6:result2:ok'))).toThrow(/malformed/);
  });
});
