import type { Db } from '../db/pool.js';
import type { Dialplan } from '../dialplans/dialplan.schemas.js';
import { AppError, ERRORS } from '../errors.js';
import { type DigestAuth, readCredentials } from '../sip/digest.js';
import { e164Readings, type InviteContext } from '../sip/invite-admission.js';
import { parseUri } from '../sip/sip-stack.js';
import type { SipRemote, SipRequest } from '../sip/sip-types.js';
import type { OutboundSide } from '../trunks/outbound.schemas.js';
import * as repo from './extensions.repository.js';
import { isWebSocket, phoneCredentialsFor } from './phone-credentials.js';
import type { SoftphoneCredentials } from './softphone-credentials.js';
import { destinationAllowed, type OutsideCallCap } from './toll-policy.js';

/** How long a call from a phone rings the other side before it gives up. */
const RING_SECONDS = 60;

export interface ExtensionCallDeps {
  db: Db;
  digest: DigestAuth;
  /** The home country: its numbers are domestic, and numbers dialled without "+" are read in its format. */
  defaultCountry: string;
  cap: OutsideCallCap;
  outboundOf(accountId: string): Promise<OutboundSide | undefined>;
  /** Short-lived browser credentials, taken over WebSocket only (as for REGISTER). */
  softphone?: SoftphoneCredentials | undefined;
}

/** An admitted call from a phone: who called, and the one-step flow that rings the dialled side. */
export interface ExtensionCall {
  ctx: InviteContext;
  plan: Dialplan;
}

/**
 * Calls that employees' phones place: another extension (internal) or an outside number through
 * the outbound trunk (outbound). Only a phone that proves its extension's password (407 digest,
 * nonce used once), or a browser its short-lived softphone credentials over WebSocket, may call,
 * and only where the extension's grant allows (domestic by default, calls per minute capped). Returns undefined for an INVITE that is not from an extension, so
 * trunk admission answers it as before (an unknown address dialling out still gets 403).
 */
export async function admitExtensionCall(deps: ExtensionCallDeps, request: SipRequest, remote: SipRemote): Promise<ExtensionCall | AppError | undefined> {
  const headers = request.headers;
  const credentials = readCredentials((headers['proxy-authorization'] as Array<Record<string, string>> | undefined)?.[0] ?? headers.authorization?.[0]);
  if (!credentials) {
    // Challenge only a From that names one of our phones, or a browser (no carrier speaks WebSocket):
    // strangers keep getting a plain 403.
    const fromUser = parseUri(headers.from.uri)?.user;
    if (!isWebSocket(remote) && (!fromUser || !(await repo.findCredentials(deps.db, fromUser)))) return undefined;
    return ERRORS.authenticationRequired(deps.digest.challenge());
  }
  const found = await phoneCredentialsFor(deps, credentials.username ?? '', remote);
  // Over WebSocket the credentials were a phone's or nothing; elsewhere they may be a digest trunk's.
  if (found instanceof AppError) return isWebSocket(remote) || deps.softphone?.read(credentials.username ?? '') ? found : undefined;
  const { extension, ha1 } = found;
  const verdict = await deps.digest.verify({ method: request.method, uri: request.uri }, credentials, ha1);
  if (verdict === 'stale') return ERRORS.authenticationRequired(deps.digest.challenge(true));
  if (verdict !== 'ok') return ERRORS.badCredentials();

  const dialled = decodeURIComponent(parseUri(request.uri)?.user ?? '');
  const base = {
    request,
    remote,
    trunk: null,
    caller: extension.extension,
    callerName: extension.name,
    route: { accountId: extension.accountId, numberId: null, poolId: null, sourceId: null, dialplan: '' },
  };
  const colleague = /^[0-9]{2,8}$/.test(dialled) ? await repo.findByNumber(deps.db, extension.accountId, dialled) : undefined;
  if (colleague) {
    if (dialled === extension.extension) return ERRORS.tollDenied('an extension cannot call itself');
    return {
      ctx: { ...base, trackingNumber: '', pbx: { direction: 'internal', extensionId: extension.id, callee: dialled } },
      plan: ringOnly('internal', `extension:${dialled}`),
    };
  }
  const e164 = e164Readings(dialled, deps.defaultCountry)[0];
  if (!e164) return ERRORS.tollDenied(`${dialled || 'the dialled number'} is neither an extension nor a phone number`);
  const refused = destinationAllowed(extension, e164, deps.defaultCountry);
  if (refused) return refused;
  const side = await deps.outboundOf(extension.accountId).catch(() => undefined);
  if (!side) return ERRORS.unavailable('an outbound trunk');
  const overCap = await deps.cap.take(extension);
  if (overCap) return overCap;
  // What the called phone shows: the extension's own outside number, else the trunk's company number.
  const shown = extension.callerId ?? side.fixedNumber ?? extension.extension;
  return {
    ctx: { ...base, trackingNumber: shown, pbx: { direction: 'outbound', extensionId: extension.id, callee: e164 } },
    plan: ringOnly('outbound', `tel:${e164}`),
  };
}

function ringOnly(name: string, target: string): Dialplan {
  return { name, record: true, steps: [{ forward: { targets: [target], strategy: 'simultaneous', ringSeconds: RING_SECONDS } }] };
}
