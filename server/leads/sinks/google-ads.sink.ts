import crypto from 'node:crypto';
import { DealWonPayload } from '../lead-payload.js';
import { GoogleAdsConversionsConfig } from '../leads.schemas.js';
import { failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof GoogleAdsConversionsConfig.parse>;

/** Google hashes identifiers as lower-case hex SHA-256 of the normalised value (E.164 for phones). */
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

/**
 * A won deal as one Google Ads offline conversion through the Data Manager API (events:ingest;
 * the Google Ads API took no new offline-import adopters after June 2026). transactionId = our
 * deal id, so Google drops a repeat; a deal with neither a click id nor a phone can never match
 * and is skipped with that reason in the delivery log.
 */
export const googleAdsSink: SinkHandler<Config> = {
  kind: 'google_ads',
  parseConfig: (raw) => GoogleAdsConversionsConfig.parse(raw),
  async deliver({ config, payload, signal, egress }) {
    // Only deal.won reaches this kind (KIND_EVENTS); its payload is checked rather than assumed.
    const won = DealWonPayload.safeParse(payload);
    if (!won.success) return { status: 'skipped', reason: `not a deal.won payload (${payload.type})` };
    const { deal, click } = won.data;
    const adIdentifiers = click.gclid ? { gclid: click.gclid } : click.gbraid ? { gbraid: click.gbraid } : click.wbraid ? { wbraid: click.wbraid } : undefined;
    if (!adIdentifiers && !deal.phone) return { status: 'skipped', reason: 'can never match: no gclid, gbraid, wbraid or phone for this deal' };
    const event: Record<string, unknown> = {
      eventTimestamp: deal.won_at,
      transactionId: deal.id,
      eventSource: deal.call_id ? 'PHONE' : 'OTHER',
      ...(adIdentifiers ? { adIdentifiers } : {}),
      ...(deal.revenue !== null && deal.currency ? { conversionValue: Number(deal.revenue), currency: deal.currency } : {}),
      ...(deal.phone ? { userData: { userIdentifiers: [{ phoneNumber: sha256(deal.phone) }] } } : {}),
    };
    const body = {
      destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: config.accountId }, productDestinationId: config.conversionActionId }],
      events: [event],
    };
    const res = await send(
      `${config.baseUrl}/v1/events:ingest`,
      { method: 'POST', headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) },
      { signal, egress },
    );
    if (res.status !== 200) await failFor(res, 'Data Manager events:ingest', [400, 401, 403]);
    const answer = (await res.json()) as { requestId?: string };
    return { status: 'delivered', httpStatus: 200, note: `request ${answer.requestId ?? '?'}` };
  },
};
