import { getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { type AppError, ERRORS } from '../errors.js';
import type { Redis } from '../redis/client.js';

/** What an extension may dial outside the PBX. */
export interface OutsideGrant {
  id: string;
  international: boolean;
  outboundPerMinute: number;
}

/**
 * Whether an extension may dial this number at all: numbers of the home country always, others
 * only with the international grant. Premium and unknown numbers abroad are where toll fraud pays,
 * so "domestic only" is the default a stolen phone password meets.
 */
export function destinationAllowed(grant: OutsideGrant, e164: string, homeCountry: string): AppError | undefined {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed?.isValid()) return ERRORS.tollDenied(`${e164} is not a valid phone number`);
  const home = getCountryCallingCode(homeCountry as never);
  if (parsed.countryCallingCode === home || grant.international) return undefined;
  return ERRORS.tollDenied(`international calls (+${parsed.countryCallingCode}) are not allowed for this extension`);
}

export interface OutsideCallCap {
  /** Counts one outside call of the extension; an error when it is over its calls per minute. */
  take(grant: OutsideGrant): Promise<AppError | undefined>;
}

/**
 * Calls per minute per extension over a sliding minute (a fixed window would let twice the cap
 * through across its edge), counted in Redis so every node shares it. When Redis is away each node
 * counts alone: the cap gets looser by the number of nodes, never absent.
 */
export function createOutsideCallCap(redis: Redis, now: () => number = Date.now): OutsideCallCap {
  const local = new Map<string, number[]>();
  const countLocally = (id: string, at: number) => {
    const recent = (local.get(id) ?? []).filter((t) => t > at - WINDOW_MS);
    recent.push(at);
    local.set(id, recent);
    return { count: recent.length, undo: () => recent.pop() };
  };
  return {
    async take(grant) {
      if (grant.outboundPerMinute <= 0) return ERRORS.outboundCapReached(0);
      const at = now();
      const key = `outside-calls:${grant.id}`;
      const member = `${at}:${Math.random()}`;
      let count: number;
      let undo: () => unknown;
      try {
        const replies = await redis
          .multi()
          .zremrangebyscore(key, 0, at - WINDOW_MS)
          .zadd(key, at, member)
          .zcard(key)
          .pexpire(key, WINDOW_MS)
          .exec();
        const card = replies?.[2];
        if (!card || card[0]) throw card?.[0] ?? new Error('no reply');
        count = Number(card[1]);
        undo = () => redis.zrem(key, member).catch(() => undefined);
      } catch {
        ({ count, undo } = countLocally(grant.id, at));
      }
      if (count <= grant.outboundPerMinute) return undefined;
      // A refused attempt does not use up the next minute's calls.
      await undo();
      return ERRORS.outboundCapReached(grant.outboundPerMinute);
    },
  };
}

const WINDOW_MS = 60_000;
