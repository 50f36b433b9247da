import type { Logger } from '../logger.js';
import type { CallMedia } from '../media/call-media.js';
import { placeholderAgentSdp, refusedOffer } from '../media/call-media.js';
import { answeringDirection, directionOf, withDirection } from '../media/sdp.js';
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
  /** The session description it last gave us (its answer, or its last offer). */
  readonly remoteSdp: string | undefined;
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
 * How long the other side has to answer a relayed re-INVITE before we answer the sender ourselves.
 * Phones and gateways answer in milliseconds; some never answer a re-INVITE at all (SIPp's uas, a
 * few SIP trunks' hold), and the sender would otherwise wait for our Timer B (32 s) and then, as
 * carriers do, hang up.
 */
export const REINVITE_ANSWER_DEADLINE_MS = 4_000;

/**
 * Passes a re-INVITE (hold, unhold, codec change, session refresh) through the B2BUA: rtpengine
 * re-anchors the offer, the other side gets a re-INVITE of its own, and its answer goes back to the
 * sender. Media never bypasses rtpengine, so the recording keeps both sides. When the other side
 * refuses (other than 491 glare) or does not answer in time, the sender is answered with the other
 * side's current session: rtpengine takes the sender's change, the other side keeps what it has,
 * and the call goes on. Resolves once the sender has its final answer.
 */
export async function relayReinvite(
  parties: ReinviteParties,
  request: SipRequest,
  from: 'caller' | 'agent',
  deadlineMs = REINVITE_ANSWER_DEADLINE_MS,
): Promise<void> {
  const sender = from === 'caller' ? parties.caller : parties.agent;
  if (!sender) return;
  const { log, media, stack } = parties;
  const reject = (status: number) => void stack.reply(request, status);
  if (!request.content?.trim()) {
    // A re-INVITE without an offer asks for ours (RFC 3261 14.2); carriers send it to refresh the
    // session (RFC 4028). Offering what we last sent, unchanged (same o= version), moves nothing, so
    // the answer in its ACK changes nothing either and the other side need not hear of it.
    if (!sender.localSdp) return reject(488);
    sender.answerReinvite(request, sender.localSdp);
    log.info({ type: 'session_refreshed', from }, 'offerless re-INVITE answered with the current session');
    return;
  }
  // A switch to T.38 fax (m=image alone) or to codecs we cannot send is declined: the session stays
  // as it was (RFC 3261 14.1), and a fax machine falls back to sending its tones over G.711.
  const refused = refusedOffer(request.content);
  if (refused) {
    log.info({ type: 'reinvite_declined', from, reason: refused.message }, 're-INVITE declined: its media cannot be carried');
    return void stack.replyError(request, refused);
  }
  const offeredDirection = directionOf(request.content);
  // The sender stops retransmitting while the other side (and rtpengine) work on it.
  if (request.method === 'INVITE') stack.reply(request, 100);
  let offer: string;
  try {
    offer = await media.reoffer(from, request.content);
  } catch (err) {
    log.warn({ err, type: 'reinvite_offer_failed' }, 'rtpengine refused the re-INVITE offer');
    return reject(488);
  }
  const answerSender = async (otherSdp: string, how: 'relayed' | 'answered_here') => {
    const answer = await media.reanswer(from, otherSdp);
    sender.answerReinvite(request, answer);
    log.info(
      {
        type: how === 'relayed' ? 'reinvite_relayed' : 'reinvite_answered_here',
        from,
        direction: offeredDirection,
      },
      how === 'relayed' ? 're-INVITE relayed' : 're-INVITE answered with the other side’s current session',
    );
  };
  const other = from === 'caller' ? parties.agent : parties.caller;
  if (!other) {
    // Nobody bridged yet (prompt, menu, voicemail): the agent side of rtpengine answers for itself.
    return answerSender(placeholderAgentSdp(stack.host), 'answered_here').catch(() => reject(500));
  }
  await new Promise<void>((settled) => {
    let answered = false;
    const answerOnce = (otherSdp: string | undefined, how: 'relayed' | 'answered_here') => {
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      if (!otherSdp) {
        stack.reply(request, 500, { headers: { 'retry-after': 1 } });
        return settled();
      }
      answerSender(otherSdp, how)
        .catch((err: unknown) => {
          log.warn({ err, type: 'reinvite_answer_failed' }, 'rtpengine refused the re-INVITE answer');
          reject(500);
        })
        .finally(settled);
    };
    // The other side's current session, in the direction the sender's offer asks for (hold is answered recvonly).
    const answerHere = () => answerOnce(other.remoteSdp && withDirection(other.remoteSdp, answeringDirection(offeredDirection)), 'answered_here');
    const deadline = setTimeout(() => {
      log.warn({ type: 'reinvite_unanswered', from, waitedMs: deadlineMs }, 'the other side did not answer the re-INVITE in time');
      answerHere();
    }, deadlineMs);
    const onResponse = (response: SipResponse) => {
      if (response.status < 200) return;
      if (response.status < 300) {
        other.ackReinvite(response);
        // Too late for the sender, who has its answer: rtpengine still learns the other side's new session.
        if (answered) return void media.reanswer(from, response.content ?? '').catch(() => undefined);
        return answerOnce(response.content ?? '', 'relayed');
      }
      if (answered) return;
      if (response.status === 491) {
        // Glare: the sender retries after a random pause (RFC 3261 14.1).
        answered = true;
        clearTimeout(deadline);
        reject(491);
        return settled();
      }
      log.info({ type: 'reinvite_refused_by_other_side', from, status: response.status }, 'the other side refused the re-INVITE');
      answerHere();
    };
    other.reinvite(offer, onResponse);
  });
}
