/**
 * Where an SDP body says its audio arrives: the first audio m-line's port and the connection
 * address that applies to it (a media-level c= overrides the session-level one, RFC 4566 5.7).
 * Null when the body has no usable audio line (late offer, port 0, a hold with 0.0.0.0).
 */
export function mediaAddressOf(sdp: string | undefined): { ip: string; port: number } | null {
  if (!sdp) return null;
  let sessionAddress: string | undefined;
  let port: number | undefined;
  let mediaAddress: string | undefined;
  let inAudio = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      if (port !== undefined) break; // the first audio stream is the one we want
      const audio = /^m=audio (\d+) /.exec(line);
      inAudio = audio !== null;
      if (audio) port = Number(audio[1]);
      continue;
    }
    const connection = /^c=IN IP[46] ([^\s/]+)/.exec(line);
    if (!connection) continue;
    if (port === undefined && !inAudio) sessionAddress = connection[1];
    else if (inAudio) mediaAddress = connection[1];
  }
  const ip = mediaAddress ?? sessionAddress;
  if (!ip || !port || ip === '0.0.0.0') return null;
  return { ip, port };
}

/** The origin line (o=) of a session description: its owner, session id and version. */
const originOf = (sdp: string | undefined): string | undefined => /^o=(.*)$/m.exec(sdp ?? '')?.[1]?.trim();

/**
 * Whether `sdp` is the session `known` described, unchanged: the same origin line, version
 * included (RFC 3264 8: a changed session gets a higher version). An UPDATE or re-INVITE with it is
 * a session refresh, not a change.
 */
export function sameSessionVersion(sdp: string | undefined, known: string | undefined): boolean {
  const origin = originOf(sdp);
  return origin !== undefined && origin === originOf(known);
}

/** Encoding names of the static RTP payload types a carrier may offer without an rtpmap (RFC 3551 6). */
const STATIC_PAYLOADS: Record<string, string> = { '0': 'PCMU', '3': 'GSM', '4': 'G723', '8': 'PCMA', '9': 'G722', '13': 'CN', '15': 'G728', '18': 'G729' };

/** One m= line of an offer: its media type, port (0 = declined) and the encoding names of its formats. */
export interface MediaStream {
  type: string;
  port: number;
  codecs: string[];
}

/** The media streams an SDP body offers, in order, with each format's encoding name (from a=rtpmap, or the static table). */
export function mediaStreamsOf(sdp: string): MediaStream[] {
  const streams: Array<MediaStream & { formats: string[]; names: Map<string, string> }> = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(\S+) (\d+)(?:\/\d+)? \S+ ?(.*)$/.exec(line);
    if (m) {
      streams.push({ type: m[1]!, port: Number(m[2]), codecs: [], formats: m[3]!.trim().split(/\s+/).filter(Boolean), names: new Map() });
      continue;
    }
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    if (rtpmap) streams.at(-1)?.names.set(rtpmap[1]!, rtpmap[2]!);
  }
  return streams.map(({ type, port, formats, names }) => ({
    type,
    port,
    codecs: formats.map((format) => (names.get(format) ?? STATIC_PAYLOADS[format] ?? format).toUpperCase()),
  }));
}

/**
 * An answer with one m= line per m= line of the offer, in order (RFC 3264 6): a stream the answer
 * left out is put back declined (port 0). A phone that answers only the audio of an audio+video
 * offer makes rtpengine write such a short answer, and strict carriers drop a call on it.
 */
export function alignAnswerToOffer(offer: string, answer: string): string {
  const offered = [...offer.matchAll(/^m=(\S+) \S+ (\S+) ?(\S*)/gm)].map((m) => ({ type: m[1]!, proto: m[2]!, format: m[3] || '0' }));
  const [session = '', ...sections] = answer.split(/^(?=m=)/m);
  if (sections.length >= offered.length) return answer;
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  const aligned: string[] = [];
  let next = 0;
  for (const stream of offered) {
    const section = sections[next];
    if (section?.startsWith(`m=${stream.type} `)) {
      aligned.push(section.endsWith('\n') ? section : `${section}${eol}`);
      next++;
    } else aligned.push(`m=${stream.type} 0 ${stream.proto} ${stream.format}${eol}`);
  }
  return session + aligned.join('') + sections.slice(next).join('');
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTION_LINE = /^a=(sendrecv|sendonly|recvonly|inactive)[ \t]*(?:\r?\n|$)/gm;

/** The direction an offer asks for: its first a=sendonly/recvonly/inactive/sendrecv, sendrecv when it names none (RFC 4566 6). */
export function directionOf(sdp: string): MediaDirection {
  return (/^a=(sendrecv|sendonly|recvonly|inactive)\b/m.exec(sdp)?.[1] as MediaDirection | undefined) ?? 'sendrecv';
}

/** The direction an answer must take to an offer's (RFC 3264 6.1): a sendonly offer (hold) is answered recvonly. */
export function answeringDirection(offered: MediaDirection): MediaDirection {
  return offered === 'sendonly' ? 'recvonly' : offered === 'recvonly' ? 'sendonly' : offered;
}

/** `sdp` with one session-level direction instead of whatever directions it had. */
export function withDirection(sdp: string, direction: MediaDirection): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const stripped = sdp.replace(DIRECTION_LINE, '');
  const firstMedia = stripped.search(/^m=/m);
  const line = `a=${direction}${eol}`;
  return firstMedia < 0 ? `${stripped}${line}` : stripped.slice(0, firstMedia) + line + stripped.slice(firstMedia);
}
