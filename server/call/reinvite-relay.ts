import type { Logger } from '../logger.js';
import type { CallMedia } from '../media/call-media.js';
import { placeholderAgentSdp } from '../media/call-media.js';
import type { AgentLeg, CallerDialog } from '../sip/dialog.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRequest, SipResponse } from '../sip/sip-types.js';

/** What a re-INVITE needs from its call: both dialogs and the call's media. */
export interface ReinviteParties {
  stack: SipStack;
  caller: CallerDialog;
  /** The bridged agent, if any (an IVR or voicemail has none: we answer for the agent side). */
  agent: AgentLeg | undefined;
  media: CallMedia;
  log: Logger;
}

const REASONS: Record<number, string> = { 488: 'Not Acceptable Here', 491: 'Request Pending', 500: 'Server Internal Error' };

/**
 * Passes a re-INVITE (hold, unhold, codec change, session refresh) through the B2BUA: rtpengine
 * re-anchors the offer, the other side gets a re-INVITE of its own, and its answer (or failure)
 * goes back to the sender. Media never bypasses rtpengine, so the recording keeps both sides.
 */
export async function relayReinvite(p: ReinviteParties, rq: SipRequest, from: 'caller' | 'agent'): Promise<void> {
  const sender = from === 'caller' ? p.caller : p.agent;
  if (!sender) return;
  const reject = (status: number) => void p.stack.reply(rq, status, REASONS[status] ?? 'Error');
  if (!rq.content) return reject(488); // offerless re-INVITE (RFC 3261 14.1): we do not relay those
  let offer: string;
  try {
    offer = await p.media.reoffer(from, rq.content);
  } catch (err) {
    p.log.warn({ err, type: 'reinvite_offer_failed' }, 'rtpengine refused the re-INVITE offer');
    return reject(488);
  }
  const answerSender = async (otherSdp: string) => {
    const answer = await p.media.reanswer(from, otherSdp);
    sender.answerReinvite(rq, answer);
    p.log.info({ type: 'reinvite_relayed', from, direction: /a=(sendonly|recvonly|inactive)/.exec(rq.content ?? '')?.[1] ?? 'sendrecv' }, 're-INVITE relayed');
  };
  if (from === 'caller' && !p.agent) {
    // Nobody bridged yet (prompt, menu, voicemail): the agent side of rtpengine answers for itself.
    return answerSender(placeholderAgentSdp(p.stack.host)).catch(() => reject(500));
  }
  const onResponse = (rs: SipResponse) => {
    if (rs.status < 200) return;
    if (rs.status < 300) {
      if (from === 'caller') p.agent!.ack(rs);
      else p.caller.ackReinvite(rs);
      void answerSender(rs.content ?? '').catch((err: unknown) => {
        p.log.warn({ err, type: 'reinvite_answer_failed' }, 'rtpengine refused the re-INVITE answer');
        reject(500);
      });
      return;
    }
    reject(rs.status === 491 ? 491 : rs.status);
  };
  if (from === 'caller') p.agent!.reinvite(offer, onResponse);
  else p.caller.reinvite(offer, onResponse);
}
