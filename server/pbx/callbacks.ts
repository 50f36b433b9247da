import type { OriginateOrder } from '../call/originated-call.js';
import { findCallRef } from '../calls/calls.repository.js';
import type { Db } from '../db/pool.js';
import { AppError, ERRORS, ErrorCode } from '../errors.js';
import { toE164 } from '../shared/schemas.js';
import { outboundDial } from '../trunks/outbound-dial.js';
import type { OutboundSide } from '../trunks/outbound.schemas.js';
import { findCredentialsByNumber } from './extensions.repository.js';
import type { Registrar } from './registrar.js';
import { destinationAllowed, type OutsideCallCap } from './toll-policy.js';

export interface CallbackRequest {
  extension: string;
  to?: string | undefined;
  callerIdNumber?: string | undefined;
  callbackOf?: string | undefined;
}

/**
 * Where click-to-call meets the call path. The HTTP side validates and builds the order; the
 * call path (SIP stack and rtpengine, in the process that runs them) attaches `place`.
 */
export interface CallbackDialer {
  place?: (order: OriginateOrder) => { callId: string };
}

export interface CallbackDeps {
  db: Db;
  registrar: Registrar;
  outboundOf(accountId: string): Promise<OutboundSide | undefined>;
  cap: OutsideCallCap;
  defaultCountry: string;
  dialer: CallbackDialer;
}

const conflict = (message: string) => new AppError(ErrorCode.conflict, message, 409);
const invalid = (message: string) => new AppError(ErrorCode.validation, message, 400);

/**
 * A callback asked for from the app: the extension's phones ring first, then the customer through
 * the outbound trunk, shown a tracking number (the one they called, for a missed call returned).
 * The extension's outside-call grant and cap apply as to calls dialled on the phone.
 */
export async function placeCallback(deps: CallbackDeps, accountId: string, request: CallbackRequest): Promise<{ callId: string }> {
  const extension = await findCredentialsByNumber(deps.db, accountId, request.extension);
  if (!extension) throw ERRORS.notFound('extension', request.extension);
  const missed = request.callbackOf ? await findCallRef(deps.db, accountId, request.callbackOf) : undefined;
  if (request.callbackOf && !missed) throw ERRORS.notFound('call', request.callbackOf);
  const rawTo = request.to ?? missed?.caller;
  if (!rawTo) throw invalid('to: the number to call (or callbackOf, a call whose caller is called back)');
  const customer = toE164(rawTo, deps.defaultCountry);
  if (!customer) throw invalid(`to: "${rawTo}" is not a phone number that can be called`);
  const refused = destinationAllowed(extension, customer, deps.defaultCountry);
  if (refused) throw refused;

  // The caller ID must be one of the account's own numbers: a callback never shows someone else's.
  let shown: string | undefined;
  if (request.callerIdNumber) {
    shown = toE164(request.callerIdNumber);
    const owned = shown && (await deps.db.query('SELECT 1 FROM numbers WHERE account_id = $1 AND number = $2', [accountId, shown])).rowCount;
    if (!owned) throw invalid(`callerIdNumber: ${request.callerIdNumber} is not a number of this account`);
  }
  const side = await deps.outboundOf(accountId);
  if (!side) throw conflict('no trunk has an outbound side: add one (gateway host) to call out');
  shown ??= missed?.trackingNumber ?? extension.callerId ?? side.fixedNumber;
  if (!shown) throw invalid('callerIdNumber: no caller ID to show (give one, or set one on the extension or the trunk)');
  const contacts = await deps.registrar.contactsOf(accountId, extension.extension);
  if (contacts.length === 0) throw conflict(`extension ${extension.extension} has no phone registered`);
  if (!deps.dialer.place) throw ERRORS.unavailable('the SIP side of this process');
  const overCap = await deps.cap.take(extension);
  if (overCap) throw overCap;
  return deps.dialer.place({
    accountId,
    extension: { id: extension.id, extension: extension.extension, name: extension.name },
    agentContacts: contacts,
    customer: outboundDial(side, customer, { caller: shown, tracking: shown }),
    customerNumber: customer,
    shownNumber: shown,
    callbackOf: missed?.callId,
  });
}
