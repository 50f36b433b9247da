import type { Db } from '../db/pool.js';
import { AppError, ERRORS } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/client.js';
import type { DigestAuth } from '../sip/digest.js';
import { readCredentials } from '../sip/digest.js';
import { parseUri } from '../sip/sip-stack.js';
import type { NameAddr, SipRemote, SipRequest } from '../sip/sip-types.js';
import * as repo from './extensions.repository.js';
import { phoneCredentialsFor } from './phone-credentials.js';
import type { Registration } from './extensions.schemas.js';
import type { SoftphoneCredentials } from './softphone-credentials.js';

export const MIN_EXPIRES = 60;
const MAX_EXPIRES = 3600;
const DEFAULT_EXPIRES = 600;

/** One phone of an extension: where to send INVITEs. */
interface Binding {
  contact: string;
  target: string;
  expiresAt: number;
  source: string;
  userAgent: string | null;
  /** The SIP edge the phone registered through (RFC 3327 Path): requests to the phone go that way. */
  path?: NameAddr[];
}

/**
 * A phone to ring: its URI, and the Route to reach it by when it registered through the SIP edge
 * (the Path the edge added), so INVITEs and pings take the way the phone's REGISTER came.
 */
export type PhoneTarget = { uri: string; headers?: { route: NameAddr[] } };

const phoneTarget = (target: string, path: NameAddr[] | undefined): PhoneTarget =>
  path && path.length > 0 ? { uri: target, headers: { route: path.map((entry) => ({ ...entry, params: { ...entry.params } })) } } : { uri: target };

const bindingsKey = (extensionId: string) => `reg:${extensionId}`;

export interface RegisterOutcome {
  status: number;
  headers?: Record<string, unknown>;
  error?: AppError;
  /** The extension's phones after this REGISTER (for the keepalive to ping, and to drop a WebSocket's when it closes). */
  registered?: { extensionId: string; bindings: { contact: string; target: string; expiresAt: number; source: string; path?: NameAddr[] }[] };
}

/**
 * The registrar (RFC 3261 10): REGISTER with digest (401 challenge, nonce-counts in Redis so a
 * captured REGISTER cannot be replayed), several contacts per extension, `*` and Expires: 0 to
 * unregister, 423 with Min-Expires below one minute. Bindings are a Redis hash per extension with
 * a field per contact, so every node rings the same phones. Behind NAT the phone is rung where its
 * REGISTER came from (rport/received), not at the private address in its Contact. A REGISTER the
 * trusted SIP edge relayed keeps the edge's Path, and the phone is then rung through the edge.
 */
export interface Registrar {
  register(request: SipRequest, remote: SipRemote): Promise<RegisterOutcome>;
  /** The phones to ring for `extension:NNN` of an account; empty when no phone is registered. */
  contactsOf(accountId: string, extension: string): Promise<PhoneTarget[]>;
  registrations(extensionId: string): Promise<Registration[]>;
  /** Forgets one phone of an extension (it stopped answering keepalives). */
  drop(extensionId: string, contact: string): Promise<void>;
  /**
   * Forgets a phone only if it is still bound through `source` (its WebSocket closed): a browser that
   * reconnected keeps its Contact, and its binding through the new socket must stay.
   */
  dropIfFrom(extensionId: string, contact: string, source: string): Promise<boolean>;
}

/** Where a binding came from, as `Binding.source` stores it. */
export const sourceOf = (remote: SipRemote) => `${remote.protocol.toLowerCase()}:${remote.address}:${remote.port}`;

const DROP_IF_FROM = `local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, binding = pcall(cjson.decode, raw)
if not ok or binding.source ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

/**
 * The Path to store for a REGISTER: only the top entry, which the trusted edge that relayed it added
 * itself; entries below it were written by the phone or proxies we know nothing of. A REGISTER that
 * did not come through the edge has no Path we follow (single-process mode rings phones directly).
 */
export function pathOf(request: SipRequest, remote: SipRemote): NameAddr[] | undefined {
  const path = request.headers.path;
  if (!remote.relayedBy || !Array.isArray(path) || path.length === 0) return undefined;
  const top = path[0] as NameAddr;
  return [{ uri: top.uri, params: { ...top.params } }];
}

function expiresOf(request: SipRequest, contactParams: Record<string, string | null>): number {
  const own = contactParams.expires;
  if (own !== undefined && own !== null) return Number(own);
  const header = request.headers.expires;
  return header === undefined ? DEFAULT_EXPIRES : Number(header);
}

export function createRegistrar({
  db,
  redis,
  digest,
  softphone,
  logger,
}: {
  db: Db;
  redis: Redis;
  digest: DigestAuth;
  /** Short-lived browser credentials (POST /v1/softphone/credentials), accepted over WebSocket only. */
  softphone?: SoftphoneCredentials | undefined;
  logger: Logger;
}): Registrar {
  async function live(extensionId: string): Promise<Binding[]> {
    const now = Date.now();
    const all = Object.values(await redis.hgetall(bindingsKey(extensionId))).map((raw) => JSON.parse(raw) as Binding);
    return all.filter((binding) => binding.expiresAt > now);
  }

  return {
    async register(request, remote) {
      const credentials = readCredentials(request.headers.authorization?.[0]);
      if (!credentials) return { status: 401, headers: { 'www-authenticate': digest.challenge() } };
      const found = await phoneCredentialsFor({ db, softphone }, credentials.username ?? '', remote);
      if (found instanceof AppError) return { status: 403, error: found };
      const { extension, ha1 } = found;
      const verdict = await digest.verify({ method: 'REGISTER', uri: request.uri }, credentials, ha1);
      if (verdict === 'stale') return { status: 401, headers: { 'www-authenticate': digest.challenge(true) } };
      if (verdict !== 'ok') return { status: 403, error: ERRORS.badCredentials() };

      const key = bindingsKey(extension.id);
      const contacts = request.headers.contact ?? [];
      const path = pathOf(request, remote);
      if (contacts.some((contact) => contact.uri === '*')) {
        // "*" removes every binding, and only with Expires: 0 (RFC 3261 10.2.2).
        if (Number(request.headers.expires) !== 0 || contacts.length > 1)
          return { status: 400, error: ERRORS.malformedRequest('Contact: * needs Expires: 0 and no other contact') };
        await redis.del(key);
      } else {
        for (const contact of contacts) {
          const expires = expiresOf(request, contact.params);
          if (!Number.isFinite(expires) || expires < 0) return { status: 400, error: ERRORS.malformedRequest('bad Expires') };
          if (expires === 0) {
            await redis.hdel(key, contact.uri);
            continue;
          }
          if (expires < MIN_EXPIRES) return { status: 423, headers: { 'min-expires': MIN_EXPIRES } };
          const seconds = Math.min(expires, MAX_EXPIRES);
          const uri = parseUri(contact.uri);
          if (!uri) return { status: 400, error: ERRORS.malformedRequest('bad Contact') };
          // Behind NAT the Contact names a private address: ring where the REGISTER came from. A phone
          // on TCP is rung over the connection it opened (the only way through its NAT): npm `sip`
          // reuses an open connection to the same address and port, and so does our WebSocket transport
          // (a browser's Contact names an unroutable `.invalid` host anyway, RFC 7118 5).
          const user = uri.user ?? extension.extension;
          const stream = ['TCP', 'TLS', 'WS', 'WSS'].includes(remote.protocol.toUpperCase());
          const target = stream
            ? `sip:${user}@${remote.address}:${remote.port};transport=${remote.protocol.toLowerCase()}`
            : uri.host !== remote.address
              ? `sip:${user}@${remote.address}:${remote.port}`
              : `sip:${user}@${uri.host}:${uri.port ?? 5060}`;
          const binding: Binding = {
            contact: contact.uri,
            target,
            expiresAt: Date.now() + seconds * 1000,
            source: sourceOf(remote),
            userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
            ...(path ? { path } : {}),
          };
          await redis.hset(key, contact.uri, JSON.stringify(binding));
        }
      }
      const bindings = await live(extension.id);
      if (bindings.length > 0) await redis.pexpireat(key, Math.max(...bindings.map((binding) => binding.expiresAt)));
      logger.info({ type: 'registered', extension: extension.extension, contacts: bindings.length }, 'REGISTER');
      return {
        status: 200,
        registered: {
          extensionId: extension.id,
          bindings: bindings.map((b) => ({
            contact: b.contact,
            target: b.target,
            expiresAt: b.expiresAt,
            source: b.source,
            ...(b.path ? { path: b.path } : {}),
          })),
        },
        headers: {
          contact: bindings.map((binding) => ({
            uri: binding.contact,
            params: { expires: String(Math.max(0, Math.round((binding.expiresAt - Date.now()) / 1000))) },
          })),
        },
      };
    },
    async contactsOf(accountId, extension) {
      const found = await repo.findByNumber(db, accountId, extension);
      return found ? (await live(found.id)).map((binding) => phoneTarget(binding.target, binding.path)) : [];
    },
    async drop(extensionId, contact) {
      await redis.hdel(bindingsKey(extensionId), contact);
    },
    async dropIfFrom(extensionId, contact, source) {
      return (await redis.eval(DROP_IF_FROM, 1, bindingsKey(extensionId), contact, source)) === 1;
    },
    async registrations(extensionId) {
      return (await live(extensionId)).map((binding) => ({
        contact: binding.target,
        expiresAt: new Date(binding.expiresAt).toISOString(),
        source: binding.source,
        userAgent: binding.userAgent,
      }));
    },
  };
}

/** Turns a registrar outcome into its SIP answer's status and headers. */
export const isRefusal = (outcome: RegisterOutcome): outcome is RegisterOutcome & { error: AppError } => outcome.error instanceof AppError;
