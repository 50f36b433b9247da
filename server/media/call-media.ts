import path from 'node:path';
import { type AppError, ERRORS } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Rtpengine } from './rtpengine.js';
import { alignAnswerToOffer, mediaStreamsOf } from './sdp.js';

/** The tag rtpengine knows the forwarded side by; whichever target answers takes it over. */
export const AGENT_SIDE_TAG = 'agent-side';
/**
 * Browsers (WebRTC) are rung on a branch of their own: rtpengine keeps one monologue per to-tag,
 * so a desk phone (plain RTP) and a browser (ICE, DTLS-SRTP) ring at once, each with the SDP it
 * understands, and the caller's media goes to whichever answers.
 */
export const BROWSER_SIDE_TAG = 'agent-browser';

/** Which kind of phone an agent leg rings: a SIP phone or gateway, or a browser softphone. */
export type AgentBranch = 'sip' | 'browser';

/**
 * The browser branch: ICE (rtpengine as a full ICE agent, its own candidates), DTLS-SRTP (rtpengine
 * waits for the browser to start the handshake), RTP and RTCP on one port. Codecs stay G.711
 * (masked and transcoded as towards any agent, see CODEC_POLICY): every browser speaks it, the
 * recording decoder reads it, and no call pays for Opus transcoding.
 */
const BROWSER_FLAGS = {
  ICE: 'force',
  'transport-protocol': 'UDP/TLS/RTP/SAVPF',
  'rtcp-mux': ['offer', 'require'],
  DTLS: 'passive',
  SDES: ['off'],
};
/** Towards a plain-RTP side (carrier, desk phone) when a browser speaks on the other side. */
const FROM_BROWSER_FLAGS = { ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'] };
/**
 * Towards an agent's phone (or a carrier we call out through) from a plain-RTP side: RTP/AVP, so
 * a carrier's SDES-SRTP (RTP/SAVP with a=crypto) ends in rtpengine, which answers the carrier with
 * keys of its own and records the audio in the clear. Passing SAVP through made an SRTP-less phone's
 * answer reach the carrier as RTP/SAVP without a=crypto: no audio.
 */
const TO_AGENT_PLAIN_FLAGS = { ICE: 'remove', 'transport-protocol': 'RTP/AVP' };
/**
 * A browser that places a call offers WebRTC (ICE, DTLS-SRTP, rtcp-mux, Opus first): the phone it
 * calls gets plain RTP (FROM_BROWSER_FLAGS) with G.711 only. Its other codecs are stripped, not masked,
 * so rtpengine answers the browser with G.711 as well: no transcoding, and the recording decoder
 * reads both sides.
 */
const BROWSER_CALLER_CODECS = { strip: ['all'], except: ['PCMU', 'PCMA', 'telephone-event'] };
/**
 * Back towards a browser that placed the call: WebRTC, with rtpengine starting DTLS (active). As
 * the passive side of the browser's actpass offer rtpengine 10.5 never finished the handshake
 * (measured: ICE connected, DTLS stalled, no audio); as the active side it does.
 */
const TO_BROWSER_CALLER_FLAGS = { ...BROWSER_FLAGS, DTLS: 'active' };

/**
 * Media of one call in rtpengine: the caller's offer, the agent side's answer, announcements and
 * teardown. rtpengine's call-id is our call id, so B-legs' SIP call-ids never matter to it.
 */
export interface CallMedia {
  /** Anchors the caller's SDP; returns the SDP to offer to agents. */
  offerFromCaller(sdp: string): Promise<string>;
  /** The caller's offer again, as a browser needs it (see BROWSER_SIDE_TAG); after offerFromCaller. */
  offerToBrowser(): Promise<string>;
  /**
   * Completes the exchange with the agent side's SDP (or a placeholder) on the branch that answered;
   * returns the SDP for the caller. Later re-INVITEs and announcements go to that branch.
   */
  answerFromAgentSide(sdp: string, branch?: AgentBranch): Promise<string>;
  /** A re-INVITE from `side` (hold/unhold): anchors its new SDP; returns the SDP to send to the other side. */
  reoffer(side: 'caller' | 'agent', sdp: string): Promise<string>;
  /** The other side's answer to that re-INVITE; returns the SDP for `offerer`. */
  reanswer(offerer: 'caller' | 'agent', sdp: string): Promise<string>;
  /** Plays a file to one side; resolves with its duration in ms. */
  play(toTag: 'caller' | 'agent', file: string): Promise<number>;
  stopPlay(toTag: 'caller' | 'agent'): Promise<void>;
  /**
   * False only when rtpengine says it no longer knows the call (it dropped it after its RTP
   * timeout: the far end vanished without a BYE). An unreachable rtpengine counts as alive, so a
   * control-plane hiccup never hangs up calls whose media may well be flowing.
   */
  alive(): Promise<boolean>;
  /** Ends the media session; never throws (teardown must always complete). */
  remove(): Promise<void>;
}

/**
 * G.711 towards the agent: what every carrier and desk phone speaks and what the recording decoder
 * reads. Other codecs are masked (hidden from the agent, still accepted from the caller) and G.711
 * is added for transcoding, so a caller offering only G.722 or Opus still connects; a caller that
 * offers G.711 gets it end to end without transcoding (measured against rtpengine 10.5). Masking
 * alone left an empty m= line for such callers.
 */
export const CODEC_POLICY = {
  mask: ['opus', 'G722', 'G729', 'speex', 'GSM', 'iLBC', 'AMR', 'AMR-WB', 'VP8', 'H264'],
  transcode: ['PCMU', 'PCMA'],
};

/**
 * Voice codecs rtpengine 10.5 both decodes and encodes (`rtpengine --codecs`). AMR, AMR-WB, iLBC
 * and EVRC it only decodes: offered alone, the agent's G.711 could not be sent back, and rtpengine
 * answered the caller with PCMU, a codec it never offered.
 */
const SENDABLE_VOICE_CODECS = new Set(['PCMU', 'PCMA', 'G722', 'G723', 'G729', 'G729A', 'SPEEX', 'GSM', 'OPUS']);
/** Formats that carry no voice of their own: they count neither for nor against an offer. */
const NOT_VOICE = new Set(['TELEPHONE-EVENT', 'CN', 'RED']);

/**
 * Why a caller's (well-formed) offer cannot be taken, or undefined when it can: it must have an
 * audio stream (a fax-only T.38 or a video-only offer has none) with a voice codec we can send.
 * The carrier gets 488, so it may retry with other codecs or another route.
 */
export function refusedOffer(sdp: string): AppError | undefined {
  const audio = mediaStreamsOf(sdp).filter((stream) => stream.type === 'audio' && stream.port > 0);
  if (audio.length === 0) return ERRORS.mediaNotAcceptable('no audio stream offered (fax and video alone are not taken)', 304);
  const voice = audio.flatMap((stream) => stream.codecs).filter((codec) => !NOT_VOICE.has(codec));
  if (voice.some((codec) => SENDABLE_VOICE_CODECS.has(codec))) return undefined;
  return ERRORS.mediaNotAcceptable(
    `no voice codec offered that we can send (offered: ${voice.join(', ') || 'none'}; we take ${[...SENDABLE_VOICE_CODECS].join(', ')})`,
    305,
  );
}

/** rtpengine refused or did not answer: the call cannot be anchored (SIP 503, so carriers fail over). */
export class MediaError extends Error {
  override readonly name = 'MediaError';
}

export function createCallMedia(deps: {
  rtpengine: Rtpengine;
  callId: string;
  callerTag: string;
  record: boolean;
  logger: Logger;
  /** What kind of phone the caller is: a browser softphone placing a call speaks WebRTC. */
  callerBranch?: AgentBranch;
}): CallMedia {
  const { rtpengine, callId, callerTag, logger } = deps;
  const browserCaller = deps.callerBranch === 'browser';
  const base = { 'call-id': callId };

  async function checked(verb: string, params: Record<string, unknown>) {
    let reply: Record<string, unknown>;
    try {
      reply = await rtpengine.command(verb, { ...base, ...params });
    } catch (err) {
      throw new MediaError(`rtpengine ${verb}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (reply.result !== 'ok') throw new MediaError(`rtpengine ${verb}: ${reply['error-reason'] ?? reply.result ?? 'no result'}`);
    return reply;
  }
  let agentBranch: AgentBranch = 'sip';
  let callerOffer: string | undefined;
  let browserOffer: Promise<string> | undefined;
  /** The RTP profile of the caller's audio (RTP/AVP, RTP/SAVP…), kept towards the caller. */
  let callerProfile: string | undefined;
  /** The last re-INVITE offer from each side: its answer must have as many m= lines. */
  const reoffers: Partial<Record<'caller' | 'agent', string>> = {};
  const agentTag = () => (agentBranch === 'browser' ? BROWSER_SIDE_TAG : AGENT_SIDE_TAG);
  const tagOf = (side: 'caller' | 'agent') => (side === 'caller' ? callerTag : agentTag());
  /** Flags for the SDP rtpengine writes towards `side`. */
  const towards = (side: 'caller' | 'agent') => {
    const browser = side === 'agent' ? agentBranch === 'browser' : browserCaller;
    if (browser) return side === 'caller' ? TO_BROWSER_CALLER_FLAGS : BROWSER_FLAGS;
    // Plain RTP towards this side; WebRTC's own attributes go if the other side is a browser.
    const otherBrowser = side === 'agent' ? browserCaller : agentBranch === 'browser';
    if (otherBrowser) return FROM_BROWSER_FLAGS;
    // The caller keeps the profile it offered (SRTP stays SRTP when the agent re-offers, for a hold).
    return side === 'agent' ? TO_AGENT_PLAIN_FLAGS : { ICE: 'remove', ...(callerProfile ? { 'transport-protocol': callerProfile } : {}) };
  };

  return {
    async offerFromCaller(sdp) {
      callerOffer = sdp;
      callerProfile = /^m=audio \d+(?:\/\d+)? (\S+)/m.exec(sdp)?.[1];
      const reply = await checked('offer', {
        'from-tag': callerTag,
        sdp,
        replace: ['origin', 'session-connection'],
        codec: browserCaller ? BROWSER_CALLER_CODECS : CODEC_POLICY,
        ...towards('agent'),
        'record call': deps.record ? 'yes' : 'no',
        metadata: `callid:${callId}`,
      });
      return String(reply.sdp);
    },
    offerToBrowser() {
      if (callerOffer === undefined) return Promise.reject(new MediaError('rtpengine offer: the caller has not offered yet'));
      const sdp = callerOffer;
      browserOffer ??= checked('offer', {
        'from-tag': callerTag,
        'to-tag': BROWSER_SIDE_TAG,
        sdp,
        replace: ['origin', 'session-connection'],
        codec: CODEC_POLICY,
        ...BROWSER_FLAGS,
        'record call': deps.record ? 'yes' : 'no',
      }).then((reply) => String(reply.sdp));
      // A failed offer may be retried by the next ring.
      browserOffer.catch(() => {
        browserOffer = undefined;
      });
      return browserOffer;
    },
    async answerFromAgentSide(sdp, branch = 'sip') {
      agentBranch = branch;
      const reply = await checked('answer', {
        'from-tag': callerTag,
        'to-tag': agentTag(),
        sdp,
        replace: ['origin', 'session-connection'],
        ...towards('caller'),
      });
      return callerOffer === undefined ? String(reply.sdp) : alignAnswerToOffer(callerOffer, String(reply.sdp));
    },
    // rtpengine takes tags in the direction of the new offer: from-tag = the re-INVITE's sender.
    async reoffer(side, sdp) {
      reoffers[side] = sdp;
      const other = side === 'caller' ? 'agent' : 'caller';
      const reply = await checked('offer', {
        'from-tag': tagOf(side),
        'to-tag': tagOf(other),
        sdp,
        replace: ['origin', 'session-connection'],
        codec: side === 'caller' && browserCaller ? BROWSER_CALLER_CODECS : CODEC_POLICY,
        ...towards(other),
      });
      return String(reply.sdp);
    },
    async reanswer(offerer, sdp) {
      const other = offerer === 'caller' ? 'agent' : 'caller';
      const reply = await checked('answer', {
        'from-tag': tagOf(offerer),
        'to-tag': tagOf(other),
        sdp,
        replace: ['origin', 'session-connection'],
        ...towards(offerer),
      });
      const offer = reoffers[offerer];
      return offer === undefined ? String(reply.sdp) : alignAnswerToOffer(offer, String(reply.sdp));
    },
    async play(side, file) {
      // rtpengine plays to the party whose tag is given as from-tag. It opens the file itself, from
      // its own working directory: the path must not depend on ours.
      const reply = await checked('playMedia', { 'from-tag': tagOf(side), file: path.resolve(file) });
      return Number(reply.duration ?? 0);
    },
    async stopPlay(side) {
      await rtpengine.command('stopMedia', { ...base, 'from-tag': tagOf(side) }).catch(() => undefined);
    },
    async alive() {
      try {
        const reply = await rtpengine.command('query', { ...base });
        return !(reply.result === 'error' && /unknown call/i.test(String(reply['error-reason'] ?? '')));
      } catch {
        return true;
      }
    },
    async remove() {
      try {
        await rtpengine.command('delete', { ...base });
      } catch (err) {
        logger.warn({ err, callId, type: 'rtpengine_delete_failed' }, 'rtpengine delete failed');
      }
    },
  };
}

/** A receive-nothing answer for the agent side, used when the caller must be answered before any agent is (announcements, IVR, voicemail). */
export function placeholderAgentSdp(host: string): string {
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${host}`,
    's=-',
    `c=IN IP4 ${host}`,
    't=0 0',
    'm=audio 9 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}
