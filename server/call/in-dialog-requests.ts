import { AppError, ERRORS } from '../errors.js';
import type { Logger } from '../logger.js';
import { sameSessionVersion } from '../media/sdp.js';
import type { AgentLeg } from '../sip/agent-leg.js';
import { dtmfDigitOf } from '../sip/info-dtmf.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRemote, SipRequest } from '../sip/sip-types.js';
import { consultationFor, replacesOf } from './attended-transfer.js';
import type { DialogSide, LiveCall } from './live-call.js';
import type { OriginatedCall } from './originated-call.js';

export interface InDialogDeps {
  stack: SipStack;
  log: Logger;
  /** The live call and side a request belongs to (the whole dialog must match, and the caller's side its trunk). */
  dialogOf(request: SipRequest, remote: SipRemote): { call: LiveCall; from: DialogSide } | undefined;
  /** The callback leg a request belongs to. */
  callbackLegOf(request: SipRequest): { call: OriginatedCall; leg: AgentLeg } | undefined;
  /** A live call by its caller dialog's SIP Call-ID (an attended transfer's consultation). */
  callBySipCallId(sipCallId: string): LiveCall | undefined;
  /** What a blind transfer's Refer-To names, as a dialplan target, or why it may not be called. */
  transferTarget(accountId: string, request: SipRequest): Promise<string | AppError>;
}

/** Requests inside a call's dialogs, sent to the call that owns the dialog. */
export interface InDialogRequests {
  /** Handles the request if its method is one of ours; false for any other method. */
  handle(request: SipRequest, remote: SipRemote): boolean;
  /** A re-INVITE (the INVITE's To has a tag): hold/unhold and session refreshes, relayed through rtpengine. */
  reinvite(request: SipRequest, remote: SipRemote): void;
}

export function createInDialogRequests(deps: InDialogDeps): InDialogRequests {
  const { stack, log } = deps;

  function reinvite(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    const callback = dialog ? undefined : deps.callbackLegOf(request);
    if (callback) return callback.call.reinvite(request, callback.leg);
    if (!dialog) return void stack.replyError(request, ERRORS.dialogNotFound());
    dialog.call.reinvite(request, dialog.from);
  }

  function ack(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    if (dialog?.from.side === 'caller') return dialog.call.callerAcked(request.headers.cseq.seq, request.content);
    if (dialog?.from.side === 'agent') return dialog.call.agentAcked(dialog.from.leg);
    const callback = deps.callbackLegOf(request);
    callback?.call.legAcked(callback.leg);
  }

  function cancel(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    if (dialog?.from.side !== 'caller') return void stack.replyError(request, ERRORS.dialogNotFound());
    stack.reply(request, 200);
    if (!dialog.call.caller.finalSent) dialog.call.callerHungUp();
  }

  function bye(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    const callback = dialog ? undefined : deps.callbackLegOf(request);
    if (callback) {
      stack.reply(request, 200);
      return callback.call.legHungUp(callback.leg);
    }
    if (!dialog) return void stack.replyError(request, ERRORS.dialogNotFound());
    stack.reply(request, 200);
    if (dialog.from.side === 'caller') dialog.call.callerHungUp();
    else dialog.call.agentHungUp(dialog.from.leg);
  }

  /** Transfer by the agent who has the call (blind, or attended with Replaces); a caller (carrier) may not move calls around. */
  function refer(request: SipRequest, remote: SipRemote): void {
    const callId = request.headers['call-id'];
    const dialog = deps.dialogOf(request, remote);
    if (!dialog) return void stack.replyError(request, ERRORS.dialogNotFound());
    if (dialog.from.side !== 'agent') return void stack.replyError(request, ERRORS.transferRefused('only the agent who has the call can transfer it'));
    const { call } = dialog;
    const from = dialog.from.leg;
    const replaces = replacesOf(request);
    if (replaces instanceof AppError) return void stack.replyError(request, replaces);
    if (replaces) {
      // Attended transfer: Replaces names the consultation call the agent's phone placed.
      const consult = consultationFor(call, replaces, deps.callBySipCallId);
      if (consult instanceof AppError) {
        call.log.info({ type: 'attended_transfer_refused', reason: consult.message, replacesCallId: replaces.callId }, 'attended transfer refused');
        return void stack.replyError(request, consult);
      }
      void call.completeAttendedTransfer(request, from, consult).catch((err: unknown) => {
        log.error({ err, callId, type: 'transfer_failed' }, 'attended transfer failed');
      });
      return;
    }
    void deps
      .transferTarget(call.ctx.route.accountId, request)
      .then((target) => {
        if (typeof target !== 'string') return void stack.replyError(request, target);
        return call.transfer(request, from, target);
      })
      .catch((err: unknown) => {
        log.error({ err, callId, type: 'transfer_failed' }, 'REFER handling failed');
        stack.replyError(request, ERRORS.internal(err));
      });
  }

  /**
   * Inside a dialog, an UPDATE without an offer refreshes the session (RFC 3311, RFC 4028): it is
   * acknowledged. So is one offering the session unchanged (same o= version: some gateways refresh
   * that way), answered with ours as it stands. One that changes media would do so outside the
   * re-INVITE path the recording follows: declined (the sender falls back to a re-INVITE).
   */
  function update(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    if (!dialog && !deps.callbackLegOf(request)) return void stack.replyError(request, ERRORS.dialogNotFound());
    if (!request.content?.trim()) return void stack.reply(request, 200);
    const peer = dialog?.from.side === 'caller' ? dialog.call.caller : dialog?.from.side === 'agent' ? dialog.from.leg : undefined;
    if (peer?.localSdp && sameSessionVersion(request.content, peer.remoteSdp)) return void stack.reply(request, 200, { content: peer.localSdp });
    stack.reply(request, 488);
  }

  /** The caller acknowledges one of our reliable 18x (RFC 3262); one that names none is 481. */
  function prack(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    if (dialog?.from.side !== 'caller' || !dialog.call.caller.prack(request)) return void stack.replyError(request, ERRORS.dialogNotFound());
    stack.reply(request, 200);
  }

  /**
   * INFO lives only inside a dialog (RFC 6086). A caller's key pressed as INFO (dtmf-relay) drives
   * menus like one sent in the RTP; any other INFO is taken and ignored.
   */
  function info(request: SipRequest, remote: SipRemote): void {
    const dialog = deps.dialogOf(request, remote);
    if (!dialog && !deps.callbackLegOf(request)) return void stack.replyError(request, ERRORS.dialogNotFound());
    stack.reply(request, 200);
    if (dialog?.from.side !== 'caller') return;
    const digit = dtmfDigitOf(request);
    if (digit) dialog.call.callerPressed(digit, 'info');
  }

  const byMethod: Record<string, (request: SipRequest, remote: SipRemote) => void> = {
    ACK: ack,
    CANCEL: cancel,
    BYE: bye,
    REFER: refer,
    UPDATE: update,
    PRACK: prack,
    INFO: info,
  };

  return {
    reinvite,
    handle(request, remote) {
      const handler = byMethod[request.method];
      if (!handler) return false;
      handler(request, remote);
      return true;
    },
  };
}
