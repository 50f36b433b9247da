import type { Logger } from '../logger.js';
import type { CallMedia } from '../media/call-media.js';
import { placeholderAgentSdp } from '../media/call-media.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRequest, SipResponse } from '../sip/sip-types.js';

/** One dialog of a bridged call, as a re-INVITE relay uses it (our UAS caller dialog or a UAC leg). */
export interface ReinvitePeer {
  /** Sends it a re-INVITE with our offer. */
  reinvite(sdp: string, onResponse: (response: SipResponse) => void): void;
  /** Answers its re-INVITE (2xx retransmitted until its ACK). */
  answerReinvite(request: SipRequest, sdp: string): void;
  /** ACKs the 2xx to our re-INVITE. */
  ackReinvite(response: SipResponse): void;
  /** The session description we last gave it. */
  readonly localSdp: string | undefined;
}

/** What a re-INVITE needs from its call: both dialogs and the call's media. */
export interface ReinviteParties {
  stack: SipStack;
  /** The side rtpengine knows as the caller (the carrier's caller; a callback's customer). */
  caller: ReinvitePeer;
  /** The bridged agent, if any (an IVR or voicemail has none: we answer for the agent side). */
  agent: ReinvitePeer | undefined;
  media: CallMedia;
  log: Logger;
}

/**
 * Passes a re-INVITE (hold, unhold, codec change, session refresh) through the B2BUA: rtpengine
 * re-anchors the offer, the other side gets a re-INVITE of its own, and its answer (or failure)
 * goes back to the sender. Media never bypasses rtpengine, so the recording keeps both sides.
 */
export async function relayReinvite(parties: ReinviteParties, request: SipRequest, from: 'caller' | 'agent'): Promise<void> {
  const sender = from === 'caller' ? parties.caller : parties.agent;
  if (!sender) return;
  const reject = (status: number) => void parties.stack.reply(request, status);
  if (!request.content?.trim()) {
    // A re-INVITE without an offer asks for ours (RFC 3261 14.2); carriers send it to refresh the
    // session (RFC 4028). Offering what we last sent, unchanged (same o= version), moves nothing, so
    // the answer in its ACK changes nothing either and the other side need not hear of it.
    if (!sender.localSdp) return reject(488);
    sender.answerReinvite(request, sender.localSdp);
    parties.log.info({ type: 'session_refreshed', from }, 'offerless re-INVITE answered with the current session');
    return;
  }
  let offer: string;
  try {
    offer = await parties.media.reoffer(from, request.content);
  } catch (err) {
    parties.log.warn({ err, type: 'reinvite_offer_failed' }, 'rtpengine refused the re-INVITE offer');
    return reject(488);
  }
  const answerSender = async (otherSdp: string) => {
    const answer = await parties.media.reanswer(from, otherSdp);
    sender.answerReinvite(request, answer);
    parties.log.info(
      { type: 'reinvite_relayed', from, direction: /a=(sendonly|recvonly|inactive)/.exec(request.content ?? '')?.[1] ?? 'sendrecv' },
      're-INVITE relayed',
    );
  };
  if (from === 'caller' && !parties.agent) {
    // Nobody bridged yet (prompt, menu, voicemail): the agent side of rtpengine answers for itself.
    return answerSender(placeholderAgentSdp(parties.stack.host)).catch(() => reject(500));
  }
  const onResponse = (response: SipResponse) => {
    if (response.status < 200) return;
    if (response.status < 300) {
      if (from === 'caller') parties.agent!.ackReinvite(response);
      else parties.caller.ackReinvite(response);
      void answerSender(response.content ?? '').catch((err: unknown) => {
        parties.log.warn({ err, type: 'reinvite_answer_failed' }, 'rtpengine refused the re-INVITE answer');
        reject(500);
      });
      return;
    }
    reject(response.status === 491 ? 491 : response.status);
  };
  if (from === 'caller') parties.agent!.reinvite(offer, onResponse);
  else parties.caller.reinvite(offer, onResponse);
}
