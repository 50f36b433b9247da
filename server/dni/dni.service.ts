import crypto from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LeaseOptions, LeaseResult, LeaseService, LeaseWrite } from '../numbers/leases.service.js';
import type { Redis } from '../redis/client.js';
import type { ClientCaps } from './client-caps.js';
import * as repo from './dni.repository.js';
import type { RecentSessions } from './recent-sessions.js';
import { CLICK_IDS, type CreateSessionBody, type KeepAliveResponse, type SessionResponse, UTM_KEYS } from './dni.schemas.js';

/**
 * Robots that say so (crawlers, link previewers, monitors) get the default number and no lease: a
 * crawler must not drain a pool. HTTP libraries (curl, python-requests,
 * fetch…) and clients sending no user agent are not robots by that alone: they are how a site's
 * own backend asks for a number (server-side insertion) and how integrations are tested; one
 * script draining a pool is stopped by the per-client lease caps, whatever it calls itself.
 */
const BOT_UA =
  /bot\b|bot\/|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|quora link preview|bingpreview|yandex(?!browser)|lighthouse|pingdom|uptimerobot|scrapy|phantomjs/i;

export function isBot(userAgent: string | undefined): boolean {
  return userAgent !== undefined && BOT_UA.test(userAgent);
}

/** Host names of `Origin` allowed for a site: its domains and their subdomains. */
export function originAllowed(origin: string | undefined, domains: readonly string[]): boolean {
  if (!origin || origin === 'null') return false;
  let host: string;
  try {
    host = new URL(origin).hostname.toLowerCase();
  } catch {
    return false;
  }
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

const displayCache = new Map<string, string>();
/** International format for people; cached (pools are small, parsing is not free on the hot path). */
export function displayNumber(e164: string): string {
  let shown = displayCache.get(e164);
  if (!shown) {
    shown = parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
    if (displayCache.size > 100_000) displayCache.clear();
    displayCache.set(e164, shown);
  }
  return shown;
}

/**
 * The page a request speaks for: a browser's Origin (it always sends one on a cross-site POST, and
 * it cannot be faked there), else its Referer, else the page URL in the body (a site's backend or an
 * API client, which could set any of these anyway).
 */
function pageOf(req: Pick<RequestInfo, 'origin' | 'referer'>, bodyUrl: string | undefined): string | undefined {
  return req.origin ?? req.referer ?? bodyUrl;
}

/** Keep-alive often enough that two missed beats still fit in the hold. */
export function keepAliveSeconds(holdSeconds: number): number {
  return Math.max(1, Math.min(60, Math.floor(holdSeconds / 3)));
}

const TAGS = [...UTM_KEYS, ...CLICK_IDS];

/**
 * The session row of a page view: one literal of fixed shape, its UTM tags and click ids then read
 * from the URL into it. (Building it by object spread cost tens of µs a request in V8.)
 */
function sessionRow(id: string, site: repo.SiteContext, visitorId: string, body: CreateSessionBody, req: RequestInfo, at: string): repo.SessionRow {
  const row: repo.SessionRow = {
    id,
    account_id: site.accountId,
    site_id: site.siteId,
    pool_id: site.pool?.id ?? null,
    visitor_id: visitorId,
    url: body.url,
    landing_page: body.url,
    referrer: body.referrer || null,
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    utm_term: null,
    utm_content: null,
    gclid: null,
    gbraid: null,
    wbraid: null,
    fbclid: null,
    msclkid: null,
    yclid: null,
    ga_client_id: body.gaClientId || null,
    ym_client_id: body.ymClientId || null,
    user_agent: req.userAgent?.slice(0, 1000) ?? null,
    ip: req.ip || null,
    bot: false,
    number: null,
    created_at: at,
    last_seen_at: at,
  };
  if (!body.url.includes('?')) return row;
  let params: URLSearchParams;
  try {
    params = new URL(body.url).searchParams;
  } catch {
    return row; // a junk URL simply has no tags
  }
  for (const k of TAGS) row[k] = params.get(k)?.slice(0, 500) || null;
  return row;
}

export interface RequestInfo {
  origin: string | undefined;
  referer: string | undefined;
  ip: string;
  userAgent: string | undefined;
  visitorCookie: string | undefined;
}

export interface DniService {
  /** The answer, and the visitor id for the cookie (null for robots). */
  createSession(body: CreateSessionBody, req: RequestInfo): Promise<{ response: SessionResponse; visitorId: string | null }>;
  keepAlive(sessionId: string, req: RequestInfo): Promise<KeepAliveResponse>;
  close(): Promise<void>;
}

const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;

interface SessionOwner {
  siteId: string;
  visitorId: string;
}

export function createDniService({
  db,
  redis,
  leases,
  sessions,
  recent,
  logger,
  caps,
  siteCacheMs = 30_000,
}: {
  db: Db;
  redis: Redis;
  leases: LeaseService;
  sessions: repo.VisitorSessionWriter;
  recent?: RecentSessions;
  logger: Logger;
  /** Per-client lease caps (pool-drain protection); none when absent. */
  caps?: ClientCaps | undefined;
  siteCacheMs?: number;
}): DniService {
  // Sites change rarely and every snippet request needs one: a short in-process cache keeps Postgres off the hot path.
  const byKey = new Map<string, { at: number; ctx: Promise<repo.SiteContext | undefined> }>();
  const byId = new Map<string, { at: number; ctx: Promise<repo.SiteContext | undefined> }>();
  const cached = (map: typeof byKey, key: string, load: () => Promise<repo.SiteContext | undefined>) => {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < siteCacheMs) return hit.ctx;
    const ctx = load();
    if (map.size > 10_000) map.clear();
    map.set(key, { at: Date.now(), ctx });
    ctx.catch(() => map.delete(key));
    return ctx;
  };
  const siteByKey = (k: string) => cached(byKey, k, () => repo.findSiteContextByKey(db, k));
  const siteById = (id: string) => cached(byId, id, () => repo.findSiteContextById(db, id));
  const sessKey = (sid: string) => `dni:sess:${sid}`;
  /** How long a page view's Redis entries (index, cap places) can matter: as long as a lease of it could live. */
  const lifetime = (pool: NonNullable<repo.SiteContext['pool']>) => pool.maxLeaseSeconds + pool.holdSeconds + 3600;
  // Sessions created here: their keep-alives skip the Redis index lookup (one round trip fewer).
  // Two generations of up to 100k each, the older dropped whole: evicting a Map's first key one at a
  // time walks V8's deleted slots and cost ~26 µs a request once the map was full.
  let localSessions = new Map<string, SessionOwner>();
  let olderSessions = new Map<string, SessionOwner>();
  const remember = (sid: string, owner: SessionOwner) => {
    if (localSessions.size >= 100_000) {
      olderSessions = localSessions;
      localSessions = new Map();
    }
    localSessions.set(sid, owner);
  };
  /** Site and visitor of a page view: this process, the Redis index, or Postgres (in that order). */
  async function ownerOf(sessionId: string): Promise<SessionOwner | undefined> {
    const local = localSessions.get(sessionId) ?? olderSessions.get(sessionId);
    if (local) return local;
    const indexed = await redis.get(sessKey(sessionId)).catch(() => null);
    if (indexed) {
      const [siteId, , visitorId] = indexed.split('|');
      return { siteId: siteId!, visitorId: visitorId || sessionId };
    }
    return repo.findSessionSite(db, sessionId);
  }

  function fallback(site: repo.SiteContext, sessionId: string | null, reason: string): SessionResponse {
    return {
      sessionId,
      number: site.defaultNumber,
      displayNumber: displayNumber(site.defaultNumber),
      defaultNumber: site.defaultNumber,
      tracking: false,
      keepAliveSeconds: site.pool ? keepAliveSeconds(site.pool.holdSeconds) : 60,
      expiresAt: null,
      reason,
    };
  }

  function fromLease(site: repo.SiteContext, sessionId: string, lease: LeaseResult): SessionResponse {
    if (!lease.number) {
      if (lease.status === 'capped') {
        caps?.refused(site.pool!.id);
        return fallback(site, sessionId, 'too many numbers held from this network');
      }
      const reason = lease.status === 'max' ? 'maximum lease length reached' : lease.status === 'exhausted' ? 'pool exhausted' : 'no lease';
      return fallback(site, sessionId, reason);
    }
    const res: SessionResponse = {
      sessionId,
      number: lease.number,
      displayNumber: displayNumber(lease.number),
      defaultNumber: site.defaultNumber,
      tracking: true,
      keepAliveSeconds: keepAliveSeconds(site.pool!.holdSeconds),
      expiresAt: lease.expiresAt.toISOString(),
    };
    if (lease.shared) res.reason = 'pool exhausted: number shared';
    return res;
  }

  /** Redis trouble never blanks a page: the visitor sees the default number and we log it. */
  async function leaseOrFallback(site: repo.SiteContext, sessionId: string, op: () => Promise<LeaseResult>): Promise<SessionResponse> {
    try {
      return fromLease(site, sessionId, await op());
    } catch (err) {
      logger.warn({ err, type: 'dni_lease_failed', siteId: site.siteId }, 'lease unavailable; default number shown');
      return fallback(site, sessionId, 'lease service unavailable');
    }
  }

  /**
   * A lease for a visitor, within the client's cap (one place per visitor, whatever its tabs):
   * cap check, lease, cap place and the page view's Redis entries in one Redis call.
   */
  function leaseWithinCap(
    site: repo.SiteContext,
    pool: NonNullable<repo.SiteContext['pool']>,
    sessionId: string,
    visitorId: string,
    ip: string,
    writes: readonly LeaseWrite[] = [],
  ): Promise<SessionResponse> {
    const options: LeaseOptions = { guard: caps?.guard(pool.id, ip, lifetime(pool)), writes };
    return leaseOrFallback(site, sessionId, () => leases.acquire(pool, sessionId, visitorId, options));
  }

  return {
    async createSession(body, req) {
      const site = await siteByKey(body.siteKey);
      if (!site) throw ERRORS.notFound('site key', body.siteKey);
      if (!originAllowed(pageOf(req, body.url), site.domains)) throw ERRORS.forbidden([`requests from ${site.domains.join(', ')}`]);
      if (isBot(req.userAgent)) return { response: fallback(site, null, 'robot user agent'), visitorId: null };
      // The visitor holds the lease: the cookie, else the visitor of the page view before (cookies
      // blocked), else the id the page sent, else a new one. Every page view is a session of its own.
      const previous = !req.visitorCookie && body.sessionId ? await ownerOf(body.sessionId).catch(() => undefined) : undefined;
      const visitorId =
        req.visitorCookie && VISITOR_ID.test(req.visitorCookie)
          ? req.visitorCookie
          : previous?.siteId === site.siteId
            ? previous.visitorId
            : (body.visitorId ?? crypto.randomUUID().replaceAll('-', ''));
      const sessionId = crypto.randomUUID();
      const row = sessionRow(sessionId, site, visitorId, body, req, new Date().toISOString());
      const pool = site.pool;
      let response: SessionResponse;
      if (pool) {
        // The index lets keep-alives on any node find the pool and the visitor without Postgres; a call
        // may come before the write-behind stores the row, so a leased page view's visit waits in Redis too.
        const writes: LeaseWrite[] = [{ key: sessKey(sessionId), value: `${site.siteId}|${pool.id}|${visitorId}`, ttlSeconds: lifetime(pool) }];
        if (recent) writes.push(recent.entry(sessionId, row));
        response = await leaseWithinCap(site, pool, sessionId, visitorId, req.ip, writes);
        remember(sessionId, { siteId: site.siteId, visitorId });
      } else {
        response = fallback(site, sessionId, 'the site has no number pool');
      }
      if (response.tracking) row.number = response.number;
      sessions.add(row);
      return { response, visitorId };
    },

    async keepAlive(sessionId, req) {
      const owner = await ownerOf(sessionId);
      const site = owner ? await siteById(owner.siteId) : undefined;
      if (!site) throw ERRORS.notFound('session', sessionId);
      // The session id is the visitor's own; a page asking (Origin, Referer) must still be the site's.
      const page = pageOf(req, undefined);
      if (page !== undefined && !originAllowed(page, site.domains)) throw ERRORS.forbidden([`requests from ${site.domains.join(', ')}`]);
      const pool = site.pool;
      const visitorId = owner!.visitorId;
      // The renewed lease counts under the client that keeps it alive now.
      let res = pool
        ? await leaseOrFallback(site, sessionId, () => leases.keepAlive(pool, sessionId, visitorId, { guard: caps?.guard(pool.id, req.ip, lifetime(pool)) }))
        : fallback(site, sessionId, 'no pool');
      // Redis lost the lease (flush, failover): lease again for the same visitor.
      if (pool && !res.tracking && res.reason === 'no lease') res = await leaseWithinCap(site, pool, sessionId, visitorId, req.ip);
      sessions.seen(sessionId, new Date());
      return { number: res.number, displayNumber: res.displayNumber, tracking: res.tracking, expiresAt: res.expiresAt, keepAliveSeconds: res.keepAliveSeconds };
    },

    async close() {
      await sessions.close();
      await caps?.close();
    },
  };
}
