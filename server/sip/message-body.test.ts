import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { keepSessionDescription, parseContentType, sessionDescriptionOf } from './message-body.js';

const SDP = ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 8 0', 'a=rtpmap:8 PCMA/8000', ''].join('\r\n');
const ISUP = 'IAM \u0001\u0000\u0060\u0001\u000a\u0000\u0002';

/** A multipart body as a SIP-I gateway writes it (RFC 3204 example shape). */
function multipart(boundary: string, parts: Array<{ headers: string[]; body: string }>, eol = '\r\n'): string {
  return [
    'This is a preamble a parser must skip',
    ...parts.flatMap((p) => [`--${boundary}`, ...p.headers, '', p.body.replace(/\r\n/g, eol)]),
    `--${boundary}--`,
    'epilogue',
  ].join(eol);
}

const sdpPart = { headers: ['Content-Type: application/sdp', 'Content-Disposition: session;handling=required'], body: SDP };
const isupPart = (handling: string) => ({
  headers: ['Content-Type: application/isup;version=itu-t92+;base=itu-t92+', `Content-Disposition: signal;handling=${handling}`],
  body: ISUP,
});

describe('sessionDescriptionOf', () => {
  it('takes a plain SDP body as it is, and no body as a late offer', () => {
    expect(sessionDescriptionOf('application/sdp', SDP)).toBe(SDP);
    expect(sessionDescriptionOf('Application/SDP; charset=utf-8', SDP)).toBe(SDP);
    expect(sessionDescriptionOf(undefined, SDP)).toBe(SDP);
    expect(sessionDescriptionOf('multipart/mixed;boundary=x', '')).toBe('');
  });

  it('finds the SDP part of a SIP-I body next to an optional ISUP part', () => {
    const body = multipart('unique-boundary-1', [sdpPart, isupPart('optional')]);
    expect(sessionDescriptionOf('multipart/mixed;boundary=unique-boundary-1', body)).toBe(SDP);
  });

  it('reads a quoted boundary with spaces, bare LF line ends, and parts in any order', () => {
    const body = multipart('a boundary', [isupPart('optional'), sdpPart], '\n');
    const found = sessionDescriptionOf('multipart/mixed; boundary="a boundary"', body);
    expect(typeof found).toBe('string');
    expect((found as string).split(/\r?\n/)).toEqual(SDP.split('\r\n'));
  });

  it('looks inside a nested multipart/alternative', () => {
    const inner = multipart('inner', [{ headers: ['Content-Type: text/plain'], body: 'no audio here' }, sdpPart]);
    const outer = multipart('outer', [{ headers: ['Content-Type: multipart/alternative; boundary=inner'], body: inner }, isupPart('optional')]);
    expect(sessionDescriptionOf('multipart/mixed;boundary=outer', outer)).toBe(SDP);
  });

  it('skips a part that says nothing of its handling, but refuses one that says it is required', () => {
    const silent = multipart('b', [sdpPart, { headers: ['Content-Type: application/isup'], body: ISUP }]);
    expect(sessionDescriptionOf('multipart/mixed;boundary=b', silent)).toBe(SDP);
    const required = sessionDescriptionOf('multipart/mixed;boundary=b', multipart('b', [sdpPart, isupPart('required')]));
    expect(required).toBeInstanceOf(AppError);
    expect((required as AppError).sipStatus).toBe(415);
    expect((required as AppError).sipHeaders?.accept).toMatch(/multipart\/mixed/);
  });

  it('gives no session description (a late offer) for a multipart body without an SDP part', () => {
    expect(sessionDescriptionOf('multipart/mixed;boundary=b', multipart('b', [isupPart('optional')]))).toBe('');
  });

  it('refuses other bodies with 415, and a multipart body without its boundary with 415 or 400', () => {
    expect((sessionDescriptionOf('text/plain', 'hello') as AppError).sipStatus).toBe(415);
    expect((sessionDescriptionOf('multipart/mixed', 'no boundary given') as AppError).sipStatus).toBe(415);
    expect((sessionDescriptionOf('multipart/mixed;boundary=zz', 'the boundary never appears') as AppError).sipStatus).toBe(400);
  });

  it('still reads a body cut before its closing delimiter', () => {
    const cut = `--b\r\nContent-Type: application/sdp\r\n\r\n${SDP}`;
    expect((sessionDescriptionOf('multipart/mixed;boundary=b', cut) as string).trim()).toBe(SDP.trim());
  });
});

describe('keepSessionDescription', () => {
  it('rewrites a multipart message to its SDP alone', () => {
    const message = {
      headers: { 'content-type': 'multipart/mixed;boundary=b' } as Record<string, unknown>,
      content: multipart('b', [sdpPart, isupPart('optional')]),
    };
    expect(keepSessionDescription(message)).toBeUndefined();
    expect(message.content).toBe(SDP);
    expect(message.headers['content-type']).toBe('application/sdp');
  });

  it('drops the type of a message left without a body, and leaves an unreadable one as it came', () => {
    const late = { headers: { 'content-type': 'multipart/mixed;boundary=b' } as Record<string, unknown>, content: multipart('b', [isupPart('optional')]) };
    expect(keepSessionDescription(late)).toBeUndefined();
    expect(late.content).toBe('');
    expect(late.headers['content-type']).toBeUndefined();
    const text = { headers: { 'content-type': 'text/plain' } as Record<string, unknown>, content: 'hello' };
    expect(keepSessionDescription(text)?.sipStatus).toBe(415);
    expect(text.content).toBe('hello');
  });
});

describe('parseContentType', () => {
  it('lower-cases the type and parameter names and unquotes values (a quoted ; included)', () => {
    const t = parseContentType('Multipart/Mixed; Boundary="x;y"; charset=UTF-8');
    expect(t.type).toBe('multipart/mixed');
    expect(t.params.get('boundary')).toBe('x;y');
    expect(t.params.get('charset')).toBe('UTF-8');
  });
});
