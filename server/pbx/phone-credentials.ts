import type { Db } from '../db/pool.js';
import { type AppError, ERRORS } from '../errors.js';
import type { SipRemote } from '../sip/sip-types.js';
import * as repo from './extensions.repository.js';
import type { SoftphoneCredentials } from './softphone-credentials.js';

export const isWebSocket = (remote: SipRemote) => /^wss?$/i.test(remote.protocol);

/**
 * The extension a digest username names and the HA1 to check its answer with, or why not: the
 * stored password's HA1 for desk phones, or the HA1 of short-lived browser credentials
 * (POST /v1/softphone/credentials). REGISTERs and the calls phones place take the same rule.
 */
export async function phoneCredentialsFor(
  deps: { db: Db; softphone?: SoftphoneCredentials | undefined },
  username: string,
  remote: SipRemote,
): Promise<{ extension: repo.ExtensionCredentials; ha1: string } | AppError> {
  const ephemeral = deps.softphone?.read(username);
  const extension = await repo.findCredentials(deps.db, ephemeral?.sipUsername ?? username);
  if (!extension) return ERRORS.badCredentials();
  if (!ephemeral || !deps.softphone) return { extension, ha1: extension.passwordHa1 };
  // They are the browser's: a leaked pair is no use to a desk phone or a SIP scanner on UDP/TCP.
  if (!isWebSocket(remote)) return ERRORS.badCredentials();
  if (ephemeral.expiresAtMs <= Date.now()) return ERRORS.credentialsExpired();
  return { extension, ha1: deps.softphone.ha1(extension.id, username) };
}
