import type { DialTarget } from '../call/live-call.js';
import type { Db } from '../db/pool.js';
import type { OutboundSide } from './outbound.schemas.js';
import { findOutboundSide } from './trunks.repository.js';

/** Caller IDs are numbers or SIP users; anything else (a crafted From) is not put into our headers. */
const SAFE_USER = /^[+0-9A-Za-z._-]{1,64}$/;

/**
 * How `tel:+E164` goes out through a trunk's outbound side: the gateway URI (tech prefix first, then
 * the digits without "+"), the caller ID its policy shows, the identity headers the carrier needs
 * and the credentials for its challenge.
 */
export function outboundDial(side: OutboundSide, number: string, ids: { caller: string; tracking: string }): DialTarget {
  // '#' is not allowed in a SIP URI's user part (RFC 3261 25.1): escaped.
  const user = (side.techPrefix ? `${side.techPrefix}${number.replace(/^\+/, '')}` : number).replaceAll('#', '%23');
  const uri = `sip:${user}@${side.host}:${side.port}${side.transport === 'tcp' ? ';transport=tcp' : ''}`;
  const chosen = side.callerId === 'tracking' ? ids.tracking : side.callerId === 'fixed' ? (side.fixedNumber ?? ids.tracking) : ids.caller;
  const shown = SAFE_USER.test(chosen) ? chosen : 'anonymous';
  const headers: Record<string, string> = {};
  if (side.identity.includes('pai')) headers['P-Asserted-Identity'] = `<sip:${shown}@${side.host}>`;
  // Diversion names the number the customer dialled: carriers let a forwarded call keep its caller ID by it.
  if (side.identity.includes('diversion')) headers.Diversion = `<sip:${ids.tracking}@${side.host}>;reason=unconditional`;
  return { uri, fromUser: shown, headers, ...(side.username && side.password ? { credentials: { username: side.username, password: side.password } } : {}) };
}

const FRESH_MS = 5_000;

export interface OutboundDirectory {
  /** The account's outbound side (the oldest trunk that has one). */
  get(accountId: string): Promise<OutboundSide | undefined>;
  /** Forget what is cached (a trunk was added, changed or removed). */
  invalidate(): void;
}

/** Each account's outbound side, cached briefly and kept while Postgres is away (calls still go out). */
export function createOutboundDirectory(db: Db): OutboundDirectory {
  const cache = new Map<string, { side: OutboundSide | undefined; at: number }>();
  return {
    async get(accountId) {
      const hit = cache.get(accountId);
      if (hit && Date.now() - hit.at < FRESH_MS) return hit.side;
      try {
        const side = await findOutboundSide(db, accountId);
        // A missing side is not cached: a trunk added a moment ago is used at once.
        if (side) cache.set(accountId, { side, at: Date.now() });
        else cache.delete(accountId);
        return side;
      } catch {
        return hit?.side;
      }
    },
    invalidate() {
      // Kept entries stay usable if Postgres is away at the next look-up; they are just no longer fresh.
      for (const entry of cache.values()) entry.at = 0;
    },
  };
}
