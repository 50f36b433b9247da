import { type AppError, ERRORS } from '../errors.js';
import type { AgentLeg } from '../sip/agent-leg.js';
import { parseUri } from '../sip/sip-stack.js';
import type { SipRequest, SipResponse } from '../sip/sip-types.js';
import { EXTENSION_TARGET } from './dial-targets.js';

/**
 * The dialog a Refer-To's `Replaces` names (RFC 3891 3), as the transferor's phone sees it: the
 * consultation call it placed to us, so `to-tag` is our tag in that dialog and `from-tag` its own.
 */
export interface ReplacesDialog {
  callId: string;
  toTag: string;
  fromTag: string;
}

/**
 * The Replaces of a REFER's Refer-To (`<sip:…?Replaces=callid%3Bto-tag%3Dx%3Bfrom-tag%3Dy>`):
 * undefined for a blind transfer, an AppError when it is there but unreadable.
 */
export function replacesOf(request: SipRequest): ReplacesDialog | AppError | undefined {
  const referTo = request.headers['refer-to'] as { uri?: string } | undefined;
  const uri = referTo?.uri ? parseUri(referTo.uri) : undefined;
  const raw = Object.entries(uri?.headers ?? {}).find(([name]) => name.toLowerCase() === 'replaces')?.[1];
  if (raw === undefined) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return ERRORS.malformedRequest('Replaces is not URI-encoded');
  }
  const [callId, ...params] = value.split(';').map((part) => part.trim());
  const param = (name: string) =>
    params
      .map((p) => p.split('='))
      .find(([key]) => key?.toLowerCase() === name)?.[1]
      ?.trim();
  const toTag = param('to-tag');
  const fromTag = param('from-tag');
  if (!callId || !toTag || !fromTag) return ERRORS.malformedRequest('Replaces needs a Call-ID, to-tag and from-tag');
  return { callId, toTag, fromTag };
}

/** What the check needs to know about the call that transfers and the consultation call it names. */
export interface TransferringCall {
  readonly ended: boolean;
  readonly ctx: { route: { accountId: string }; caller: string; pbx?: unknown };
  readonly answeredTarget: string | undefined;
  readonly bridgedLeg: AgentLeg | undefined;
  /** Whether the request's dialog is this call's caller dialog (Call-ID and both tags). */
  ownsCallerDialog(dialog: ReplacesDialog): boolean;
}

/**
 * The consultation call an attended transfer may complete: a call the transferring agent's own
 * extension placed (same account), answered and still up. Anything else is refused the same way,
 * unknown or someone else's, so a REFER cannot learn or join other people's calls (no open relay).
 */
export function consultationFor<T extends TransferringCall>(transferor: T, replaces: ReplacesDialog, find: (sipCallId: string) => T | undefined): T | AppError {
  const refused = ERRORS.transferRefused('Replaces names no consultation call of this extension');
  const consult = find(replaces.callId);
  const agent = transferor.answeredTarget?.startsWith(EXTENSION_TARGET) ? transferor.answeredTarget.slice(EXTENSION_TARGET.length) : undefined;
  if (!consult || consult === transferor || consult.ended || !agent) return refused;
  if (!consult.ownsCallerDialog(replaces) || !consult.ctx.pbx) return refused;
  if (consult.ctx.route.accountId !== transferor.ctx.route.accountId || consult.ctx.caller !== agent) return refused;
  if (consult.bridgedLeg?.state !== 'answered') return ERRORS.transferRefused('the consultation call is not answered');
  return consult;
}

/**
 * Sends `offer` to an answered leg as a re-INVITE and resolves with its answer (the 2xx is ACKed,
 * retransmissions too); rejects with the SIP status of a failure.
 */
export function reinviteLeg(leg: AgentLeg, offer: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    leg.reinvite(offer, (response: SipResponse) => {
      if (response.status < 200) return;
      if (response.status < 300) leg.ackReinvite(response);
      if (settled) return;
      settled = true;
      if (response.status < 300 && response.content?.trim()) resolve(response.content);
      else reject(new TransferLegRefused(response.status < 300 ? 488 : response.status));
    });
  });
}

/** The colleague's phone refused to move its media (its status goes into the failure NOTIFY). */
export class TransferLegRefused extends Error {
  override readonly name = 'TransferLegRefused';
  constructor(readonly status: number) {
    super(`the transfer target answered the re-INVITE with ${status}`);
  }
}

/** The status line of the final NOTIFY of a transfer that failed (RFC 3515 2.4.5: the target's status as sipfrag). */
export function failureLine(err: unknown): string {
  if (err instanceof TransferLegRefused) return `SIP/2.0 ${err.status} ${err.status === 488 ? 'Not Acceptable Here' : 'Transfer Target Refused'}`;
  return 'SIP/2.0 503 Service Unavailable';
}
