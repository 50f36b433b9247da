import { z } from 'zod';

const text = z.string().nullable();

/**
 * The website visit behind a call or a form, in one spelling. attribution/ derives it from the
 * visitor session (UTM tags, click ids, referrer); calls store it as-is in `calls.visit`, and leads,
 * tag rules, reports and the API read it from there.
 *
 * `source` / `medium` / `campaign` / `keyword` are the resolved channel (GA's rules: UTM tags,
 * then click ids, then the referrer); the `utm*` fields are the raw tags as the landing URL had them.
 */
export const Visit = z.object({
  source: text,
  medium: text,
  campaign: text,
  keyword: text,
  utmSource: text,
  utmMedium: text,
  utmCampaign: text,
  utmTerm: text,
  utmContent: text,
  landingPage: text,
  referrer: text,
  gclid: text,
  gbraid: text,
  wbraid: text,
  yclid: text,
  fbclid: text,
  msclkid: text,
  gaClientId: text.meta({ description: 'GA4 client id (the last two fields of the _ga cookie)' }),
  ymClientId: text.meta({ description: 'Yandex Metrica ClientID' }),
  visitorId: text.meta({ description: 'our first-party visitor id (ct_vid cookie)' }),
});
export type Visit = z.infer<typeof Visit>;

const VISIT_KEYS = Object.keys(Visit.shape) as Array<keyof Visit>;

/** A visit with every field empty, to fill in. */
export function emptyVisit(): Visit {
  return Object.fromEntries(VISIT_KEYS.map((k) => [k, null])) as Visit;
}

/** Reads a stored visit (jsonb): known keys only, non-strings and empty strings become null. */
export function readVisit(raw: unknown): Visit | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const stored = raw as Record<string, unknown>;
  const visit = emptyVisit();
  let any = false;
  for (const key of VISIT_KEYS) {
    const value = stored[key];
    if (typeof value === 'string' && value.length > 0) {
      visit[key] = value;
      any = true;
    }
  }
  return any ? visit : null;
}

/** The visitor-session columns a visit is built from (dni_sessions, snake_case as stored). */
export interface SessionVisitColumns {
  landing_page: string | null;
  referrer: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  gclid: string | null;
  gbraid: string | null;
  wbraid: string | null;
  fbclid: string | null;
  msclkid: string | null;
  yclid: string | null;
  ga_client_id: string | null;
  ym_client_id: string | null;
  visitor_id: string | null;
}

const SEARCH_ENGINES: Array<[RegExp, string]> = [
  [/(^|\.)google\./, 'google'],
  [/(^|\.)yandex\.|(^|\.)ya\.ru$/, 'yandex'],
  [/(^|\.)bing\.com$/, 'bing'],
  [/(^|\.)duckduckgo\.com$/, 'duckduckgo'],
  [/(^|\.)yahoo\./, 'yahoo'],
  [/(^|\.)mail\.ru$/, 'mail.ru'],
];

const hostOf = (url: string | null | undefined) => {
  try {
    return url ? new URL(url).hostname.toLowerCase() : null;
  } catch {
    return null;
  }
};

/** GA-style source/medium for a visit: UTM tags win, then click ids, then the referrer. */
export function sourceMedium(s: Partial<SessionVisitColumns>): { source: string; medium: string } {
  if (s.utm_source) return { source: s.utm_source, medium: s.utm_medium ?? '(not set)' };
  if (s.gclid || s.gbraid || s.wbraid) return { source: 'google', medium: 'cpc' };
  if (s.yclid) return { source: 'yandex', medium: 'cpc' };
  if (s.msclkid) return { source: 'bing', medium: 'cpc' };
  if (s.fbclid) return { source: 'facebook', medium: 'social' };
  const referrer = hostOf(s.referrer);
  if (referrer && referrer !== hostOf(s.landing_page)) {
    const engine = SEARCH_ENGINES.find(([pattern]) => pattern.test(referrer));
    return engine ? { source: engine[1], medium: 'organic' } : { source: referrer, medium: 'referral' };
  }
  return { source: '(direct)', medium: '(none)' };
}

/** The visit a visitor session describes. */
export function visitFromSession(s: Partial<SessionVisitColumns>): Visit {
  const { source, medium } = sourceMedium(s);
  return {
    source,
    medium,
    campaign: s.utm_campaign ?? null,
    keyword: s.utm_term ?? null,
    utmSource: s.utm_source ?? null,
    utmMedium: s.utm_medium ?? null,
    utmCampaign: s.utm_campaign ?? null,
    utmTerm: s.utm_term ?? null,
    utmContent: s.utm_content ?? null,
    landingPage: s.landing_page ?? null,
    referrer: s.referrer ?? null,
    gclid: s.gclid ?? null,
    gbraid: s.gbraid ?? null,
    wbraid: s.wbraid ?? null,
    yclid: s.yclid ?? null,
    fbclid: s.fbclid ?? null,
    msclkid: s.msclkid ?? null,
    gaClientId: s.ga_client_id ?? null,
    ymClientId: s.ym_client_id ?? null,
    visitorId: s.visitor_id ?? null,
  };
}

/** How many visits a call keeps: the first touch and the latest ones. */
export const VISIT_CHAIN_MAX = 20;

const CHANNEL_KEYS = ['source', 'medium', 'campaign', 'keyword', 'gclid', 'gbraid', 'wbraid', 'yclid', 'fbclid', 'msclkid'] as const;
const TAGGED = ['utm_source', 'utm_medium', 'utm_campaign', 'gclid', 'gbraid', 'wbraid', 'yclid', 'fbclid', 'msclkid'] as const;

/**
 * A page view reached from another page of the same site (a second tab, a click through the
 * menu) is no new touch: it carries no tags and its referrer is the site itself.
 */
export function isInternalPageView(s: Partial<SessionVisitColumns>): boolean {
  if (TAGGED.some((k) => s[k])) return false;
  const referrer = hostOf(s.referrer);
  const landing = hostOf(s.landing_page);
  if (!referrer || !landing) return false;
  return referrer === landing || referrer.endsWith(`.${landing}`) || landing.endsWith(`.${referrer}`);
}

/**
 * The visitor's visits, first touch … last touch, from their page views oldest first: internal
 * page views are not touches, a run of page views from one channel is one visit, and only the
 * first touch and the latest ones are kept (VISIT_CHAIN_MAX in all).
 */
export function visitChain(pageViewsOldestFirst: Array<Partial<SessionVisitColumns>>): Visit[] {
  const chain: Visit[] = [];
  for (const view of pageViewsOldestFirst) {
    if (isInternalPageView(view)) continue;
    const visit = visitFromSession(view);
    const last = chain[chain.length - 1];
    if (last && CHANNEL_KEYS.every((k) => last[k] === visit[k])) continue;
    chain.push(visit);
  }
  return chain.length > VISIT_CHAIN_MAX ? [chain[0]!, ...chain.slice(chain.length - VISIT_CHAIN_MAX + 1)] : chain;
}
