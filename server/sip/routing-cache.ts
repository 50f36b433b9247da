import dns from 'node:dns/promises';
import net from 'node:net';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { listRoutes } from '../numbers/numbers.repository.js';
import type { NumberRoute } from '../numbers/numbers.schemas.js';
import { listTrunkCredentials, touchTrunkInvite, type TrunkCredentials } from '../trunks/trunks.repository.js';

/**
 * Routes and trunks held in memory, refreshed from Postgres. The call path reads only this, so
 * calls keep connecting while Postgres is down (fail-open routing: DESIGN, call path step 3).
 */
export interface RoutingCache {
  routeFor(number: string): NumberRoute | undefined;
  /** The trunk whose ACL (its address ranges, and the gateway it registers with) matches the address most specifically (longest prefix). */
  trunkByAddress(ip: string): TrunkCredentials | undefined;
  /** Every trunk whose ACL matches the address, most specific first (accounts may share a carrier). */
  trunksByAddress(ip: string): TrunkCredentials[];
  trunkByUsername(username: string): TrunkCredentials | undefined;
  hasDigestTrunks(): boolean;
  /** Notes an INVITE from a trunk for the UI; writes at most every TRUNK_SEEN_WRITE_MS per trunk, never blocks, never fails the call. */
  trunkSeen?(trunkId: string): void;
  /** Reloads now; keeps the previous snapshot when Postgres does not answer. */
  refresh(): Promise<boolean>;
  readonly loadedAt: Date | null;
  close(): void;
}

export const TRUNK_SEEN_WRITE_MS = 5_000;
const REGISTRAR_LOOKUP_MS = 2_000;

/**
 * Addresses of the gateways we register with, looked up on every routing load. A lookup that
 * fails or hangs keeps the addresses found before: a DNS hiccup must not shut out the carrier.
 */
function createRegistrarAddresses(logger: Logger): { resolve(hosts: string[]): Promise<Map<string, string[]>> } {
  const known = new Map<string, string[]>();
  async function lookup(host: string): Promise<string[]> {
    if (net.isIP(host)) return [host];
    let timer: NodeJS.Timeout | undefined;
    try {
      const found = await Promise.race([
        dns.lookup(host, { all: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${REGISTRAR_LOOKUP_MS} ms`)), REGISTRAR_LOOKUP_MS);
        }),
      ]);
      const addresses = found.map((a) => a.address);
      known.set(host, addresses);
      return addresses;
    } catch (err) {
      logger.warn({ err, type: 'registrar_lookup_failed', host }, 'cannot look up a registrar; keeping its last addresses');
      return known.get(host) ?? [];
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    async resolve(hosts) {
      const unique = [...new Set(hosts)];
      return new Map(await Promise.all(unique.map(async (host) => [host, await lookup(host)] as const)));
    },
  };
}

export function createRoutingCache(db: Db, logger: Logger, refreshMs = 10_000): RoutingCache {
  const trunkSeenAt = new Map<string, number>();
  let routes = new Map<string, NumberRoute>();
  let trunks: Array<TrunkCredentials & { ranges: Array<{ acl: net.BlockList; prefix: number }> }> = [];
  let loadedAt: Date | null = null;
  let inFlight: Promise<boolean> | undefined;

  const registrars = createRegistrarAddresses(logger);

  async function load(): Promise<boolean> {
    try {
      const [routeList, trunkList] = await Promise.all([listRoutes(db), listTrunkCredentials(db)]);
      const registrarAddresses = await registrars.resolve(trunkList.flatMap((trunk) => (trunk.registration ? [trunk.registration.host] : [])));
      routes = new Map(routeList.map((route) => [route.number, route]));
      trunks = trunkList.map((trunk) => {
        const hosts = trunk.registration ? (registrarAddresses.get(trunk.registration.host) ?? []) : [];
        const cidrs = [...trunk.addresses, ...hosts.map((ip) => `${ip}/${net.isIPv6(ip) ? 128 : 32}`)];
        return {
          ...trunk,
          ranges: cidrs.map((cidr) => {
            const [addr, bits] = cidr.split('/');
            const acl = new net.BlockList();
            acl.addSubnet(addr!, Number(bits), net.isIPv6(addr!) ? 'ipv6' : 'ipv4');
            return { acl, prefix: Number(bits) };
          }),
        };
      });
      loadedAt = new Date();
      return true;
    } catch (err) {
      logger.warn({ err, type: 'routing_refresh_failed' }, 'routing refresh failed; serving cached routes');
      return false;
    }
  }

  const timer = setInterval(() => void cacheRefresh(), refreshMs);
  timer.unref();
  // A refresh asked for while one is in flight must not reuse it: that load may have read the
  // tables before the caller's change committed. Such requests share one follow-up load instead.
  let queued: Promise<boolean> | undefined;
  function cacheRefresh(): Promise<boolean> {
    if (!inFlight) {
      inFlight = load().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    }
    queued ??= inFlight.then(() => {
      queued = undefined;
      return cacheRefresh();
    });
    return queued;
  }

  function trunksByAddress(ip: string): TrunkCredentials[] {
    const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
    const matched: Array<{ trunk: TrunkCredentials; prefix: number }> = [];
    for (const trunk of trunks) {
      const prefix = Math.max(-1, ...trunk.ranges.filter((range) => range.acl.check(ip, family)).map((range) => range.prefix));
      if (prefix >= 0) matched.push({ trunk, prefix });
    }
    return matched.sort((a, b) => b.prefix - a.prefix).map((match) => match.trunk);
  }

  return {
    routeFor: (number) => routes.get(number),
    trunkByAddress: (ip) => trunksByAddress(ip)[0],
    trunksByAddress,
    trunkByUsername: (username) => trunks.find((t) => t.username === username),
    hasDigestTrunks: () => trunks.some((t) => t.passwordHa1 !== null),
    trunkSeen(trunkId) {
      const now = Date.now();
      if (now - (trunkSeenAt.get(trunkId) ?? 0) < TRUNK_SEEN_WRITE_MS) return;
      trunkSeenAt.set(trunkId, now);
      void touchTrunkInvite(db, trunkId).catch(() => trunkSeenAt.delete(trunkId));
    },
    refresh: cacheRefresh,
    get loadedAt() {
      return loadedAt;
    },
    close: () => clearInterval(timer),
  };
}
