import { Ga4Config } from '../leads.schemas.js';
import { failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof Ga4Config.parse>;

/** GA4 limits: parameter values ≤ 100 characters, backdating ≤ 72 h. */
const MAX_VALUE = 100;
const MAX_BACKDATE_MS = 72 * 3600_000;

/**
 * GA4 Measurement Protocol: one event joined to the visitor's session by its client id. The
 * endpoint answers 2xx even to junk and has no idempotency, so validity is our job (names, sizes).
 */
export const ga4Sink: SinkHandler<Config> = {
  kind: 'ga4',
  parseConfig: (raw) => Ga4Config.parse(raw),
  async deliver({ config, payload, signal, egress }) {
    const c = payload.call;
    const a = payload.attribution;
    const clientId = a.ga_client_id?.replace(/^GA\d\.\d\./, '');
    if (!clientId) return { status: 'skipped', reason: 'no GA client id for this call' };
    if (config.onlyAnswered && !c.answered) return { status: 'skipped', reason: 'not answered' };
    const params: Record<string, string | number> = {
      engagement_time_msec: 1,
      call_id: c.id,
      answered: c.answered ? 1 : 0,
      duration: c.duration,
      talk_time: c.talk_time,
    };
    const strings: Record<string, string | null> = {
      tracking_number: c.tracking_number,
      source: a.source,
      medium: a.medium,
      campaign: a.campaign,
      term: a.keyword,
      confidence: a.confidence,
      first_call: c.first_call === null ? null : String(c.first_call),
    };
    for (const [k, v] of Object.entries(strings)) if (v) params[k] = v.slice(0, MAX_VALUE);
    if (c.value !== null) {
      params.value = c.value;
      params.currency = a.source_currency ?? 'RUB';
    }
    const at = Date.parse(c.end_time ?? c.start_time);
    const body = {
      client_id: clientId,
      ...(Date.now() - at < MAX_BACKDATE_MS ? { timestamp_micros: at * 1000 } : {}),
      events: [{ name: config.eventName, params }],
    };
    const url = `${config.baseUrl}/mp/collect?measurement_id=${encodeURIComponent(config.measurementId)}&api_secret=${encodeURIComponent(config.apiSecret)}`;
    const res = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, { signal, egress });
    if (res.status < 200 || res.status > 299) await failFor(res, 'GA4');
    return { status: 'delivered', httpStatus: res.status };
  },
};
