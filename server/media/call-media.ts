import type { Logger } from '../logger.js';
import type { Rtpengine } from './rtpengine.js';

/** The tag rtpengine knows the forwarded side by; whichever target answers takes it over. */
export const AGENT_SIDE_TAG = 'agent-side';

/**
 * Media of one call in rtpengine: the caller's offer, the agent side's answer, announcements and
 * teardown. rtpengine's call-id is our call id, so B-legs' SIP call-ids never matter to it.
 */
export interface CallMedia {
  /** Anchors the caller's SDP; returns the SDP to offer to agents. */
  offerFromCaller(sdp: string): Promise<string>;
  /** Completes the exchange with the agent side's SDP (or a placeholder); returns the SDP for the caller. */
  answerFromAgentSide(sdp: string): Promise<string>;
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

/** rtpengine refused or did not answer: the call cannot be anchored (SIP 503, so carriers fail over). */
export class MediaError extends Error {
  override readonly name = 'MediaError';
}

export function createCallMedia(deps: { rtpengine: Rtpengine; callId: string; callerTag: string; record: boolean; logger: Logger }): CallMedia {
  const { rtpengine, callId, callerTag, logger } = deps;
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
  const tagOf = (side: 'caller' | 'agent') => (side === 'caller' ? callerTag : AGENT_SIDE_TAG);

  return {
    async offerFromCaller(sdp) {
      const reply = await checked('offer', {
        'from-tag': callerTag,
        sdp,
        replace: ['origin', 'session-connection'],
        codec: CODEC_POLICY,
        ICE: 'remove',
        'record call': deps.record ? 'yes' : 'no',
        metadata: `callid:${callId}`,
      });
      return String(reply.sdp);
    },
    async answerFromAgentSide(sdp) {
      const reply = await checked('answer', { 'from-tag': callerTag, 'to-tag': AGENT_SIDE_TAG, sdp, replace: ['origin', 'session-connection'], ICE: 'remove' });
      return String(reply.sdp);
    },
    // rtpengine takes tags in the direction of the new offer: from-tag = the re-INVITE's sender.
    async reoffer(side, sdp) {
      const other = side === 'caller' ? 'agent' : 'caller';
      const reply = await checked('offer', {
        'from-tag': tagOf(side),
        'to-tag': tagOf(other),
        sdp,
        replace: ['origin', 'session-connection'],
        codec: CODEC_POLICY,
        ICE: 'remove',
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
        ICE: 'remove',
      });
      return String(reply.sdp);
    },
    async play(side, file) {
      // rtpengine plays to the party whose tag is given as from-tag.
      const reply = await checked('playMedia', { 'from-tag': tagOf(side), file });
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
