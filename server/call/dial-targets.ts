import { targetKind } from '../dialplans/dialplan.schemas.js';
import { type AppError, ERRORS } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Registrar } from '../pbx/registrar.js';
import type { RingGroups } from '../pbx/ring-groups.js';
import { e164Readings, type InviteContext } from '../sip/invite-admission.js';
import { parseUri } from '../sip/sip-stack.js';
import type { SipRequest } from '../sip/sip-types.js';
import type { OutboundSide } from '../trunks/outbound.schemas.js';
import { outboundDial } from '../trunks/outbound-dial.js';
import type { DialTarget } from './live-call.js';

export const EXTENSION_TARGET = 'extension:';

export interface DialTargetDeps {
  registrar?: Pick<Registrar, 'contactsOf'> | undefined;
  groups?: Pick<RingGroups, 'plan'> | undefined;
  /** The account's outbound trunk side, for `tel:` targets. */
  outboundOf?(accountId: string): Promise<OutboundSide | undefined>;
  defaultCountry: string;
  log: Logger;
}

/** Which phones a dialplan target means, and which dialplan target a transfer asks for. */
export interface DialTargets {
  /**
   * The SIP URIs `target` rings for this call: itself for `sip:`, every phone registered for
   * `extension:NNN`, the outbound trunk for `tel:`; nobody for anything else (groups are expanded by
   * the call itself).
   */
  resolve(call: InviteContext, target: string): Promise<Array<string | DialTarget>>;
  /**
   * What a REFER's Refer-To names, as a dialplan target: an extension number, a ring group's name or
   * a phone number (out through the trunk). Nothing else: a transfer is no way to reach arbitrary
   * SIP addresses (no open relay).
   */
  transferTarget(accountId: string, request: SipRequest): Promise<string | AppError>;
}

export function createDialTargets(deps: DialTargetDeps): DialTargets {
  return {
    async resolve(call, target) {
      const kind = targetKind(target);
      if (kind === 'sip') return [target];
      if (kind === 'extension') return (await deps.registrar?.contactsOf(call.route.accountId, target.slice(EXTENSION_TARGET.length))) ?? [];
      if (kind !== 'tel') return [];
      const side = await deps.outboundOf?.(call.route.accountId).catch(() => undefined);
      if (!side) {
        deps.log.warn(
          { callId: call.request.headers['call-id'], type: 'no_outbound_trunk', target },
          'no trunk with an outbound side: the number rings nobody',
        );
        return [];
      }
      // A phone's outbound call shows its outside number whatever the trunk's policy (an extension number means nothing outside).
      const caller = call.pbx ? call.trackingNumber : call.caller;
      return [outboundDial(side, target.slice('tel:'.length), { caller, tracking: call.trackingNumber })];
    },

    async transferTarget(accountId, request) {
      const referTo = request.headers['refer-to'] as { uri?: string } | undefined;
      const uri = referTo?.uri ? parseUri(referTo.uri) : undefined;
      const user = uri?.user ? decodeURIComponent(uri.user) : undefined;
      if (!user) return ERRORS.malformedRequest('Refer-To names no user');
      if (/^[0-9]{2,8}$/.test(user) && ((await deps.registrar?.contactsOf(accountId, user)) ?? []).length > 0) return `${EXTENSION_TARGET}${user}`;
      if (/^[a-z][a-z0-9_-]{0,63}$/i.test(user) && (await deps.groups?.plan(accountId, user))) return `group:${user}`;
      const e164 = e164Readings(user, deps.defaultCountry)[0];
      if (e164 && (await deps.outboundOf?.(accountId).catch(() => undefined))) return `tel:${e164}`;
      return ERRORS.transferRefused(`${user} is not an extension with a phone, a ring group or a number that can be called`);
    },
  };
}
